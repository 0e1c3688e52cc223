"""`logos bench`: how fast each step runs, beside the floor measured in the same run.

    logos bench [--json] [--wake-facts 5] [--sleep-facts 20] [--no-cli]

The floor is the model's plain forward pass over 4096 tokens: no step that must run the model over
those tokens can be faster. Rows, in the order they run (the model is changed by the last ones):

    floor, statistics            the forward pass; the covariance pass of the edited layers (recomputed)
    evaluate, locality, ppl      the measuring stick: greedy recall, the locality probes, perplexity
    wake                         facts written one at a time as the machine writes them (null-space edits
                                 into the memory so far), per fact; its target search and steps
    sleep                        one cycle on those facts (the first night: every fact still learning)
    ask, remember                the command line in a new process, end to end, on a state holding them
    make reproduce SCALE=paper   the six notebooks at the papers' sizes, from the rows above (reproduce_estimate)

Each row is timed alone: two model jobs side by side slow each other several times over.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ..measure import evaluate as E
from ..measure.facts import heldout_text, load_bank, load_locality
from ..memory.machine import LogosMachine
from ..wake.stats import layer_stats

# What `make reproduce SCALE=paper` runs (the papers' sizes), counted from the notebooks' protocols
# (notebooks/NN_*.py): facts written by wake, sleep cycles by the number of facts they train, and
# measurements (recall of n facts; side effects: locality, bleed, perplexity). Notebook 05's capacity
# arms stop past their ceilings; the counts assume the ceilings its last run found (30 and 90 facts).
WORKLOAD = {
    # LoRA-only consolidations of 20 facts, 1 epoch of 68 rows each (5 cycles + 5 learning rates x 3)
    "01_lora_sleep": {"train_rows": 20 * 68, "recall": {20: 11}, "side": 12, "loads": 6},
    "02_alignment_tax": {"wake": 20, "cycles": {10: 4}, "recall": {10: 12}, "side": 4, "loads": 2},
    "03_dual_system": {"wake": 60, "cycles": {20: 6}, "audits": {20: 12}, "recall": {20: 52}, "side": 10, "loads": 5},
    "04_two_phase": {"wake": 20, "cycles": {20: 1}, "audits": {20: 2}, "recall": {20: 6}, "side": 2, "loads": 1},
    "05_convergence": {"wake": 150, "audits": {30: 20}, "refresh": 30, "recall": {50: 10, 30: 11}, "side": 12,
                       "loads": 1},
    "06_graduated": {"wake": 50, "cycles": {5: 4, 10: 4, 15: 4, 20: 4}, "recall": {12: 32}, "side": 20, "loads": 4},
}


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
            "facts": n_facts, "facts_per_s": n_facts / secs}


def bench_stats(lm, hp, n_tokens: int, floor_tps: float) -> dict:
    """The covariance pass (recomputed, not read from the cache) against the forward floor."""
    _, secs = _timed(layer_stats, lm, hp, n_tokens=n_tokens, progress=False, force=True)
    tps = n_tokens / secs
    return {"step": f"statistics {n_tokens} tokens, {len(hp.layers)} layers", "seconds": secs,
            "tokens_per_s": tps, "x_floor_time": floor_tps / tps}


def bench_wake(m, facts: list) -> dict:
    """Facts written one at a time through the machine (null-space edits, each leaving the facts
    before it alone), seconds per fact; the statistics and projectors are made before the clock."""
    m.writer.projectors()
    m.ensure_baseline()
    t0 = time.perf_counter()
    m.inject(facts)
    secs = (time.perf_counter() - t0) / len(facts)
    z = [e.info["z"][0] for e in m.book.edits.values()]
    return {"step": f"wake: {len(facts)} facts one at a time, per fact", "seconds": secs,
            "target_search_s": sum(i["seconds"] for i in z) / len(z), "steps": sum(i["steps"] for i in z) / len(z)}


def bench_sleep(m) -> dict:
    """One full sleep cycle (audit, refresh, consolidate, gate, dissolve, guard) on the machine's
    facts, with peak memory. The birth anchors (made once per model and cached) are made first."""
    m.ensure_anchors()
    log = m.sleep(1)[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2           # GiB (Linux: KiB)
    if str(m.lm.device).startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 1024 ** 3
    return {"step": f"sleep: one cycle on {len(m.ledger.entries)} facts", "seconds": log["seconds"],
            "train_s": log.get("train_seconds"), "train_rows": log.get("train_examples"),
            "epochs": len(log.get("epoch_losses", [])),
            "refreshed": len(log.get("refreshed", [])), "peak_GiB": peak}


def _cli(args: list) -> float:
    """Seconds for one `logos ...` in a new process (its output discarded)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "logos_core.app.cli", *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def bench_cli(m, model: str, repeats: int = 3) -> list:
    """`logos ask` and `logos remember` in new processes, on the machine's memory saved to a folder.
    Afterwards the same fact is written here too, on the same memory, to split remember's time into
    that fact's wake and the rest (starting python, importing, loading, saving). On the bundled model
    the command writes on base/llama.py, whose numbers are transformers' bit for bit
    (tests/test_persist.py), so both searches take the same steps; elsewhere the reloaded weights
    match this process's only to float rounding and the split is an estimate."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "state"
        m.path = path
        m.save()
        m.path = None
        f, held = m.facts()[0], len(m.ledger.entries)
        ask = [_cli(["ask", f.chat_question, "--state", str(path), "--model", model]) for _ in range(repeats)]
        told = load_bank().facts[0]
        remember = _cli(["remember", told.statement, "--state", str(path), "--model", model])
        _, wake = _timed(m.inject, [told])
    return [{"step": f"ask: a new process, {held} facts held (best of {repeats})", "seconds": min(ask)},
            {"step": "remember: one fact, a new process", "seconds": remember, "wake_here_s": wake,
             "rest_est_s": remember - wake}]


def reproduce_estimate(rows: list, anchor_rows: int) -> dict:
    """Seconds `make reproduce SCALE=paper` would take, from this run's rows and WORKLOAD: wake per fact; a sleep
    cycle's training scaled by its rows (5 a fact plus the anchors drawn each epoch) and the rest of
    it by its facts; LoRA-only training by its row-epochs; recall by facts measured; side effects as
    measured; a fresh model's load each. An estimate: each notebook's own JSON records its wall time."""
    by = {r["key"]: r for r in rows if "key" in r}
    wake, load = by["wake"]["seconds"], by["load"]["seconds"]
    per_fact = by["eval"]["seconds"] / by["eval"]["facts"]
    # the notebooks ask every locality probe; bleed asks about as many prompts as perplexity reads
    side = by["locality"]["seconds"] * by["locality"]["of"] / by["locality"]["probes"] + by["ppl"]["seconds"] * 2
    cyc = by.get("sleep") or {"facts": 20, "train_s": 0.0, "seconds": 0.0, "train_rows": 1, "epochs": 1}
    n0, train0 = float(cyc["facts"]), float(cyc["train_s"] or 0.0)
    rest0 = cyc["seconds"] - train0
    per_row = train0 / max(cyc["train_rows"] * cyc["epochs"], 1)

    def cycle(n):
        return train0 * (5 * n + anchor_rows) / (5 * n0 + anchor_rows) + rest0 * n / n0

    total, parts = 0.0, {}
    for nb, w in WORKLOAD.items():
        s = (w.get("wake", 0) * wake + sum(k * cycle(n) for n, k in w.get("cycles", {}).items())
             + w.get("train_rows", 0) * per_row
             + sum(k * n * per_fact / 2 for n, k in w.get("audits", {}).items())   # raw and chat only
             + w.get("refresh", 0) * wake + sum(k * n * per_fact for n, k in w.get("recall", {}).items())
             + w.get("side", 0) * side + w.get("loads", 0) * load)
        parts[nb] = round(s)
        total += s
    return {"step": "make reproduce SCALE=paper (estimate, the papers' sizes)", "seconds": total, **parts}


def run(lm, hp=None, stats_tokens: int = 20480, wake_facts: int = 5, sleep_facts: int = 20, cli: bool = True,
        model: str = "135m", eval_facts: int = 100, probes: int = 0) -> list:
    """The bench's rows, the load's first (lm.load_seconds: the estimate counts a load per notebook arm).
    `eval_facts` and `probes` (0: all) size the recall and locality rows; the estimate scales them."""
    out = [{"step": f"load {model} ({'warm' if lm.cache_hit else 'cold'})", "key": "load", "seconds": lm.load_seconds}]
    floor = forward_floor(lm)
    floor_tps = 4096 / floor
    out.append({"step": "floor: forward 4096 tokens", "key": "floor", "seconds": floor, "tokens_per_s": floor_tps})
    if hp is not None:
        out.append(bench_stats(lm, hp, stats_tokens, floor_tps))
    out.append({**bench_eval(lm, eval_facts), "key": "eval"})
    every = load_locality()
    asked = every[:probes or None]
    _, s = _timed(E.locality, lm, asked)
    out.append({"step": f"locality {len(asked)} probes (raw+chat)", "key": "locality", "seconds": s,
                "probes": len(asked), "of": len(every)})
    _, s = _timed(E.perplexity, lm, heldout_text(), 4096)
    out.append({"step": "perplexity 4096 tokens", "key": "ppl", "seconds": s, "x_floor": s / floor})
    if hp is None:
        return out
    m = LogosMachine(lm, hp)
    facts = load_bank().facts[-max(wake_facts, sleep_facts):]
    out.append({**bench_wake(m, facts[:wake_facts]), "key": "wake"})
    if sleep_facts > wake_facts:
        m.inject(facts[wake_facts:sleep_facts])
    if sleep_facts:
        out.append({**bench_sleep(m), "key": "sleep", "facts": len(m.ledger.entries)})
    if cli:
        out += bench_cli(m, model)
    out.append(reproduce_estimate(out, m.cfg.lora.anchor_rows or 0))
    return out


def print_table(rows: list, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'step':58s} {'seconds':>9s}  {'x floor':>7s}  other")
    floor = next((r["seconds"] for r in rows if r.get("key") == "floor"), None)
    for r in rows:
        other = "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
                          if k not in ("step", "seconds", "key"))
        ratio = f"{r['seconds'] / floor:7.2f}" if floor else ""
        print(f"{r['step']:58s} {r['seconds']:9.2f}  {ratio}  {other}")
