"""MEMIT's target search with each Adam step replayed as one captured CUDA graph.

    delta, nll_history, how = graphed_search(loss_of, h, max_norm, hp)   # delta None: use the eager loop

On a GPU the 8B target search is bound by kernel launches, not arithmetic: one step (23 blocks
forward, their backward, the loss over the vocabulary, Adam) is ~1,600 small kernels over a batch of
a few hundred tokens. Captured once per edit and replayed, the step costs the kernels' own time.
Adam is written out with tensor-only arithmetic (the step count lives on the device) so that the whole
step, norm clamp included, sits inside the graph; it follows torch.optim.Adam's formula (betas 0.9,
0.999, eps 1e-8, no weight decay). The object NLL is read back after each replay for early stopping;
the step taken in that replay is then undone, so the result equals the eager loop's.
Any failure to capture (an op that syncs with the host, say) returns None and the eager loop runs.
"""
from __future__ import annotations

import time

import torch

B1, B2, EPS = 0.9, 0.999, 1e-8
WARMUP = 2        # eager steps on a side stream before capture (cuBLAS workspaces, autograd state)


def graphed_search(loss_of, h: torch.Tensor, max_norm: torch.Tensor, hp) -> tuple:
    if h.device.type != "cuda":
        return None, [], "eager: not on CUDA"
    try:
        return _search(loss_of, h, max_norm, hp)
    except Exception as e:  # noqa: BLE001 - any capture failure falls back to the eager loop
        torch.cuda.synchronize()
        return None, [], f"eager: capture failed ({type(e).__name__}: {str(e).splitlines()[0][:160]})"


def _search(loss_of, h, max_norm, hp, capture: bool = True) -> tuple:
    """The search; `capture=False` runs the same step eagerly (how the CPU tests check the arithmetic)."""
    delta = torch.zeros_like(h, requires_grad=True)
    prev, m, v = torch.zeros_like(h), torch.zeros_like(h), torch.zeros_like(h)
    t = torch.zeros((), dtype=h.dtype, device=h.device)

    def step() -> torch.Tensor:
        with torch.no_grad():
            prev.copy_(delta)
        loss, nll, worst = loss_of(delta)
        (g,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            t.add_(1.0)
            m.mul_(B1).add_(g, alpha=1 - B1)
            v.mul_(B2).addcmul_(g, g, value=1 - B2)
            denom = (v.sqrt() / (1 - B2 ** t).sqrt()).add_(EPS)
            delta.sub_(hp.v_lr / (1 - B1 ** t) * m / denom)
            delta.mul_(torch.clamp(max_norm / delta.norm(), max=1.0))   # |delta| <= clamp * |h|
        return torch.stack([nll, worst]).detach()

    graph, t0 = None, time.perf_counter()
    if capture:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(WARMUP):
                step()
        torch.cuda.current_stream().wait_stream(side)
        with torch.no_grad():
            for x in (delta, m, v, t):
                x.zero_()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            nll_out = step()
        t_capture = time.perf_counter() - t0
    hist = []
    for _ in range(hp.v_steps):
        if graph is not None:
            graph.replay()
        else:
            nll_out = step()
        nll, worst = nll_out.tolist()
        hist.append(nll)
        if hp.target_found(nll, worst):
            with torch.no_grad():
                delta.copy_(prev)       # the eager loop stops before stepping
            break
    out = delta.detach().clone()
    del graph
    return out, hist, f"graph (warm-up + capture {t_capture:.2f} s)" if capture else "eager (graph arithmetic)"
