"""Experiment protocols the notebooks run (the notebooks stay thin: parameters, calls, tables, figures).

    rows = capacity_curve(machine, facts, every=10)      # paper 5: recall of all facts so far vs n
    rows = maintenance(machine, facts, ev, cycles=4)      # paper 5: recall per sleep cycle
    rows = graduated(machine, facts, ev, cycles=4)        # paper 6: stage and scale per fact per cycle
    rows = lifelong(machine, facts, ev, days=20)          # wake each day, sleep each night
    book = write_facts(lm, hp, stats, facts, projectors=P) # wake alone: MEMIT edits, no machine
    row = wake_quality(lm, hp, stats, ev, facts, projectors=P)   # ... measured, then withdrawn
"""
from __future__ import annotations

import copy
import dataclasses
import os
import time

import torch

from ..base.hparams import load_hparams
from ..base.models import load_model
from ..measure.evaluate import Evaluator, recall, summary
from ..measure.facts import heldout_text, load_locality, load_locality_heldout
from ..memory.config import MachineConfig
from ..memory.machine import LogosMachine
from ..wake.contexts import Request
from ..wake.edits import EditBook
from ..wake.memit import apply_memit


# The unedited model's baseline per model and measuring stick. Every arm's freshly loaded model has
# the same weights, so one process measures it once (a locality run and a perplexity pass, about 20 s
# on a 2-core CPU) and the arms after the first read it here: the same numbers, measured the same way.
_BASELINES: dict = {}


def fresh_machine(model: str, device, bank, *, hparams: dict | None = None, lr: float | None = None,
                  epochs: int | None = None, seed: int = 0, ppl_tokens: int = 4096, n_locality: int = 0,
                  lora: dict | None = None, strict: bool = False, heldout: bool = False, **cfg):
    """A freshly loaded base model, an Evaluator whose baseline is taken on it, and a LogosMachine on it.

    Every notebook arm starts this way: consolidation fuses adapters into the weights, so two arms
    never share a model. `hparams` overrides the model's MEMIT hyperparameters, `lora` the machine's
    LoRA settings (lr and epochs may also come on their own; None keeps the machine's), and `cfg` any
    other MachineConfig field; `strict` and `heldout` are the evaluator's.
    """
    lm = load_model(model, device=device)
    key = (model, str(lm.device), str(lm.model.dtype), os.environ.get("LOGOS_4BIT", ""), id(bank), ppl_tokens,
           n_locality, strict, heldout)
    seen = _BASELINES.get(key)
    ev = evaluator(lm, bank, ppl_tokens, n_locality, strict, heldout, base=seen[1] if seen else None)
    _BASELINES[key] = (bank, ev.base)   # the bank is kept so its id is not reused
    given = {k: v for k, v in (("lr", lr), ("epochs", epochs), ("seed", seed)) if v is not None}
    given.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in (lora or {}).items()})
    lora_cfg = dataclasses.replace(MachineConfig().lora, **given)
    machine_cfg = MachineConfig(ppl_tokens=ppl_tokens, lora=lora_cfg, **cfg)
    return LogosMachine(lm, dataclasses.replace(load_hparams(model), **(hparams or {})), machine_cfg), ev


def memit_only(lm, hp, ppl_tokens: int = 4096, **cfg):
    """A LogosMachine that only writes with MEMIT: no consolidation and no perplexity rollback, since
    notebook 05 measures the drift a rollback would hide. `cfg`: other MachineConfig fields."""
    return LogosMachine(lm, hp, MachineConfig(consolidate=False, ppl_limit=None, ppl_tokens=ppl_tokens, **cfg))


