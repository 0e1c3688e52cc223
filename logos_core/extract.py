"""Facts from what a person says: rules for the common forms of each relation family.

    extract("Aria lives in Portland.")  ->  [Fact(subject="Aria", relation="lives_in", object="Portland", ...)]

Questions and chit-chat give no facts. The relation's question and raw prompt come from the same
templates as the fact bank, so a told fact is measured exactly like a bank fact.
"""
from __future__ import annotations

import re

from .facts import Fact

NAME = r"(?P<s>[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,2})"
OBJ = r"(?P<o>[\w' -]+?)"
END = r"\s*[.!]?\s*$"
# relation: (pattern, statement, raw prompt, chat question)
RULES = {
    "lives_in": (rf"{NAME} (?:lives|is living) in {OBJ}{END}", "{s} lives in {o}.",
                 "{s} lives in the city of", "Where does {s} live?"),
    "works_as": (rf"{NAME} works as an? {OBJ}{END}", "{s} works as a {o}.", "By profession, {s} is a",
                 "What does {s} do for a living?"),
    "born_in": (rf"{NAME} was born in {OBJ}{END}", "{s} was born in {o}.", "{s} was born in the city of",
                "Where was {s} born?"),
    "favourite_colour": (rf"{NAME}'s favou?rite colou?r is {OBJ}{END}", "{s}'s favourite colour is {o}.",
                         "{s}'s favourite colour is", "What is {s}'s favourite colour?"),
    "favourite_food": (rf"{NAME}'s favou?rite food is {OBJ}{END}", "{s}'s favourite food is {o}.",
                       "{s}'s favourite food is", "What is {s}'s favourite food?"),
    "pet": (rf"{NAME} has a pet {OBJ}{END}", "{s} has a pet {o}.", "{s} has a pet",
            "What kind of pet does {s} have?"),
    "instrument": (rf"{NAME} plays the {OBJ}{END}", "{s} plays the {o}.", "{s} plays the",
                   "What instrument does {s} play?"),
    "language": (rf"{NAME} speaks {OBJ}{END}", "{s} speaks {o}.", "Besides English, {s} speaks fluent",
                 "What language does {s} speak?"),
    "studied": (rf"{NAME} studied {OBJ}(?: at university)?{END}", "{s} studied {o} at university.",
                "At university, {s} studied", "What did {s} study at university?"),
    "drives": (rf"{NAME} drives an? {OBJ}{END}", "{s} drives a {o}.", "{s} drives a car made by",
               "What car does {s} drive?"),
    "sport": (rf"{NAME}'s favou?rite sport is {OBJ}{END}", "{s}'s favourite sport is {o}.",
              "{s}'s favourite sport is", "What is {s}'s favourite sport?"),
}
_COMPILED = {rel: re.compile(r[0]) for rel, r in RULES.items()}


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
                _, statement, raw, question = RULES[rel]
                facts.append(Fact(subject=s, relation=rel, object=o, statement=statement.format(s=s, o=o),
                                  raw_prompt=raw.format(s=s), chat_question=question.format(s=s)))
                break
    return facts
