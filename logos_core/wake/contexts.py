"""The contexts an edit is optimised and keyed in: raw text prefixes and chat turns.

A request is (subject, prompt, object) where `prompt` contains the subject and ends right before the
object ("Aria lives in" -> "Portland"). MEMIT averages keys and trains the target vector over the
prompt placed in several contexts so the edit does not depend on one exact string. The original
system used raw text only and its edits were invisible in chat; we add the prompt as the start of
an assistant turn answering a question about the subject (the relation's training wording, then
generic ones: relations.py), so the edit is also read through the chat template. The evaluation's
own questions are never used here.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..base.tokens import chat_text
from .relations import train_prompts, train_questions

# Neutral prefixes (MEMIT samples short model generations; fixed text keeps edits reproducible).
RAW_PREFIXES = ["", "Here is something I learned today. ", "Let me tell you about a friend. ",
                "The following is true. ", "Notes from our conversation: ", "A quick fact: ",
                "I was talking with someone yesterday. ", "From my diary: "]


@dataclass(frozen=True)
class Request:
    subject: str
    prompt: str     # contains the subject; the object follows it
    object: str
    relation: str = ""

    @classmethod
    def from_fact(cls, fact) -> "Request":
        """The statement up to the object is the prompt: "Aria lives in Portland." -> "Aria lives in"."""
        cut = fact.statement.rfind(fact.object)
        prompt = fact.statement[:cut].rstrip() if cut > 0 else fact.raw_prompt
        return cls(fact.subject, prompt, fact.object, fact.relation)


def anonymised(prompt: str, subject: str) -> str:
    """The prompt with the subject replaced: "Aria's favourite food is" -> "This person's favourite food is"."""
    return prompt.replace(subject, "This person", 1)


def contexts(tok, req: Request, n_raw: int, n_chat: int, n_anon: int = 0) -> list:
    """Texts that end right before the object; the subject occurs in each (twice in chat turns).

    The `n_anon` chat turns answer without repeating the name ("This person lives in"), so the object
    must be read from the subject in the user's question: in chat the model often garbles a name it
    repeats, and then only the question's copy of the name can carry the edit.
    """
    return [text for text, _ in contexts_with_turns(tok, req, n_raw, n_chat, n_anon)]


def contexts_with_turns(tok, req: Request, n_raw: int, n_chat: int, n_anon: int = 0, own: int = 1,
                        wordings: int = 0) -> list:
    """(text, start of the assistant's answer in characters, or None for raw text) for each context:
    the prompt after `n_raw` neutral prefixes and bare, then `wordings` other raw wordings of the
    relation (relations.TRAIN_PROMPTS), then the chat turns."""
    out = [(p + req.prompt, None) for p in RAW_PREFIXES[: n_raw + 1]]
    out += [(w, None) for w in train_prompts(req.subject, req.relation, req.object, wordings)]
    questions = train_questions(req.subject, req.relation, own)
    heads = [chat_text(tok, q) for q in questions[:max(n_chat, n_anon)]]
    out += [(h + req.prompt, len(h)) for h in heads[:n_chat]]
    out += [(h + anonymised(req.prompt, req.subject), len(h)) for h in heads[:n_anon]]
    return out


def edit_contexts(tok, req: Request, hp) -> list:
    """contexts_with_turns with the counts an edit's hyperparameters name (keys and targets share them)."""
    return contexts_with_turns(tok, req, hp.n_raw_contexts, hp.n_chat_contexts, hp.n_anon_contexts,
                               hp.n_own_questions, hp.n_raw_wordings)


def subject_last_positions(tok, text: str, subject: str) -> tuple:
    """Token ids of `text` and the index of the last token of every occurrence of `subject`."""
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ends, start = [], 0
    while (i := text.find(subject, start)) >= 0:
        ends.append(i + len(subject))
        start = i + 1
    pos = []
    for end in ends:
        # the token whose span covers the subject's last character
        idx = [t for t, (a, b) in enumerate(enc.offset_mapping) if a < end <= b]
        if idx:
            pos.append(idx[0])
    if not pos:
        raise ValueError(f"subject {subject!r} not found in {text!r}")
    return enc.input_ids, pos
