"""MEMIT target vectors: the residual-stream value z at the last edited layer that makes the model say
the object.

    z, info = compute_z(lm, hp, request)     # z: [d_model]

We add a free vector delta to the output of block L (the last edited layer) at the subject's last
token(s) and train it with Adam so that, in every context, the model predicts **all** object tokens:

    min_delta  mean_c  -1/|o| sum_t log p(o_t | c, o_<t ; h_L + delta)
               + kl_factor   * KL(p(. | "s is a") || p_delta(. | "s is a"))
               + keep_factor * mean NLL of the chat answer's opening words (the repeated name)
               + weight_decay * |delta|^2 / |h_L|^2,      subject to |delta| <= clamp * |h_L|

and stop early once the object NLL falls below `early_stop_loss` and, when `stop_context_nll` is set,
the worst context's below it too: the object is then the likeliest continuation in every context, by
a margin (ENCORE, arXiv 2502.01636, stops at the bare argmax; that margin is too thin here: chat
recall fell to 0.63 of 10 facts, README). z = h_L + delta.
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
    """Context rows run together in the target search. On a CPU all rows run as one packed sequence
    (resume.Resume.build_packed): each row from its own first subject token on, so a step's blocks
    run once over only the positions that change. Where packing is not understood, two padded
    batches (raw-text rows, ~4x shorter, and chat rows), each row shifted right (left padding, its
    own position ids) so that every row's first subject token sits at the same index and the
    positions before it are cut from every step (resume.py)."""

    def __init__(self, rows, delta_pos, device, pad_id, align: bool = True):
        first = [min(ps) for ps in delta_pos]
        self.shift = [max(first) - f for f in first] if align else [0] * len(rows)   # left padding per row
        self.ids, self.att = right_pad([[pad_id] * k + r for k, r in zip(self.shift, rows)], pad_id, device)
        for i, k in enumerate(self.shift):
            self.att[i, :k] = 0
        self.pos = (self.att.cumsum(-1) - 1).clamp(min=0) if align else None   # each row's own positions
        self.mask = torch.zeros(*self.ids.shape, 1, device=device)           # where delta is added
        for i, ps in enumerate(delta_pos):
            self.mask[i, [p + self.shift[i] for p in ps]] = 1.0
        self.first = first
        self.resume = None       # resume.Resume: the blocks after L from the cached stream
        self.first_delta = max(first) if align else min(first)
        self.rows = self.cols = None   # the picked (row, position) pairs, as index tensors
        self.start = None

    def pick(self, rows: list, cols: list, device):
        """Score these (row, position in the unshifted row) pairs. Positions before `start` are the
        same at every step: nothing is added there or earlier, and nothing is read there."""
        self.picked = list(zip(rows, cols))
        cols = [c + self.shift[r] for r, c in zip(rows, cols)]
        self.rows = torch.tensor(rows, device=device)
        self.cols = torch.tensor(cols, device=device)
        self.start = min([self.first_delta] + cols)

    def resume_from(self, model, layer: int) -> None:
        """Blocks 0..L run once per edit, not once per step (resume.py)."""
        self.resume = Resume.build(model, layer, self.ids, self.att, start=self.start, position_ids=self.pos)
        if self.resume is not None:
            self.cols = self.cols - self.resume.start     # resumed rows begin at resume.start

    def resume_packed(self, model, layer: int) -> bool:
        """The packed search (one sequence of every row's positions from its own start); False where
        this model's blocks are not understood packed."""
        starts = [min([f] + [c for r, c in self.picked if r == i]) for i, f in enumerate(self.first)]
        res = Resume.build_packed(model, layer, self.ids, self.att, starts)
        if res is None:
            return False
        at = {(int(r), int(p)): j for j, (r, p) in enumerate(zip(*res.index))}
        self.cols = torch.tensor([at[rp] for rp in self.picked], device=self.ids.device)
        self.rows = torch.zeros_like(self.cols)
        self.resume = res
        return True

    def forward(self, model, rows=slice(None)):
        return model.base_model(input_ids=self.ids[rows], attention_mask=self.att[rows],
                                position_ids=None if self.pos is None else self.pos[rows], use_cache=False)

    def hidden(self, model, layer_name: str, delta):
        """Final hidden states with delta added after block L at the subject's tokens: [rows, L, d],
        or [rows, L - resume.start, d] when resumed (the positions before it never change)."""
        add = None if delta is None else self.mask.to(delta.dtype) * delta
        if self.resume is not None:
            return self.resume(None if add is None else add.to(self.resume.h.dtype))
        edit = None if add is None else (lambda h: h + add.to(h.dtype))
        with Trace(model, layer_name, edit_output=edit):
            return self.forward(model).last_hidden_state


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
    # Everything to score, in one flat order: object tokens, answer-opening tokens, the KL position.
    picks = [(r, p) for r, p, _, _ in b["obj"]] + [(r, p) for r, p, _ in b["keep"]] + [b["kl"]]

    def grouped(members: list, align: bool) -> tuple:
        groups = [_Group([b["rows"][r] for r in m], [b["delta_pos"][r] for r in m], dev, tok.pad_token_id, align)
                  for m in members]
        where = {r: (g, i) for g, m in enumerate(members) for i, r in enumerate(m)}   # row -> (group, index)
        per_group = [[(k, where[r][1], p) for k, (r, p) in enumerate(picks) if where[r][0] == g]
                     for g in range(len(groups))]
        for g, pg in zip(groups, per_group):
            g.pick([i for _, i, _ in pg], [p for _, _, p in pg], dev)
        order = torch.tensor([k for pg in per_group for k, _, _ in pg], device=dev).argsort()
        return groups, order

    everything = [list(range(len(b["rows"])))]
    groups, order = grouped(everything, align=False)
    if dev != "cpu":
        # On a GPU a step is bound by per-layer overheads, not tokens: one padded batch (measured on
        # the 8B shape: benchmarks/gpu_wake_8b.py)
        groups[0].resume_from(model, layer)
    elif not groups[0].resume_packed(model, layer):
        members = [[r for r, c in enumerate(b["chat"]) if c == flag] for flag in (False, True)]
        groups, order = grouped([m for m in members if m], align=True)
        for g in groups:
            g.resume_from(model, layer)
    n_obj, n_keep = len(b["obj"]), len(b["keep"])
    obj_tok = torch.tensor([t for _, _, t, _ in b["obj"]], device=dev)
    obj_ctx = torch.tensor([c for _, _, _, c in b["obj"]], device=dev)
    keep_tok = torch.tensor([t for _, _, t in b["keep"]], dtype=torch.long, device=dev)
    head = model.get_output_embeddings()
    layer_name = hp.layer_module.format(layer)

    def logprobs(delta=None):
        """Log-probabilities at the picked positions only: [n_picks, vocab] (the vocabulary
        projection over every position was most of a step's cost on the 135M model)."""
        hidden = torch.cat([g.hidden(model, layer_name, delta)[g.rows, g.cols] for g in groups])[order]
        return torch.log_softmax(head(hidden).float(), -1)

    # h_L at the subject's last token of the bare prompt (row 0, in group 0): what delta adds to.
    with torch.no_grad(), Trace(model, layer_name, capture_output=True, stop=True) as tr:
        groups[0].forward(model, slice(0, 1))
    h = tr.output[0, b["delta_pos"][0][-1] + groups[0].shift[0]].float()
    with torch.no_grad():
        kl_ref = logprobs()[-1]

    def loss_of(delta):
        """(loss, object NLL, the worst context's object NLL) at this delta."""
        logp = logprobs(delta)
        tok_nll = -logp[:n_obj].gather(1, obj_tok[:, None])[:, 0]                  # [object tokens]
        # mean over each context's object tokens, then over contexts
        per_ctx = torch.zeros(b["n_ctx"], device=dev).index_add_(0, obj_ctx, tok_nll).div_(len(target))
        nll = per_ctx.mean()
        kl = torch.nn.functional.kl_div(logp[-1], kl_ref, log_target=True, reduction="sum")
        loss = nll + hp.kl_factor * kl + hp.v_weight_decay * delta.norm() ** 2 / h.norm() ** 2
        if n_keep and hp.keep_factor:
            # The assistant must still open its answer as before (above all, repeat the name intact):
            # edits that garbled the repeated name were most of the chat misses (README, wake).
            keep_nll = -logp[n_obj:n_obj + n_keep].gather(1, keep_tok[:, None]).mean()
            loss = loss + hp.keep_factor * keep_nll
        return loss, nll, per_ctx.max()

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
    """Adam on delta, one step at a time, until hp.target_found or hp.v_steps."""
    delta = torch.zeros_like(h, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=hp.v_lr)
    nll_hist = []
    for _ in range(hp.v_steps):
        loss, nll, worst = loss_of(delta)
        nll_hist.append(nll.item())
        if hp.target_found(nll_hist[-1], worst.item()):
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            if delta.norm() > max_norm:
                delta.mul_(max_norm / delta.norm())
    return delta.detach(), nll_hist
