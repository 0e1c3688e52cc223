"""MEMIT target vectors: the residual-stream value z at the last edited layer that makes the model say
the object.

    z, info = compute_z(lm, hp, request)     # z: [d_model]

We add a free vector delta to the output of block L (the last edited layer) at the subject's last
token(s) and train it with Adam so that, in every context, the model predicts **all** object tokens:

    min_delta  mean_c  -1/|o| sum_t log p(o_t | c, o_<t ; h_L + delta)
               + kl_factor   * KL(p(. | "s is a") || p_delta(. | "s is a"))
               + keep_factor * mean NLL of the chat answer's opening words (the repeated name)
               + weight_decay * |delta|^2 / |h_L|^2,      subject to |delta| <= clamp * |h_L|

and stop early once the object NLL falls below `early_stop_loss`. z = h_L + delta.
Blocks 0..L do not depend on delta: they run once and each step resumes after block L (resume.py);
on CUDA each step is one replayed graph (graphed_z.py).
"""
from __future__ import annotations

import os
import time

import torch

from ..base.nethook import Trace
from ..base.tokens import right_pad
from .contexts import edit_contexts, subject_last_positions
from .graphed_z import graphed_search
from .resume import Resume


class _Group:
    """Rows of similar length run as one padded batch (raw rows are ~4x shorter than chat rows, and
    padding them to chat length wasted most of each step's work)."""

    def __init__(self, rows, delta_pos, device, pad_id):
        self.ids, self.att = right_pad(rows, pad_id, device)                 # [rows, L]
        self.mask = torch.zeros(*self.ids.shape, 1, device=device)           # where delta is added
        for i, ps in enumerate(delta_pos):
            self.mask[i, ps] = 1.0
        self.resume = None       # resume.Resume: the blocks after L from the cached stream
        self.first_delta = min(p for ps in delta_pos for p in ps)
        self.rows = self.cols = None   # the picked (row, position) pairs, as index tensors
        self.start = None

    def pick(self, rows: list, cols: list, device):
        """Score these (row, position) pairs. Positions before `start` are the same at every step:
        nothing is added there or earlier, and nothing is read there."""
        self.rows = torch.tensor(rows, device=device)
        self.cols = torch.tensor(cols, device=device)
        self.start = min([self.first_delta] + cols)

    def hidden(self, model, layer_name: str, delta):
        """Final hidden states with delta added after block L at the subject's tokens: [rows, L, d],
        or [rows, L - resume.start, d] when resumed (the positions before it never change)."""
        add = None if delta is None else self.mask.to(delta.dtype) * delta
        if self.resume is not None:
            return self.resume(None if add is None else add.to(self.resume.h.dtype))
        edit = None if add is None else (lambda h: h + add.to(h.dtype))
        with Trace(model, layer_name, edit_output=edit):
            return model.base_model(input_ids=self.ids, attention_mask=self.att, use_cache=False).last_hidden_state


def _build(tok, req, hp, target: list) -> dict:
    """Token rows for every context plus the KL prompt, and the (row, position, token) to score."""
    texts = edit_contexts(tok, req, hp)
    rows, delta_pos, chat = [], [], []
    obj, keep = [], []        # obj: (row, pos, token, context); keep: (row, pos, token)
    for r, (t, answer_start) in enumerate(texts):
        ids, pos = subject_last_positions(tok, t, req.subject)
        rows.append(ids + target[:-1])                       # teacher-forced object tokens
        delta_pos.append(pos)
        chat.append(answer_start is not None)
        obj += [(r, len(ids) - 1 + j, target[j], r) for j in range(len(target))]
        if answer_start is not None:
            offs = tok(t, add_special_tokens=False, return_offsets_mapping=True).offset_mapping
            first = next(i for i, (a, _) in enumerate(offs) if a >= answer_start)
            keep += [(r, i - 1, ids[i]) for i in range(first, len(ids))]
    kl_ids, kl_pos = subject_last_positions(tok, f"{req.subject} is a", req.subject)
    kl_row = len(rows)
    rows.append(kl_ids)
    delta_pos.append(kl_pos)
    chat.append(False)
    return {"rows": rows, "delta_pos": delta_pos, "chat": chat, "obj": obj, "keep": keep,
            "kl": (kl_row, len(kl_ids) - 1), "n_ctx": len(texts)}


