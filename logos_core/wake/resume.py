"""Resume a forward pass after block L from a cached residual stream.

    r = Resume.build(model, L, ids, att, start=p)   # one no-grad pass; None where the layout is unknown
    hidden = r(add)            # blocks L+1.. and the final norm on (h_L + add), positions p.. only

MEMIT's target search (compute_z.py) adds a trainable vector to the residual stream after block L
and runs the rest of the model every step. Blocks 0..L do not depend on that vector, so their output
is computed once here and only the later blocks run per step (9 of 32 blocks skipped on Llama-3-8B,
8 of 30 on SmolLM2-135M). Nor do the positions before the first one it is added at (`start`): in a
chat row that is the system prompt and the question up to the subject, about 60% of the row. Their
keys and values at every later block are kept from the build and attended to as a fixed prefix, so
each step computes only positions start.. (`_Prefix`).

Each later block gets exactly the keyword arguments the model's own forward gave it (attention mask,
rotary embeddings, ...), captured by pre-hooks and cut to the positions that run, so per-layer masks
(sliding windows) carry over. The build checks the resumed pass against the model's own output and
falls back (first to no prefix, then to None, where callers run the full forward) where they disagree.
"""
from __future__ import annotations

import inspect
import weakref

import torch

from ..base.nethook import block_output

# Models on which resuming was checked against the full forward, with the layouts checked: an
# architecture that resumes correctly once does so for every later edit, and the check costs a pass
# of the later blocks per edit.
_CHECKED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _Record:
    """Stands in for the model's KV cache during the build: keeps every block's keys and values."""

    def __init__(self):
        self.k, self.v = {}, {}

    def update(self, key, value, layer_idx, *args, **kwargs):
        self.k[layer_idx], self.v[layer_idx] = key, value
        return key, value


class _Prefix:
    """The kept keys and values of positions < start, put before each step's own. Unlike the
    library's caches it stores nothing per step, so no step's graph leaks into the next."""

    def __init__(self, rec: _Record, start: int):
        self.k = {i: k[..., :start, :] for i, k in rec.k.items()}
        self.v = {i: v[..., :start, :] for i, v in rec.v.items()}

    def update(self, key, value, layer_idx, *args, **kwargs):
        return torch.cat([self.k[layer_idx], key], -2), torch.cat([self.v[layer_idx], value], -2)


class _Packed(_Prefix):
    """Every row's kept keys and values (its positions before its own start) side by side, put
    before the step's packed keys: all rows' queries run as one sequence, so each step's blocks run
    once, not once per batch of rows (on a CPU each pass also reads every weight once)."""

    def __init__(self, rec: _Record, starts: list):
        self.k = {i: torch.cat([k[r:r + 1, :, :s, :] for r, s in enumerate(starts)], 2) for i, k in rec.k.items()}
        self.v = {i: torch.cat([v[r:r + 1, :, :s, :] for r, s in enumerate(starts)], 2) for i, v in rec.v.items()}


def _packed_mask(rows: torch.Tensor, pos: torch.Tensor, starts: list) -> torch.Tensor:
    """[1, 1, Q, P + Q] True where query j (row rows[j], position pos[j]) may look: its own row's kept
    prefix, and its own row's queries up to itself."""
    dev = rows.device
    owner = torch.cat([torch.full((s,), r, device=dev) for r, s in enumerate(starts)])   # [P] row of each kept key
    see_prefix = rows[:, None] == owner[None, :]
    see_query = (rows[:, None] == rows[None, :]) & (pos[None, :] <= pos[:, None])
    return torch.cat([see_prefix, see_query], 1)[None, None]


def _pack(kw: dict, rows: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor) -> dict | None:
    """A block's captured keyword arguments for the packed queries; None where one is not understood."""
    out = {}
    for k, v in kw.items():
        if k == "attention_mask":
            if v is not None and not (isinstance(v, torch.Tensor) and v.dim() == 4 and v.dtype == torch.bool):
                return None     # an additive float mask or another layout: not rebuilt here
            v = mask
        elif k == "position_embeddings":      # cos, sin: [1 or batch, L, d] -> [1, Q, d]
            v = tuple((t[0, pos] if t.shape[0] == 1 else t[rows, pos])[None] for t in v)
        elif k == "position_ids":
            v = pos[None]
        elif k == "cache_position":
            v = pos
        elif isinstance(v, torch.Tensor):
            return None
        out[k] = v
    return out


def _cache_arg(block) -> str | None:
    """The name a decoder block takes its KV cache by (`cache` since transformers 5.x, earlier
    `past_key_values`), or None."""
    names = inspect.signature(block.forward).parameters
    return next((n for n in ("cache", "past_key_values") if n in names), None)


def _cut(kw: dict, start: int, att: torch.Tensor) -> dict | None:
    """A block's captured keyword arguments for positions start.. only (queries) against all keys;
    None where one of them is not understood."""
    out = {}
    for k, v in kw.items():
        if k == "attention_mask":
            if v is None:    # no padding: the model relied on a causal kernel, which aligns wrongly here
                n = att.shape[1]
                q = torch.arange(start, n, device=att.device)[:, None]
                v = (torch.arange(n, device=att.device)[None, :] <= q)[None, None] & att[:, None, None, :].bool()
            elif isinstance(v, torch.Tensor) and v.dim() == 4:
                v = v[:, :, start:, :]
            else:
                return None
        elif k == "position_embeddings":
            v = tuple(t[:, start:] for t in v)
        elif k == "position_ids":
            v = v[..., start:]
        elif k == "cache_position":
            v = v[start:]
        elif isinstance(v, torch.Tensor):
            return None
        out[k] = v
    return out


