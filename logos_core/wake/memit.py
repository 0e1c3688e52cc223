"""MEMIT (Meng et al., ICLR 2023): write facts into the down-projections of several MLP layers.

    edit = apply_memit(lm, hp, requests, stats)   # the weights are updated; edit holds the deltas

For the last edited layer L we find target vectors z_i (compute_z.py). Then for each edited layer l,
from the first to the last, with the current (partly edited) weights:

    K   = keys of the requests at layer l                 [d_mlp, n]   (compute_ks.py)
    R   = (Z - H_L) / (number of layers left)             [d_model, n] (residual, spread over layers)
    dW  = R K^T (lambda C + K K^T)^{-1}                   [d_model, d_mlp]  (solved in float64)

where C = E[k k^T] over ordinary text (stats.py) and lambda = hp.mom2_weight. The solve keeps
W k ~ unchanged for ordinary keys while moving W k_i toward its target for the new keys.
With hp.key_mode "each", K has a column per context (chat turns included) and each column its own
target, its context's h_L plus the delta compute_z found: the edit must fire in every context, not
only at the contexts' mean key (compute_ks.fact_keys).
"""
from __future__ import annotations

import time
import weakref

import torch

from ..base.nethook import get_module
from .compute_ks import KeyPasses, protected_keys
from .compute_z import compute_z
from .edits import Edit, LowRank
from .nullspace import projected_factors, protect


# Cholesky factors of lam * C per statistics tensor (by identity: tensors compare elementwise) and
# lambda, dropped when the tensor is.
_FACTORS: dict = {}


def _factor(C: torch.Tensor, lam: float):
    """Lower Cholesky factor of lam * C (float64, where C lives), or None when C is not positive definite."""
    ref, per_c = _FACTORS.get(id(C), (None, None))
    if ref is None or ref() is not C:
        per_c = {}
        _FACTORS[id(C)] = (weakref.ref(C), per_c)
        weakref.finalize(C, _FACTORS.pop, id(C), None)
    if lam not in per_c:
        L, info = torch.linalg.cholesky_ex(lam * C.double())
        per_c[lam] = L if int(info) == 0 else None
    return per_c[lam]


def solve_factors(R: torch.Tensor, K: torch.Tensor, C: torch.Tensor, lam: float) -> tuple:
    """(R, V) with dW = R V^T = R K^T (lam C + K K^T)^{-1}, in float64: V = A^{-1} K [d_in, n].

    Through the Woodbury identity, with M = (lam C)^{-1} K:  A^{-1} K = M (I_n + K^T M)^{-1}, so each
    edit costs two triangular solves against the factor of lam C, computed once per statistics,
    and an n x n solve: O(d_in^2 n) instead of a d_in^3 factorisation per layer and edit (five
    14336-wide ones per Llama-3-8B edit). Where lam C is not positive definite the full system is solved.
    """
    R, K = R.double(), K.double().to(C.device)
    L = _factor(C, lam)
    if L is None:
        A = lam * C.double() + K @ K.T                # [d_in, d_in]
        return R, torch.linalg.solve(A, K)
    M = torch.cholesky_solve(K, L)                    # [d_in, n] = (lam C)^{-1} K
    eye = torch.eye(K.shape[1], dtype=K.dtype, device=K.device)
    V = torch.linalg.solve(eye + K.T @ M, M.T).T      # M (I + K^T M)^{-1}; the n x n matrix is symmetric
    return R, V


def solve_update(R: torch.Tensor, K: torch.Tensor, C: torch.Tensor, lam: float) -> torch.Tensor:
    """dW = R K^T (lam C + K K^T)^{-1}, in float64.  R [d_out, n], K [d_in, n], C [d_in, d_in]."""
    R, V = solve_factors(R, K, C, lam)
    return R @ V.T                              # [d_out, d_in]


def apply_memit(lm, hp, requests: list, stats: dict, facts: list | None = None,
                projectors: dict | None = None, keep_keys: dict | None = None, progress: bool = False) -> Edit:
    """Edit lm.model in place for all `requests` at once (a batch); return the Edit (deltas on CPU).

    `projectors` ({layer: P [d_mlp, d_mlp]}) switches to the null-space-constrained update
    (nullspace.py); `keep_keys` ({layer: [d_mlp, m]}) are the keys of facts already in memory, which
    that update then leaves exactly unchanged. The edit keeps its own keys (Edit.keys) for that use.
    """
    t0 = time.perf_counter()
    clock = _Clock(lm.device)
    zs, z_info = [], []
    for req in requests:
        z, info = compute_z(lm, hp, req)
        zs.append(z)
        z_info.append(info)
    Z = torch.stack(zs).T                                   # [d_model, n]
    t_z = clock.lap("z")
    deltas, before, keys = {}, {}, {}
    T = Z                   # the h_L each key column must reach
    passes = KeyPasses(lm, hp, requests)
    for i, layer in enumerate(hp.layers):
        # keys at this layer and the current h_L, with the weights as edited so far
        K, H, owner = passes.at(i)
        K, H = K.T, H.T                                     # [d_mlp, m], [d_model, m]
        clock.lap("keys")
        if i == 0 and hp.key_mode == "each":
            # compute_z trained one delta, added at the subject in every context: each context's
            # column must reach its own unedited h_L plus that delta (context 0's h is z's base)
            counts = torch.bincount(owner, minlength=len(requests))
            first = torch.cumsum(counts, 0) - counts       # each request's columns are contiguous
            T = H + (Z - H[:, first])[:, owner]
        R = (T - H) / (len(hp.layers) - i)
        if projectors is None:
            U, V = solve_factors(R, K, stats[layer], hp.mom2_weight)
        else:
            P = protect(projectors[layer], None if keep_keys is None else keep_keys.get(layer))
            U, V = projected_factors(R, K, P, hp.nullspace_l2)
        # the update has rank n: kept as its factors, applied as the same product the book recomposes
        deltas[layer] = LowRank(U.float().cpu(), V.float().cpu())
        clock.lap("solve")
        w = get_module(lm.model, hp.rewrite_module.format(layer)).weight
        dW = deltas[layer].dense(w.device)          # the stored (float32) factors' product
        # exact W before this edit, for EditBook.add; kept where W is (a host copy of five 8B layers
        # was a third of a GPU edit) until the book needs it
        before[layer] = w.detach().clone()
        with torch.no_grad():
            w.add_(dW.to(device=w.device, dtype=w.dtype))
        # the keys later null-space edits protect: one mean key per fact unless hp.protect_keys is
        # "each" (every context's key: exact in chat too, but 14x the rank; compute_ks.fact_keys)
        keys[layer] = protected_keys(hp, K, owner).float().cpu()
        clock.lap("write")
    info = {"seconds": time.perf_counter() - t0, "z_seconds": t_z, "z": z_info, **clock.totals}
    return Edit(deltas=deltas, facts=[f.to_dict() for f in (facts or [])], info=info, weights_before=before,
                keys=keys)


class _Clock:
    """Seconds per phase of an edit (z, keys, solve, write), synchronised with the GPU when there is one."""

    def __init__(self, device: str):
        self.cuda = str(device).startswith("cuda")
        self.t = time.perf_counter()
        self.totals: dict = {}

    def lap(self, phase: str) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        now = time.perf_counter()
        dt, self.t = now - self.t, now
        key = f"{phase}_seconds"
        self.totals[key] = self.totals.get(key, 0.0) + dt
        return dt
