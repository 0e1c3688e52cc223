"""`logos ask` on the bundled model without transformers: the state's weights, one greedy answer.

    text, damage = quick_answer(path, "Where does Aria live?")   # None: take the full path

A new process used to spend 2.6 s importing torch and transformers and 1.5 s building the model
before it read the question. Answering needs neither the training code nor transformers: the state
is base weights + fused adapters + scaled edits, which Memory.open_plain (store.py) puts into
base/llama.py's plain-torch decoder with the same fuse and EditBook the machine uses; the answer is
then decoded greedily through the same chat template. It is the one LogosMachine.ask gives
(tests/test_persist.py compares them on a saved state).

It applies where Memory.open_plain does (the bundled model on the CPU, once its float32 copy is
converted); anything else returns None and the command line loads the full machine instead.
"""
from __future__ import annotations

from pathlib import Path

from ..base.tokens import chat_text, ends_sentence
from .files import damage_line, kind, no_memory, read_ledger
from .store import Memory


def answer(lm, tok, question: str, max_new_tokens: int = 48, one_sentence: bool = False) -> str:
    """The greedy chat answer of base/llama.py's model, as measure.evaluate.ask_chat gives it for one question."""
    ids = tok.encode(chat_text(tok, question))
    eos = lm.config["eos_token_id"]
    stop = (lambda new: ends_sentence(tok.decode(new))) if one_sentence else None
    new = lm.greedy(ids, max_new_tokens, set(eos if isinstance(eos, list) else [eos]), stop)
    return tok.decode(new).strip()


def quick_answer(path: Path, question: str, device: str | None = None, max_new_tokens: int = 48,
                 one_sentence: bool = False) -> tuple | None:
    """(the answer, the line naming damaged facts or None), or None where this path does not apply."""
    if kind(path) == "new":
        raise no_memory(path)
    m = Memory.open_plain(path, device=device, write=False)
    if m is None:
        return None
    damage = damage_line(path, read_ledger(path), m.damaged) if m.damaged else None
    return answer(m.lm.model, m.lm.tok, question, max_new_tokens=max_new_tokens, one_sentence=one_sentence), damage
