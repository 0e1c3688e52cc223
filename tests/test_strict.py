"""The stricter hit: an answer that also names another told object of the same relation is a
confusion, not recall; and bleed less the unedited model's own rate with the same objects."""
from logos_core.measure import evaluate as E
from logos_core.measure.facts import Fact


def fact(s, rel, o):
    return Fact(s, rel, o, f"{s} {rel} {o}.", f"{s} {rel}", f"{s} {rel}?", (f"{s}, {rel}?",))


FACTS = [fact("Aria", "lives_in", "Lisbon"), fact("Bo", "lives_in", "Porto"), fact("Cy", "lives_in", "lisbon."),
         fact("Aria", "works_as", "nurse")]


def test_rivals_are_the_other_told_objects_of_the_relation():
    assert E.rivals(FACTS) == [["Porto"], ["Lisbon"], ["Porto"], []]


def test_an_answer_naming_a_rival_is_a_confusion_not_a_hit():
    answers = ["Aria lives in Lisbon.", "Bo lives in Lisbon or Porto.", "Lisbon, I think.", "A nurse."]
    hits, confused = E.strict_hits(answers, [f.object for f in FACTS], E.rivals(FACTS))
    assert hits == [True, False, True, True]
    assert confused == [False, True, False, False]
    # the loose hit still counts the second answer: the strict one is what differs
    assert all(E.contains(a, f.object) for a, f in zip(answers, FACTS))


def test_strict_rates_sit_beside_recalls_own():
    res = {"raw_answers": ["Lisbon", "Porto and Lisbon", "Porto", "nurse"],
           "chat_answers": ["Lisbon", "Porto", "Lisbon", "doctor"],
           "paraphrase_answers": ["Lisbon", "Lisbon", "lisbon", "a nurse"]}
    E.add_strict(res, FACTS, ("raw", "chat", "paraphrase"))
    assert (res["raw_strict"], res["raw_confused"]) == (0.5, 0.5)
    assert (res["chat_strict"], res["chat_confused"]) == (0.75, 0.0)
    assert (res["paraphrase_strict"], res["paraphrase_confused"]) == (0.75, 0.25)


def test_bleed_from_answers_and_its_excess_over_the_unedited_rate():
    told = {"lives_in": {"Lisbon", "Porto"}}
    now = {"lives_in": (["Lisbon", "Rome", "Porto", "Oslo"], ["Lisbon", "Rome", "Rome", "Rome"])}
    before = {"lives_in": (["Rome", "Rome", "Porto", "Oslo"], ["Rome"] * 4)}
    assert E.bleed_from(now, told) == {"raw": 0.5, "chat": 0.25, "bleed": 0.5}
    assert E.bleed_from(before, told)["bleed"] == 0.25     # the model said Porto before it was told
    assert E.bleed_from({}, {}) == {"raw": 0.0, "chat": 0.0, "bleed": 0.0}
