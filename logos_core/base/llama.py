"""A Llama decoder in plain torch: `logos ask` and `logos remember` in a new process without transformers.

    lm = Llama.from_folder(folder)          # config.json + model.safetensors, names as transformers has them
    ids = lm.greedy(prompt_ids, max_new_tokens=48, eos={2})
    lm(input_ids=ids, attention_mask=att).logits              # [batch, pos, vocab], as transformers gives it
    lm.base_model(input_ids=ids, attention_mask=att).last_hidden_state

Importing transformers' model code costs about 2.5 s of every new process on this CPU (it pulls in
torch.distributed, dynamo and sympy) before a weight is read. This file is the same forward pass, op
for op as transformers' LlamaForCausalLM computes it with its "sdpa" attention (RMSNorm, rotary
embedding, grouped-query attention, SwiGLU MLP), with the same parameter names and the same calling
conventions where the wake reaches inside: each decoder block takes `attention_mask` (None for an
unpadded causal pass, else a [batch, 1, q, kv] bool mask), `position_ids`, `position_embeddings`
(cos, sin) and a `cache` whose update(k, v, layer) returns the keys and values to attend to, so
nethook's hooks, the resumed target search (wake/resume.py) and the key passes (wake/compute_ks.py)
run on it unchanged. tests/test_answer.py holds it to transformers' logits, hidden states and
greedy tokens on the bundled model.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn


class Config(dict):
    """config.json, read as a dict and by attribute (model.config.num_hidden_layers, as transformers')."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Output:
    """What a forward pass returns: .logits or .last_hidden_state (the fields transformers' outputs name)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), -1)


def _repeat_kv(x: torch.Tensor, n: int) -> torch.Tensor:
    """[b, kv_heads, t, d] -> [b, kv_heads * n, t, d], each key/value head once per query head of its group."""
    b, h, t, d = x.shape
    return x if n == 1 else x[:, :, None].expand(b, h, n, t, d).reshape(b, h * n, t, d)


class Attention(nn.Module):
    def __init__(self, c: dict, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        d, bias = c["hidden_size"], c.get("attention_bias", False)
        self.q_proj = nn.Linear(d, self.heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.heads * self.head_dim, d, bias=bias)

    def forward(self, x, position_embeddings, attention_mask=None, cache=None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)      # [b, heads, t, head_dim]
        k = self.k_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)      # [b, kv_heads, t, head_dim]
        v = self.v_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)
        cos, sin = (e.unsqueeze(1) for e in position_embeddings)              # [b, 1, t, head_dim]
        q, k = q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
        if cache is not None:                                                # the positions before these
            k, v = cache.update(k, v, self.layer_idx)
        groups = self.heads // self.kv_heads
        if attention_mask is None:     # causal over every position: sdpa's own mask, heads grouped in the kernel
            y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1, scale=self.head_dim ** -0.5,
                                               enable_gqa=groups > 1)
        else:                          # a given mask: keys and values repeated per head, as transformers does
            y = F.scaled_dot_product_attention(q, _repeat_kv(k, groups), _repeat_kv(v, groups),
                                               attn_mask=attention_mask, scale=self.head_dim ** -0.5)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, m, bias = c["hidden_size"], c["intermediate_size"], c.get("mlp_bias", False)
        self.gate_proj, self.up_proj = nn.Linear(d, m, bias=bias), nn.Linear(d, m, bias=bias)
        self.down_proj = nn.Linear(m, d, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c: dict, layer_idx: int):
        super().__init__()
        self.self_attn, self.mlp = Attention(c, layer_idx), MLP(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, hidden_states, attention_mask=None, position_ids=None, cache=None, use_cache=False,
                position_embeddings=None):
        x = hidden_states
        x = x + self.self_attn(self.input_layernorm(x), position_embeddings, attention_mask, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class KV:
    """The keys and values of the positions run so far, per block (greedy decoding)."""

    def __init__(self):
        self.k, self.v = {}, {}

    def __len__(self):
        return self.k[0].shape[-2] if self.k else 0

    def update(self, k, v, layer_idx):
        if layer_idx in self.k:
            k, v = torch.cat([self.k[layer_idx], k], -2), torch.cat([self.v[layer_idx], v], -2)
        self.k[layer_idx], self.v[layer_idx] = k, v
        return k, v


class Decoder(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        # _weight skips the random init (on meta, normal_ drags in torch._refs: 1.2 s)
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"],
                                         _weight=torch.empty(c["vocab_size"], c["hidden_size"]))
        self.layers = nn.ModuleList(Block(c, i) for i in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        rope = c.get("rope_parameters") or {"rope_theta": c.get("rope_theta", 10000.0), "rope_type": "default"}
        if rope.get("rope_type", "default") != "default":
            raise ValueError(f"rope type {rope['rope_type']} is not implemented here")
        dim = self.layers[0].self_attn.head_dim
        steps = torch.arange(0, dim, 2, dtype=torch.float, device="cpu")   # (on the CPU even when built on meta)
        self.inv_freq = 1.0 / (rope["rope_theta"] ** (steps / dim))

    def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None, use_cache=False) -> Output:
        """Final hidden states [b, t, d] of `input_ids` [b, t]; `attention_mask` [b, t] marks each row's
        own tokens (1) against padding (0); `cache` (KV) holds the positions before these."""
        b, t = input_ids.shape
        past = len(cache) if cache is not None else 0
        if position_ids is None:
            position_ids = torch.arange(past, past + t, device=input_ids.device)[None]
        freqs = position_ids[..., None].float() * self.inv_freq.to(input_ids.device)
        emb = torch.cat((freqs, freqs), -1)
        x = self.embed_tokens(input_ids)
        position_embeddings = (emb.cos().to(x.dtype), emb.sin().to(x.dtype))            # [b or 1, t, head_dim]
        mask = _causal_mask(attention_mask, t, past)
        for block in self.layers:
            x = block(x, attention_mask=mask, position_ids=position_ids, cache=cache, use_cache=use_cache,
                      position_embeddings=position_embeddings)
        return Output(last_hidden_state=self.norm(x))


def _causal_mask(attention_mask, t: int, past: int):
    """None where every position is a row's own (the attention's causal kernel does it), else the
    [b, 1, t, past + t] bool mask: query i sees key j when j <= i and j is not padding."""
    if attention_mask is None or bool(attention_mask.all()):
        return None
    kv = attention_mask.shape[1]
    q = torch.arange(past, past + t, device=attention_mask.device)[:, None]
    causal = torch.arange(kv, device=attention_mask.device)[None, :] <= q                # [t, kv]
    return causal[None, None] & attention_mask[:, None, None, :].bool()


class Llama(nn.Module):
    """Parameters named as in transformers (model.layers.N.mlp.down_proj.weight, lm_head.weight), so
    nethook.get_module, EditBook and the adapters' fuse address it the same way."""

    def __init__(self, c: dict):
        super().__init__()
        self.config = Config(c)
        self.model = Decoder(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    @property
    def base_model(self) -> Decoder:
        return self.model

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    @classmethod
    def from_folder(cls, folder: Path) -> "Llama":
        c = json.loads((Path(folder) / "config.json").read_text())
        if c.get("model_type") != "llama":
            raise ValueError(f"{folder} holds a {c.get('model_type')} model, not llama")
        with torch.device("meta"):                  # no random init: every weight comes from the file
            lm = cls(c)
        sd = load_file(str(Path(folder) / "model.safetensors"))
        if c.get("tie_word_embeddings"):
            head = sd.get("lm_head.weight", sd.get("model.embed_tokens.weight"))
            sd["lm_head.weight"] = sd["model.embed_tokens.weight"] = head
        lm.load_state_dict(sd, strict=True, assign=True)
        if c.get("tie_word_embeddings"):        # one tensor, as transformers ties them
            lm.lm_head.weight = lm.model.embed_tokens.weight
        return lm.eval()

    def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None, use_cache=False) -> Output:
        """Logits [b, t, vocab] at every position."""
        h = self.model(input_ids, attention_mask, position_ids, cache, use_cache).last_hidden_state
        return Output(logits=self.lm_head(h))

    @torch.no_grad()
    def greedy(self, prompt: list, max_new_tokens: int, eos: set, stop=None) -> list:
        """Token ids after `prompt` (ids), greedy, ending at an eos id (not returned, as transformers'
        decode with skip_special_tokens drops it anyway) or once stop(new_ids) is true."""
        cache = KV()
        ids = torch.tensor([prompt])
        new: list = []
        while len(new) < max_new_tokens:
            h = self.model(ids, cache=cache).last_hidden_state
            nxt = int(self.lm_head(h[:, -1]).argmax(-1))
            if nxt in eos:
                break
            new.append(nxt)
            if stop is not None and stop(new):
                break
            ids = torch.tensor([[nxt]])
        return new
