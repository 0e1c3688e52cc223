# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Sleep-Wake Memory Convergence in Weight-Edited Language Models
#
# *Paper 5 of the Sleeping-LLM series (Zenodo, series DOI 10.5281/zenodo.18779159).*
#
# **Question.** How many facts can sequential MEMIT hold before recall collapses, and can a sleep
# phase that audits every fact and refreshes the degraded ones bring a damaged memory back?
#
# **Claims tested.** (a) Sequential MEMIT has a capacity ceiling (8B: 0.92 recall up to 13 facts, 0.57
# at 14: a phase transition). (b) With sleep maintenance, 30 facts go from 0.40 to 1.00 recall in 4
# cycles; without care, a "death spiral" from 0.97 to 0.46 over 10 cycles.
#
# **What we change.** The original's "null-space" step was soft zero-residual rows in a least-squares
# solve. Ours is AlphaEdit's projector (Fang et al., ICLR 2025): with $C = E[kk^\top] = U \Lambda U^\top$
# over ordinary text, $P = U_{\text{free}}U_{\text{free}}^\top$ keeps the directions whose eigenvalue is
# below $10^{-2}\lambda_{\max}$, and the keys $K_h$ of every healthy fact are removed from it exactly,
# $P' = P - QQ^\top$ with $Q$ an orthonormal basis of $PK_h$. The update
#
# $$\Delta W^\top = (P' K K^\top + \ell_2 I)^{-1} P' K R^\top \quad\Rightarrow\quad \Delta W P' = \Delta W,\; \Delta W K_h = 0$$
#
# cannot move the healthy facts' outputs at the edited layers (`logos_core/wake/nullspace.py`).
#
# **How we measure.** Raw recall (the pathway MEMIT writes) and chat recall by greedy generation;
# each cycle also locality (known facts still answered) and perplexity drift on held-out text.

# %% tags=["parameters"]
MODEL = "135m"           # alias (135m, 3b, 8b, 70b), Hugging Face id, or local path
DEVICE = "auto"          # cuda, mps, cpu, or auto
N_CAPACITY = 30          # facts offered to the capacity curve (each arm stops past its ceiling; paper scale 150)
EVERY = 10               # measure recall of all facts so far every EVERY facts
N_CONVERGE = 30          # facts in the convergence experiment (paper: 30)
CYCLES = 3               # sleep cycles with audit + null-space refresh (paper: 4)
CARELESS_CYCLES = 3      # sleep cycles with unconstrained re-injection (paper: 10)
HPARAMS = {}             # overrides of the model's MEMIT hyperparameters (e.g. {"v_steps": 10})
CONVERGE_HPARAMS = {}    # further overrides for the convergence experiment's wake only
PPL_TOKENS = 4096        # held-out tokens for perplexity drift
N_LOCALITY = 0           # locality probes used; 0 means the whole set
SEED = 0
OUT_DIR = "data/results"
FIG_DIR = "figures"

# %%
import dataclasses
import functools

import pandas as pd

from logos_core.measure import evaluate as E
from logos_core.lab.experiments import capacity_curve, maintenance, memit_only, reset
from logos_core.measure.facts import heldout_text, load_bank, load_locality
from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.wake.nullspace import free_dims
from logos_core.lab.plotting import draw
from logos_core.lab.report import claim, pct, resolve, save_results, set_seed

set_seed(SEED)
params = dict(MODEL=MODEL, DEVICE=DEVICE, N_CAPACITY=N_CAPACITY, EVERY=EVERY, N_CONVERGE=N_CONVERGE,
              CYCLES=CYCLES, CARELESS_CYCLES=CARELESS_CYCLES, HPARAMS=HPARAMS,
              CONVERGE_HPARAMS=CONVERGE_HPARAMS, PPL_TOKENS=PPL_TOKENS,
              N_LOCALITY=N_LOCALITY, SEED=SEED)
bank = load_bank()
lm = load_model(MODEL, device=DEVICE)
hp = dataclasses.replace(load_hparams(MODEL), **HPARAMS)
print(f"{MODEL}: device {lm.device}; MEMIT layers {hp.layers}, lambda {hp.mom2_weight:g}, {hp.v_steps} target steps")
ev = E.Evaluator(lm, load_locality()[:N_LOCALITY or None], bank.bystanders, bank.relations, heldout_text(),
                 ppl_tokens=PPL_TOKENS)
