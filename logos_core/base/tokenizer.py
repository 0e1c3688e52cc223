"""A model folder's tokenizer and chat template, read without transformers (for base/llama.py).

    tok = FolderTokenizer(folder)        # tokenizer.json, tokenizer_config.json, chat_template.jinja
    text = tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
    ids = tok.encode(text); tok.decode(ids, skip_special_tokens=True)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)   # .input_ids, .offset_mapping

The same `tokenizers` object transformers' fast tokenizer wraps, and the template rendered the way
transformers renders it (a sandboxed jinja2 environment with trim_blocks and lstrip_blocks, the special
tokens and raise_exception in scope), so base.tokens.chat_text gives the same string through either;
called, it answers as transformers' tokenizer does for what the wake asks of one (ids, character
offsets, the pad id). tests/test_answer.py compares them.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import torch
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer


class Encoded:
    """One text's token ids and, when asked, each token's (start, end) in characters."""

    def __init__(self, input_ids, offset_mapping=None):
        self.input_ids, self.offset_mapping = input_ids, offset_mapping


def _raise(message):
    raise TemplateError(message)


class FolderTokenizer:
    def __init__(self, folder: Path):
        folder = Path(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        cfg = json.loads((folder / "tokenizer_config.json").read_text())
        template = cfg.get("chat_template")
        if (folder / "chat_template.jinja").exists():
            template = (folder / "chat_template.jinja").read_text()
        if not template:
            raise ValueError(f"{folder} has no chat template")
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals.update(raise_exception=_raise, strftime_now=lambda f: datetime.now().strftime(f))
        self.template = env.from_string(template)
        self.special = {k: v for k, v in cfg.items() if k.endswith("_token") and isinstance(v, str)}
        # as transformers' loader sets it (models.load_model): no pad token of its own means the eos token
        self.pad_token = self.special.get("pad_token") or self.special.get("eos_token")
        self.pad_token_id = self.tokenizer.token_to_id(self.pad_token) if self.pad_token else None

    def __call__(self, text: str, add_special_tokens: bool = False, return_offsets_mapping: bool = False,
                 return_tensors: str | None = None) -> "Encoded":
        if add_special_tokens:
            raise ValueError("FolderTokenizer encodes text as it is (add_special_tokens=False)")
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        ids = enc.ids
        if return_tensors == "pt":
            ids = torch.tensor([ids])
        elif return_tensors is not None:
            raise ValueError(f"return_tensors={return_tensors!r}: only 'pt' or None")
        return Encoded(ids, [tuple(o) for o in enc.offsets] if return_offsets_mapping else None)

    def apply_chat_template(self, messages: list, tokenize: bool = False, add_generation_prompt: bool = False) -> str:
        if tokenize:
            raise ValueError("FolderTokenizer renders text only; encode() it")
        return self.template.render(messages=messages, add_generation_prompt=add_generation_prompt, **self.special)

    def encode(self, text: str) -> list:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list, skip_special_tokens: bool = True) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)
