"""The Logos machine: wake (MEMIT), ask, sleep (audit, refresh, consolidate, gate, dissolve), save, load.

    m = LogosMachine.open("~/.logos/default")       # a new state, or the one saved there
    m.wake("Aria lives in Portland. My sister Dana works as a nurse.")
    m.ask("Where does Aria live?")
    m.sleep(cycles=3)
    m.save(); m.close()

The model is never saved: a state is the base model's weights id, the LoRA adapters in the order they
were fused, one MEMIT edit per fact with its scale, and the ledger (state.py). Reopening rebuilds
base + fused adapters + scaled edits, which gives the same logits as before saving.
"""
from __future__ import annotations

from pathlib import Path

from ..base.errors import LogosError
from ..base.models import load_model
from ..measure.evaluate import ask_chat, perplexity
from ..measure.facts import heldout_text
from ..sleep.anchors import birth_anchors
from ..sleep.cycle import sleep_cycle
from . import state
from .config import MachineConfig
from .extract import llm_prompt, parse_llm_output
from .store import Memory, WakeReport  # noqa: F401  (what wake returns, with the machine)


class LogosMachine(Memory):
    """A Memory (store.py: ledger, edits, adapters; wake, withdraw, save) that can also take its
    baseline and anchors at birth, answer, and sleep."""

    # -- making and opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path, model: str = "135m", device=None, write: bool = True,
             cfg: MachineConfig | None = None, four_bit: bool | None = None,
             allow_damage: bool = False) -> "LogosMachine":
        """The machine saved in `path`, or a new one there (with `model`). `write` takes the lock;
        `allow_damage` lets a writer open a state with damaged edit files (to repair it)."""
        return state.open_state(cls, Path(path).expanduser(), model, device, write, cfg, four_bit, allow_damage,
                                load=load_model)

    # -- what the model was at birth ---------------------------------------------------------------
    def ensure_baseline(self) -> None:
        """Held-out perplexity of the model at birth (before any edit or adapter): the guard's reference."""
        if self.base_ppl is None:
            if self.book.edits or self.adapters:
                raise LogosError("the perplexity baseline must be taken before the first memory is written")
            self.base_ppl = perplexity(self.lm, heldout_text(), self.cfg.ppl_tokens)

    def ensure_anchors(self) -> dict:
        """Anchors (sleep/anchors.py) from the model at birth: every edit at 0 and no adapter fused yet."""
        if self.anchors is None:
            if self.adapters:
                raise LogosError("anchors must be taken before the first adapter is fused")
            with self.book.muted():
                self._anchors = birth_anchors(self.lm, n_replay=self.cfg.anchor_replay, n_text=self.cfg.anchor_text,
                                             per_relation=self.cfg.anchor_contrast, seed=self.cfg.lora.seed,
                                             n_knowledge=self.cfg.anchor_knowledge)
        return self.anchors

    # -- wake -------------------------------------------------------------------------------------
    def extract(self, text: str) -> list:
        """The facts stated in `text` (the rules of extract.py, or the model itself when so configured)."""
        if self.cfg.extractor == "llm":
            return parse_llm_output(ask_chat(self.lm, [llm_prompt(text)], max_new_tokens=160)[0], self.cfg.user_name)
        return super().extract(text)

    # -- ask, sleep -------------------------------------------------------------------------------
    def ask(self, question: str, max_new_tokens: int = 48, one_sentence: bool = False) -> str:
        """The model's chat answer now (greedy); `one_sentence` ends it at its first sentence."""
        return ask_chat(self.lm, [question], max_new_tokens=max_new_tokens, one_sentence=one_sentence)[0].strip()

    def sleep(self, cycles: int = 1, progress: bool = False, on_cycle=None) -> list:
        logs = []
        for _ in range(cycles):
            self.ensure_baseline()
            log = sleep_cycle(self.lm, self.book, self.ledger, self.adapters, self.writer, self.cfg,
                              cycle=self.cycle + 1, anchors=self.ensure_anchors, base_ppl=self.base_ppl,
                              progress=progress)
            self.cycle = log["cycle"]
            logs.append(log)
            if on_cycle:
                on_cycle(log)
        return logs