base = ev.baseline()
# MEMIT-only machines: no consolidation, no perplexity rollback (we want to see the drift)
machine = functools.partial(memit_only, lm, hp, PPL_TOKENS)

m = machine()
print("free (null-space) dimensions per edited layer:",
      {l: f"{free_dims(P)}/{P.shape[0]}" for l, P in m.writer.projectors().items()})

# %% [markdown]
# ## (a) The capacity curve: plain vs null-space-constrained sequential MEMIT
# The same facts, in the same order, written one at a time. Each arm stops at its second checkpoint
# with raw recall of all facts so far below 0.9.

# %%
facts = bank.sample(N_CAPACITY, seed=SEED)
curves = {}
for arm, ns in (("plain", False), ("null-space", True)):
    m = machine(wake_nullspace=ns)
    curves[arm] = capacity_curve(m, facts, EVERY, on_row=lambda r, a=arm: print(
        f"{a:10s} n={r['n']:3d} raw {r['raw']:.2f} chat {r['chat']:.2f} |dW|/|W| {r['delta_norm']:.3f}"))
    reset(m)   # every edit withdrawn: the weights are the unedited ones again, bit for bit


def ceiling(rows, bar=0.9):
    """The largest n measured before raw recall first fell below `bar` (None: never fell)."""
    held = None
    for r in rows:
        if r["raw"] < bar:
            return held or 0
        held = r["n"]
    return None


cap = {arm: ceiling(rows) for arm, rows in curves.items()}
pd.concat([pd.DataFrame(r).assign(arm=a) for a, r in curves.items()]).round(3)

# %% [markdown]
# ## (b, c) Convergence: 30 facts, sleep maintenance with and without care
# Both arms start from the same damaged memory: 30 facts written by plain sequential MEMIT (as wake
# does when nothing protects the facts already held). "Audit + null-space refresh" re-writes the facts
# whose raw recall failed, under $P'$; "careless" re-writes them with plain MEMIT, as the original did.

# %%
conv_facts = bank.sample(N_CONVERGE, seed=SEED + 1)
m = memit_only(lm, dataclasses.replace(hp, **CONVERGE_HPARAMS), PPL_TOKENS, wake_nullspace=False)
m.inject(conv_facts)
woken = (m.book.snapshot(), m.ledger.to_dict())
runs = {}
for arm, projected, cycles in (("audit + null-space refresh", True, CYCLES),
                               ("careless re-injection", False, CARELESS_CYCLES)):
    # back to the memory as wake left it (edits are objects: restoring them restores the weights)
    m.book.restore(woken[0])
    m.ledger.load(woken[1])
    m.cycle = 0
    m.cfg.refresh_projected = projected
    runs[arm] = maintenance(m, conv_facts, ev, cycles, on_row=lambda r, a=arm: print(
        f"{a:28s} cycle {r['cycle']}: raw {r['raw']:.2f} chat {r['chat']:.2f} refreshed {r['refreshed']:2d} "
        f"locality {r['locality']:.2f} drift {r['ppl_drift']:+.1%}"))
pd.concat([pd.DataFrame(r).assign(arm=a) for a, r in runs.items()]).round(3)

# %%
results = {"base": {"ppl": base["ppl"]}, "capacity": curves, "ceiling": cap, "convergence": runs,
           "free_dims": {str(l): free_dims(P) for l, P in m.writer.projectors().items()}}
save_results("05_convergence", results, resolve(OUT_DIR), params)
for p in draw("05_convergence", {"results": results}, resolve(FIG_DIR)):
    print("wrote", p.name)

