"""Facts from what a person says: rules for the common forms of each relation family, and open
relations (OPEN below) for what the families do not cover.

    extract("Aria lives in Portland.")                     -> [Fact(Aria, lives_in, Portland)]
    extract("My sister Dana works as a nurse.")            -> [Fact(Dana, works_as, nurse)]
    extract("I moved to Lisbon.", user_name="Sam Ortiz")   -> [Fact(Sam Ortiz, lives_in, Lisbon)]
    extract("Where does Aria live?")                       -> []

Questions, negations, hedges ("Maybe Aria ...") and chit-chat give no facts; a negation of a fact
("Aria no longer lives in Rome") is read by withdrawals() as that fact, taken back. A told fact gets
its statement, raw prompt and chat question from the fact bank's relation templates
(data/facts/bank.json), so it is measured exactly like a bank fact. For larger models an
LLM-prompted extractor is an option (llm_prompt, parse_llm_output), checked against the same
relation families.
"""
from __future__ import annotations

import functools
import json
import unicodedata

# `regex` (a dependency of transformers' tokenizers already) knows Unicode letter classes: a name
# is a capital of any script (\p{Lu}: Álvarez, Łukasz, Ødegaard) followed by letters and marks.
import regex as re

from ..measure.facts import Fact, article, load_bank

MAX_CHARS = 10_000          # one message; longer text is refused with a message, never half-read

_WORD = r"\p{Lu}[\p{L}\p{M}]*(?:['’\-]\p{L}[\p{L}\p{M}]*)*"        # O'Neill, Anne-Marie, Zoë
# Lower-case particles inside a family name: "Anne-Marie van der Berg", "Ana de la Cruz", "Omar bin Said".
PARTICLE = r"(?:van|von|der|den|de|del|della|di|da|das|dos|du|la|le|bin|bint|ibn|al|el|ter|ten|zu|y)"
PERSON = rf"{_WORD}(?:(?: {PARTICLE}){{0,3}} {_WORD}){{0,3}}"
NAME = rf"(?P<s>{PERSON})"
KIN = (r"(?:[Mm]y|[Oo]ur) (?:little |older |younger |big |best )?(?:step-?|half-)?(?:sister|brother|friend|wife|husband|partner|"
       r"mother|mom|mum|father|dad|son|daughter|cousin|colleague|coworker|co-worker|boss|neighbou?r|aunt|"
       r"uncle|grandmother|grandma|grandfather|grandpa|roommate|flatmate|girlfriend|boyfriend|niece|nephew|"
       r"fianc[ée]e?|teacher|doctor|friend's|kid|child)(?:,)? ")
# Words that start sentences but are never a person's name.
NOT_NAMES = {"If", "When", "Maybe", "Perhaps", "Does", "Do", "Did", "Is", "Was", "Who", "What", "Where", "Which",
             "Why", "How", "Can", "Could", "Would", "Should", "Please", "Ignore", "Forget", "Tell", "The", "This",
             "That", "There", "It", "He", "She", "They", "We", "You", "Nobody", "Everyone", "Someone", "Hello",
             "Hi", "Thanks", "Yes", "No", "Not", "Never", "Also", "And", "But", "So", "My", "Our", "Your", "I"}
OBJ = r"(?P<o>[\p{L}0-9][\w'’&\- ]*?(?:, \p{Lu}[\w'’\- ]*?)?)"        # "Casablanca, Morocco"
# When and where it holds is not part of the object: "born in Chengdu in 1990", "law at Oxford".
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
MODIFIER = (rf"(?: (?:in|since|from|until) (?:\d{{4}}|(?:{MONTHS})(?: \d{{4}})?)| (?:last|this|next) "
            r"(?:year|month|week|summer|winter|spring|autumn|fall)| (?:\w+ )?(?:years?|months?) ago| recently"
            r"| for (?:\w+ )?(?:years?|months?)| at (?:the )?\p{Lu}[\w'’\- ]*| as a child)*")
TAIL = (MODIFIER + r"(?: now| these days| nowadays| at the moment| currently| too| as well| fluently| very well| well)?"
        r"\s*[.!]?\s*$")
A = r"(?:an? )"

