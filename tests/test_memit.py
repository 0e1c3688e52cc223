"""Wake on the real bundled model: MEMIT edits recalled in raw completion *and* chat, side effects bounded.

These are the acceptance numbers of the wake issue, measured on default hyperparameters. They take
minutes on a 2-core CPU (marked slow; still part of `make test`). Every edit is removed at the end of
each test, which restores the original weights exactly (edits.py), so the shared model stays clean.
"""
import pytest

from logos_core import evaluate as E
from logos_core.contexts import Request
from logos_core.edits import EditBook
from logos_core.facts import heldout_text, load_locality
from logos_core.hparams import load_hparams
from logos_core.memit import apply_memit
from logos_core.stats import layer_stats

PPL_TOKENS = 4096


@pytest.fixture(scope="module")
def wake(lm, bank):
    hp = load_hparams("135m")
    stats = layer_stats(lm, hp, progress=False)
    ev = E.Evaluator(lm, load_locality(), bank.bystanders, bank.relations, heldout_text(), ppl_tokens=PPL_TOKENS)
    ev.baseline()
    return hp, stats, ev


def _check(m: dict, label: str):
    print(label, E.summary(m))
    assert m["locality"] >= 0.95, m["locality"]
    assert m["bleed"] <= 0.1, m["bleed"]
    assert m["ppl_drift"] <= 0.05, m["ppl_drift"]


@pytest.mark.slow
def test_ten_facts_one_at_a_time(lm, bank, wake):
    hp, stats, ev = wake
    facts = bank.sample(10, seed=1)
    book = EditBook(lm, hp)
    try:
        for f in facts:
            book.add(apply_memit(lm, hp, [Request.from_fact(f)], stats, [f]))
        m = ev.measure(facts)
        _check(m, "sequential 10")
        assert m["raw"] >= 0.9, list(zip([f.object for f in facts], m["raw_answers"]))
        assert m["chat"] >= 0.9, list(zip([f.object for f in facts], m["chat_answers"]))
    finally:
        for eid in list(book.edits):
            book.remove(eid)
    assert E.recall(lm, facts, ("raw",))["raw"] == 0.0  # removal restored the unedited model


@pytest.mark.slow
def test_batch_of_twenty(lm, bank, wake):
    hp, stats, ev = wake
    facts = bank.sample(20, seed=2)
    book = EditBook(lm, hp)
    try:
        book.add(apply_memit(lm, hp, [Request.from_fact(f) for f in facts], stats, facts))
        m = ev.measure(facts)
        _check(m, "batch 20")
        assert m["chat"] >= 0.9, list(zip([f.object for f in facts], m["chat_answers"]))
    finally:
        for eid in list(book.edits):
            book.remove(eid)
