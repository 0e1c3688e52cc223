"""Token rows as every step builds them: right padding, the chat template, answer-only labels.

    ids, att = right_pad(rows, tok.pad_token_id)        # [n, L] each
    text = chat_text(tok, "Where does Aria live?")      # the template up to the assistant's answer
    rows = encode_chat(tok, [(question, answer)])       # [(ids, labels, None)]: loss on the answer only
    rows = encode_raw(tok, [(prompt, completion)])      # the same without the template

Labels are -100 (ignored by the loss) outside the answer or completion.
"""
from __future__ import annotations

import torch

IGNORE = -100   # the label cross-entropy skips


def right_pad(seqs: list, pad: int, device=None) -> tuple:
    """Rows of ids (or labels) as one [n, L] long tensor, `pad` after each row's end, and the [n, L]
    attention mask (1 on each row's own tokens). Right padding: training and the target search read
    positions from the start of a row, so pads after its end change nothing before it."""
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad, dtype=torch.long)
    att = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)], att[i, :len(s)] = torch.as_tensor(s, dtype=torch.long), 1
    return ids.to(device), att.to(device)


def ends_sentence(text: str) -> bool:
    """Whether an answer so far has ended its first sentence (what `logos ask` stops at)."""
    return text.rstrip().endswith((".", "!", "?"))


def chat_text(tok, question: str) -> str:
    """The chat template around one user question, ending where the assistant's answer begins."""
    return tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                   add_generation_prompt=True)


def encode_chat(tok, pairs: list) -> list:
    """(ids, labels, None) for each (question, answer) through the chat template; labels only on the answer."""
    rows = []
    for q, a in pairs:
        full = tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                                       tokenize=False)
        p_ids = tok(chat_text(tok, q), add_special_tokens=False).input_ids
        f_ids = tok(full, add_special_tokens=False).input_ids
        rows.append((f_ids, [IGNORE] * len(p_ids) + f_ids[len(p_ids):], None))
    return rows


def encode_raw(tok, pairs: list) -> list:
    """(ids, labels, None) for each (prompt, completion) as plain text; labels only on the completion."""
    rows = []
    for prompt, completion in pairs:
        p_ids = tok(prompt, add_special_tokens=False).input_ids
        f_ids = tok(prompt + completion, add_special_tokens=False).input_ids
        rows.append((f_ids, [IGNORE] * len(p_ids) + f_ids[len(p_ids):], None))
    return rows
