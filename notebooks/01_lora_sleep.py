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
# # 01 · Sleep-Wake Consolidation for Lifelong Conversational Memory in Local Language Models
#
# *Paper 1 of the Sleeping-LLM series (Zenodo, series DOI 10.5281/zenodo.18779159).*
#
# **Question.** Can facts told in conversation be written into a model's weights by training a LoRA
# adapter during "sleep", with no weight editing at all?
#
# **Claim tested.** LoRA-only sleep consolidation makes a small local model recall conversational
# facts after a few sleep cycles; a learning rate around $10^{-4}$ is the viable window.
#
# **How we measure.** Recall is greedy generation, in raw completion and in chat, on question wordings
# the adapter was *never trained on* (the original checked its own training questions). Every cycle we
# also measure what the training cost: locality (share of facts the model already knew that it still
# answers), bleed (never-told people answered with a told object) and perplexity drift on held-out text.
#
# One sleep cycle trains a fresh adapter on chat Q/A pairs and fuses it:
#
# $$W \leftarrow W + \tfrac{\alpha}{r} B A, \qquad \min_{A,B} \; -\sum_{(q,a)} \log p_{W + \frac{\alpha}{r}BA}(a \mid q)$$
#
# with $r=16$, $\alpha=32$ on the MLP projections, loss on the answer tokens only, plus replay of the
# model's own answers to unrelated prompts.

# %% tags=["parameters"]
MODEL = "135m"           # alias (135m, 3b, 8b, 70b), Hugging Face id, or local path
DEVICE = "auto"          # cuda, mps, cpu, or auto (CUDA, then MPS, then CPU)
N_FACTS = 20             # facts told during the day
CYCLES = 4               # sleep cycles in the recall-vs-cycles run
LR = 1e-3                # learning rate of the recall-vs-cycles run
EPOCHS_PER_CYCLE = 1     # passes over the day's examples in one sleep cycle
LRS = [1e-4, 3e-4, 1e-3, 3e-3]  # learning-rate sweep
SWEEP_CYCLES = 3         # sleep cycles per learning rate in the sweep
REPLAY = 8               # base-model answers replayed per cycle (0 = none)
PPL_TOKENS = 8000        # held-out tokens for perplexity drift
N_LOCALITY = 0           # locality probes used; 0 means the whole set
MIN_CHAT_RECALL = 0.9    # the claim checked at the end (chat recall after CYCLES cycles)
SEED = 0
OUT_DIR = "data/results" # relative to the repository root
FIG_DIR = "figures"

# %%
import json
import time

import pandas as pd

from logos_core.measure import evaluate as E
from logos_core.sleep.consolidate import LoraConfig, consolidate
from logos_core.measure.facts import heldout_text, load_bank, load_locality
from logos_core.base.models import load_model
from logos_core.lab.plotting import draw
from logos_core.lab.report import claim, resolve, save_results, set_seed

set_seed(SEED)
params = dict(MODEL=MODEL, DEVICE=DEVICE, N_FACTS=N_FACTS, CYCLES=CYCLES, LR=LR,
              EPOCHS_PER_CYCLE=EPOCHS_PER_CYCLE,
              LRS=LRS, SWEEP_CYCLES=SWEEP_CYCLES, REPLAY=REPLAY, PPL_TOKENS=PPL_TOKENS,
              N_LOCALITY=N_LOCALITY, SEED=SEED)
bank = load_bank()
facts = bank.sample(N_FACTS, seed=SEED)
lm = load_model(MODEL, device=DEVICE)
print(f"{MODEL}: loaded in {lm.load_seconds:.1f} s ({'cache' if lm.cache_hit else 'cold'}), device {lm.device}")
ev = E.Evaluator(lm, load_locality()[:N_LOCALITY or None], bank.bystanders, bank.relations, heldout_text(), ppl_tokens=PPL_TOKENS)
base = ev.baseline()
print(f"unedited perplexity {base['ppl']:.2f}; locality set raw {base['locality']['raw']:.2f}, chat {base['locality']['chat']:.2f}")

# %% [markdown]
# ## Recall over sleep cycles
# Cycle 0 is the day's end before any sleep: the model has only heard the facts, so recall is ~0.

# %%
def row(cycle, m, log=None):
    r = {"cycle": cycle, **E.summary(m)}
    if log is not None:
        r.update(start_loss=log.start_loss, final_loss=log.final_loss, train_seconds=log.seconds)
    return r

# Paper 1 as published: chat Q/A only (no contrast people, no text replay; those came later, sleep/cycle.py)
cfg = LoraConfig(lr=LR, epochs=EPOCHS_PER_CYCLE, replay=REPLAY, seed=SEED, contrast=0, text_replay=0)
cycles = [row(0, ev.measure(facts))]
after = {}   # cycle -> (measurement, seconds trained so far, last log), for the sweep below
trained = 0.0
for c in range(1, CYCLES + 1):
    log, _ = consolidate(lm, facts, cfg)
    m = ev.measure(facts)
    trained += log.seconds
    after[c] = (m, trained, log)
    cycles.append(row(c, m, log))
    print(f"cycle {c}: raw {m['raw']:.2f} chat {m['chat']:.2f} para {m['paraphrase']:.2f} "
          f"locality {m['locality']:.2f} bleed {m['bleed']:.2f} drift {m['ppl_drift']:+.1%} ({log.seconds:.0f} s train)")
