"""A Llama decoder in plain torch, for answering one question in a new process.

    lm = Llama.from_folder(folder)          # config.json + model.safetensors, names as transformers has them
    ids = lm.greedy(prompt_ids, max_new_tokens=48, stop=lambda new_ids: ...)

`logos ask` spent 1.8 s of its 5 s importing transformers' model code (which pulls in torch.distributed,
dynamo and sympy) before it read a weight. This file is the same forward pass, op for op as
transformers' LlamaForCausalLM computes it in float32 (RMSNorm, rotary embedding, grouped-query
attention through scaled_dot_product_attention, SwiGLU MLP), with the same parameter names, so edits
and adapters go into it exactly as they go into the full model. tests/test_answer.py checks its
logits and greedy tokens against transformers on the bundled model. Only what answering needs: one
sequence, greedy, a key/value cache; everything else (editing, training, batches) uses transformers.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Attention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        d, bias = c["hidden_size"], c.get("attention_bias", False)
        self.q_proj = nn.Linear(d, self.heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.heads * self.head_dim, d, bias=bias)

    def forward(self, x, cos, sin, cache: list):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)      # [b, heads, t, head_dim]
        k = self.k_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)      # [b, kv_heads, t, head_dim]
        v = self.v_proj(x).view(b, t, -1, self.head_dim).transpose(1, 2)
        q, k = q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
        if cache:                                                            # the tokens before these
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        cache[:] = [k, v]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1, scale=self.head_dim ** -0.5,
                                           enable_gqa=self.heads != self.kv_heads)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), -1)


class MLP(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, m, bias = c["hidden_size"], c["intermediate_size"], c.get("mlp_bias", False)
        self.gate_proj, self.up_proj = nn.Linear(d, m, bias=bias), nn.Linear(d, m, bias=bias)
        self.down_proj = nn.Linear(m, d, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.self_attn, self.mlp = Attention(c), MLP(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin, cache):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        # _weight skips the random init (on meta, normal_ drags in torch._refs: 1.2 s)
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"],
                                         _weight=torch.empty(c["vocab_size"], c["hidden_size"]))
        self.layers = nn.ModuleList(Block(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class Llama(nn.Module):
    """Parameters named as in transformers (model.layers.N.mlp.down_proj.weight, lm_head.weight), so
    nethook.get_module, EditBook and the adapters' fuse address it the same way."""

    def __init__(self, c: dict):
        super().__init__()
        self.config = c
        self.model = Decoder(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        rope = c.get("rope_parameters") or {"rope_theta": c.get("rope_theta", 10000.0), "rope_type": "default"}
        if rope.get("rope_type", "default") != "default":
            raise ValueError(f"rope type {rope['rope_type']} is not implemented here")
        dim = self.model.layers[0].self_attn.head_dim          # (on the CPU even when built on meta)
        steps = torch.arange(0, dim, 2, dtype=torch.float, device="cpu")
        self.inv_freq = 1.0 / (rope["rope_theta"] ** (steps / dim))

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

    def forward(self, ids: torch.Tensor, start: int, caches: list) -> torch.Tensor:
        """Logits of the last position for `ids` [1, t] at positions start.., extending `caches`."""
        pos = torch.arange(start, start + ids.shape[1], dtype=torch.float)
        freqs = pos[:, None] * self.inv_freq
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]                # [1, 1, t, head_dim]
        x = self.model.embed_tokens(ids)
        for block, cache in zip(self.model.layers, caches):
            x = block(x, cos, sin, cache)
        return self.lm_head(self.model.norm(x[:, -1:]))[:, -1]

    @torch.no_grad()
    def greedy(self, prompt: list, max_new_tokens: int, eos: set, stop=None) -> list:
        """Token ids after `prompt` (ids), greedy, ending at an eos id (not returned, as transformers'
        decode with skip_special_tokens drops it anyway) or once stop(new_ids) is true."""
        caches = [[] for _ in self.model.layers]
        logits = self(torch.tensor([prompt]), 0, caches)
        new: list = []
        while len(new) < max_new_tokens:
            nxt = int(logits.argmax(-1))
            if nxt in eos:
                break
            new.append(nxt)
            if stop is not None and stop(new):
                break
            logits = self(torch.tensor([[nxt]]), len(prompt) + len(new) - 1, caches)
        return new
