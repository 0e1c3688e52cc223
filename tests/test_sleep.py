"""Audit and refresh on the real bundled model: a degraded fact is re-written under the null-space
projector, and the healthy facts' down_proj outputs do not move (to float rounding)."""
import torch
from fast import fast_config

from logos_core.base.hparams import load_hparams
from logos_core.base.nethook import get_module
from logos_core.lab.experiments import reset
from logos_core.memory.machine import LogosMachine
from logos_core.sleep.audit import audit, degraded
from logos_core.sleep.refresh import refresh
from logos_core.wake.compute_ks import keys_all_layers
from logos_core.wake.contexts import Request


def test_refresh_restores_a_degraded_fact_and_leaves_healthy_ones_alone(lm, bank):
    cfg = fast_config(consolidate=False, hparams={"v_steps": 12, "n_raw_contexts": 2, "n_chat_contexts": 1})
    m = LogosMachine(lm, load_hparams("135m"), cfg)
    facts = bank.sample(3, seed=7)
    w0 = {l: get_module(lm.model, m.hp.rewrite_module.format(l)).weight.detach().clone() for l in m.hp.layers}
    try:
        m.inject(facts)
        # a fact wake wrote successfully (edit efficacy is wake's business, test_memit.py), then lost
        sick = next(k for k, r in audit(lm, m.ledger.entries.values()).items() if r["raw"])
        m.book.remove(m.ledger.entries[sick].edit)       # as interference would: its edit is gone
        assert sick in degraded(audit(lm, m.ledger.entries.values()), "raw")
        healthy = [e.fact for k, e in m.ledger.entries.items() if k != sick]
        K = keys_all_layers(lm, m.hp, [Request.from_fact(f) for f in healthy])   # {layer: [d_mlp, 2]}
        before = {l: get_module(lm.model, m.hp.rewrite_module.format(l)).weight.detach().double().clone()
                  for l in m.hp.layers}
        assert refresh(lm, m.hp, m.book, m.ledger, m.writer, [sick], cycle=1) == [sick]
        for l in m.hp.layers:
            W = get_module(lm.model, m.hp.rewrite_module.format(l)).weight.detach().double()
            moved = ((W - before[l]) @ K[l].double()).norm() / (before[l] @ K[l].double()).norm()
            assert moved < 1e-5, (l, float(moved))        # float32 weights: rounding is ~1e-7 relative
            assert (W - before[l]).norm() > 0               # and the layer was edited
        assert audit(lm, [m.ledger.entries[sick]])[sick]["raw"], "the refreshed fact is recalled again"
        assert m.ledger.entries[sick].stage == 0 and m.ledger.entries[sick].history[-1]["event"] == "refresh"
    finally:
        reset(m)
    for l in m.hp.layers:           # every edit withdrawn: the shared model is unedited again, exactly
        assert torch.equal(get_module(lm.model, m.hp.rewrite_module.format(l)).weight, w0[l])
