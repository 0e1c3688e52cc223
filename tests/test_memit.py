"""Wake on the real bundled model: MEMIT edits recalled in raw completion and in chat, side effects bounded.

The wake issue asks for chat recall >= 0.9 after 10 sequential edits; on these facts we measure 0.6
(raw 1.0), so this test guards what we reach (chat >= 0.5) and the issue stays open until the bar is
met; the side-effect limits are the issue's own. The batch-of-20 numbers come from
benchmarks/wake_acceptance.py (too slow for CI). Every edit is removed at the end, which restores
the original weights exactly (edits.py), so the shared model stays clean.
"""
import pytest
import torch

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
    w0 = {l: lm.model.model.layers[l].mlp.down_proj.weight.detach().clone() for l in hp.layers}
    book = EditBook(lm, hp)
    try:
        for f in facts:
            book.add(apply_memit(lm, hp, [Request.from_fact(f)], stats, [f]))
        m = ev.measure(facts)
        _check(m, "sequential 10")
        assert m["raw"] >= 0.9, list(zip([f.object for f in facts], m["raw_answers"]))
        assert m["chat"] >= 0.5, list(zip([f.object for f in facts], m["chat_answers"]))
    finally:
        for eid in list(book.edits):
            book.remove(eid)
    for l in hp.layers:  # removing every edit restored the unedited weights bit for bit
        assert torch.equal(lm.model.model.layers[l].mlp.down_proj.weight, w0[l])
