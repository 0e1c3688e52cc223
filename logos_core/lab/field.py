"""The field's benchmarks (CounterFact, zsRE) through the same measuring stick: N edits, one at a time
or in batches, scored after 10, 50, 100, 200 of them, teacher-forced and generated side by side.

    base = unedited(lm, cases, ppl_tokens)                                  # the scores before any edit
    rows = edit_and_score(lm, hp, stats, cases, base, arm="nullspace")     # a row per checkpoint
    rows = logos_loop(machine, cases, base, cycles=1)                      # wake rows, then one after sleep

Arms: `memit` (plain MEMIT, each edit blind to the ones before), `nullspace` (each edit null-space
constrained and leaving the earlier edits' keys alone, as the machine's wake writes) and `logos` (the
machine: wake, then sleep; its consolidation changes the model's weights for good, so it runs last or
on a model of its own). `memit` and `nullspace` withdraw their edits at the end: the weights return
exactly.
"""
from __future__ import annotations

import time
from collections import Counter

from tqdm import tqdm

from ..measure import evaluate as E
from ..measure import scores as S
from ..measure.facts import heldout_text
from ..wake.nullspace import null_projectors
from .experiments import write_facts

CHECKPOINTS = (10, 50, 100, 200)
# Literature anchors (teacher-forced, Llama-3-8B, 2,000 CounterFact edits in batches of 100; AlphaEdit
# paper, Table 1): efficacy / generalisation / specificity in percent.
LITERATURE = {"AlphaEdit": (98.9, 94.2, 67.9), "MEMIT": (65.7, 64.7, 51.6)}


def checkpoints(n: int, marks=CHECKPOINTS) -> list:
    """The marks up to n, and n itself."""
    return sorted({m for m in marks if m < n} | {n})


def unedited(lm, cases: list, ppl_tokens: int = 4096) -> dict:
    """The scores of the unedited model (the new objects should score low) and what drift and the
    neighbours are measured against."""
    nb = S.neighbour_answers(lm, cases)
    return {"neighbour_answers": nb, "ppl": E.perplexity(lm, heldout_text(), ppl_tokens), "ppl_tokens": ppl_tokens,
            "scores": {**S.teacher_forced(lm, cases),
                       **{k: v for k, v in S.generated(lm, cases, nb, now=nb).items() if k != "misses_raw"}}}


def score(lm, cases: list, base: dict) -> dict:
    """Teacher-forced and generated scores over `cases` (the first n written), with drift."""
    n_nb = sum(len(c.neighbours) for c in cases)
    ppl = E.perplexity(lm, heldout_text(), base["ppl_tokens"])
    return {"edits": len(cases), **S.teacher_forced(lm, cases),
            **S.generated(lm, cases, base["neighbour_answers"][:n_nb]),
            "ppl": ppl, "ppl_drift": ppl / base["ppl"] - 1.0}


def edit_and_score(lm, hp, stats, cases: list, base: dict, arm: str = "nullspace", batch: int = 1,
                   marks=CHECKPOINTS, on_row=None) -> list:
    """Write the cases' facts in order (`batch` facts an edit) with plain or null-space MEMIT, score
    all written so far at each checkpoint, then withdraw every edit."""
    if arm not in ("memit", "nullspace"):
        raise ValueError(f"arm {arm!r}: memit or nullspace")
    P = null_projectors(lm, hp, stats) if arm == "nullspace" else None
    marks = set(checkpoints(len(cases), marks))
    rows, clock = [], {"edit": 0.0, "t": time.perf_counter()}
    bar = tqdm(total=len(cases), desc=f"{arm} edits", unit="edit")

    def after(n):
        clock["edit"] += time.perf_counter() - clock["t"]
        bar.update(n - bar.n)
        if any(n - batch < m <= n for m in marks):      # a mark reached by the edit just written
            row = {**score(lm, cases[:n], base), "arm": arm, "batch": batch, "seconds_per_edit": clock["edit"] / n}
            rows.append(row)
            if on_row:
                on_row(row)
        clock["t"] = time.perf_counter()

    book = write_facts(lm, hp, stats, [c.fact for c in cases], batch=batch, projectors=P, after=after)
    bar.close()
    for eid in list(book.edits):
        book.remove(eid)
    return rows


def logos_loop(machine, cases: list, base: dict, cycles: int = 1, marks=CHECKPOINTS, on_row=None) -> list:
    """The machine's wake on the cases' facts one at a time (scored at each checkpoint), then `cycles`
    sleep cycles, scored after each with every edit at the scale the cycle left it (and whether the
    cycle was rolled back, with the drift that decided it)."""
    marks = set(checkpoints(len(cases), marks))
    rows, clock = [], {"edit": 0.0}
    bar = tqdm(total=len(cases), desc="logos wake", unit="fact")

    def emit(row):
        rows.append(row)
        if on_row:
            on_row(row)

    for i, c in enumerate(cases, 1):
        t0 = time.perf_counter()
        machine.inject([c.fact])
        clock["edit"] += time.perf_counter() - t0
        bar.update(1)
        if i in marks:
            emit({**score(machine.lm, cases[:i], base), "arm": "logos", "phase": "wake", "batch": 1,
                  "seconds_per_edit": clock["edit"] / i})
    bar.close()
    for log in machine.sleep(cycles, progress=True):
        emit({**score(machine.lm, cases, base), "arm": "logos", "phase": f"sleep {log['cycle']}", "batch": 1,
              "seconds_per_edit": clock["edit"] / len(cases), "sleep_seconds": log["seconds"],
              # a cycle whose drift passed the machine's limit is rolled back: the model as before it
              "rolled_back": log["rolled_back"], "cycle_ppl_drift": log.get("ppl_drift"),
              "facts_at_stage": dict(Counter(log.get("stages", {}).values()))})
    return rows