# (relation, form) with {S} = the subject slot: rules for a third person; FIRST_PERSON for "I"/"my".
THIRD = [
    ("lives_in", r"{S} (?:lives|is living|now lives|currently lives|resides|has lived|has been living) in "
                 r"(?:the city of )?{O}"),
    ("lives_in", r"{S} (?:has )?(?:moved|relocated) (?:from .+? )?to {O}"),
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
    ("lives_in", r"I(?: have|'ve)? (?:just )?(?:moved|relocated) (?:from .+? )?to {O}"),
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


# Open relations: a statement about a person outside the 11 families still becomes a fact. MEMIT needs
# only the subject, the words up to the object (the raw prompt) and the object; the chat question is
# made from those words by the form that matched (below); training asks the generic questions and two
# wordings made from the raw prompt (wake/relations.py), never the measured one. Forms: (relation, pattern, raw, chat); {v} is the
# matched verb or adjective, {n} the noun of a possessive.
PERSON_ADJ = (r"(?P<v>allergic|married|engaged|related|addicted|devoted|afraid|scared|terrified|fond|"
              r"proud|jealous|a member|a fan|a supporter|a patron|friends|in love|in charge|good|bad|best) "
              r"(?P<p>to|of|with|at)")
HOBBY_VERB = (r"(?P<v>enjoys|likes|loves|adores|hates|collects|supports|owns|teaches|coaches|writes|reads|grows|"
              r"bakes|knits|paints|builds|breeds|trains|practises|practices|follows|studies)")
WHO = {"married", "engaged", "related", "friends", "in love", "jealous"}
OPEN = [
    ("{n}_name", rf"{{S}}'s (?P<n>\p{{Ll}}[\p{{Ll}} ]{{1,20}}?) is (?P<c>named|called) {{O}}",
     "{s}'s {n} is {c}", "What is the name of {s}'s {n}?"),
    ("{n}", rf"{{S}}'s (?P<n>birthday|anniversary|name day) is (?P<c>on|in) {{O}}",
     "{s}'s {n} is {c}", "When is {s}'s {n}?"),
    ("{n}", rf"{{S}}'s (?P<n>(?:favou?rite|best|first|only) \p{{Ll}}+|birthday|nickname|middle name|email|hometown"
            rf"|partner|husband|wife|boss|best friend|employer|car|dog|cat|horse) is {{O}}",
     "{s}'s {n} is", "What is {s}'s {n}?"),
    ("{v}_{p}", rf"{{S}} is {PERSON_ADJ} {{O}}", "{s} is {v} {p}", "{wh} is {s} {v} {p}?"),
    ("works_{p}", r"{S} works (?P<p>at|for) {O}", "{s} works {p}", "{wh2} does {s} work{p2}?"),
    ("volunteers_{p}", r"{S} volunteers (?P<p>at|for|with) {O}", "{s} volunteers {p}", "Where does {s} volunteer?"),
    ("{v}", rf"{{S}} {HOBBY_VERB} {{O}}", "{s} {v}", "What does {s} {base}?"),
    # Any other verb in the third person with its object ("Saskia brews kombucha"), tried last; a verb
    # of saying, thinking or seeming reports something else, and a word in -s that is no verb is not a
    # relation ("Aria sometimes swims").
    ("{v}", r"{S} (?P<v>\p{Ll}{2,}s) {O}", "{s} {v}", "What does {s} {base}?"),
]
# An object never opens with a preposition or a conjunction: "Aria lives in" is cut short, and "Aria
# swims in the lake" names no object.
NOT_OBJECTS = {"in", "at", "on", "to", "of", "for", "with", "from", "by", "into", "about", "and", "or", "but",
               "that", "if", "because", "when", "so"}
# Words in -s after a name that do not make "name verb object" a fact.
NOT_FACT_VERBS = {
    "says", "thinks", "seems", "feels", "looks", "sounds", "believes", "hopes", "wonders", "guesses", "knows",
    "wants", "wishes", "needs", "asks", "tells", "means", "does", "gets", "goes", "becomes", "appears", "claims",
    "suspects", "doubts", "remembers", "forgets", "misses", "reckons", "imagines", "expects", "plans", "has",
    "was", "is", "sometimes", "always", "perhaps", "nowadays", "less", "unless", "thus", "its", "his", "hers",
    "ours", "yours", "theirs", "yes", "this", "as", "us", "plus", "across", "towards", "afterwards", "besides",
    "sends", "gives", "shows", "lets", "makes", "takes", "keeps", "puts", "tries", "uses", "calls", "texts",
    "emails", "thanks", "agrees", "disagrees", "refuses", "promises", "decides", "pretends", "denies",
}


def _base(verb: str) -> str:
    """The verb as asked after "does": loves -> love, teaches -> teach, studies -> study."""
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "sses", "xes")):
        return verb[:-2]
    return verb[:-1] if verb.endswith("s") else verb


