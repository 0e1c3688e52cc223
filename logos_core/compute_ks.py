"""MEMIT keys: the input of down_proj at the subject's last token, averaged over contexts.

    K = compute_ks(lm, hp, layer, requests)   # [n_requests, d_mlp]

The key is taken at the *subject's* last token (not the prompt's last token, as the original did:
its edit fired for every person asked the same relation).
"""
from __future__ import annotations

import torch

from .contexts import contexts, subject_last_positions
from .nethook import Trace


def _right_pad(seqs: list, pad_id: int, device) -> tuple:
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
    att = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)], att[i, :len(s)] = torch.tensor(s), 1
    return ids.to(device), att.to(device)


@torch.no_grad()
def compute_ks(lm, hp, layer: int, requests: list) -> torch.Tensor:
    module = hp.rewrite_module.format(layer)
    keys = []
    for req in requests:
        texts = contexts(lm.tok, req, hp.n_raw_contexts, hp.n_chat_contexts, hp.n_anon_contexts)
        enc = [subject_last_positions(lm.tok, t, req.subject) for t in texts]
        ids, att = _right_pad([e[0] for e in enc], lm.tok.pad_token_id, lm.device)
        with Trace(lm.model, module, capture_input=True, stop=True) as tr:
            lm.model(input_ids=ids, attention_mask=att)
        k = [tr.input[i, p] for i, (_, ps) in enumerate(enc) for p in ps]   # each [d_mlp]
        keys.append(torch.stack(k).float().mean(0))
    return torch.stack(keys)  # [n, d_mlp]


@torch.no_grad()
def layer_output_at_subject(lm, hp, layer: int, requests: list) -> torch.Tensor:
    """Residual stream after block `layer` at the subject's last token of the bare prompt: [n, d_model]."""
    out = []
    for req in requests:
        ids, pos = subject_last_positions(lm.tok, req.prompt, req.subject)
        with Trace(lm.model, hp.layer_module.format(layer), capture_output=True, stop=True) as tr:
            lm.model(input_ids=torch.tensor([ids], device=lm.device))
        out.append(tr.output[0, pos[-1]].float())
    return torch.stack(out)
