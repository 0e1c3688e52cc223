"""What a memory holds and what wake does to it: the ledger, one MEMIT edit per fact, the adapters
fused so far; write, withdraw, save, open. No training and no generation code, so `logos remember`
runs it on the plain-torch model without importing transformers (Memory.open_plain).

    m = Memory.open_plain("~/.logos/default")      # None where the plain model does not apply
    m.inject(extract("Aria lives in Portland."))   # one null-space edit per fact, in the weights
    m.save(); m.close()

LogosMachine (machine.py) is a Memory that can also ask, sleep and take its baseline and anchors.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..base.errors import LogosError
from ..base.plain import load_plain
from ..measure.facts import person_key, same_person
from ..sleep.ledger import Ledger
from ..wake.edits import EditBook
from ..wake.writer import Writer
from . import state
from .config import MachineConfig
from .extract import extract


@dataclass
class WakeReport:
    added: list = field(default_factory=list)       # facts written
    replaced: list = field(default_factory=list)    # (old fact, new fact): contradictions
    known: list = field(default_factory=list)       # facts already held, unchanged
    seconds: float = 0.0


class Memory:
    def __init__(self, lm, hp, cfg: MachineConfig | None = None):
        self.cfg = cfg or MachineConfig()
        self.lm, self.hp = lm, dataclasses.replace(hp, **self.cfg.hparams) if self.cfg.hparams else hp
        self.book = EditBook(lm, self.hp)
        self.writer = Writer(lm, self.hp)
        self.ledger = Ledger(schedule=self.cfg.schedule)
        self.adapters: list = []          # [{"id", "tensors": {module: {A, B, scaling}}, "n_facts"}], fused in order
        self.cycle = 0
        self.base_ppl: float | None = None
        self._anchors: dict | None = None  # the model's behaviour at birth, replayed in consolidation
        self._anchors_from = None          # or where to read them when first needed (a saved state)
        self.model_name = lm.name
        self.path: Path | None = None
        self.lock: state.Lock | None = None   # held while this process may write the state folder
        self.damaged: dict = {}               # {edit id: what is wrong} for edit files that did not read

    # -- opening and saving ------------------------------------------------------------------------
    @classmethod
    def open_plain(cls, path, device=None, write: bool = True, allow_damage: bool = False) -> "Memory | None":
        """The memory saved in `path` on base/plain.py's model (no transformers), or None where that
        does not apply: no memory there yet (its baseline perplexity is taken by the full machine),
        a model other than the bundled one, 4-bit, a GPU, or no converted copy of the weights yet."""
        path = Path(path).expanduser()
        d = state.read_ledger(path) if state.kind(path) == "state" else None
        if d is None or d.get("base_ppl") is None:
            return None
        return state.open_state(cls, path, d["model"], device, write, None, None, allow_damage, load=load_plain)

    def save(self) -> None:
        if self.path is None:
            raise LogosError("this machine has no state folder: open it with LogosMachine.open(DIR)")
        state.save_state(self, self.path)

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- what the model was at birth ---------------------------------------------------------------
    def ensure_baseline(self) -> None:
        """The guard's reference (held-out perplexity at birth) must exist before anything is written:
        a Memory only writes into states that have it (LogosMachine takes it)."""
        if self.base_ppl is None:
            raise LogosError("this memory has no perplexity baseline: open it with LogosMachine.open")

    @property
    def anchors(self) -> dict | None:
        if self._anchors is None and self._anchors_from is not None:
            self._anchors, self._anchors_from = self._anchors_from(), None
        return self._anchors

    def defer_anchors(self, read) -> None:
        """Anchors that exist (in the state folder) but are read by `read()` only when first used."""
        self._anchors, self._anchors_from = None, read

    def has_anchors(self) -> bool:
        return self._anchors is not None or self._anchors_from is not None

    # -- wake -------------------------------------------------------------------------------------
    def extract(self, text: str) -> list:
        """The facts stated in `text` (the rules of extract.py)."""
        return extract(text, user_name=self.cfg.user_name)

    def wake(self, text: str, on_fact=None) -> WakeReport:
        """Extract the facts stated in `text` and write each (contradictions replace the old fact)."""
        return self.inject(self.extract(text), on_fact=on_fact)

    def inject(self, facts: list, on_fact=None) -> WakeReport:
        """Write each fact as its own MEMIT edit. `on_fact(report)` runs after each one (the command
        line saves there, so a fact is confirmed only once it is on disk)."""
        t0 = time.perf_counter()
        rep = WakeReport()
        self.ensure_baseline()
        for f in facts:
            if self.ledger.holding(f) is not None:
                rep.known.append(f)
                continue
            old = self.ledger.get(f.subject, f.relation)
            if old is not None:          # a contradiction: the newer statement wins, history is kept
                self._withdraw(old.key, "replaced")
                rep.replaced.append((old.fact, f))
            if not self.cfg.wake_edit:    # LoRA-only memory: held for the next sleep, not written now
                self.ledger.add(f, None, self.cycle)
                rep.added.append(f)
                if on_fact:
                    on_fact(rep)
                continue
            keep = self._keep_keys(f) if self.cfg.wake_nullspace else None
            e = self.writer.write([f], projected=self.cfg.wake_nullspace, keep_keys=keep)
            self.book.add(e)
            self.ledger.add(f, e.id, self.cycle)
            rep.added.append(f)
            if on_fact:
                on_fact(rep)
        rep.seconds = time.perf_counter() - t0
        return rep

    def _keep_keys(self, fact) -> dict | None:
        """The keys each held fact's edit was written at (other people only: one person's facts share
        a key, and protecting it would forbid the new edit)."""
        cols = {l: [] for l in self.hp.layers}
        for e in self.ledger.entries.values():
            ed = self.book.edits.get(e.edit)
            if ed is None or not ed.keys or same_person(e.fact, fact):
                continue
            for l in self.hp.layers:
                cols[l].append(ed.keys[l])
        dev = self.lm.device
        return {l: torch.cat([c.to(dev) for c in v], 1) for l, v in cols.items()} if cols[self.hp.layers[0]] else None

    def _withdraw(self, key: str, reason: str) -> None:
        e = self.ledger.retire(key, self.cycle, reason)
        if e.edit in self.book.edits:
            self.book.remove(e.edit)

    def withdraw(self, facts: list) -> list:
        """Take back each of `facts` ("Aria no longer lives in Rome") where that very fact is held:
        its edit goes, its history stays. Returns the facts withdrawn."""
        gone = []
        for f in facts:
            e = self.ledger.holding(f)
            if e is not None:
                self._withdraw(e.key, "withdrawn")
                gone.append(e.fact)
        return gone

    def forget(self, name: str) -> list:
        """Withdraw every fact about a person (their edits go; what LoRA learnt stays until it fades)."""
        keys = [k for k, e in self.ledger.entries.items() if person_key(e.fact.subject) == person_key(name)]
        for k in keys:
            self._withdraw(k, "forgotten")
        return keys

    def facts(self) -> list:
        return self.ledger.facts()

    def status(self) -> dict:
        return {"model": self.model_name, "cycle": self.cycle, "facts": self.ledger.rows(), "adapters": len(self.adapters),
                "retired": len(self.ledger.retired), "base_ppl": self.base_ppl}
