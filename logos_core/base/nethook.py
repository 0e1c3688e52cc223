"""Hooks as context managers that always remove themselves (after davidbau/baukit's nethook).

Exports:
    get_module(model, name)   a submodule by its dotted name (peft's "base_model.model." prefix allowed)
    Trace                     one module: capture its input/output, edit its output, stop after it
    TraceDict                 several Traces at once, optionally stopping after one of them
    StopForward               raised by a stopping hook; swallowed only by the context that asked for it
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


def block_output(out):
    """A decoder block's hidden states: transformers 4 returned a tuple, 5 returns the tensor."""
    return out[0] if isinstance(out, tuple) else out


class Trace(contextlib.AbstractContextManager):
    """A forward hook on one module, removed on exit.

        with Trace(model, "model.layers.5.mlp.down_proj", capture_input=True) as t:
            model(ids)
        t.input                                   # [batch, pos, d_mlp]

        with Trace(model, "model.layers.7", edit_output=lambda h: h + delta, stop=True):
            model(ids)   # runs blocks 0..7 only: StopForward is raised after block 7 and swallowed here

    `edit_output` maps the module's hidden output to a new one; `detach=False` keeps captures in the
    autograd graph. A StopForward raised by some other hook passes through a Trace that did not stop.
    """

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
        return self.stop and exc_type is StopForward  # swallow our own early stop, nobody else's


class TraceDict(contextlib.ExitStack):
    """Several Traces at once, removed together on exit (the Trace that stopped swallows its own
    StopForward as the stack unwinds).

        with TraceDict(model, names, capture_input=True, stop_at=names[-1]) as td:
            model(ids)                            # stops after the module `stop_at` names
        td[names[0]].input
    """

    def __init__(self, model, layers: list, stop_at: str | None = None, **kw):
        super().__init__()
        self.traces = {}
        for name in layers:
            self.traces[name] = self.enter_context(Trace(model, name, stop=(name == stop_at), **kw))

    def __getitem__(self, name):
        return self.traces[name]
