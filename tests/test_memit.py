"""Wake on the real bundled model: MEMIT edits recalled in raw completion and in chat, side effects bounded.

Wake's bar, with the default hyperparameters and edits written as the machine writes them
(null-space constrained, each new edit leaving the earlier facts' keys alone): after 10 facts edited
one at a time, raw and chat recall >= 0.9 over all 10, locality >= 0.95, bleed <= 0.1, drift <= 5%.
The sample here (seed 11) is one of those that chose the settings (seeds 11-13 chose the raw
wordings; README, "How these settings were chosen"); benchmarks/wake_acceptance.py measures the same
on samples that chose nothing (README, "Wake"), and the batch of 20. Every edit is removed at the end, which
restores the original weights exactly (edits.py), so the shared model stays clean.
"""
import pytest
import torch

from logos_core.base.hparams import load_hparams
from logos_core.lab.experiments import write_facts
from logos_core.measure import evaluate as E
from logos_core.measure.facts import heldout_text, load_locality
from logos_core.wake.nullspace import null_projectors
from logos_core.wake.stats import layer_stats

PPL_TOKENS = 4096


@pytest.fixture(scope="module")
def wake(lm, bank):
    hp = load_hparams("135m")
    stats = layer_stats(lm, hp, progress=False)
    projectors = null_projectors(lm, hp, stats)
    ev = E.Evaluator(lm, load_locality(), bank.bystanders, bank.relations, heldout_text(), ppl_tokens=PPL_TOKENS)
    ev.baseline()
    return hp, stats, projectors, ev


def _check(m: dict, label: str):
    print(label, E.summary(m))
    assert m["locality"] >= 0.95, m["locality"]
    assert m["bleed"] <= 0.1, m["bleed"]
    assert m["ppl_drift"] <= 0.05, m["ppl_drift"]


@pytest.mark.slow
def test_ten_facts_one_at_a_time(lm, bank, wake):
    hp, stats, projectors, ev = wake
    facts = bank.sample(10, seed=11)
    w0 = {l: lm.model.model.layers[l].mlp.down_proj.weight.detach().clone() for l in hp.layers}
    book = write_facts(lm, hp, stats, facts, projectors=projectors)
    try:
        m = ev.measure(facts)
        _check(m, "sequential 10")
        assert m["raw"] >= 0.9, list(zip([f.object for f in facts], m["raw_answers"]))
        assert m["chat"] >= 0.9, list(zip([f.object for f in facts], m["chat_answers"]))
    finally:
        for eid in list(book.edits):
            book.remove(eid)
    for l in hp.layers:  # removing every edit restored the unedited weights bit for bit
        assert torch.equal(lm.model.model.layers[l].mlp.down_proj.weight, w0[l])
