"""An edit as an object: its own per-layer weight deltas and a scale that can be set at any time.

    book = EditBook(lm, hp)                 # remembers the original weights of the edited layers
    book.add(edit)                          # W = W0 + sum_e scale_e * Delta_e
    book.set_scale(edit.id, 0.5)            # dissolve halfway
    with book.muted():                      # every edit at 0 inside the block (W0 exactly), scales back after
        ...
    book.remove(edit.id)                    # gone; scale 0 for every edit gives W0 back exactly

Weights are recomposed from W0 in float64 rather than nudged in place, so setting every scale to 0
restores the original weights bit for bit, however many edits came and went.
"""
from __future__ import annotations

import contextlib
import itertools
import uuid
from dataclasses import dataclass, field

import torch

from ..base.nethook import get_module


class LowRank:
    """A weight delta kept as its factors, dW = U V^T: a MEMIT update has rank n (facts in the edit),
    so one fact costs (d_out + d_in) floats instead of d_out * d_in (17.7 MB -> 8 KB per layer on the
    135m model, 235 MB -> 73 KB on an 8B one)."""

    def __init__(self, U: torch.Tensor, V: torch.Tensor):
        self.U, self.V = U, V         # [d_out, r], [d_in, r], float32 on CPU

    def dense(self, device=None) -> torch.Tensor:
        """U V^T, [d_out, d_in] float64, formed on `device` (default: where the factors are)."""
        return self.U.double().to(device) @ self.V.double().to(device).T

    def sq_norm(self) -> float:
        """|U V^T|_F^2 = trace((U^T U)(V^T V)), without forming the product."""
        U, V = self.U.double(), self.V.double()
        return float(((U.T @ U) * (V.T @ V)).sum())


def dense(d) -> torch.Tensor:
    """A delta (a dense tensor or LowRank) as a dense float64 tensor."""
    return d.dense() if isinstance(d, LowRank) else d.double()


def scaled(d, s: float):
    """s * d, kept factored when d is."""
    return LowRank(s * d.U, d.V) if isinstance(d, LowRank) else s * d


def scaled_sum(a, sa: float, b, sb: float):
    """sa * a + sb * b (a may be None: sb * b), kept factored when both are (factors stacked side by side)."""
    if a is None:
        return scaled(b, sb)
    if isinstance(a, LowRank) and isinstance(b, LowRank):
        return LowRank(torch.cat([sa * a.U, sb * b.U], 1), torch.cat([a.V, b.V], 1))
    return (sa * dense(a) + sb * dense(b)).float()


@dataclass
class Edit:
    deltas: dict                      # {layer: LowRank (MEMIT's factors) or a dense [d_out, d_in] float32}, CPU
    facts: list = field(default_factory=list)   # the facts (dicts) this edit wrote
    scale: float = 1.0
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    info: dict = field(default_factory=dict)
    # The layer weights just before this edit was written, on the model's device (set by
    # memit.apply_memit, never saved; EditBook.add keeps a host copy of those it needs):
    # recomputing them as W - Delta would be off by float rounding.
    weights_before: dict = field(default_factory=dict, repr=False)
    # The keys k (input of each edited down_proj, [d_mlp, n_facts]) this edit wrote at: null-space
    # edits made later protect them (nullspace.protect). Saved with the deltas.
    keys: dict = field(default_factory=dict, repr=False)

    def norm(self) -> float:
        return float(sum(d.sq_norm() if isinstance(d, LowRank) else float(d.double().norm() ** 2)
                         for d in self.deltas.values()) ** 0.5)


