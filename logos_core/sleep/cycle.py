"""One sleep cycle: audit -> refresh -> consolidate -> gate -> dissolve, under a perplexity guard.

    log = sleep_cycle(lm, book, ledger, adapters, writer, cfg, cycle=1, anchors=birth, base_ppl=p)

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

The parts are the memory's own objects and are changed in place: `book` (wake/edits.EditBook),
`ledger` (ledger.Ledger), `adapters` (the fused adapters, in order: [{"id", "tensors", "n_facts"}]),
`writer` (wake/writer.Writer, for the refresh); `birth()` returns the anchors. `cfg` holds the sleep settings: refresh,
refresh_projected, consolidate, cumulative, rehearse, ppl_limit, ppl_tokens and lora (a LoraConfig).
"""
from __future__ import annotations

import copy
import dataclasses
import time

import torch

from ..base.tokens import chat_text
from ..measure.evaluate import BATCH, ask_chat, contains, perplexity
from ..measure.facts import heldout_text
from .audit import audit, degraded, rate
from .branch import fuse, reset_branches
from .consolidate import consolidate
from .refresh import refresh


def _snapshot(lm, book, ledger, adapters, cfg) -> dict:
    """Everything a cycle may change, copied to CPU: the MLP weights, the edit book, the ledger."""
    kinds = set(cfg.lora.targets)
    # 4-bit weights never change (adapters on them are branches, restored from the adapter list)
    weights = {n: p.detach().to("cpu", copy=True) for n, p in lm.model.named_parameters()
               if n.split(".")[-2] in kinds and p.is_floating_point()}
    return {"weights": weights, "book": book.snapshot(), "ledger": copy.deepcopy(ledger.to_dict()),
            "adapters": list(adapters)}


@torch.no_grad()
def _restore(lm, book, ledger, adapters, snap: dict) -> None:
    params = dict(lm.model.named_parameters())
    for n, w in snap["weights"].items():
        params[n].copy_(w.to(params[n].device))
    book.restore(snap["book"])
    ledger.load(snap["ledger"])
    adapters[:] = snap["adapters"]
    reset_branches(lm.model, [a["tensors"] for a in adapters])


def _consolidate(lm, book, ledger, adapters, cfg, anchors, cycle: int, log: dict, progress: bool) -> None:
    learning = [e.fact for e in ledger.entries.values() if e.stage < ledger.top]
    done = [e.fact for e in ledger.entries.values() if e.stage == ledger.top]
    rehearse = done[-cfg.rehearse:] if cfg.rehearse else []   # the most recently consolidated
    facts = learning + rehearse
    if not facts:
        return
    with book.muted():                                      # LoRA must learn the facts, not lean on MEMIT
        if not cfg.cumulative:                              # the comparison arm: start from the base model
            for a in reversed(adapters):
                fuse(lm.model, a["tensors"], sign=-1.0)
            adapters.clear()
        lora = dataclasses.replace(cfg.lora, seed=cfg.lora.seed + cycle)
        clog, adapter = consolidate(lm, facts, lora, anchors(), progress)
        book.rebase()                                       # the fused weights are the new originals
    adapters.append({"id": f"cycle{cycle:04d}", "tensors": adapter, "n_facts": len(facts)})
    log.update(start_loss=clog.start_loss, final_loss=clog.final_loss, epoch_losses=clog.epoch_losses,
               train_examples=clog.n_examples, train_seconds=clog.seconds, trained_facts=len(facts))


def _gate(lm, book, ledger, cycle: int, log: dict) -> None:
    """Each fact asked in chat with its own edit at 0 (book.without_own), every fact in one batched
    pass: a fact advances one stage if its answer holds the object, else drops back one."""
    advanced, dropped = [], []
    items = sorted(ledger.entries.items(), key=lambda kv: len(chat_text(lm.tok, kv[1].fact.chat_question)))
    answers = {}
    for b in range(0, len(items), BATCH):    # ask_chat keeps this (already sorted) order in one batch
        chunk = items[b:b + BATCH]
        with book.without_own([e.edit for _, e in chunk]):
            for (key, _), a in zip(chunk, ask_chat(lm, [e.fact.chat_question for _, e in chunk])):
                answers[key] = a
    for key, e in list(ledger.entries.items()):
        ok = contains(answers[key], e.fact.object)
        (advanced if ok else dropped).append(key)
        ledger.advance(key, cycle) if ok else ledger.drop(key, cycle)
    log.update(advanced=advanced, dropped=dropped)


def _dissolve(book, ledger) -> None:
    book.set_scales({e.edit: ledger.scale(k) for k, e in ledger.entries.items() if e.edit in book.edits})


def sleep_cycle(lm, book, ledger, adapters: list, writer, cfg, *, cycle: int, anchors, base_ppl: float,
                progress: bool = False) -> dict:
    """One cycle on the memory's parts (changed in place); returns the cycle's log. `anchors()` gives
    the model's behaviour at birth (anchors.py), asked for only when there is something to
    consolidate (the first time it may take minutes); `base_ppl`: the held-out perplexity at birth,
    the guard's reference."""
    t0 = time.perf_counter()
    snap = _snapshot(lm, book, ledger, adapters, cfg)
    log = {"cycle": cycle, "facts": len(ledger.entries), "rolled_back": False}
    before = audit(lm, ledger.entries.values())
    log.update(raw_before=rate(before, "raw"), chat_before=rate(before, "chat"), audit_seconds=time.perf_counter() - t0)
    if cfg.refresh:
        t = time.perf_counter()
        log["refreshed"] = refresh(lm, writer.hp, book, ledger, writer, degraded(before, "raw"), cycle,
                                   projected=cfg.refresh_projected)
        log["refresh_seconds"] = time.perf_counter() - t
    if cfg.consolidate:
        _consolidate(lm, book, ledger, adapters, cfg, anchors, cycle, log, progress)
        t = time.perf_counter()
        _gate(lm, book, ledger, cycle, log)
        _dissolve(book, ledger)
        log["gate_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    ppl = perplexity(lm, heldout_text(), cfg.ppl_tokens)
    log["ppl_seconds"] = time.perf_counter() - t
    log["ppl_drift"] = ppl / base_ppl - 1.0
    if cfg.ppl_limit is not None and log["ppl_drift"] > cfg.ppl_limit:
        _restore(lm, book, ledger, adapters, snap)
        log["rolled_back"] = True
    after = audit(lm, ledger.entries.values())
    log.update(raw=rate(after, "raw"), chat=rate(after, "chat"), stages=ledger.stages(),
               seconds=time.perf_counter() - t0)
    return log