def write_facts(lm, hp, stats, facts: list, *, batch: bool | int = False, projectors: dict | None = None,
                after=None):
    """Write `facts` with MEMIT, one edit per fact (or one for all with `batch`, or one per `batch`
    facts where it is a number), and return the EditBook holding the edits (removing them all
    restores the weights exactly). With `projectors` every edit is null-space constrained and leaves
    the keys of the facts written before it alone, as the machine's wake writes them. `after(n)` runs
    once the first n facts are written."""
    book, keep = EditBook(lm, hp), {}
    size = max(len(facts) if batch is True else int(batch), 1)
    try:
        for start in range(0, len(facts), size):
            group = facts[start:start + size]
            e = book.add(apply_memit(lm, hp, [Request.from_fact(f) for f in group], stats, group,
                                     projectors=projectors, keep_keys=keep if projectors is not None else None))
            for layer, K in e.keys.items():
                keep[layer] = torch.cat([keep[layer], K], 1) if layer in keep else K
            if after:
                after(start + len(group))
    except BaseException:   # a failed write leaves the weights as they were, not half edited
        for eid in list(book.edits):
            book.remove(eid)
        raise
    return book


def wake_quality(lm, hp, stats, ev, facts: list, *, batch: bool = False, projectors: dict | None = None) -> dict:
    """Write `facts` (one at a time, or one batch), measure them and every side effect with `ev`, then
    withdraw every edit (the weights return exactly): recall, locality, bleed, drift, seconds per edit,
    target-search steps, and the chat and raw misses with their answers."""
    t0 = time.perf_counter()
    book = write_facts(lm, hp, stats, facts, batch=batch, projectors=projectors)
    secs = (time.perf_counter() - t0) / (1 if batch else len(facts))
    try:
        m = ev.measure(facts)
        z = [i for e in book.edits.values() for i in e.info["z"]]
        return {**summary(m), "seconds_per_edit": secs, "steps": sum(i["steps"] for i in z) / len(z),
                "delta_norm_rel": book.total_delta_norm(),
                "misses_chat": [(f.chat_question, a) for f, a, h in zip(facts, m["chat_answers"], m["chat_hits"])
                                if not h],
                "misses_raw": [(f.raw_prompt, a) for f, a, h in zip(facts, m["raw_answers"], m["raw_hits"]) if not h]}
    finally:
        for eid in list(book.edits):
            book.remove(eid)


def evaluator(lm, bank, ppl_tokens: int = 4096, n_locality: int = 0, strict: bool = False,
              heldout: bool = False, base: dict | None = None):
    """The measuring stick on `lm`, its baseline (perplexity, locality) taken now, before any memory;
    `strict` adds the stricter hit, confusions and bleed over the unedited rate, `heldout` locality on
    the held-out split beside the tuning one (Evaluator). `base`: that baseline as already measured on
    the same unedited model with the same stick (it is then not measured again)."""
    ev = Evaluator(lm, load_locality()[:n_locality or None], bank.bystanders, bank.relations, heldout_text(),
                   ppl_tokens=ppl_tokens, strict=strict, heldout_probes=load_locality_heldout() if heldout else ())
    if base is None:
        ev.baseline()
    else:
        ev.base = copy.deepcopy(base)
    return ev


def reset(machine) -> None:
    """Withdraw every edit (the edited layers return to their weights before the first edit, exactly)."""
    for eid in list(machine.book.edits):
        machine.book.remove(eid)
    machine.ledger.entries.clear()


def capacity_curve(machine, facts: list, every: int, stop_below: float = 0.9, patience: int = 2,
                   on_row=None) -> list:
    """Write `facts` one at a time; every `every` facts, raw and chat recall of all written so far,
    and the norm of all edits relative to the edited weights. Stops `patience` checkpoints after raw
    recall first fell below `stop_below` (the curve past its ceiling), or at the end of `facts`."""
    rows, below, t0 = [], 0, time.perf_counter()
    for i, f in enumerate(facts, 1):
        machine.inject([f])
        if i % every and i != len(facts):
            continue
        r = recall(machine.lm, facts[:i], modes=("raw", "chat"))
        rows.append({"n": i, "raw": r["raw"], "chat": r["chat"], "delta_norm": machine.book.total_delta_norm(),
                     "seconds": time.perf_counter() - t0})
        if on_row:
            on_row(rows[-1])
        below = below + 1 if r["raw"] < stop_below else below
        if below >= patience:
            break
    return rows