class Resume:
    def __init__(self, h: torch.Tensor, blocks: list, kwargs: list, norm: torch.nn.Module, start: int = 0,
                 index: tuple | None = None):
        self.h, self.blocks, self.kwargs, self.norm, self.start = h, blocks, kwargs, norm, start
        self.index = index    # packed: (rows, positions) of the queries, in their packed order
        self.plain = None     # the output with nothing added: the build's own forward pass gives it

    def __call__(self, add: torch.Tensor | None = None) -> torch.Tensor:
        """Final hidden states of positions start.. ([rows, L - start, d]), or of the packed queries
        ([1, Q, d]); `add` covers every position of every row."""
        if add is None and self.plain is not None:
            return self.plain
        if add is None:
            x = self.h
        elif self.index is not None:
            x = self.h + add[self.index][None]
        else:
            x = self.h + add[:, self.start:]
        for block, kw in zip(self.blocks, self.kwargs):
            x = block_output(block(x, **kw))
        return self.norm(x)

    @staticmethod
    def _capture(model, layer: int, ids, att, position_ids, record: bool):
        """The model's own forward, recording what each block after `layer` was given: (the full
        output, the stream after block `layer`, each later block's keyword arguments, the cache
        argument's name and the recorded keys and values), or None where the layout is unknown."""
        body = model.base_model
        layers, norm = getattr(body, "layers", None), getattr(body, "norm", None)
        if layers is None or norm is None or not 0 <= layer < len(layers) - 1:
            return None
        blocks = list(layers[layer + 1:])
        first, kwargs, handles = [], [None] * len(blocks), []
        # With a prefix to keep, the model's own forward records every later block's keys and values
        # (a _Record handed in as the block's cache), so the build runs those blocks only once.
        name = _cache_arg(blocks[0]) if record else None
        rec = _Record() if name is not None else None

        def grab(i):
            def hook(module, args, kw):
                if i == 0:
                    first.append(args[0] if args else kw["hidden_states"])
                kept = {k: v for k, v in kw.items() if k != "hidden_states"}
                kept["use_cache"] = False
                kwargs[i] = kept
                if rec is not None:
                    return args, {**kw, name: rec}
            return hook

        for i, b in enumerate(blocks):
            handles.append(b.register_forward_pre_hook(grab(i), with_kwargs=True))
        try:
            full = body(input_ids=ids, attention_mask=att, position_ids=position_ids, use_cache=False).last_hidden_state
        finally:
            for hd in handles:
                hd.remove()
        if not first or any(k is None for k in kwargs):
            return None
        if rec is not None and len(rec.k) != len(blocks):
            rec = None
        return full, first[0].detach(), blocks, kwargs, norm, name, rec

    @classmethod
    @torch.no_grad()
    def build(cls, model, layer: int, ids: torch.Tensor, att: torch.Tensor, check: bool = True, start: int = 0,
              position_ids: torch.Tensor | None = None):
        got = cls._capture(model, layer, ids, att, position_ids, record=start > 0)
        if got is None:
            return None
        full, h, blocks, kwargs, norm, name, rec = got
        done = _CHECKED.setdefault(model, set())
        layout = (kwargs[0].get("attention_mask") is None,)      # _cut builds the mask itself when None
        if rec is not None:
            r = cls._with_prefix(h, blocks, kwargs, norm, start, att, name, rec)
            if r is not None and (not check or ("prefix", *layout) in done or r._agrees(full[:, start:])):
                done.add(("prefix", *layout))
                r.plain = full[:, start:]
                return r
        r = cls(h, blocks, kwargs, norm)
        if check and ("whole", *layout) not in done and not r._agrees(full):
            return None      # an architecture whose forward does more between blocks than we replay
        done.add(("whole", *layout))
        r.plain = full
        return r

    @classmethod
    @torch.no_grad()
    def build_packed(cls, model, layer: int, ids: torch.Tensor, att: torch.Tensor, starts: list,
                     check: bool = True):
        """As `build`, but each row r keeps its own positions before starts[r], and every row's later
        real positions run as one packed sequence (rows right-padded). None where not understood:
        the caller then builds per batch."""
        got = cls._capture(model, layer, ids, att, None, record=True)
        if got is None or got[-1] is None:
            return None
        full, h, blocks, kwargs, norm, name, rec = got
        rows = torch.cat([torch.full((int(att[r].sum()) - s,), r) for r, s in enumerate(starts)]).to(ids.device)
        pos = torch.cat([torch.arange(s, int(att[r].sum())) for r, s in enumerate(starts)]).to(ids.device)
        mask = _packed_mask(rows, pos, starts)
        packed = [_pack(kw, rows, pos, mask) for kw in kwargs]
        if any(p is None for p in packed):
            return None
        cache = _Packed(rec, starts)
        r = cls(h[rows, pos][None], blocks, [{**p, name: cache} for p in packed], norm, index=(rows, pos))
        plain = full[rows, pos][None]
        done = _CHECKED.setdefault(model, set())
        if check and "packed" not in done and not r._agrees(plain):
            return None
        done.add("packed")
        r.plain = plain
        return r

    @classmethod
    def _with_prefix(cls, h, blocks, kwargs, norm, start, att, name, rec):
        cut = [_cut(kw, start, att) for kw in kwargs]
        if any(c is None for c in cut):
            return None
        prefix = _Prefix(rec, start)
        return cls(h[:, start:], blocks, [{**c, name: prefix} for c in cut], norm, start)

    def _agrees(self, full: torch.Tensor) -> bool:
        mine = self()
        return mine.shape == full.shape and torch.allclose(
            mine.float(), full.float(), rtol=1e-3, atol=1e-3 * float(full.abs().max()))
