"""A model folder's tokenizer and chat template, read without transformers (for base/llama.py).

    tok = FolderTokenizer(folder)        # tokenizer.json, tokenizer_config.json, chat_template.jinja
    text = tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
    ids = tok.encode(text); tok.decode(ids, skip_special_tokens=True)

The same `tokenizers` object transformers' fast tokenizer wraps, and the template rendered the way
transformers renders it (a sandboxed jinja2 environment with trim_blocks and lstrip_blocks, the special
tokens and raise_exception in scope), so base.tokens.chat_text gives the same string through either;
tests/test_answer.py compares them.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer


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

    def apply_chat_template(self, messages: list, tokenize: bool = False, add_generation_prompt: bool = False) -> str:
        if tokenize:
            raise ValueError("FolderTokenizer renders text only; encode() it")
        return self.template.render(messages=messages, add_generation_prompt=add_generation_prompt, **self.special)

    def encode(self, text: str) -> list:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list, skip_special_tokens: bool = True) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)
