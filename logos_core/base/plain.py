"""The bundled model in plain torch (base/llama.py), loaded without transformers.

    lm = load_plain("135m")      # a LoadedModel as models.load_model gives it, or None: take load_model
    lm.model, lm.tok             # base/llama.Llama, base/tokenizer.FolderTokenizer

`logos ask` and `logos remember` run in a new process each time, and importing transformers' model
code was about half of `remember`'s time besides the edit itself. The plain model gives the same
numbers as transformers' (tests/test_answer.py), so a command that only reads or writes edits can
use it. It applies to the bundled model on the CPU once its float32 copy exists (`logos warm`, or any
earlier command through load_model); anything else returns None and the caller loads through
models.load_model.
"""
from __future__ import annotations

import time

from .llama import Llama
from .tokenizer import FolderTokenizer
from .weights import ALIASES, LoadedModel, bundled_gguf, converted_folder, gguf_digest, pick_device, set_threads


def load_plain(name: str = "135m", device: str | None = None, four_bit: bool | None = False,
               state=None) -> LoadedModel | None:
    """The bundled model as base/llama.py's decoder, frozen, in eval mode; None where it does not apply.
    (`state`, the memory asking, is taken as models.load_model takes it, for memory/state.open_state.)"""
    if not ALIASES.get(name.lower(), name).startswith("bundled:") or four_bit or pick_device(device) != "cpu":
        return None
    t0 = time.perf_counter()
    gguf = bundled_gguf()
    digest = gguf_digest(gguf)
    folder = converted_folder(digest)
    if not (folder / "model.safetensors").exists():
        return None
    set_threads()
    model = Llama.from_folder(folder)
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(model, FolderTokenizer(folder), name, str(gguf), digest[:16], "cpu",
                       time.perf_counter() - t0, True)