class EditBook:
    def __init__(self, lm, hp):
        self.lm, self.hp = lm, hp
        self.edits: dict = {}
        self.base: dict = {}          # {layer: W0 on CPU, original dtype}

    def _weight(self, layer: int) -> torch.nn.Parameter:
        return get_module(self.lm.model, self.hp.rewrite_module.format(layer)).weight

    def shapes(self) -> dict:
        """{layer: (d_out, d_in)} of every layer an edit may touch: what a saved edit must fit."""
        return {l: tuple(self._weight(l).shape) for l in self.hp.layers}

    def _remember(self, layer: int) -> None:
        if layer not in self.base:
            self.base[layer] = self._weight(layer).detach().to("cpu", copy=True)

    def load(self, edits: list) -> None:
        """Register edits that are *not* in the weights yet (read from disk) and apply them all, in
        one recomposition: the current weights are W0 for every layer they touch."""
        for e in edits:
            self.edits[e.id] = e
        for layer in {l for e in edits for l in e.deltas}:
            self._remember(layer)
        self.recompose()

    def rebase(self) -> None:
        """Forget W0 after the model itself changed (e.g. a LoRA fuse): the current weights minus the
        scaled edits become the new originals."""
        for layer in list(self.base):
            w = self._weight(layer).detach().to("cpu").double() - self._sum(layer)
            self.base[layer] = w.to(self.base[layer].dtype)

    def _sum(self, layer: int) -> torch.Tensor:
        """sum_e scale_e * Delta_e at `layer`, float64; the factored deltas in one product."""
        w0 = self.base[layer]
        out = torch.zeros(w0.shape, dtype=torch.float64)
        Us, Vs = [], []
        for e in self.edits.values():
            d = e.deltas.get(layer)
            if d is None or e.scale == 0.0:
                continue
            if isinstance(d, LowRank):
                Us.append(e.scale * d.U.double())
                Vs.append(d.V.double())
            else:
                out += e.scale * d.double()
        if Us:
            out += torch.cat(Us, 1) @ torch.cat(Vs, 1).T
        return out

    def recompose(self, layers=None) -> None:
        layers = self.base.keys() if layers is None else layers
        for layer in layers:
            w = self.base[layer].double() + self._sum(layer)
            p = self._weight(layer)
            with torch.no_grad():
                p.copy_(w.to(device=p.device, dtype=p.dtype))

    def add(self, edit: Edit) -> Edit:
        """Register an edit whose deltas are already in the weights (as memit.apply leaves them)."""
        for layer in edit.deltas:
            if layer not in self.base:
                if layer in edit.weights_before:
                    self.base[layer] = edit.weights_before[layer].to("cpu")
                else:  # W0 = current weights minus this edit's own contribution (to float rounding)
                    w = self._weight(layer).detach().to("cpu").double() - edit.scale * dense(edit.deltas[layer])
                    self.base[layer] = w.to(self._weight(layer).dtype)
        edit.weights_before = {}
        self.edits[edit.id] = edit
        return edit

    def attach(self, edit: Edit) -> Edit:
        """Register an edit that is *not* yet in the weights (e.g. loaded from disk) and apply it."""
        for layer in edit.deltas:
            self._remember(layer)
        self.edits[edit.id] = edit
        self.recompose(edit.deltas.keys())
        return edit

    def set_scale(self, edit_id: str, scale: float) -> None:
        self.edits[edit_id].scale = float(scale)
        self.recompose(self.edits[edit_id].deltas.keys())

    def set_scales(self, scales: dict) -> None:
        """Several scales at once ({edit id: scale}), one recomposition."""
        for eid, sc in scales.items():
            self.edits[eid].scale = float(sc)
        self.recompose()

    def scales(self) -> dict:
        return {eid: e.scale for eid, e in self.edits.items()}

    @contextlib.contextmanager
    def muted(self, ids=None):
        """Every edit (or those of `ids` not already at 0) at scale 0 inside the block; each scale is
        set back on the way out, whatever happened inside. What LoRA alone holds is measured, and
        trained, this way."""
        scales = self.scales()
        ids = list(scales) if ids is None else [i for i in ids if scales.get(i, 0.0) != 0.0]
        if ids:
            self.set_scales({i: 0.0 for i in ids})
        try:
            yield self
        finally:
            if ids:
                self.set_scales({i: scales[i] for i in ids if i in self.edits})

    @contextlib.contextmanager
    def without_own(self, rows: list):
        """Inside the block, batch row i runs as if edit rows[i] (an id, or None) were at scale 0 and
        every other edit as it is: one batched pass asks each fact with its own edit withdrawn, where
        muting one edit at a time would recompose the weights and run once per fact. Each edited
        layer's output loses s_e (x V_e) U_e^T of that row's edit (exact in exact arithmetic; in
        float32 the same to ~1e-6 of the output)."""
        handles, before = [], self.lm.rows_differ
        self.lm.rows_differ = True          # each row's prefix is its own here (evaluate.generate)
        try:
            for layer in self.base:
                terms = [self.edits[e] if e in self.edits and self.edits[e].scale != 0.0 else None for e in rows]
                terms = [(t.scale, t.deltas[layer]) if t is not None and isinstance(t.deltas.get(layer), LowRank)
                         else None for t in terms]
                if all(t is None for t in terms):
                    continue
                w = self._weight(layer)
                r = max(t[1].U.shape[1] for t in terms if t is not None)
                U = torch.zeros(len(rows), w.shape[0], r, dtype=w.dtype, device=w.device)   # [B, d_out, r]
                V = torch.zeros(len(rows), w.shape[1], r, dtype=w.dtype, device=w.device)   # [B, d_in, r]
                for i, t in enumerate(terms):
                    if t is not None:
                        k = t[1].U.shape[1]
                        U[i, :, :k] = t[0] * t[1].U.to(U)
                        V[i, :, :k] = t[1].V.to(V)

                def hook(module, inputs, output, U=U, V=V):
                    x = inputs[0]                                                      # [B, T, d_in]
                    return output - torch.einsum("btr,bor->bto", torch.einsum("btd,bdr->btr", x, V), U)

                handles.append(get_module(self.lm.model, self.hp.rewrite_module.format(layer)).register_forward_hook(hook))
            yield self
        finally:
            self.lm.rows_differ = before
            for h in handles:
                h.remove()

    def snapshot(self) -> dict:
        """What `restore` needs to put the book (and the edited weights) back as they are now."""
        return {"edits": dict(self.edits), "scales": self.scales(), "base": dict(self.base)}

    def restore(self, snap: dict) -> None:
        self.edits = dict(snap["edits"])
        for eid, sc in snap["scales"].items():
            self.edits[eid].scale = sc
        self.base = dict(snap["base"])
        self.recompose()

    def remove(self, edit_id: str) -> Edit:
        e = self.edits.pop(edit_id)
        self.recompose(e.deltas.keys())
        return e

    def total_delta_norm(self, relative: bool = True) -> float:
        """|sum of scaled deltas| over edited layers (relative to |W0| when `relative`)."""
        num, den = 0.0, 0.0
        for layer, w0 in self.base.items():
            num += float(self._sum(layer).norm() ** 2)
            den += float(w0.double().norm() ** 2)
        return (num / den) ** 0.5 if relative else num ** 0.5

    def facts(self) -> list:
        return list(itertools.chain.from_iterable(e.facts for e in self.edits.values()))