def maintenance(machine, facts: list, ev, cycles: int, on_row=None) -> list:
    """Sleep `cycles` times (whatever phases machine.cfg enables), measuring recall and side effects
    before the first cycle and after each."""
    rows = [{"cycle": 0, **summary(ev.measure(facts, modes=("raw", "chat")))}]
    for _ in range(cycles):
        log = machine.sleep(1)[0]
        m = ev.measure(facts, modes=("raw", "chat"))
        rows.append({"cycle": log["cycle"], **summary(m), "refreshed": len(log.get("refreshed", [])),
                     "delta_norm": machine.book.total_delta_norm(), "sleep_seconds": log["seconds"],
                     "rolled_back": log["rolled_back"]})
        if on_row:
            on_row(rows[-1])
    return rows


def lora_alone(machine, facts: list) -> float:
    """Chat recall with every MEMIT edit at 0 (what consolidation alone holds); scales restored after.
    NaN for a memory with no weights of its own (retrieval)."""
    if not hasattr(machine, "book"):
        return float("nan")
    with machine.book.muted():
        return recall(machine.lm, facts, modes=("chat",))["chat"]


def share_at_top(ledger) -> float:
    """Share of the ledger's facts at the last stage (edit fully dissolved)."""
    stages = ledger.stages()
    return sum(s == ledger.top for s in stages.values()) / max(len(stages), 1)


def graduated(machine, facts: list, ev, cycles: int, on_row=None) -> tuple:
    """Paper 6: wake `facts`, then sleep `cycles` times. Returns (per-cycle rows, per-fact rows)."""
    machine.inject(facts)
    cycle_rows, fact_rows = [], []
    for _ in range(cycles):
        log = machine.sleep(1)[0]
        m = ev.measure(facts, modes=("raw", "chat", "paraphrase"))
        row = {"cycle": log["cycle"], "n_facts": len(facts), **summary(m),
               "lora_alone_chat": lora_alone(machine, facts), "at_top": share_at_top(machine.ledger),
               "advanced": len(log.get("advanced", [])), "dropped": len(log.get("dropped", [])),
               "start_loss": log.get("start_loss"), "final_loss": log.get("final_loss"),
               "ppl_drift_guard": log["ppl_drift"], "rolled_back": log["rolled_back"],
               "sleep_seconds": log["seconds"]}
        cycle_rows.append(row)
        for e in machine.ledger.entries.values():
            fact_rows.append({"n_facts": len(facts), "cycle": log["cycle"], "fact": e.fact.statement,
                              "subject": e.fact.subject, "relation": e.fact.relation, "stage": e.stage,
                              "scale": machine.ledger.scale(e.key),
                              "chat_hit": bool(m["chat_hits"][facts.index(e.fact)])})
        if on_row:
            on_row(row)
    return cycle_rows, fact_rows


def _recall_row(machine, facts, label: str, ev=None, modes=("raw", "chat"), **extra) -> dict:
    """Chat and raw recall of `facts` now, LoRA alone too, and side effects when `ev` is given."""
    m = ev.measure(facts, modes=modes) if ev else recall(machine.lm, facts, modes=modes)
    return {"when": label, "n_facts": len(facts), **summary(m), "lora_alone_chat": lora_alone(machine, facts),
            **extra}


