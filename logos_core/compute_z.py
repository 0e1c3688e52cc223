"""MEMIT target vectors: the residual-stream value z at the last edited layer that makes the model say
the object.

    z, info = compute_z(lm, hp, request)     # z: [d_model]

We add a free vector delta to the output of block L (the last edited layer) at the subject's last
token(s) and train it with Adam so that, in every context, the model predicts **all** object tokens:

    min_delta  mean_c  -1/|o| sum_t log p(o_t | c, o_<t ; h_L + delta)
               + kl_factor * KL(p(. | "s is a") || p_delta(. | "s is a"))
               + weight_decay * |delta|^2 / |h_L|^2,      subject to |delta| <= clamp * |h_L|

and stop early once the object NLL falls below `early_stop_loss`. z = h_L + delta.
"""
from __future__ import annotations

import time

import torch

from .compute_ks import _right_pad
from .contexts import contexts, subject_last_positions
from .nethook import Trace


def compute_z(lm, hp, req, layer: int | None = None) -> tuple:
    layer = hp.layers[-1] if layer is None else layer
    tok, model = lm.tok, lm.model
    t0 = time.perf_counter()
    target = tok(" " + req.object, add_special_tokens=False).input_ids
    texts = contexts(tok, req, hp.n_raw_contexts, hp.n_chat_contexts, hp.n_anon_contexts)
    rows, labels_pos, delta_pos = [], [], []
    for t in texts:
        ids, pos = subject_last_positions(tok, t, req.subject)
        rows.append(ids + target[:-1])                       # teacher-forced object tokens
        labels_pos.append(list(range(len(ids) - 1, len(ids) - 1 + len(target))))
        delta_pos.append(pos)
    kl_ids, kl_pos = subject_last_positions(tok, f"{req.subject} is a", req.subject)
    rows.append(kl_ids)
    delta_pos.append(kl_pos)
    ids, att = _right_pad(rows, tok.pad_token_id, lm.device)      # [n_ctx + 1, L]
    n_ctx = len(texts)
    tgt = torch.tensor(target, device=lm.device)
    layer_name = hp.layer_module.format(layer)

    # Only the label positions (and the KL prompt's last token) need logits: the vocabulary
    # projection over every position was most of the step's cost on the 135M model.
    kl_last = len(kl_ids) - 1
    rows_idx = torch.tensor([i for i in range(n_ctx) for _ in labels_pos[i]] + [n_ctx], device=lm.device)
    cols_idx = torch.tensor([p for i in range(n_ctx) for p in labels_pos[i]] + [kl_last], device=lm.device)
    tgt_all = tgt.repeat(n_ctx)
    ctx_of = rows_idx[:-1]
    body, head = model.base_model, model.get_output_embeddings()

    def logprobs():
        hidden = body(input_ids=ids, attention_mask=att).last_hidden_state   # [rows, L, d_model]
        return torch.log_softmax(head(hidden[rows_idx, cols_idx]).float(), -1)  # [labels + 1, vocab]

    # h_L at the subject's last token of the bare prompt: what delta is measured against.
    with torch.no_grad(), Trace(model, layer_name, capture_output=True) as tr:
        kl_ref = logprobs()[-1]
    h = tr.output[0, delta_pos[0][-1]].float()

    delta = torch.zeros_like(h, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=hp.v_lr)
    max_norm = hp.clamp_norm * h.norm()
    mask = torch.zeros(ids.shape[0], ids.shape[1], 1, device=lm.device)
    for i, ps in enumerate(delta_pos):
        mask[i, ps] = 1.0

    def add_delta(hidden):
        return hidden + mask.to(hidden.dtype) * delta.to(hidden.dtype)

    nll_hist = []
    for step in range(hp.v_steps):
        with Trace(model, layer_name, edit_output=add_delta):
            logp = logprobs()
        tok_nll = -logp[:-1].gather(1, tgt_all[:, None])[:, 0]                  # [labels]
        # mean over each context's object tokens, then over contexts
        nll = torch.zeros(n_ctx, device=lm.device).index_add_(0, ctx_of, tok_nll).div_(len(target)).mean()
        kl = torch.nn.functional.kl_div(logp[-1], kl_ref, log_target=True, reduction="sum")
        loss = nll + hp.kl_factor * kl + hp.v_weight_decay * delta.norm() ** 2 / h.norm() ** 2
        nll_hist.append(nll.item())
        if nll.item() < hp.early_stop_loss:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            if delta.norm() > max_norm:
                delta.mul_(max_norm / delta.norm())
    info = {"steps": len(nll_hist), "nll_start": nll_hist[0], "nll_end": nll_hist[-1],
            "delta_norm": delta.norm().item(), "h_norm": h.norm().item(), "seconds": time.perf_counter() - t0}
    return (h + delta).detach(), info
