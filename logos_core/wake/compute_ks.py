"""MEMIT keys: the input of down_proj at the subject's last token, averaged over contexts (or, with
hp.key_mode "each", one column per context).

    K = compute_ks(lm, hp, layer, requests)   # [n_requests, d_mlp] (mean keys)

The key is taken at the *subject's* last token (not the prompt's last token, as the original did:
its edit fired for every person asked the same relation).
"""
from __future__ import annotations

import torch

from ..base.nethook import TraceDict
from ..base.tokens import right_pad
from .contexts import edit_contexts, subject_last_positions


def _positions(lm, hp, req) -> tuple:
    """Padded token rows of every edit context of `req` and, per row, the subject's last-token positions."""
    enc = [subject_last_positions(lm.tok, t, req.subject) for t, _ in edit_contexts(lm.tok, req, hp)]
    ids, att = right_pad([e[0] for e in enc], lm.tok.pad_token_id, lm.device)
    return ids, att, [ps for _, ps in enc]


def _columns(x: torch.Tensor, pos: list) -> torch.Tensor:
    """x [rows, L, d] at every (row, position): [columns, d], row by row (context 0 first)."""
    return torch.stack([x[i, p] for i, ps in enumerate(pos) for p in ps]).float()


def fact_keys(hp, cols: torch.Tensor) -> torch.Tensor:
    """One fact's key columns [m, d_mlp] as the solve uses them: MEMIT's mean over contexts [1, d_mlp],
    or (hp.key_mode "each") every context's own key, so the edit must fire in each context (chat turns
    included) rather than only at their average. Null-space protection of a written fact uses its
    mean key either way unless hp.protect_keys is "each": its ~14 context keys are nearly one
    direction, and protecting each would use up the free space of a layer (340 dims at the 135m
    model's layer 3) 14x faster."""
    return cols if hp.key_mode == "each" else cols.mean(0, keepdim=True)


def protected_keys(hp, K: torch.Tensor, owner: torch.Tensor) -> torch.Tensor:
    """The columns later null-space edits protect for some facts: K [d_mlp, m] their key columns,
    owner [m] the fact of each column (0..n-1, in order). Every column when hp.key_mode and
    hp.protect_keys are both "each", else one mean key per fact [d_mlp, n] (fact_keys says why)."""
    if hp.key_mode == "each" and hp.protect_keys == "each":
        return K
    owner = owner.to(K.device)
    return torch.stack([K[:, owner == r].mean(1) for r in range(int(owner.max()) + 1)], 1)


@torch.no_grad()
def compute_ks(lm, hp, layer: int, requests: list, out_layer: int | None = None):
    """Keys [m, d_mlp] (m = n requests, or every context of each with hp.key_mode "each"). With
    `out_layer`, also the residual stream after block `out_layer` at the same positions [m, d_model]
    (for mean keys: at the subject's last token of the bare prompt, context 0), and the request each
    key column belongs to, [m]; all from the same forward pass."""
    module = hp.rewrite_module.format(layer)
    names = [module] if out_layer is None else [module, hp.layer_module.format(out_layer)]
    keys, outs, owner = [], [], []
    for r, req in enumerate(requests):
        ids, att, pos = _positions(lm, hp, req)
        with TraceDict(lm.model, names, stop_at=names[-1], capture_input=True, capture_output=True) as td:
            lm.model(input_ids=ids, attention_mask=att)
        k = fact_keys(hp, _columns(td[module].input, pos))
        keys.append(k)
        owner += [r] * len(k)
        if out_layer is not None:
            h = _columns(td[names[-1]].output, pos)
            outs.append(h if hp.key_mode == "each" else h[len(pos[0]) - 1:len(pos[0])])
    K = torch.cat(keys)
    return K if out_layer is None else (K, torch.cat(outs), torch.tensor(owner))


@torch.no_grad()
def keys_all_layers(lm, hp, requests: list) -> dict:
    """{layer: K [d_mlp, n]} for every edited layer, one forward pass per request: the keys null-space
    edits protect (protected_keys: each fact's mean key over its contexts by default), as apply_memit
    keeps them per edit.
    The audit and the refresh need the current keys of many facts at every layer; compute_ks would
    run one pass per layer."""
    names = [hp.rewrite_module.format(layer) for layer in hp.layers]
    per_layer = {layer: [] for layer in hp.layers}
    for req in requests:
        ids, att, pos = _positions(lm, hp, req)
        with TraceDict(lm.model, names, stop_at=names[-1], capture_input=True) as td:
            lm.model(input_ids=ids, attention_mask=att)
        for layer, name in zip(hp.layers, names):
            cols = _columns(td[name].input, pos).T
            per_layer[layer].append(protected_keys(hp, cols, torch.zeros(cols.shape[1], dtype=torch.long)))
    return {layer: torch.cat(ks, 1) for layer, ks in per_layer.items()} if requests else {}