examples = [{"fact": f.statement, "question": f.chat_question, "answer": a}
            for f, a in zip(facts, m["chat_answers"])]
pd.DataFrame(cycles).round(3)

# %% [markdown]
# ## Learning-rate sweep
# Each learning rate starts from the unedited model and sleeps `SWEEP_CYCLES` times. At `LR` that is
# the run above read after its cycle `SWEEP_CYCLES`: the same facts, settings and seed, and measuring
# between cycles changes no weight, so running it again would give the same numbers to the last digit.
# A row's seconds are its training and its measurement.

# %%
sweep = []
for lr in LRS:
    if lr == LR and SWEEP_CYCLES in after:
        m, seconds, log = after[SWEEP_CYCLES]
        seconds += m["seconds"]
    else:
        lm.model = load_model(MODEL, device=DEVICE).model   # a fresh copy of the base weights
        t0 = time.perf_counter()
        for c in range(SWEEP_CYCLES):
            log, _ = consolidate(lm, facts, LoraConfig(lr=lr, epochs=EPOCHS_PER_CYCLE, replay=REPLAY, seed=SEED,
                                                       contrast=0, text_replay=0))
        m = ev.measure(facts)
        seconds = time.perf_counter() - t0
    sweep.append({"lr": lr, **E.summary(m), "final_loss": log.final_loss, "seconds": seconds})
    print(f"lr {lr:g}: chat {m['chat']:.2f} raw {m['raw']:.2f} para {m['paraphrase']:.2f} "
          f"locality {m['locality']:.2f} drift {m['ppl_drift']:+.1%}")
pd.DataFrame(sweep).round(3)

# %%
results = {"base": {"ppl": base["ppl"], "locality_raw": base["locality"]["raw"],
                    "locality_chat": base["locality"]["chat"]},
           "cycles": cycles, "lr_sweep": sweep, "examples": examples}
save_results("01_lora_sleep", results, resolve(OUT_DIR), params)
for p in draw("01_lora_sleep", {"results": results}, resolve(FIG_DIR)):
    print("wrote", p.relative_to(resolve(".")))

# %% [markdown]
# ## What we found
# The checked cell below states the recall reached and what it cost. The paper's claim is about a 3B
# model on a laptop; ours is the 135M bundled model unless `MODEL` says otherwise.
#
# **Sizes.** 20 facts, 4 cycles, and four learning rates of 3 cycles each from $10^{-4}$, the paper's
# "viable window" (`SCALE=paper`: the paper's 5 cycles and five rates from $10^{-5}$). At $10^{-3}$ the
# first cycle learns nothing and chat recall reaches 0.9 at the third, so four cycles show the curve
# rise and then hold; fewer would show only its start: 552 s on a 2-core CPU at 2 threads.
#
# On the default parameters (`make reproduce`, seed 0) LoRA-only sleep reached chat
# recall 0.90, raw 0.85 and held-out paraphrase 0.75 on 20 facts after 4 cycles at lr $10^{-3}$, so
# the paper's central claim (facts can be consolidated into LoRA during sleep) holds on this model.
# **Where we differ from the paper:** (1) at lr $10^{-4}$, the paper's "viable window", nothing
# was learnt in 3 one-epoch cycles (chat 0.00); the useful range on this model was $10^{-3}$ to
# $3\cdot10^{-3}$. (2) The cost the paper did not measure is large: after 4 cycles only 85% of the
# facts the model knew before are still answered (locality 0.85), 66% of never-told people asked
# the same relation now answer with a told object (bleed 0.66: LoRA learns "people live in
# Tbilisi", not "Aria lives in Tbilisi"), and held-out perplexity rose 16.3%. Replay of the model's
# own answers (`REPLAY`) was on throughout. These side effects are what the later papers' weight
# editing and graduated consolidation set out to avoid.

# %% tags=["nbval-check-output"]
final = cycles[-1]
best = max(sweep, key=lambda r: r["chat"])
print(f"{N_FACTS} facts, {CYCLES} sleep cycles at lr {LR:g}: chat recall {final['chat']:.2f}, "
      f"raw {final['raw']:.2f}, paraphrase {final['paraphrase']:.2f}")
print(f"side effects: locality {final['locality']:.2f}, bleed {final['bleed']:.2f}, perplexity drift {final['ppl_drift']:+.0%}")
print(f"best learning rate in the sweep: {best['lr']:g} (chat {best['chat']:.2f})")
ok = claim(f"chat recall >= {MIN_CHAT_RECALL} at {N_FACTS} facts after {CYCLES} sleep cycles", final["chat"] >= MIN_CHAT_RECALL)