# %% [markdown]
# ## What we found
# The checked cell below prints this run's numbers.
#
# **Sizes.** `make reproduce` offers the capacity curve 30 facts (`SCALE=paper`: 150): plain MEMIT is
# already under the bar at its first checkpoint, so three checkpoints show the null-space arm holding
# it three times as long, and each fact written costs about 7 s here. The convergence experiment keeps
# the paper's 30 facts and runs 3 cycles of audit + refresh (paper 4, `SCALE=paper`): the audit finds
# nothing left to refresh at the third. Careless maintenance runs 3 cycles (paper 10, `SCALE=paper`),
# the first in which it collapses. In all, 1543 s on a 2-core CPU at 2 threads (`data/results/05_convergence.json`, `figures/05_capacity.png`,
# `figures/05_convergence.png`).
#
# - **Capacity.** The paper reports a sharp phase transition on 8B (0.92 up to 13 facts, 0.57 at 14).
#   Plain sequential MEMIT: raw 0.80, 0.75 at 10, 20 facts (chat 0.90, 0.70), |dW|/|W| 0.11 -> 0.16,
#   under the bar from the first checkpoint. The null-space arm: raw 0.90, 0.95, 0.97 at 10, 20, 30
#   facts (chat 0.90, 0.95, 0.97), |dW|/|W| 0.10 -> 0.18: it never fell below 0.9 within the 30 facts
#   offered. An earlier run of the full 150 on one H200 (earlier code,
#   `data/results/gpu_h200/05_capacity_*.log`) held 0.9 up to 60 facts and slid, without a cliff, to
#   0.84 at 90. About one fact in ten here is not written by its own edit even on a fresh model, which
#   caps a checkpoint near 0.9.
# - **Convergence.** The paper: 0.40 -> 1.00 in 4 cycles. Ours, 30 facts damaged by plain sequential
#   MEMIT: raw 0.60 -> 0.83 -> 1.00 -> 1.00 with audit + null-space refresh (chat 0.37 -> 0.70
#   -> 0.83 -> 0.83; 12, 5, 0 facts refreshed), locality 0.95 -> 0.91, perplexity drift
#   +7.0%, bleed 0.01 -> 0.02 (locality relative to the model before any edit). The audit asks raw
#   completion, so once every fact completes it refreshes nothing more, and chat recall stays at 0.83:
#   the paper's convergence holds for the pathway the audit checks.
# - **Death spiral.** The paper: 0.97 -> 0.46 over 10 cycles of careless maintenance. Ours, from the
#   same damaged memory, re-writing the failed facts with plain MEMIT and nothing protected: raw 0.60 ->
#   0.53 -> 0.57 -> 0.17 over 3 cycles (chat 0.37 -> 0.50 -> 0.27 -> 0.13; 12, 14, 13 refreshed),
#   locality 0.95 -> 0.60, drift +2.7% -> +90.2%, bleed 0.01 -> 0.05, |dW|/|W| 0.47: each refresh
#   breaks about as many facts as it repairs, and the edits pile up until the model itself degrades.
#   The paper's spiral, faster here: three cycles, not ten. (The earlier H200 run, on earlier code with
#   smaller edits, saw a slow treadmill instead over 6 cycles: raw 0.53 -> 0.90, drift +3.7%.)

# %% tags=["nbval-check-output"]
print(f"capacity (largest n with raw recall >= 0.9 before it first fell; None = never fell): {cap}")
care, careless = runs["audit + null-space refresh"], runs["careless re-injection"]
print(f"audit + refresh, {N_CONVERGE} facts: raw " + " -> ".join(f"{r['raw']:.2f}" for r in care)
      + "; chat " + " -> ".join(f"{r['chat']:.2f}" for r in care))
print(f"careless: raw " + " -> ".join(f"{r['raw']:.2f}" for r in careless))
last = care[-1]
plain_cap, ns_cap = cap["plain"], cap["null-space"]
ns_held = ns_cap if ns_cap is not None else curves["null-space"][-1]["n"]
claim("null-space editing holds raw recall >= 0.9 over at least twice as many facts as plain MEMIT",
      plain_cap is not None and ns_held >= 2 * max(plain_cap, 1))
claim(f"{N_CONVERGE} facts reach raw recall >= 0.95 within {CYCLES} cycles of audit + refresh",
      max(r["raw"] for r in care[1:]) >= 0.95)
claim("side effects after maintenance: locality >= 0.9 of baseline, perplexity drift <= 10%",
      last["locality"] >= 0.9 and last["ppl_drift"] <= 0.10)
print(f"after {CYCLES} cycles: locality {last['locality']:.2f}, perplexity drift {pct(last['ppl_drift'])}")
