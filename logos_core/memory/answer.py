"""`logos ask` on the bundled model without transformers: the state's weights, one greedy answer.

    text, damage = quick_answer(path, "Where does Aria live?", model="135m")   # None: take the full path

A new process used to spend 2.6 s importing torch and transformers and 1.5 s building the model
before it read the question. Answering needs neither the editing nor the training code: the state is
base weights + fused adapters + scaled edits, which this module puts into base/llama.py's plain-torch
decoder (0.03 s from the cached safetensors copy) with the same fuse and EditBook the machine uses,
then decodes greedily through the same chat template. The answer is the one LogosMachine.ask gives
(tests/test_persist.py compares them on a saved state).

It applies to the bundled model on the CPU, whose float32 copy is already converted (`logos warm`
or any earlier command); anything else (a hub model, 4-bit, a GPU, a first run) returns None and the
command line loads the full machine instead.
"""
from __future__ import annotations

from pathlib import Path

from ..base.hparams import load_hparams
from ..base.llama import Llama
from ..base.tokenizer import FolderTokenizer
from ..base.tokens import chat_text, ends_sentence
from ..base.weights import ALIASES, bundled_gguf, converted_folder, gguf_digest, pick_device, set_threads
from ..sleep.branch import fuse
from ..wake.edits import EditBook
from .files import check_weights, damage_line, kind, no_memory, read_adapters, read_edits, read_ledger


class _Plain:
    """What EditBook needs of a loaded model: its module tree."""

    def __init__(self, model):
        self.model = model


def open_plain(path: Path, model: str = "135m", device: str | None = None, four_bit: bool = False):
    """(base/llama.py's model with the state's adapters and edits in it, its tokenizer, one line
    naming damaged facts or None), or None where this path does not apply (see above)."""
    if kind(path) == "new":
        raise no_memory(path)
    d = read_ledger(path)
    model, four_bit = d["model"], bool(d.get("four_bit", False))
    if not ALIASES.get(model.lower(), model).startswith("bundled:") or four_bit or pick_device(device) != "cpu":
        return None
    digest = gguf_digest(bundled_gguf())
    folder = converted_folder(digest)
    if not (folder / "model.safetensors").exists():
        return None
    check_weights(path, d, digest[:16])
    set_threads()
    lm = Llama.from_folder(folder)
    book = EditBook(_Plain(lm), load_hparams(model))
    edits, damaged = read_edits(path, d, book.shapes())
    for a in read_adapters(path, d):               # base + adapters, in their order, then the edits
        fuse(lm, a["tensors"])
    book.load(edits)
    return lm, FolderTokenizer(folder), damage_line(path, d, damaged) if damaged else None


def answer(lm: Llama, tok: FolderTokenizer, question: str, max_new_tokens: int = 48, one_sentence: bool = False) -> str:
    """The greedy chat answer, as measure.evaluate.ask_chat gives it for one question."""
    ids = tok.encode(chat_text(tok, question))
    eos = lm.config["eos_token_id"]
    stop = (lambda new: ends_sentence(tok.decode(new))) if one_sentence else None
    new = lm.greedy(ids, max_new_tokens, set(eos if isinstance(eos, list) else [eos]), stop)
    return tok.decode(new).strip()


def quick_answer(path: Path, question: str, model: str = "135m", device: str | None = None,
                 four_bit: bool = False, max_new_tokens: int = 48, one_sentence: bool = False) -> tuple | None:
    """(the answer, the damage line or None), or None where this path does not apply."""
    opened = open_plain(path, model, device, four_bit)
    if opened is None:
        return None
    lm, tok, damage = opened
    return answer(lm, tok, question, max_new_tokens=max_new_tokens, one_sentence=one_sentence), damage
