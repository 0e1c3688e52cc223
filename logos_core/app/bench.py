"""`logos bench`: how fast each step runs, beside the floor measured in the same run.

The floor is the model's plain forward pass over the same number of tokens: no step that must run
the model over those tokens can be faster. Each row prints tokens/s or seconds and the ratio to it.
"""
from __future__ import annotations

import json
import resource
import time

import torch

from ..measure import evaluate as E
from ..measure.facts import heldout_text, load_bank, load_locality
from ..memory.machine import LogosMachine
from ..wake.edits import EditBook
from ..wake.stats import layer_stats
from ..wake.writer import Writer


def _timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


@torch.no_grad()
def forward_floor(lm, n_tokens: int = 4096, window: int = 512) -> float:
    """Seconds for a plain forward pass over n_tokens (windows of `window`), logits included."""
    ids = torch.randint(100, lm.model.config.vocab_size - 100, (n_tokens // window, window), device=lm.device)
    lm.model(ids[:1, :32])  # warm-up
    t0 = time.perf_counter()
    for row in ids:
        lm.model(row[None])
    return time.perf_counter() - t0


def bench_eval(lm, n_facts: int = 100) -> dict:
    """Greedy recall throughput on n_facts bank facts: raw, chat and two paraphrased questions each."""
    facts = load_bank().facts[:n_facts]
    _, secs = _timed(E.recall, lm, facts)
    return {"step": f"evaluate {n_facts} facts (raw+chat+2 paraphrases)", "seconds": secs,
            "facts_per_s": n_facts / secs}


def bench_stats(lm, hp, n_tokens: int, floor_tps: float) -> dict:
    """The covariance pass (recomputed, not read from the cache) against the forward floor."""
    _, secs = _timed(layer_stats, lm, hp, n_tokens=n_tokens, progress=False, force=True)
    tps = n_tokens / secs
    return {"step": f"statistics {n_tokens} tokens, {len(hp.layers)} layers", "seconds": secs,
            "tokens_per_s": tps, "x_floor_time": floor_tps / tps}


def bench_wake(lm, hp, n_facts: int = 3) -> dict:
    """Seconds per single-fact MEMIT edit (sequential), the edits removed afterwards."""
    writer, book = Writer(lm, hp, progress=False), EditBook(lm, hp)
    writer.stats()
    facts = load_bank().facts[-n_facts:]
    z = []
    t0 = time.perf_counter()
    for f in facts:
        e = book.add(writer.write([f], projected=False))
        z.append(e.info["z_seconds"])
    secs = (time.perf_counter() - t0) / n_facts
    for eid in list(book.edits):
        book.remove(eid)
    return {"step": f"wake: one MEMIT edit (mean of {n_facts})", "seconds": secs,
            "target_opt_s": sum(z) / n_facts}


def bench_sleep(lm, hp, n_facts: int) -> list:
    """One full sleep cycle (audit, refresh, consolidate, gate, dissolve, guard) on `n_facts` facts
    written by wake first, with peak memory. The model is changed: run it last."""
    m = LogosMachine(lm, hp)
    facts = load_bank().facts[-n_facts:]
    t0 = time.perf_counter()
    m.inject(facts)
    wake = (time.perf_counter() - t0) / n_facts
    log = m.sleep(1)[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2           # GiB (Linux: KiB)
    if lm.device == "cuda":
        peak = torch.cuda.max_memory_allocated() / 1024 ** 3
    return [{"step": f"wake: {n_facts} facts one at a time, per fact (null-space)", "seconds": wake},
            {"step": f"sleep: one cycle on {n_facts} facts", "seconds": log["seconds"],
             "train_s": log.get("train_seconds"), "peak_GiB": peak}]


def run(lm, rows=("eval", "stats", "wake"), hp=None, stats_tokens: int = 20480, sleep_facts: int = 0) -> list:
    out = []
    floor = forward_floor(lm)
    floor_tps = 4096 / floor
    out.append({"step": "floor: forward 4096 tokens", "seconds": floor, "tokens_per_s": floor_tps})
    if hp is not None and "stats" in rows:
        out.append(bench_stats(lm, hp, stats_tokens, floor_tps))
    if hp is not None and "wake" in rows:
        out.append(bench_wake(lm, hp))
    if "eval" in rows:
        out.append(bench_eval(lm))
        probes = load_locality()
        _, s = _timed(E.locality, lm, probes)
        out.append({"step": f"locality {len(probes)} probes (raw+chat)", "seconds": s})
        _, s = _timed(E.perplexity, lm, heldout_text(), 4096)
        out.append({"step": "perplexity 4096 tokens", "seconds": s, "x_floor": s / floor})
    if hp is not None and sleep_facts:
        out += bench_sleep(lm, hp, sleep_facts)
    return out


def print_table(rows: list, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'step':48s} {'seconds':>9s}  other")
    for r in rows:
        other = "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
                          if k not in ("step", "seconds"))
        print(f"{r['step']:48s} {r['seconds']:9.2f}  {other}")