def compute_z(lm, hp, req, layer: int | None = None, graphs: bool | None = None) -> tuple:
    """z [d_model] for one request, and an info dict. `graphs` (default: on CUDA, unless
    LOGOS_CUDA_GRAPHS=0) replays each Adam step as one captured CUDA graph (graphed_z.py)."""
    layer = hp.layers[-1] if layer is None else layer
    tok, model, dev = lm.tok, lm.model, lm.device
    t0 = time.perf_counter()
    target = tok(" " + req.object, add_special_tokens=False).input_ids
    b = _build(tok, req, hp, target)
    # On CPU, two batches: raw-text rows (with the KL prompt) and the ~4x longer chat rows, since
    # cost follows padded tokens. On a GPU the step is bound by per-layer overheads, not tokens, and
    # one batch is faster (measured on the 8B shape: benchmarks/gpu_wake_8b.py).
    if dev == "cpu":
        members = [[r for r, c in enumerate(b["chat"]) if c == flag] for flag in (False, True)]
        members = [m for m in members if m]
    else:
        members = [list(range(len(b["rows"])))]
    groups = [_Group([b["rows"][r] for r in m], [b["delta_pos"][r] for r in m], dev, tok.pad_token_id)
              for m in members]
    where = {r: (g, i) for g, m in enumerate(members) for i, r in enumerate(m)}   # row -> (group, index)
    # Everything to score, in one flat order: object tokens, answer-opening tokens, the KL position.
    picks = [(r, p) for r, p, _, _ in b["obj"]] + [(r, p) for r, p, _ in b["keep"]] + [b["kl"]]
    per_group = [[(k, where[r][1], p) for k, (r, p) in enumerate(picks) if where[r][0] == g]
                 for g in range(len(groups))]
    for g, pg in zip(groups, per_group):
        g.pick([i for _, i, _ in pg], [p for _, _, p in pg], dev)
    order = torch.tensor([k for pg in per_group for k, _, _ in pg], device=dev).argsort()
    n_obj, n_keep = len(b["obj"]), len(b["keep"])
    obj_tok = torch.tensor([t for _, _, t, _ in b["obj"]], device=dev)
    obj_ctx = torch.tensor([c for _, _, _, c in b["obj"]], device=dev)
    keep_tok = torch.tensor([t for _, _, t in b["keep"]], dtype=torch.long, device=dev)
    head = model.get_output_embeddings()
    layer_name = hp.layer_module.format(layer)
    for g in groups:   # blocks 0..L run once per edit, not once per step (resume.py)
        g.resume = Resume.build(model, layer, g.ids, g.att, start=g.start)
        if g.resume is not None:
            g.cols = g.cols - g.resume.start     # resumed rows begin at resume.start

    def logprobs(delta=None):
        """Log-probabilities at the picked positions only: [n_picks, vocab] (the vocabulary
        projection over every position was most of a step's cost on the 135M model)."""
        hidden = torch.cat([g.hidden(model, layer_name, delta)[g.rows, g.cols] for g in groups])[order]
        return torch.log_softmax(head(hidden).float(), -1)

    # h_L at the subject's last token of the bare prompt (row 0, in group 0): what delta adds to.
    with torch.no_grad(), Trace(model, layer_name, capture_output=True, stop=True) as tr:
        model.base_model(input_ids=groups[0].ids[:1], attention_mask=groups[0].att[:1], use_cache=False)
    h = tr.output[0, b["delta_pos"][0][-1]].float()
    with torch.no_grad():
        kl_ref = logprobs()[-1]

    def loss_of(delta):
        """(loss, object NLL) at this delta."""
        logp = logprobs(delta)
        tok_nll = -logp[:n_obj].gather(1, obj_tok[:, None])[:, 0]                  # [object tokens]
        # mean over each context's object tokens, then over contexts
        nll = torch.zeros(b["n_ctx"], device=dev).index_add_(0, obj_ctx, tok_nll).div_(len(target)).mean()
        kl = torch.nn.functional.kl_div(logp[-1], kl_ref, log_target=True, reduction="sum")
        loss = nll + hp.kl_factor * kl + hp.v_weight_decay * delta.norm() ** 2 / h.norm() ** 2
        if n_keep and hp.keep_factor:
            # The assistant must still open its answer as before (above all, repeat the name intact):
            # edits that garbled the repeated name were most of the chat misses (README, wake).
            keep_nll = -logp[n_obj:n_obj + n_keep].gather(1, keep_tok[:, None]).mean()
            loss = loss + hp.keep_factor * keep_nll
        return loss, nll

    max_norm = hp.clamp_norm * h.norm()
    if graphs is None:
        graphs = dev.startswith("cuda") and os.environ.get("LOGOS_CUDA_GRAPHS", "1") != "0"
    info = {"resumed": all(g.resume is not None for g in groups), "graph": None,
            "prep_seconds": time.perf_counter() - t0}
    if graphs:
        delta, nll_hist, info["graph"] = graphed_search(loss_of, h, max_norm, hp)
    if not graphs or delta is None:
        delta, nll_hist = _eager_search(loss_of, h, max_norm, hp)
    info.update({"search_seconds": time.perf_counter() - t0 - info["prep_seconds"], "steps": len(nll_hist),
                 "nll_start": nll_hist[0], "nll_end": nll_hist[-1], "delta_norm": delta.norm().item(), "h_norm": h.norm().item(),
                 "seconds": time.perf_counter() - t0})
    return (h + delta).detach(), info


def _eager_search(loss_of, h, max_norm, hp) -> tuple:
    """Adam on delta, one step at a time; stop once the object NLL is below hp.early_stop_loss."""
    delta = torch.zeros_like(h, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=hp.v_lr)
    nll_hist = []
    for _ in range(hp.v_steps):
        loss, nll = loss_of(delta)
        nll_hist.append(nll.item())
        if nll_hist[-1] < hp.early_stop_loss:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            if delta.norm() > max_norm:
                delta.mul_(max_norm / delta.norm())
    return delta.detach(), nll_hist
