"""Facts from what a person says: rules for the common forms of each relation family.

    extract("Aria lives in Portland.")                     -> [Fact(Aria, lives_in, Portland)]
    extract("My sister Dana works as a nurse.")            -> [Fact(Dana, works_as, nurse)]
    extract("I moved to Lisbon.", user_name="Sam Ortiz")   -> [Fact(Sam Ortiz, lives_in, Lisbon)]
    extract("Where does Aria live?")                       -> []

Questions, negations ("Aria no longer lives in Rome"), hedges ("Maybe Aria ...") and chit-chat give
no facts. A told fact gets its statement, raw prompt and chat question from the fact bank's relation
templates (data/facts/bank.json), so it is measured exactly like a bank fact. For larger models an
LLM-prompted extractor is an option (extract_llm), checked against the same relation families.
"""
from __future__ import annotations

import functools
import json
import re

from ..measure.evaluate import ask_chat
from ..measure.facts import Fact, load_bank

MAX_CHARS = 10_000          # one message; longer text is refused with a message, never half-read

_WORD = r"[A-Z][a-zA-Z'\-]+"
NAME = rf"(?P<s>{_WORD}(?: {_WORD}){{0,2}})"
KIN = (r"(?:[Mm]y|[Oo]ur) (?:little |older |younger |big |best )?(?:sister|brother|friend|wife|husband|partner|"
       r"mother|mom|mum|father|dad|son|daughter|cousin|colleague|coworker|co-worker|boss|neighbou?r|aunt|"
       r"uncle|grandmother|grandma|grandfather|grandpa|roommate|flatmate|girlfriend|boyfriend|niece|nephew|"
       r"fianc[ée]e?|teacher|doctor|friend's|kid|child)(?:,)? ")
# Words that start sentences but are never a person's name.
NOT_NAMES = {"If", "When", "Maybe", "Perhaps", "Does", "Do", "Did", "Is", "Was", "Who", "What", "Where", "Which",
             "Why", "How", "Can", "Could", "Would", "Should", "Please", "Ignore", "Forget", "Tell", "The", "This",
             "That", "There", "It", "He", "She", "They", "We", "You", "Nobody", "Everyone", "Someone", "Hello",
             "Hi", "Thanks", "Yes", "No", "Not", "Never", "Also", "And", "But", "So", "My", "Our", "Your", "I"}
OBJ = r"(?P<o>[A-Za-z0-9][\w'&\- ]*?(?:, [A-Z][\w'\- ]*?)?)"        # "Casablanca, Morocco"
TAIL = (r"(?: now| these days| nowadays| at the moment| currently| too| as well| fluently| very well| well)?"
        r"\s*[.!]?\s*$")
A = r"(?:an? )"

# (relation, form) with {S} = the subject slot: rules for a third person; FIRST_PERSON for "I"/"my".
THIRD = [
    ("lives_in", r"{S} (?:lives|is living|now lives|currently lives|resides) in (?:the city of )?{O}"),
    ("lives_in", r"{S} (?:has )?(?:moved|relocated) to {O}"),
    ("lives_in", r"{S} is based in {O}"),
    ("works_as", r"{S} works as {A}?{O}"),
    ("works_as", r"{S} is employed as {A}?{O}"),
    ("works_as", r"{S}'s job is {A}?{O}"),
    ("works_as", r"{S} is {A}{O} by (?:profession|trade)"),
    ("born_in", r"{S} was born in {O}"),
    ("favourite_colour", r"{S}'s favou?rite colou?r is {O}"),
    ("favourite_colour", r"{S} loves the colou?r {O}"),
    ("favourite_food", r"{S}'s favou?rite (?:food|dish|meal) is {O}"),
    ("pet", r"{S} (?:has|owns|keeps) a pet {O}"),
    ("pet", r"{S}'s pet is {A}?{O}"),
    ("instrument", r"{S} plays the {O}"),
    ("language", r"{S} (?:speaks|is fluent in) {O}"),
    ("studied", r"{S} (?:studied|majored in|has a degree in|did a degree in) {O}(?: at (?:university|college))?"),
    ("drives", r"{S} drives {A}?{O}"),
    ("sport", r"{S}'s favou?rite sport is {O}"),
    ("sport", r"{S} (?:loves|enjoys) playing {O}"),
]
FIRST = [
    ("lives_in", r"I (?:live|am living|'m living|now live|currently live|reside) in (?:the city of )?{O}"),
    ("lives_in", r"I(?: have|'ve)? (?:just )?(?:moved|relocated) to {O}"),
    ("lives_in", r"I(?: am|'m) based in {O}"),
    ("works_as", r"I work as {A}?{O}"),
    ("works_as", r"My job is {A}?{O}"),
    ("works_as", r"I(?: am|'m) {A}{O} by (?:profession|trade)"),
    ("born_in", r"I was born in {O}"),
    ("favourite_colour", r"My favou?rite colou?r is {O}"),
    ("favourite_food", r"My favou?rite (?:food|dish|meal) is {O}"),
    ("pet", r"I (?:have|own|keep) a pet {O}"),
    ("pet", r"My pet is {A}?{O}"),
    ("instrument", r"I play the {O}"),
    ("language", r"I (?:speak|am fluent in|'m fluent in) {O}"),
    ("studied", r"I (?:studied|majored in|have a degree in) {O}(?: at (?:university|college))?"),
    ("drives", r"I drive {A}?{O}"),
    ("sport", r"My favou?rite sport is {O}"),
    ("sport", r"I (?:love|enjoy) playing {O}"),
]