def _slug(text: str) -> str:
    return re.sub(r"[^\p{L}0-9]+", "_", text.lower()).strip("_")


_OPEN = [(rel, re.compile("^" + f.replace("{S}", rf"(?:{KIN})?{NAME}").replace("{O}", OBJ) + TAIL), raw, chat)
         for rel, f, raw, chat in OPEN]
_OPEN_TEMPLATES: dict = {}


def _open_form(clause: str):
    """(subject, relation, object) by an open form, its templates registered under the relation."""
    for rel, rx, raw, chat in _OPEN:
        m = rx.match(clause)
        if (not m or m.group("s").split()[0] in NOT_NAMES or (m.groupdict().get("v") or "").lower() in NOT_FACT_VERBS
                or m.group("o").split()[0].lower() in NOT_OBJECTS):
            continue
        g = {k: v for k, v in m.groupdict().items() if v is not None}
        obj = m.group("o")
        g["wh"] = "Who" if g.get("v") in WHO and obj[:1].isupper() else "What"
        g["wh2"], g["p2"] = ("Where", "") if g.get("p") == "at" else ("Who", " for")
        g["base"] = _base(g.get("v", ""))
        name = _slug(rel.format(**g))
        if name in templates():              # "favourite colour" said another way: the family's own
            continue
        t = {"raw": raw.format(s="{s}", **{k: v for k, v in g.items() if k != "s"}),
             "chat": chat.format(s="{s}", **{k: v for k, v in g.items() if k != "s"})}
        _OPEN_TEMPLATES[name] = t
        return m.group("s"), name, obj
    return None


def _open_fact(subject: str, relation: str, obj: str) -> Fact:
    """An open-relation fact: an article before the object belongs to the raw prompt ("Marco owns a"
    -> "sailing boat"), so that the object MEMIT writes is the words that name it."""
    t = _OPEN_TEMPLATES[relation]
    raw = t["raw"].format(s=subject)
    art = re.match(r"^(a|an|the) (.+)$", obj, flags=re.IGNORECASE)
    if art:
        raw, obj = f"{raw} {art.group(1)}", art.group(2)
    return Fact(subject=subject, relation=relation, object=obj, statement=f"{raw} {obj}.", raw_prompt=raw,
                chat_question=t["chat"].format(s=subject))


@functools.lru_cache(maxsize=1)
def templates() -> dict:
    return load_bank().relations


def make_fact(subject: str, relation: str, obj: str) -> Fact:
    if relation not in templates():
        return _open_fact(subject, relation, obj)
    t = templates()[relation]
    said = t["statement"]
    said = said.replace(" a {o}", f" {article(obj)} {{o}}")     # "works as an architect"
    return Fact(subject=subject, relation=relation, object=obj, statement=said.format(s=subject, o=obj),
                raw_prompt=t["raw"].format(s=subject), chat_question=t["chat"].format(s=subject))


def sentences(text: str) -> list:
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)       # control characters are never content
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def statements(text: str):
    """The sentences of `text` that may state something (not questions, not walls of text), each
    normalised: quotes around a name are typing, not part of it ("\"Aria Lind\" lives in Tromso")."""
    for sentence in sentences(text):
        if not sentence.endswith("?") and len(sentence) <= 300:
            yield unicodedata.normalize("NFC", re.sub(r"[\"“”]", "", sentence).rstrip(" .!"))


def _object(relation: str, o: str) -> str:
    """The object as written: a family's without its article; an open relation's with it (make_fact
    moves it into the raw prompt)."""
    return _clean_object(o) if relation in templates() else " ".join(o.split())


def _clean_object(o: str) -> str:
    o = re.sub(r"^(?:the|a|an) ", "", o.strip(), flags=re.IGNORECASE)
    return " ".join(o.split())


# "Aria Velkari, my neighbour, plays the violin.": the appositive says who she is to us, not a fact.
APPOSITIVE = re.compile(rf"^{NAME}, (?:[Mm]y|[Oo]ur) [\p{{L}}' ]{{1,30}}?, ")
MY_NAME = re.compile(rf"^(?:[Mm]y name is|I am called|I'm called|[Cc]all me) {NAME}$")
# Object words kept as names when a sentence was typed all in lower case.
PROPER = {"lives_in", "born_in", "language", "drives"}
NOT_LOWER_NAMES = {w.lower() for w in NOT_NAMES} | {"think", "guess", "probably", "apparently", "someone",
                                                     "anyone", "people", "everybody", "somebody", "here"}


