"""One sleep cycle: audit -> refresh -> consolidate -> gate -> dissolve, under a perplexity guard.

    log = sleep_cycle(machine, cycle=1)

1. audit        every held fact, raw and chat, edits at their current scales (audit.py)
2. refresh      degraded facts at stage 0, null-space-constrained (refresh.py)          ["SWS", paper 4]
3. consolidate  a LoRA adapter on the facts not yet fully consolidated (plus rehearsal of some that
                are), trained with every MEMIT edit at scale 0 so that it must learn the facts itself,
                then fused (cumulative: into the already-fused model) (consolidate.py) ["REM", paper 4]
4. gate         each fact is asked in chat with *its own* edit at 0 and the others as they are: it
                advances one stage if the answer holds the object, else drops back one (ledger.py)
5. dissolve     every edit is set to its fact's scheduled scale (1.0 -> 0.5 -> 0.1 -> 0.0)
6. guard        perplexity on held-out text; a cycle that drifts past the limit from the model at
                birth is rolled back whole (weights, adapters, ledger), and the log says so.
"""
from __future__ import annotations

import copy
import dataclasses
import time

import torch

from .audit import audit, degraded, rate
from .branch import reset_branches
from .consolidate import consolidate, fuse
from .evaluate import ask_chat, contains, perplexity
from .facts import heldout_text
from .ledger import Ledger
from .refresh import refresh


def _snapshot(machine) -> dict:
    """Everything a cycle may change, copied to CPU: the MLP weights, the edit book, the ledger."""
    kinds = set(machine.cfg.lora.targets)
    # 4-bit weights never change (adapters on them are branches, restored from the adapter list)
    weights = {n: p.detach().to("cpu", copy=True) for n, p in machine.lm.model.named_parameters()
               if n.split(".")[-2] in kinds and p.is_floating_point()}
    return {"weights": weights, "edits": dict(machine.book.edits), "scales": machine.book.scales(),
            "base": dict(machine.book.base), "ledger": copy.deepcopy(machine.ledger.to_dict()),
            "adapters": list(machine.adapters)}


@torch.no_grad()
def _restore(machine, snap: dict) -> None:
    params = dict(machine.lm.model.named_parameters())
    for n, w in snap["weights"].items():
        params[n].copy_(w.to(params[n].device))
    machine.book.edits = dict(snap["edits"])
    for eid, sc in snap["scales"].items():
        machine.book.edits[eid].scale = sc
    machine.book.base = dict(snap["base"])
    machine.book.recompose()
    machine.ledger = Ledger.from_dict(snap["ledger"])
    machine.adapters = list(snap["adapters"])
    reset_branches(machine.lm.model, [a["tensors"] for a in machine.adapters])


def _consolidate(machine, cycle: int, log: dict, progress: bool) -> None:
    led, book, cfg = machine.ledger, machine.book, machine.cfg
    learning = [e.fact for e in led.entries.values() if e.stage < led.top]
    done = [e.fact for e in led.entries.values() if e.stage == led.top]
    rehearse = done[-cfg.rehearse:] if cfg.rehearse else []   # the most recently consolidated
    facts = learning + rehearse
    if not facts:
        return
    scales = book.scales()
    book.set_scales({eid: 0.0 for eid in scales})          # LoRA must learn the facts, not lean on MEMIT
    if not cfg.cumulative:                                  # the comparison arm: start from the base model
        for a in reversed(machine.adapters):
            fuse(machine.lm.model, a["tensors"], sign=-1.0)
        machine.adapters = []
    lora = dataclasses.replace(cfg.lora, seed=cfg.lora.seed + cycle)
    clog, adapter = consolidate(machine.lm, facts, lora, machine.ensure_anchors(), progress)
    book.rebase()                                           # the fused weights are the new originals
    book.set_scales(scales)
    machine.adapters.append({"id": f"cycle{cycle:04d}", "tensors": adapter, "n_facts": len(facts)})
    log.update(start_loss=clog.start_loss, final_loss=clog.final_loss, epoch_losses=clog.epoch_losses,
               train_examples=clog.n_examples, train_seconds=clog.seconds, trained_facts=len(facts))


def _gate(machine, cycle: int, log: dict) -> None:
    led, book = machine.ledger, machine.book
    advanced, dropped = [], []
    for key, e in list(led.entries.items()):
        own = e.edit if e.edit in book.edits else None
        old = book.edits[own].scale if own else 0.0
        if own and old != 0.0:
            book.set_scale(own, 0.0)
        ok = contains(ask_chat(machine.lm, [e.fact.chat_question])[0], e.fact.object)
        if own and old != 0.0:
            book.set_scale(own, old)
        (advanced if ok else dropped).append(key)
        led.advance(key, cycle) if ok else led.drop(key, cycle)
    log.update(advanced=advanced, dropped=dropped)


def _dissolve(machine) -> None:
    led, book = machine.ledger, machine.book
    book.set_scales({e.edit: led.scale(k) for k, e in led.entries.items() if e.edit in book.edits})


def sleep_cycle(machine, cycle: int, progress: bool = False) -> dict:
    cfg, t0 = machine.cfg, time.perf_counter()
    machine.ensure_baseline()
    snap = _snapshot(machine)
    log = {"cycle": cycle, "facts": len(machine.ledger.entries), "rolled_back": False}
    before = audit(machine)
    log.update(raw_before=rate(before, "raw"), chat_before=rate(before, "chat"))
    if cfg.refresh:
        t = time.perf_counter()
        log["refreshed"] = refresh(machine, degraded(before, "raw"), cycle, projected=cfg.refresh_projected)
        log["refresh_seconds"] = time.perf_counter() - t
    if cfg.consolidate:
        _consolidate(machine, cycle, log, progress)
        _gate(machine, cycle, log)
        _dissolve(machine)
    ppl = perplexity(machine.lm, heldout_text(), cfg.ppl_tokens)
    log["ppl_drift"] = ppl / machine.base_ppl - 1.0
    if cfg.ppl_limit is not None and log["ppl_drift"] > cfg.ppl_limit:
        _restore(machine, snap)
        log["rolled_back"] = True
    after = audit(machine)
    log.update(raw=rate(after, "raw"), chat=rate(after, "chat"), stages=machine.ledger.stages(),
               seconds=time.perf_counter() - t0)
    machine.cycle = cycle
    return log
