"""MEMIT keys: the input of down_proj at the subject's last token, averaged over contexts (or, with
hp.key_mode "each", one column per context).

    K = compute_ks(lm, hp, layer, requests)   # [n_requests, d_mlp] (mean keys)

The key is taken at the *subject's* last token (not the prompt's last token, as the original did:
its edit fired for every person asked the same relation).
"""
from __future__ import annotations

import torch

from ..base.nethook import Trace, TraceDict, block_output, get_module
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


class KeyPasses:
    """compute_ks for MEMIT's layer loop, where layer i's keys must come from the weights as edited
    so far: an edit of layer l changes nothing below block l, so after it only blocks l..L run again,
    from the residual stream cached at block l's input. For layers 3..7 that is 14 block passes per
    request instead of 40, with the same numbers as compute_ks (the same blocks on the same inputs).

        kp = KeyPasses(lm, hp, requests)
        for i, layer in enumerate(hp.layers):
            K, H, owner = kp.at(i)        # as compute_ks(lm, hp, layer, requests, out_layer=L)
            ... edit layer ...
    """

    @torch.no_grad()
    def __init__(self, lm, hp, requests: list):
        self.lm, self.hp, self.layers, self.L = lm, hp, list(hp.layers), hp.layers[-1]
        self.blocks = {b: get_module(lm.model, hp.layer_module.format(b)) for b in range(self.layers[0], self.L + 1)}
        self.rows = []       # per request: (positions, {block: input hidden}, {block: kwargs}, keys, out)
        for req in requests:
            ids, att, pos = _positions(lm, hp, req)
            inputs, kwargs, handles = {}, {}, []

            def grab(b):
                def hook(module, args, kw):
                    inputs[b] = args[0] if args else kw["hidden_states"]
                    # no cache: the re-run must not append to the keys and values the first pass stored
                    kwargs[b] = {k: (None if k in ("past_key_values", "past_key_value", "cache") else v)
                                 for k, v in kw.items() if k != "hidden_states"}
                    kwargs[b]["use_cache"] = False
                return hook

            for b, block in self.blocks.items():
                handles.append(block.register_forward_pre_hook(grab(b), with_kwargs=True))
            try:
                names = [hp.rewrite_module.format(self.layers[0]), hp.layer_module.format(self.L)]
                with TraceDict(lm.model, names, stop_at=names[-1], capture_input=True, capture_output=True) as td:
                    lm.model(input_ids=ids, attention_mask=att, use_cache=False)
            finally:
                for h in handles:
                    h.remove()
            self.rows.append([pos, inputs, kwargs, td[names[0]].input, td[names[1]].output])

    @torch.no_grad()
    def at(self, i: int) -> tuple:
        """(K [m, d_mlp], H [m, d_model], owner [m]) at hp.layers[i], the weights as they are now."""
        layer = self.layers[i]
        keys, outs, owner = [], [], []
        for r, row in enumerate(self.rows):
            pos, inputs, kwargs = row[0], row[1], row[2]
            if i > 0:        # re-run from the block edited last; keep the new inputs of the blocks above it
                x = inputs[self.layers[i - 1]]
                with Trace(self.lm.model, self.hp.rewrite_module.format(layer), capture_input=True) as tr:
                    for b in range(self.layers[i - 1], self.L + 1):
                        if b > self.layers[i - 1]:
                            inputs[b] = x
                        x = block_output(self.blocks[b](x, **kwargs[b]))
                row[3], row[4] = tr.input, x
            k = fact_keys(self.hp, _columns(row[3], pos))
            keys.append(k)
            owner += [r] * len(k)
            h = _columns(row[4], pos)
            outs.append(h if self.hp.key_mode == "each" else h[len(pos[0]) - 1:len(pos[0])])
        return torch.cat(keys), torch.cat(outs), torch.tensor(owner)


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
