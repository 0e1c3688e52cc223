"""The per-fact stage ledger: stages and scales move per fact, history is kept (pure logic)."""
from logos_core.measure.facts import Fact, fact_key
from logos_core.sleep.ledger import SCHEDULE, Ledger


def _fact(s="Aria Lind", rel="lives_in", o="Portland"):
    return Fact(subject=s, relation=rel, object=o, statement=f"{s} {rel} {o}", raw_prompt=s, chat_question=s)


def test_stages_advance_and_drop_per_fact_on_the_schedule():
    led = Ledger()
    a = led.add(_fact(), "e1", cycle=0)
    b = led.add(_fact("Dana Ruiz", "works_as", "nurse"), "e2", cycle=0)
    assert SCHEDULE == (1.0, 0.5, 0.1, 0.0)
    assert led.scale(a.key) == 1.0
    for c, want in ((1, 0.5), (2, 0.1), (3, 0.0), (4, 0.0)):
        led.advance(a.key, c)
        assert led.scale(a.key) == want
    assert led.scale(b.key) == 1.0              # one fact's progress never moves another's scale
    led.drop(a.key, 5)
    assert (led.entries[a.key].stage, led.scale(a.key)) == (2, 0.1)
    led.drop(b.key, 5)
    assert led.entries[b.key].stage == 0        # never below 0
    events = [h["event"] for h in led.entries[a.key].history]
    assert events == ["wake", "advance", "advance", "advance", "drop"]


def test_rewrite_keeps_the_stage_and_retire_keeps_history():
    led = Ledger()
    a = led.add(_fact(), "e1")
    led.advance(a.key, 1)
    led.rewrite(a.key, "e9", 2)
    assert led.entries[a.key].edit == "e9" and led.entries[a.key].stage == 1
    old = led.retire(a.key, 3, "replaced")
    assert a.key not in led.entries and led.retired == [old]
    assert old.history[-1]["event"] == "replaced"


def test_round_trip_and_keys():
    led = Ledger(schedule=(1.0, 0.25, 0.0))
    led.add(_fact(), "e1")
    led.advance(fact_key("aria  LIND", "lives_in"), 1)          # keys ignore case and spacing
    back = Ledger.from_dict(led.to_dict())
    assert back.schedule == (1.0, 0.25, 0.0)
    assert back.stages() == led.stages() == {"aria lind|lives_in": 1}
    assert back.entries["aria lind|lives_in"].fact == _fact()
