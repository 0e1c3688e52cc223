"""The data every experiment shares: fact bank, locality set, held-out and statistics text.

    bank = load_bank();  facts = bank.sample(20, seed=0)   # list[Fact]
    loc = load_locality()                                   # list[Probe] the model already knows
    text = heldout_text()                                   # str, for perplexity drift
    fact_key(subject, relation), same_person(f, g), same_object(a, b)   # one fact identity
"""
from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


DATA = Path(__file__).resolve().parent.parent.parent / "data"


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; a letter-digit boundary splits a word
    ("Mazda3" -> "mazda 3"), so a model name still counts as its make."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])", " ", text)
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text).split()) + " "



@dataclass(frozen=True)
class Fact:
    subject: str
    relation: str
    object: str
    statement: str            # what a person would say
    raw_prompt: str           # raw completion prompt; the object follows it
    chat_question: str        # asked through the chat template
    paraphrases: tuple = ()   # other wordings of the question, never used for training
    id: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> "Fact":
        d = dict(d)
        d["paraphrases"] = tuple(d.get("paraphrases", ()))
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def person_key(name: str) -> str:
    """A person's name compared without case or extra spaces ("aria  LIND" is "Aria Lind")."""
    return " ".join(name.split()).lower()


def fact_key(subject: str, relation: str) -> str:
    """One fact per (person, relation): a new object for the same pair is a contradiction."""
    return f"{person_key(subject)}|{relation}"


def same_person(a: Fact, b: Fact) -> bool:
    return person_key(a.subject) == person_key(b.subject)


def same_slot(a: Fact, b: Fact) -> bool:
    """The same person and relation: a newer object for it replaces the older one."""
    return fact_key(a.subject, a.relation) == fact_key(b.subject, b.relation)


def article(obj: str) -> str:
    """The indefinite article before an object: "an architect", "a nurse" (by its first letter)."""
    return "an" if obj[:1].lower() in "aeiou" else "a"


def same_object(a: str, b: str) -> bool:
    """Two objects that recall could not tell apart ("Lisbon" and "lisbon.")."""
    return normalise(a) == normalise(b)


@dataclass(frozen=True)
class Probe:
    """Something the unedited model already answers: used to measure locality."""
    raw_prompt: str
    chat_question: str
    answer: str
    kind: str = ""
    entity: str = ""      # what the probe asks about (the held-out split names it, for its disjointness)


@dataclass
class Bank:
    facts: list
    bystanders: list
    relations: dict = field(default_factory=dict)

    def sample(self, n: int, seed: int = 0, offset: int = 0) -> list:
        """n facts in a seeded order; `offset` skips the first facts of that order (disjoint sets)."""
        if n + offset > len(self.facts):
            raise ValueError(f"the bank holds {len(self.facts)} facts; asked for {n} after {offset}")
        order = list(self.facts)
        random.Random(seed).shuffle(order)
        return order[offset:offset + n]


def load_bank(path: Path | None = None) -> Bank:
    raw = json.loads(Path(path or DATA / "facts" / "bank.json").read_text())
    return Bank([Fact.from_dict(f) for f in raw["facts"]], raw["bystanders"], raw["relations"])


def load_locality(path: Path | None = None) -> list:
    """The tuning split of the locality probes (or the probes of the file at `path`): settings were
    chosen while watching these."""
    raw = json.loads(Path(path or DATA / "facts" / "locality.json").read_text())
    return [Probe(**p) for p in raw["probes"]]


def load_locality_heldout(path: Path | None = None) -> list:
    """The held-out split: entities and answers in no replay, anchor, training or tuning set
    (data/facts/make_locality_heldout.py); never used to choose a setting, only reported."""
    return load_locality(path or DATA / "facts" / "locality_heldout.json")   # the same format


def heldout_text() -> str:
    return (DATA / "corpus" / "heldout.txt").read_text()


def stats_text() -> str:
    return (DATA / "corpus" / "stats_corpus.txt").read_text()
