"""The measuring stick. Recall is greedy generation, never teacher forcing.

    ev = Evaluator(lm, locality=load_locality(), bystanders=bank.bystanders)
    ev.baseline()                         # unedited perplexity and locality, once
    r = ev.measure(facts)                 # {"raw": .9, "chat": .9, "paraphrase": .8, "locality": ...}

An answer counts when it contains the object (case- and punctuation-insensitive, whole words).
Raw completion reads RAW_TOKENS new tokens, chat CHAT_TOKENS through the tokenizer's chat template.
"""
from __future__ import annotations

import math
import time
import warnings

import torch
from transformers.generation.stopping_criteria import StoppingCriteriaList

from ..base.tokens import chat_text, ends_sentence
from .facts import normalise

RAW_TOKENS = 8
CHAT_TOKENS = 24
BATCH = 128       # rows a generate call runs together (a decode step reads every weight once)
PREFIX_MIN = 8    # shared leading tokens worth a cache of their own


def contains(answer: str, obj: str) -> bool:
    return normalise(obj) in normalise(answer)


class _FirstSentence:
    """Stops a generation once every row has ended a sentence (., ! or ? at the end of what it said)."""

    def __init__(self, tok, prompt_len: int):
        self.tok, self.prompt_len = tok, prompt_len

    def __call__(self, ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        texts = self.tok.batch_decode(ids[:, self.prompt_len:], skip_special_tokens=True)
        return torch.tensor([ends_sentence(t) for t in texts], device=ids.device)


@torch.no_grad()
def generate(lm, prompts: list, max_new_tokens: int, batch_size: int = BATCH, one_sentence: bool = False) -> list:
    """Greedy continuations of `prompts` (strings, already templated), batched with left padding.

    Prompts are sorted by length so a batch carries little padding; results come back in order. The
    tokens a whole batch begins with (the chat template's system turn: 30 of a chat question's ~40)
    are run once and their keys and values shared by every row (`_shared_prefix`); the answers are
    the same, token for token. `one_sentence` ends each continuation at its first sentence end (what
    `logos ask` prints: every token after that costs as much as the answer's own).
    """

    tok = lm.tok
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out = [None] * len(prompts)
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        ids = [tok(prompts[i], add_special_tokens=False).input_ids for i in idx]
        inp, mask, cache = _shared_prefix(lm, ids)
        stop = StoppingCriteriaList([_FirstSentence(tok, inp.shape[1])]) if one_sentence else None
        with warnings.catch_warnings():   # transformers 5 renames generate's `past_key_values`; both work
            warnings.filterwarnings("ignore", message=".*past_key_values.*", category=FutureWarning)
            gen = lm.model.generate(input_ids=inp, attention_mask=mask, past_key_values=cache,
                                    max_new_tokens=max_new_tokens, do_sample=False, stopping_criteria=stop,
                                    pad_token_id=tok.pad_token_id, temperature=None, top_p=None, top_k=None)
        new = gen[:, inp.shape[1]:]  # [batch, new_tokens]
        for j, i in enumerate(idx):
            out[i] = tok.decode(new[j], skip_special_tokens=True)
    return out


def _shared_prefix(lm, ids: list) -> tuple:
    """(input ids [batch, len], attention mask, cache or None) for token lists `ids`.

    The tokens every row begins with (at least PREFIX_MIN of them, and one fewer than the shortest
    row, so each row has a token of its own to run) are run once; their cache is repeated over the
    batch. Each row's own tokens are left-padded after that prefix: the mask hides the padding and
    generate counts positions over the mask, so a row's positions and attention are those it has
    alone. For one row, without a shared prefix, or while rows run different weights (`lm.rows_differ`:
    EditBook.without_own, where each row's prefix is computed under its own weights), plain left
    padding and no cache.
    """
    pad, n = lm.tok.pad_token_id, min(len(x) for x in ids) - 1
    p = 0
    while p < n and all(x[p] == ids[0][p] for x in ids):
        p += 1
    if p < PREFIX_MIN or len(ids) < 2 or getattr(lm, "rows_differ", False):
        p = 0
    width = max(len(x) for x in ids) - p
    inp = [x[:p] + [pad] * (width - len(x) + p) + x[p:] for x in ids]
    mask = [[1] * p + [0] * (width - len(x) + p) + [1] * (len(x) - p) for x in ids]
    cache = None
    if p:
        cache = lm.model(torch.tensor([ids[0][:p]], device=lm.device), use_cache=True).past_key_values
        cache.batch_repeat_interleave(len(ids))
    return (torch.tensor(inp, device=lm.device), torch.tensor(mask, device=lm.device), cache)


def chat_prompts(lm, questions: list) -> list:
    """What the model reads for each question: the chat template, or, for a model seen through a
    retrieval memory (retrieval.FramedLM), the template with the retrieved statements."""
    frame = getattr(lm, "frame_chat", None)
    return [frame(q) if frame else chat_text(lm.tok, q) for q in questions]


def raw_prompts(lm, prompts: list) -> list:
    frame = getattr(lm, "frame_raw", None)
    return [frame(p) for p in prompts] if frame else list(prompts)


def ask_chat(lm, questions: list, max_new_tokens: int = CHAT_TOKENS, one_sentence: bool = False) -> list:
    return generate(lm, chat_prompts(lm, questions), max_new_tokens, one_sentence=one_sentence)


def complete_raw(lm, prompts: list, max_new_tokens: int = RAW_TOKENS) -> list:
    return generate(lm, raw_prompts(lm, prompts), max_new_tokens)


def recall(lm, facts: list, modes=("raw", "chat", "paraphrase"), n_paraphrases: int = 2) -> dict:
    """Per-mode recall rates and per-fact hits (and the answers, for reading what went wrong)."""
    res: dict = {}
    if "raw" in modes:
        ans = complete_raw(lm, [f.raw_prompt for f in facts])
        res["raw_hits"] = [contains(a, f.object) for a, f in zip(ans, facts)]
        res["raw_answers"] = ans
    if "chat" in modes:
        ans = ask_chat(lm, [f.chat_question for f in facts])
        res["chat_hits"] = [contains(a, f.object) for a, f in zip(ans, facts)]
        res["chat_answers"] = ans
    if "paraphrase" in modes:
        qs = [(i, p) for i, f in enumerate(facts) for p in f.paraphrases[:n_paraphrases]]
        ans = ask_chat(lm, [p for _, p in qs])
        res["paraphrase_answers"] = ans
        per = [[] for _ in facts]
        for (i, _), a in zip(qs, ans):
            per[i].append(contains(a, facts[i].object))
        res["paraphrase_hits"] = [sum(p) / max(len(p), 1) for p in per]
    for m in modes:
        hits = res[f"{m}_hits"]
        res[m] = float(sum(hits) / len(hits)) if hits else float("nan")
    return res


def rivals(facts: list) -> list:
    """For each fact, the other told objects of its relation (as recall tells objects apart)."""
    by_rel: dict = {}
    for f in facts:
        by_rel.setdefault(f.relation, {}).setdefault(normalise(f.object), f.object)
    return [[o for k, o in by_rel[f.relation].items() if k != normalise(f.object)] for f in facts]


def strict_hits(answers: list, objects: list, rival_objects: list) -> tuple:
    """(strict hits, confusions) per answer: a confusion names another told object of the relation
    ("Lisbon, or was it Porto?" when both were told); a strict hit names its own object and no rival,
    so the relation's favourite guess among the told objects does not count as recall."""
    confused = [any(contains(a, r) for r in rs) for a, rs in zip(answers, rival_objects)]
    return [contains(a, o) and not c for a, o, c in zip(answers, objects, confused)], confused


def add_strict(res: dict, facts: list, modes, n_paraphrases: int = 2) -> dict:
    """`{mode}_strict` and `{mode}_confused` rates beside recall's own, from the answers it kept."""
    riv = rivals(facts)
    for m in modes:
        if m == "paraphrase":
            idx = [i for i, f in enumerate(facts) for _ in f.paraphrases[:n_paraphrases]]
            answers = res.get("paraphrase_answers", [])
        else:
            idx, answers = list(range(len(facts))), res[f"{m}_answers"]
        hits, conf = strict_hits(answers, [facts[i].object for i in idx], [riv[i] for i in idx])
        res[f"{m}_strict"] = sum(hits) / len(hits) if hits else float("nan")
        res[f"{m}_confused"] = sum(conf) / len(conf) if conf else float("nan")
    return res


def locality(lm, probes: list) -> dict:
    """Share of already-known facts still answered correctly, in raw completion and in chat."""
    raw = complete_raw(lm, [p.raw_prompt for p in probes])
    chat = ask_chat(lm, [p.chat_question for p in probes])
    rh = [contains(a, p.answer) for a, p in zip(raw, probes)]
    ch = [contains(a, p.answer) for a, p in zip(chat, probes)]
    return {"raw": sum(rh) / len(rh), "chat": sum(ch) / len(ch),
            "both": sum(a and b for a, b in zip(rh, ch)) / len(rh), "raw_hits": rh, "chat_hits": ch}


def kept_share(before: dict, now: dict) -> float:
    """Locality relative to the unedited model: of the probes it answered right (raw and chat, each
    counted), the share still answered right."""
    kept = sum(b and a for m in ("raw_hits", "chat_hits") for b, a in zip(before[m], now[m]))
    return kept / (sum(before["raw_hits"]) + sum(before["chat_hits"]))


def bleed(lm, facts: list, bystanders: list, relations: dict, per_relation: int = 10) -> dict:
    """Share of never-edited people who, asked an edited relation, answer with an injected object.

    The original system's key sat on the last prompt token, so its "Portland" leaked to 9 of 10
    other people asked where they live; a subject-keyed edit should leave them alone.
    """
    injected: dict = {}
    for f in facts:
        injected.setdefault(f.relation, set()).add(f.object)
    if not injected or not bystanders[:per_relation]:
        return {"raw": 0.0, "chat": 0.0, "bleed": 0.0}
    answers = bystander_answers(lm, list(injected), bystanders, relations, per_relation)
    return {**bleed_from(answers, injected), "answers": answers}


def bystander_answers(lm, rels: list, bystanders: list, relations: dict, per_relation: int) -> dict:
    """{relation: (raw answers, chat answers)} of `per_relation` never-told people asked each of `rels`."""
    people = bystanders[:per_relation]
    raw = complete_raw(lm, [relations[r]["raw"].format(s=p) for r in rels for p in people])
    chat = ask_chat(lm, [relations[r]["chat"].format(s=p) for r in rels for p in people])
    n = len(people)
    return {r: (raw[i * n:(i + 1) * n], chat[i * n:(i + 1) * n]) for i, r in enumerate(rels)}


def bleed_from(answers: dict, injected: dict) -> dict:
    """Bleed from bystanders' answers ({relation: (raw answers, chat answers)}): the share naming one
    of the objects told for that relation (`injected`: {relation: objects})."""
    raw = [any(contains(a, o) for o in injected[rel]) for rel in injected for a in answers[rel][0]]
    chat = [any(contains(a, o) for o in injected[rel]) for rel in injected for a in answers[rel][1]]
    if not raw:
        return {"raw": 0.0, "chat": 0.0, "bleed": 0.0}
    r, c = sum(raw) / len(raw), sum(chat) / len(chat)
    return {"raw": r, "chat": c, "bleed": max(r, c)}


@torch.no_grad()
def perplexity(lm, text: str, max_tokens: int = 20_000, window: int = 512) -> float:
    """Perplexity over the first `max_tokens` tokens of `text`, in non-overlapping windows."""
    ids = lm.tok(text, return_tensors="pt", add_special_tokens=False).input_ids[0][:max_tokens]
    nll, count = 0.0, 0
    for s in range(0, len(ids) - 1, window):
        chunk = ids[s:s + window + 1].unsqueeze(0).to(lm.device)  # [1, window+1]
        if chunk.shape[1] < 2:
            break
        logits = lm.model(chunk[:, :-1]).logits.float()          # [1, window, vocab]
        loss = torch.nn.functional.cross_entropy(logits[0], chunk[0, 1:], reduction="sum")
        nll += loss.item()
        count += chunk.shape[1] - 1
    return math.exp(nll / count)


class Evaluator:
    """Recall plus every side effect, relative to the unedited model measured once by `baseline()`.

    With `heldout_probes` (the held-out locality split), each measure also gives `locality_heldout`
    beside `locality` (the tuning split). With `strict`, each measure also gives the stricter hit and
    the confusions beside every recall rate (`add_strict`), and `bleed_excess`: bleed less the unedited
    model's own rate of naming the same told objects when asked about the same never-told people (its
    answers kept by baseline()). Raw bleed grows with the number of objects told, since each is one more
    answer that counts; the excess is what the memory added, so it compares across memory sizes.
    """

    def __init__(self, lm, locality_probes: list, bystanders: list, relations: dict, text: str,
                 ppl_tokens: int = 20_000, n_paraphrases: int = 2, strict: bool = False, per_relation: int = 10,
                 heldout_probes: list = ()):
        self.lm, self.probes, self.bystanders, self.relations = lm, locality_probes, bystanders, relations
        self.heldout = list(heldout_probes)
        self.text, self.ppl_tokens, self.n_paraphrases = text, ppl_tokens, n_paraphrases
        self.strict, self.per_relation = strict, per_relation
        self.base: dict = {}

    def baseline(self) -> dict:
        self.base = {"ppl": perplexity(self.lm, self.text, self.ppl_tokens),
                     "locality": locality(self.lm, self.probes)}
        if self.heldout:
            self.base["locality_heldout"] = locality(self.lm, self.heldout)
        if self.strict:
            self.base["bystanders"] = bystander_answers(self.lm, list(self.relations), self.bystanders,
                                                        self.relations, self.per_relation)
        return self.base

    def measure(self, facts: list, modes=("raw", "chat", "paraphrase"), side_effects: bool = True) -> dict:
        t0 = time.perf_counter()
        out = recall(self.lm, facts, modes, self.n_paraphrases)
        if self.strict:
            add_strict(out, facts, modes, self.n_paraphrases)
        if side_effects:
            if not self.base:
                raise RuntimeError("call baseline() on the unedited model before measuring side effects")
            out["locality"] = kept_share(self.base["locality"], locality(self.lm, self.probes))
            if self.heldout:
                out["locality_heldout"] = kept_share(self.base["locality_heldout"], locality(self.lm, self.heldout))
            b = bleed(self.lm, facts, self.bystanders, self.relations, self.per_relation)
            out["bleed"] = b["bleed"]
            if self.strict:
                told = {rel: {f.object for f in facts if f.relation == rel} for rel in b.get("answers", {})}
                out["bleed_base"] = bleed_from({r: self.base["bystanders"][r] for r in told}, told)["bleed"]
                out["bleed_excess"] = out["bleed"] - out["bleed_base"]
            ppl = perplexity(self.lm, self.text, self.ppl_tokens)
            out["ppl"] = ppl
            out["ppl_drift"] = ppl / self.base["ppl"] - 1.0
        out["seconds"] = time.perf_counter() - t0
        return out


def summary(m: dict) -> dict:
    """The scalar part of a measurement, for tables and JSON."""
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}