# Names are matched with their capitals (that is what makes them names); the verbs could be made
# case-insensitive, but people type "Aria lives in ..." and the false positives are not worth it.
_THIRD = [(rel, re.compile("^" + f.format(S=rf"(?:{KIN})?{NAME}", O=OBJ, A=A) + TAIL)) for rel, f in THIRD]
# "my"/"I" forms are matched case-insensitively except the object's own capitals, which are kept.
_FIRST = [(rel, re.compile("^" + f.format(O=OBJ, A=A) + TAIL, re.IGNORECASE)) for rel, f in FIRST]


@functools.lru_cache(maxsize=1)
def templates() -> dict:
    return load_bank().relations


def make_fact(subject: str, relation: str, obj: str) -> Fact:
    t = templates()[relation]
    return Fact(subject=subject, relation=relation, object=obj, statement=t["statement"].format(s=subject, o=obj),
                raw_prompt=t["raw"].format(s=subject), chat_question=t["chat"].format(s=subject))


def sentences(text: str) -> list:
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)       # control characters are never content
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _clean_object(o: str) -> str:
    o = re.sub(r"^(?:the|a|an) ", "", o.strip(), flags=re.IGNORECASE)
    return " ".join(o.split())


def extract(text: str, user_name: str | None = None) -> list:
    """Every fact stated in `text` (at most one per sentence); [] for questions and chit-chat."""
    facts = []
    for sentence in sentences(text):
        if sentence.endswith("?") or len(sentence) > 300:
            continue
        sentence = sentence.rstrip(" .!")
        found = None
        for rel, rx in _THIRD:
            m = rx.match(sentence)
            if m and m.group("s").split()[0] not in NOT_NAMES:
                found = (m.group("s"), rel, m.group("o"))
                break
        if found is None and user_name:
            for rel, rx in _FIRST:
                m = rx.match(sentence)
                if m:
                    found = (user_name, rel, m.group("o"))
                    break
        if found:
            s, rel, o = found[0].strip(), found[1], _clean_object(found[2])
            if o and len(o) <= 60:
                facts.append(make_fact(s, rel, o))
    return facts


LLM_PROMPT = ("Extract the facts about people stated in the message. Answer with one JSON object per line, "
              'like {{"subject": "Aria Lind", "relation": "lives_in", "object": "Portland"}}, using only these '
              "relations: {relations}. Answer NONE if the message states no such fact.\n\nMessage: {text}")


def parse_llm_output(output: str, user_name: str | None = None) -> list:
    """Facts from an extractor model's answer: only well-formed lines with a known relation count."""
    facts = []
    for line in output.splitlines():
        line = line.strip().rstrip(",")
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        s, rel, o = (str(d.get(k, "")).strip() for k in ("subject", "relation", "object"))
        if s.lower() in {"i", "me", "user"} and user_name:
            s = user_name
        if s and o and rel in templates() and len(o) <= 60 and s[0].isupper():
            facts.append(make_fact(s, rel, _clean_object(o)))
    return facts


def extract_llm(lm, text: str, user_name: str | None = None) -> list:
    """The LLM-prompted extractor (for larger models; the 135M model is too small to follow it)."""
    prompt = LLM_PROMPT.format(relations=", ".join(templates()), text=text[:MAX_CHARS])
    return parse_llm_output(ask_chat(lm, [prompt], max_new_tokens=160)[0], user_name)
