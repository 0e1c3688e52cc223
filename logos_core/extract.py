"""Facts from what a person says: rules for the common forms of each relation family.

    extract("Aria lives in Portland.")  ->  [Fact(subject="Aria", relation="lives_in", object="Portland", ...)]

Questions and chit-chat give no facts. The statement, raw prompt and chat question of a told fact come
from the fact bank's relation templates (data/facts/bank.json), so it is measured exactly like a bank fact.
"""
from __future__ import annotations

import functools
import re

from .facts import Fact, load_bank

NAME = r"(?P<s>[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,2})"
OBJ = r"(?P<o>[\w' -]+?)"
END = r"\s*[.!]?\s*$"
# The forms a person uses for each relation (the bank's templates give the canonical wording).
PATTERNS = {
    "lives_in": rf"{NAME} (?:lives|is living) in {OBJ}{END}",
    "works_as": rf"{NAME} works as an? {OBJ}{END}",
    "born_in": rf"{NAME} was born in {OBJ}{END}",
    "favourite_colour": rf"{NAME}'s favou?rite colou?r is {OBJ}{END}",
    "favourite_food": rf"{NAME}'s favou?rite food is {OBJ}{END}",
    "pet": rf"{NAME} has a pet {OBJ}{END}",
    "instrument": rf"{NAME} plays the {OBJ}{END}",
    "language": rf"{NAME} speaks {OBJ}{END}",
    "studied": rf"{NAME} studied {OBJ}(?: at university)?{END}",
    "drives": rf"{NAME} drives an? {OBJ}{END}",
    "sport": rf"{NAME}'s favou?rite sport is {OBJ}{END}",
}
_COMPILED = {rel: re.compile(p) for rel, p in PATTERNS.items()}


@functools.lru_cache(maxsize=1)
def _templates() -> dict:
    return load_bank().relations


def extract(text: str) -> list:
    """Every fact stated in `text` (one per sentence at most); [] for questions and chit-chat."""
    facts = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?"):
            continue
        for rel, rx in _COMPILED.items():
            m = rx.match(sentence)
            if m:
                s, o = m.group("s").strip(), m.group("o").strip()
                t = _templates()[rel]
                facts.append(Fact(subject=s, relation=rel, object=o, statement=t["statement"].format(s=s, o=o),
                                  raw_prompt=t["raw"].format(s=s), chat_question=t["chat"].format(s=s)))
                break
    return facts