def day(machine, facts: list, conversations: int, nights: int, ev=None) -> list:
    """Paper 3: the facts arrive over `conversations` conversations (wake after each), then `nights`
    sleep cycles. Recall of every fact told so far after each conversation and each night (the last
    night with paraphrases and side effects when `ev` is given); wake seconds per fact and sleep seconds."""
    rows, told = [], []
    per = -(-len(facts) // conversations)
    for c in range(conversations):
        batch = facts[c * per:(c + 1) * per]
        rep = machine.inject(batch)
        told += batch
        rows.append(_recall_row(machine, told, f"conversation {c + 1}",
                                wake_seconds_per_fact=rep.seconds / max(len(batch), 1)))
    for n in range(nights):
        log = machine.sleep(1)[0]
        last = n == nights - 1
        rows.append(_recall_row(machine, told, f"night, cycle {n + 1}", ev if last else None,
                                ("raw", "chat", "paraphrase") if last else ("raw", "chat"),
                                sleep_seconds=log["seconds"]))
    return rows


def two_phase(machine, facts: list, ev=None) -> list:
    """Paper 4: wake, then the SWS phase alone (audit + refresh), then the REM phase alone
    (consolidate, gate, dissolve); raw and chat recall after each ("pathway separation")."""
    machine.inject(facts)
    rows = [_recall_row(machine, facts, "after wake (MEMIT)")]
    base = machine.cfg
    machine.cfg = dataclasses.replace(base, refresh=True, consolidate=False)
    machine.sleep(1)
    rows.append(_recall_row(machine, facts, "after SWS (audit + refresh)"))
    machine.cfg = dataclasses.replace(base, refresh=False, consolidate=True)
    machine.sleep(1)
    rows.append(_recall_row(machine, facts, "after REM (LoRA, gate, dissolve)", ev))
    machine.cfg = base
    return rows


def alignment_tax(machine, facts: list, cycles: int, ev=None) -> list:
    """Paper 2: wake, then `cycles` consolidations. Per cycle: chat recall with the edits at their
    scheduled scales, with every edit withdrawn (LoRA alone: what one LoRA pass delivered), and the
    consolidation's starting and final loss."""
    machine.inject(facts)
    rows = [_recall_row(machine, facts, "cycle 0", cycle=0)]
    for c in range(cycles):
        log = machine.sleep(1)[0]
        rows.append(_recall_row(machine, facts, f"cycle {c + 1}", ev if c == cycles - 1 else None, cycle=c + 1,
                                start_loss=log.get("start_loss"), final_loss=log.get("final_loss"),
                                rolled_back=log["rolled_back"]))
    return rows


def lifelong(machine, facts: list, ev, days: int, cycles_per_night: int = 1, on_row=None) -> list:
    """The "unbounded lifetime" claim: `facts` told in equal shares over `days` (wake), each day ending
    with `cycles_per_night` sleep cycles. After each night: chat, raw and paraphrase recall of *every
    fact ever told* (strict and confused beside them where `ev` is strict), locality (both splits
    where `ev` has the held-out one), bleed and perplexity drift, the share at stage 3, the MEMIT
    edits still held."""
    rows, told = [], []
    per = -(-len(facts) // days)
    for d in range(days):
        batch = facts[d * per:(d + 1) * per]
        if not batch:
            break
        rep = machine.inject(batch)
        told += batch
        logs = machine.sleep(cycles_per_night)
        m = ev.measure(told, modes=("raw", "chat", "paraphrase"))
        rows.append({"day": d + 1, "n_facts": len(told), **summary(m), "at_top": share_at_top(machine.ledger),
                     "edits": len(machine.book.edits), "wake_seconds_per_fact": rep.seconds / len(batch),
                     "sleep_seconds": sum(l["seconds"] for l in logs),
                     # per cycle: what it cost and how many facts it trained (the learning ones, the rehearsed)
                     "cycle_seconds": [l["seconds"] for l in logs],
                     "train_seconds": [l.get("train_seconds", 0.0) for l in logs],
                     "trained_facts": [l.get("trained_facts", 0) for l in logs],
                     "rolled_back": sum(bool(l["rolled_back"]) for l in logs)})
        if on_row:
            on_row(rows[-1])
    return rows
