"""The per-fact stage ledger (paper 6): every fact has its own stage and its own MEMIT scale.

    led = Ledger()                               # schedule 1.0 -> 0.5 -> 0.1 -> 0.0
    e = led.add(fact, edit_id, cycle=0)          # stage 0, scale 1.0
    led.advance(e.key, cycle=1)                  # LoRA alone recalled it: stage 1, scale 0.5
    led.drop(e.key, cycle=2)                     # it failed the gate: back one stage
    led.scale(e.key)                             # the scale its edit must have now

A fact's stage moves only on its own evidence (the gate in cycle.py asks it with *its own* edit at 0).
The original code set every edit to the scale of the least-advanced fact and reset all stages on each
re-injection; here a refresh replaces one fact's edit and keeps its stage. The history of each fact
(wake, refresh, advance, drop, replaced) is kept, also for facts that were replaced by a newer one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..measure.facts import Fact, fact_key, same_object

SCHEDULE = (1.0, 0.5, 0.1, 0.0)


@dataclass
class Entry:
    fact: Fact
    edit: str | None                 # id of this fact's MEMIT edit in the EditBook (None once removed)
    stage: int = 0
    history: list = field(default_factory=list)   # [{"cycle", "event", ...}]

    @property
    def key(self) -> str:
        return fact_key(self.fact.subject, self.fact.relation)

    def to_dict(self) -> dict:
        return {"fact": self.fact.to_dict(), "edit": self.edit, "stage": self.stage, "history": self.history}

    @classmethod
    def from_dict(cls, d: dict) -> "Entry":
        return cls(Fact.from_dict(d["fact"]), d.get("edit"), int(d.get("stage", 0)), list(d.get("history", [])))


@dataclass
class Ledger:
    schedule: tuple = SCHEDULE
    entries: dict = field(default_factory=dict)       # key -> Entry, the facts held now
    retired: list = field(default_factory=list)       # Entries replaced by a contradiction or forgotten

    @property
    def top(self) -> int:
        return len(self.schedule) - 1

    def add(self, fact: Fact, edit_id: str | None, cycle: int = 0) -> Entry:
        e = Entry(fact, edit_id, 0, [{"cycle": cycle, "event": "wake", "edit": edit_id}])
        self.entries[e.key] = e
        return e

    def get(self, subject: str, relation: str) -> Entry | None:
        return self.entries.get(fact_key(subject, relation))

    def holding(self, fact: Fact) -> Entry | None:
        """The entry holding this very fact (same person, relation and object), or None: what a
        repeat, a withdrawal and a dry run are judged against."""
        e = self.get(fact.subject, fact.relation)
        return e if e is not None and same_object(e.fact.object, fact.object) else None

    def scale(self, key: str) -> float:
        return float(self.schedule[self.entries[key].stage])

    def advance(self, key: str, cycle: int) -> None:
        e = self.entries[key]
        if e.stage < self.top:
            e.stage += 1
            e.history.append({"cycle": cycle, "event": "advance", "stage": e.stage})

    def drop(self, key: str, cycle: int) -> None:
        e = self.entries[key]
        if e.stage > 0:
            e.stage -= 1
            e.history.append({"cycle": cycle, "event": "drop", "stage": e.stage})

    def rewrite(self, key: str, edit_id: str, cycle: int, event: str = "refresh") -> None:
        e = self.entries[key]
        e.history.append({"cycle": cycle, "event": event, "edit": edit_id, "replaces": e.edit})
        e.edit = edit_id

    def retire(self, key: str, cycle: int, reason: str) -> Entry:
        e = self.entries.pop(key)
        e.history.append({"cycle": cycle, "event": reason})
        self.retired.append(e)
        return e

    def facts(self) -> list:
        return [e.fact for e in self.entries.values()]

    def rows(self) -> list:
        """One dict per held fact: what `logos status --json` prints under "facts"."""
        return [{"subject": e.fact.subject, "relation": e.fact.relation, "object": e.fact.object,
                 "stage": e.stage, "scale": self.scale(e.key), "edit": e.edit, "statement": e.fact.statement}
                for e in self.entries.values()]

    def stages(self) -> dict:
        return {k: e.stage for k, e in self.entries.items()}

    def to_dict(self) -> dict:
        return {"schedule": list(self.schedule), "facts": [e.to_dict() for e in self.entries.values()],
                "retired": [e.to_dict() for e in self.retired]}

    @classmethod
    def from_dict(cls, d: dict) -> "Ledger":
        led = cls()
        led.load(d)
        return led

    def load(self, d: dict) -> None:
        """Become the ledger `d` (to_dict's form) in place: a rolled-back sleep cycle uses this."""
        self.schedule = tuple(float(s) for s in d.get("schedule", SCHEDULE))
        self.entries = {}
        for ed in d.get("facts", []):
            e = Entry.from_dict(ed)
            self.entries[e.key] = e
        self.retired = [Entry.from_dict(ed) for ed in d.get("retired", [])]
