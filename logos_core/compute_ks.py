"""MEMIT keys: the input of down_proj at the subject's last token, averaged over contexts.

    K = compute_ks(lm, hp, layer, requests)   # [n_requests, d_mlp]

The key is taken at the *subject's* last token (not the prompt's last token, as the original did:
its edit fired for every person asked the same relation).
"""
from __future__ import annotations

import torch

from .contexts import edit_contexts, subject_last_positions
from .nethook import TraceDict


def _right_pad(seqs: list, pad_id: int, device) -> tuple:
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
    att = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)], att[i, :len(s)] = torch.tensor(s), 1
    return ids.to(device), att.to(device)


@torch.no_grad()
def compute_ks(lm, hp, layer: int, requests: list, out_layer: int | None = None):
    """Keys [n, d_mlp]; with `out_layer`, also the residual stream after block `out_layer` at the
    subject's last token of the bare prompt (context 0), [n, d_model], from the same forward pass."""
    module = hp.rewrite_module.format(layer)
    names = [module] if out_layer is None else [module, hp.layer_module.format(out_layer)]
    keys, outs = [], []
    for req in requests:
        texts = [t for t, _ in edit_contexts(lm.tok, req, hp)]
        enc = [subject_last_positions(lm.tok, t, req.subject) for t in texts]
        ids, att = _right_pad([e[0] for e in enc], lm.tok.pad_token_id, lm.device)
        with TraceDict(lm.model, names, stop_at=names[-1], capture_input=True, capture_output=True) as td:
            lm.model(input_ids=ids, attention_mask=att)
        k = [td[module].input[i, p] for i, (_, ps) in enumerate(enc) for p in ps]   # each [d_mlp]
        keys.append(torch.stack(k).float().mean(0))
        if out_layer is not None:
            outs.append(td[names[-1]].output[0, enc[0][1][-1]].float())
    K = torch.stack(keys)
    return K if out_layer is None else (K, torch.stack(outs))


@torch.no_grad()
def keys_all_layers(lm, hp, requests: list) -> dict:
    """{layer: K [d_mlp, n]} for every edited layer, one forward pass per request (the audit and the
    refresh need the current keys of many facts at every layer; compute_ks would run one per layer)."""
    names = [hp.rewrite_module.format(layer) for layer in hp.layers]
    per_layer = {layer: [] for layer in hp.layers}
    for req in requests:
        texts = [t for t, _ in edit_contexts(lm.tok, req, hp)]
        enc = [subject_last_positions(lm.tok, t, req.subject) for t in texts]
        ids, att = _right_pad([e[0] for e in enc], lm.tok.pad_token_id, lm.device)
        with TraceDict(lm.model, names, stop_at=names[-1], capture_input=True) as td:
            lm.model(input_ids=ids, attention_mask=att)
        for layer, name in zip(hp.layers, names):
            k = [td[name].input[i, p] for i, (_, ps) in enumerate(enc) for p in ps]
            per_layer[layer].append(torch.stack(k).float().mean(0))
    return {layer: torch.stack(ks, 1) for layer, ks in per_layer.items()} if requests else {}