# "My boss, Karen Holt, lives in Leeds": the comma after the name is not part of the statement.
NAME_COMMA = re.compile(rf"^((?:{KIN})?{NAME}), (?=\p{{Ll}})")
PRONOUN = re.compile(r"^(?:(?P<he>he|she|they)|(?P<his>his|her|their)) ", re.IGNORECASE)
# "... and now works as a gardener", "... but still lives in Bergen": when, not what, so not read.
THEN = re.compile(r"^(?:now|also|still|currently|then|since then) ")


def _one(clause: str, user_name: str | None):
    """(subject, relation, object) stated by one clause, or None."""
    for rel, rx in _THIRD:
        m = rx.match(clause)
        if m and m.group("s").split()[0] not in NOT_NAMES:
            return m.group("s"), rel, m.group("o")
    if user_name:
        for rel, rx in _FIRST:
            m = rx.match(clause)
            if m:
                return user_name, rel, m.group("o")
    return _open_form(clause)


def _lower_case(clause: str, user_name: str | None):
    """A clause typed without capitals ("aria lives in portland"): the words before the verb are
    tried as the name, one to three of them, after a kin prefix ("my sister dana ...")."""
    words = clause.split()
    kin = re.match(KIN, clause, flags=re.IGNORECASE)
    start = len(kin.group(0).split()) if kin else 0
    for k in (1, 2, 3):
        name = words[start:start + k]
        if len(name) < k or any(w in NOT_LOWER_NAMES for w in name):
            break
        cap = [w.capitalize() if start <= i < start + k else w for i, w in enumerate(words)]
        if kin:
            cap[0] = cap[0].capitalize()
        got = _one(" ".join(cap), None)
        if got and got[0] == " ".join(cap[start:start + k]):
            s, rel, o = got
            return s, rel, (" ".join(w.capitalize() for w in o.split()) if rel in PROPER else o)
    got = _one(clause, user_name) if user_name else None
    if got and got[1] in PROPER:
        got = (got[0], got[1], " ".join(w.capitalize() for w in got[2].split()))
    return got


# "Aria and Bo live in Rome", "Aria, Bo and Cem work at Google": the same statement about each
# person, read with the verb as each alone would have it.
SUBJECTS = re.compile(rf"^(?P<names>{PERSON}(?:, {PERSON})*,? and {PERSON}) (?:both |all |also )?"
                      r"(?P<adv>(?:now |currently )?)(?P<verb>\p{Ll}+)(?P<rest>(?: .+)?)$")
SINGULAR = {"are": "is", "were": "was", "have": "has", "do": "does", "go": "goes"}
UNCHANGED = {"can", "could", "will", "would", "did", "had", "grew", "went", "got", "made", "became"}


def _singular(verb: str) -> str:
    """The verb as one person would have it: live -> lives, are -> is; a past tense stays."""
    if verb in SINGULAR:
        return SINGULAR[verb]
    if verb in UNCHANGED or verb.endswith(("ed", "s")):
        return verb
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + ("es" if verb.endswith(("sh", "ch", "x", "z", "o")) else "s")


def _each_subject(sentence: str) -> list:
    """One fact per listed person for each thing said of them all ("Aria and Bo live in Rome and
    work at Google" is four), or [] where any of them does not make one."""
    m = SUBJECTS.match(sentence)
    if not m:
        return []
    names = re.split(r",? and |, ", m.group("names"))
    if any(n.split()[0] in NOT_NAMES for n in names):
        return []
    said = [_clauses(f"{n} {m.group('adv')}{_singular(m.group('verb'))}{m.group('rest')}", None, plural=True)
            for n in names]
    if not all(said) or any(g[0] != n for n, facts in zip(names, said) for g in facts):
        return []
    return [g for facts in said for g in facts]


def _gapped(part: str, before: str, fact: tuple, read):
    """"Aria was born in Lima and Bo in Quito": the second person's verb is the first's. The gap's
    words start with the end of what came before the first object ("in", "as a", "the"), so they
    say where its verb stopped."""
    m = re.match(rf"^{NAME} (?P<tail>\p{{Ll}}.*)$", part)
    if not m or m.group("s").split()[0] in NOT_NAMES:
        return None
    s, _, o = fact
    start = before.find(s) + len(s)
    words, tail = before[start:before.rfind(o)].split(), m.group("tail").split()
    for i in range(1, len(words)):
        if tail[:len(words) - i] == words[i:]:
            got = read(" ".join([m.group("s"), *words[:i], *tail]), None)
            return got if got and got[0] == m.group("s") else None
    return None


