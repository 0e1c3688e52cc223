"""Covariance statistics: the uncentered second moment C = E[k k^T] of the keys of each edited layer.

A key k is the input of the MLP down-projection (d_mlp wide) at one token. MEMIT's update keeps the
layer's output for "ordinary" keys by weighting C against the new keys (memit.py), so C must be the
real, full second moment over ordinary text, not a diagonal guess from a few sentences.

    C = layer_stats(lm, hp)            # {layer: [d_mlp, d_mlp] float64}, cached on disk

Accumulated in float64 over sequences of SEQ_LEN tokens; the forward pass stops after the last edited
layer (no later layers, no logits). Cached under
    $LOGOS_CACHE/stats/<weights id>/<module>/layer<L>_<dtype>_<corpus id>_<tokens>.safetensors
with those keys stored in the file's metadata and checked on load; any change recomputes.
"""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import torch
from safetensors import safe_open
from tqdm import tqdm

from ..base.atomic import save_tensors
from ..base.weights import cache_dir
from ..base.nethook import TraceDict
from ..measure.facts import stats_text

SEQ_LEN = 256
BATCH = 8


def corpus_id(text: str, name: str = "default") -> str:
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _path(lm, hp, layer: int, cid: str, n_tokens: int, dtype: str) -> Path:
    module = hp.rewrite_module.format(layer).replace(".", "_")
    return cache_dir() / "stats" / lm.weights_id / module / f"{dtype}_{cid}_{n_tokens}.safetensors"


def _load(path: Path, meta_want: dict):
    if not path.exists():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if any(meta.get(k) != str(v) for k, v in meta_want.items()):
                return None
            return f.get_tensor("mom2").double()
    except Exception:  # a torn or foreign file is recomputed, never trusted
        return None


@torch.no_grad()
def accumulate(lm, layers_modules: list, text: str, n_tokens: int, progress: bool = True) -> tuple:
    """Sum of k k^T (float64) and token count for each module name in `layers_modules`."""
    # Tokenise only as much text as the count needs (the whole corpus took ~1 s, most of a GPU pass).
    ids = lm.tok(text[: n_tokens * 8], return_tensors="pt", add_special_tokens=False).input_ids[0]
    if len(ids) < n_tokens:
        ids = lm.tok(text, return_tensors="pt", add_special_tokens=False).input_ids[0]
    if len(ids) < n_tokens:
        raise ValueError(f"the statistics text has {len(ids)} tokens; {n_tokens} were asked for")
    ids = ids[: (n_tokens // SEQ_LEN) * SEQ_LEN].view(-1, SEQ_LEN)  # [n_seq, SEQ_LEN]
    sums = {m: None for m in layers_modules}
    count = 0
    stop_at = layers_modules[-1]
    bar = tqdm(total=ids.numel(), unit="tok", desc="covariance", disable=not progress, file=sys.stderr,
               leave=False)
    for b in range(0, len(ids), BATCH):
        batch = ids[b:b + BATCH].to(lm.device)
        with TraceDict(lm.model, layers_modules, stop_at=stop_at, capture_input=True) as td:
            lm.model(batch)
        for m in layers_modules:
            k = td[m].input.reshape(-1, td[m].input.shape[-1]).float()    # [tokens, d_mlp]
            # One batch's product in float32 (2,048 terms: ~1e-6 relative error, and fp64 matmul was
            # most of the pass on the H100); the running sum over the corpus is float64.
            kk = (k.T @ k).double()                                        # [d_mlp, d_mlp]
            sums[m] = kk if sums[m] is None else sums[m] + kk
        count += batch.numel()
        bar.update(batch.numel())
    bar.close()
    return sums, count


def layer_stats(lm, hp, text: str | None = None, corpus_name: str = "default", n_tokens: int | None = None,
                progress: bool = True, force: bool = False) -> dict:
    """{layer: E[k k^T]} for every edited layer, from the cache when its keys match."""
    text = stats_text() if text is None else text
    n_tokens = n_tokens or hp.stats_tokens
    cid = corpus_id(text, corpus_name)
    dtype = str(next(lm.model.parameters()).dtype).replace("torch.", "")
    out, missing = {}, []
    for layer in hp.layers:
        meta = {"weights": lm.weights_id, "module": hp.rewrite_module.format(layer), "dtype": dtype,
                "corpus": cid, "tokens": n_tokens}
        cov = None if force else _load(_path(lm, hp, layer, cid, n_tokens, dtype), meta)
        if cov is None:
            missing.append(layer)
        else:
            out[layer] = cov.to(lm.device)  # where the solves run: no per-edit host-to-GPU copy
    if missing:
        t0 = time.perf_counter()
        names = [hp.rewrite_module.format(layer) for layer in missing]
        sums, count = accumulate(lm, names, text, n_tokens, progress)
        for layer, name in zip(missing, names):
            cov = sums[name] / count
            meta = {"weights": lm.weights_id, "module": name, "dtype": dtype, "corpus": cid,
                    "tokens": n_tokens, "count": count, "seconds": round(time.perf_counter() - t0, 2)}
            # Stored in float32 (half the disk; the 8B layers are 14336 wide); solves upcast to float64.
            save_tensors(_path(lm, hp, layer, cid, n_tokens, dtype), {"mom2": cov.float()},
                         {k: str(v) for k, v in meta.items()})
            out[layer] = cov.float().double()
    return out
