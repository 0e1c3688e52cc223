"""Refresh (sleep, phase 1): re-write degraded facts under the null-space projector.

    refreshed = refresh(lm, hp, book, ledger, writer, keys, cycle)

Each degraded fact gets a new MEMIT edit computed on the model as it is now, with the update confined
to P' = the null space of ordinary text's keys minus the span of every *healthy* fact's current keys
(nullspace.py): the healthy facts' down_proj outputs do not move, to float rounding. The new delta is
added to the fact's own edit (one edit per fact, so it still dissolves alone), and the fact keeps its
stage: the original reset every fact's stage on each re-injection.

Only facts whose edit is at full scale (stage 0) are refreshed: a fact in consolidation is judged by
the gate instead (cycle.py), which drops it back a stage when LoRA alone does not recall it.
"""
from __future__ import annotations

import torch

from ..measure.facts import same_person
from ..wake.compute_ks import keys_all_layers
from ..wake.contexts import Request
from ..wake.edits import Edit, scaled, scaled_sum


def refresh(lm, hp, book, ledger, writer, keys: list, cycle: int, projected: bool = True) -> list:
    """Re-inject the facts `keys`; `projected=False` is the unconstrained re-injection (the original's,
    and notebook 05's "without care" arm). Returns the keys refreshed."""
    todo = [k for k in keys if ledger.entries[k].stage == 0]
    if not todo:
        return []
    healthy = [e for k, e in ledger.entries.items() if k not in set(todo)]
    current = {}          # key -> {layer: [d_mlp, m]}: keys of the facts to leave alone, as they are now
    if projected and healthy:
        # current keys (earlier edits moved the lower layers' outputs since these facts were written)
        K = keys_all_layers(lm, hp, [Request.from_fact(e.fact) for e in healthy])
        current = {e.key: {l: K[l][:, i:i + 1] for l in K} for i, e in enumerate(healthy)}
    done = []
    for k in todo:
        entry = ledger.entries[k]
        keep = None
        if projected:
            cols = [v for kk, v in current.items() if not same_person(ledger.entries[kk].fact, entry.fact)]
            keep = {l: torch.cat([c[l] for c in cols], 1) for l in hp.layers} if cols else None
        new = writer.write([entry.fact], projected=projected, keep_keys=keep)
        book.add(new)
        current[k] = {l: new.keys[l].to(lm.device) for l in new.keys}   # now healthy: protect it
        merged = merge(book, entry.edit, new)
        ledger.rewrite(k, merged.id, cycle, "refresh")
        done.append(k)
    return done


def merge(book, old_id: str | None, new: Edit) -> Edit:
    """Replace edit `old_id` and `new` (both in the book) by one edit holding their scaled sum."""
    if old_id is None or old_id not in book.edits:
        return new
    old = book.edits.pop(old_id)
    book.edits.pop(new.id)
    deltas = {l: scaled_sum(old.deltas.get(l), old.scale, d, new.scale) for l, d in new.deltas.items()}
    for l, d in old.deltas.items():
        deltas.setdefault(l, scaled(d, old.scale))
    merged = Edit(deltas=deltas, facts=old.facts, scale=1.0, keys=new.keys or old.keys,
                  info={"refreshed_from": old_id, **new.info})
    return book.attach(merged)