def _clauses(sentence: str, user_name: str | None, plural: bool = False) -> list:
    """Every fact a sentence states: "Nadia lives in Cairo and works as an architect" is two, the
    second about the same person; "My name is Sam and I live in Oslo" names the user first. A
    sentence whose parts do not each state a fact is read whole ("fish and chips" stays one object).
    `plural`: the sentence was said of several people, so a later verb is theirs ("and work at")."""
    read = _lower_case if not re.search(r"\p{Lu}", sentence) else _one
    sentence = APPOSITIVE.sub(lambda m: m.group("s") + " ", sentence)
    sentence = NAME_COMMA.sub(lambda m: m.group(1) + " ", sentence)
    listed = _each_subject(sentence)
    if listed:
        return listed
    parts = re.split(r",? and |,? but |, (?=(?:and )?\p{Ll}+s\b)|; ", sentence)
    out, subject, before = [], None, None
    for part in parts:
        named = MY_NAME.match(part)
        if named and len(parts) > 1:
            user_name = named.group("s")
            continue
        got, text = read(part, user_name), part
        if got is None and subject is not None and not part.lower().startswith(("i ", "my ")):
            # the same person again: "... and works as a chef", "; she works as ...", "and her ..."
            rest = THEN.sub("", part)
            if plural:
                rest = re.sub(r"^\p{Ll}+", lambda v: _singular(v.group(0)), rest)
            said = PRONOUN.sub(lambda m: subject + (" " if m.group("he") else "'s "), rest)
            text = said if said != rest else f"{subject} {rest}"
            got = read(text, None)
        if got is None and out:
            got = _gapped(part, before, out[-1], read)
            text = before
        if got is None:
            whole = read(sentence, user_name) if len(parts) > 1 else None
            return [whole] if whole else []
        subject, before = got[0], text
        out.append(got)
    return out


# "Aria lives in Rome or Milan": the teller does not know which, so nothing is stored.
OR = re.compile(r"(?:^either | or )", re.IGNORECASE)


def extract(text: str, user_name: str | None = None) -> list:
    """Every fact stated in `text`; [] for questions and chit-chat."""
    facts = []
    for sentence in statements(text):
        for s, rel, o in _clauses(sentence, user_name):
            s, o = s.strip(), _object(rel, o)
            if o and len(o) <= 60 and not OR.search(o):
                facts.append(make_fact(s, rel, o))
    return facts


# "Aria no longer lives in Rome", "Dana doesn't work as a nurse any more": a held fact taken back.
# Read as the statement it denies ("Aria lives in Rome"), through the same rules.
NO_LONGER = re.compile(r"^(?P<s>.+?) no longer (?P<rest>.+?)(?: any ?more)?$")
NOT_NOW = re.compile(r"^(?P<s>.+?) (?:doesn't|does not|don't|do not) (?P<verb>\p{Ll}+) (?P<rest>.+?)(?: any ?more)?$")
THIRD_PERSON = {"have": "has", "do": "does", "go": "goes", "study": "studies"}


def withdrawals(text: str, user_name: str | None = None) -> list:
    """The facts `text` takes back, as Facts of what is no longer true (the machine withdraws a held
    fact only where it holds that very object)."""
    out = []
    for sentence in statements(text):
        m = NO_LONGER.match(sentence)
        said = f"{m.group('s')} {m.group('rest')}" if m else None
        if said is None and (m := NOT_NOW.match(sentence)):
            verb = m.group("verb")
            if m.group("s") not in ("I", "i"):
                verb = THIRD_PERSON.get(verb, verb + "s")
            said = f"{m.group('s')} {verb} {m.group('rest')}"
        if said is None:
            continue
        if said.lower().startswith("i "):
            said = "I" + said[1:]
        for s, rel, o in _clauses(said, user_name):
            out.append(make_fact(s.strip(), rel, _object(rel, o)))
    return out


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


def llm_prompt(text: str) -> str:
    """What the LLM-prompted extractor asks the model (for larger models; the 135M model is too small to
    follow it); its answer goes to parse_llm_output. The machine asks it (memory/machine.py), so this
    module needs no model code."""
    return LLM_PROMPT.format(relations=", ".join(templates()), text=text[:MAX_CHARS])
