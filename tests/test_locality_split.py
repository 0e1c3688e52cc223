"""The held-out locality split shares no entity and no answer with anything trained or tuned on.

Pure data checks (no model): the split's probes against the tuning probes, the knowledge replay, the
unrelated replay prompts and the birth model's answers to them (kept in the split's file when it was
made), the contrast people and training questions, and every text of the fact bank.
"""
import json

from logos_core.measure.facts import normalise
from logos_core.measure.facts import DATA, load_locality, load_locality_heldout
from logos_core.sleep.anchors import CONTRAST_PEOPLE, REPLAY_PROMPTS
from logos_core.wake.relations import GENERIC_QUESTIONS, TRAIN_QUESTIONS

FACTS = DATA / "facts"


def _strings(x):
    """Every string inside a JSON value."""
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            if k != "kind":
                yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)


def _used() -> tuple:
    """(all used text normalised, the used answers and objects)."""
    tuning = json.loads((FACTS / "locality.json").read_text())["probes"]
    replay = json.loads((FACTS / "replay_knowledge.json").read_text())["questions"]
    bank = json.loads((FACTS / "bank.json").read_text())
    answers = json.loads((FACTS / "locality_heldout.json").read_text())["replay_answers"]
    texts = list(_strings([tuning, replay, bank["facts"], bank["bystanders"], bank["relations"], answers]))
    texts += REPLAY_PROMPTS + CONTRAST_PEOPLE + list(GENERIC_QUESTIONS)
    texts += [q for qs in TRAIN_QUESTIONS.values() for q in qs]
    objects = {p["answer"] for p in tuning + replay} | {f["object"] for f in bank["facts"]}
    return " ".join(normalise(t) for t in texts), objects


def test_heldout_split_is_large_and_disjoint():
    held = load_locality_heldout()
    assert len(held) >= 150
    used, objects = _used()
    for p in held:
        assert p.entity and p.answer
        assert normalise(p.entity) not in used, p.entity
        assert normalise(p.answer) not in used, p.answer
        asked = normalise(p.raw_prompt + " " + p.chat_question)
        assert not [o for o in objects if normalise(o) in asked], p.raw_prompt
    assert not {p.kind for p in held} & {p.kind for p in load_locality()}


def test_heldout_split_has_one_probe_per_question():
    held = load_locality_heldout()
    assert len({p.chat_question for p in held}) == len(held)
    assert len({p.raw_prompt for p in held}) == len(held)
