"""Hooks as context managers that always remove themselves (after davidbau/baukit's nethook).

    with Trace(model, "model.layers.5.mlp.down_proj", capture_input=True) as t:
        model(ids)
    t.input    # [batch, pos, d_mlp]

    with Trace(model, "model.layers.7", edit_output=lambda h: h + delta, stop=True):
        model(ids)   # runs layers 0..7 only: StopForward is raised and swallowed after layer 7
"""
from __future__ import annotations

import contextlib

import torch


class StopForward(Exception):
    """Raised inside a hook to skip the rest of the forward pass (statistics need no logits)."""


def get_module(model: torch.nn.Module, name: str) -> torch.nn.Module:
    for n, m in model.named_modules():
        if n == name:
            return m
    # peft wraps the model: "base_model.model." prefixes the same names
    for n, m in model.named_modules():
        if n.endswith("." + name):
            return m
    raise LookupError(f"no module named {name!r} in {type(model).__name__}")


class Trace(contextlib.AbstractContextManager):
    def __init__(self, model, layer: str, capture_input: bool = False, capture_output: bool = False,
                 edit_output=None, stop: bool = False, detach: bool = True):
        self.module = get_module(model, layer)
        self.capture_input, self.capture_output = capture_input, capture_output
        self.edit_output, self.stop, self.detach = edit_output, stop, detach
        self.input = self.output = None
        self.handle = self.module.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        hidden = output[0] if isinstance(output, tuple) else output
        if self.edit_output is not None:
            hidden = self.edit_output(hidden)
            output = (hidden, *output[1:]) if isinstance(output, tuple) else hidden
        if self.capture_input:
            self.input = inputs[0].detach() if self.detach else inputs[0]
        if self.capture_output:
            self.output = hidden.detach() if self.detach else hidden
        if self.stop:
            raise StopForward
        return output

    def __exit__(self, exc_type, exc, tb):
        self.handle.remove()
        return exc_type is StopForward  # swallow our own early stop


class TraceDict(contextlib.ExitStack):
    """Several Traces at once: `with TraceDict(model, names, capture_input=True, stop_at=last) as td: td[name].input`."""

    def __init__(self, model, layers: list, stop_at: str | None = None, **kw):
        super().__init__()
        self.traces = {}
        for name in layers:
            self.traces[name] = self.enter_context(Trace(model, name, stop=(name == stop_at), **kw))

    def __getitem__(self, name):
        return self.traces[name]

    def __exit__(self, exc_type, exc, tb):
        super().__exit__(exc_type, exc, tb)
        return exc_type is StopForward
