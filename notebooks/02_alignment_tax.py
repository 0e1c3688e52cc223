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
# # 02 · The Alignment Tax on Continual Learning: Inverse Scaling of Memory Consolidation in Language Models
#
# *Paper 2 of the Sleeping-LLM series (Zenodo, series DOI 10.5281/zenodo.18779159).*
#
# **Question.** When facts written by MEMIT are consolidated into LoRA, how much of the recall does one
# LoRA pass deliver on its own, and what does cumulative fusing change?
#
# **Claims tested.** Instruction tuning fights injected knowledge: one LoRA pass loses about 37% of
# recall on 8B once the edit is withdrawn, and larger models pay more. Cumulative fusing (each cycle
# trains on the already-fused model) drops the starting loss from 2.91 to 0.62 by cycle 2.
#
# **How we measure.** Chat recall by greedy generation with the edits at their scheduled scales, and
# with every edit withdrawn ("LoRA alone"): the difference is the recall the edits still carry. The
# starting loss is the mean cross-entropy of the facts' answers over the first epoch of each cycle:
#
# $$\mathcal{L}_{\text{start}} = -\tfrac{1}{|a|}\textstyle\sum_t \log p_{W}(a_t \mid q, a_{<t}), \quad W = W_0 + \sum_{a \le c-1} \tfrac{\alpha}{r}B_aA_a \;(\text{cumulative}) \text{ or } W_0 \;(\text{not}).$$

# %% tags=["parameters"]
MODELS = ["135m"]         # sizes to compare (paper: 3B, 8B, 70B); each: alias, hub id or path
DEVICE = "auto"
N_FACTS = 10              # facts written by MEMIT, then consolidated
CYCLES = 2                # consolidation cycles per arm
LR = 1e-3
EPOCHS = 4
HPARAMS = {}              # overrides of the MEMIT hyperparameters
MACHINE = {}              # other MachineConfig settings (e.g. smaller anchors for quick runs)
PPL_TOKENS = 4096
N_LOCALITY = 0
SEED = 0
OUT_DIR = "data/results"
FIG_DIR = "figures"

# %%
import pandas as pd

from logos_core.lab.experiments import alignment_tax, fresh_machine
from logos_core.measure.facts import load_bank
from logos_core.lab.plotting import draw
from logos_core.lab.report import claim, resolve, save_results, set_seed

set_seed(SEED)
params = dict(MODELS=MODELS, DEVICE=DEVICE, N_FACTS=N_FACTS, CYCLES=CYCLES, LR=LR, EPOCHS=EPOCHS,
              HPARAMS=HPARAMS, MACHINE=MACHINE, PPL_TOKENS=PPL_TOKENS, N_LOCALITY=N_LOCALITY, SEED=SEED)
bank = load_bank()
facts = bank.sample(N_FACTS, seed=SEED + 2)

# %% [markdown]
# ## Cumulative vs non-cumulative fusing, per model
# Each arm starts from the unedited model: MEMIT writes the facts, then `CYCLES` sleep cycles
# (consolidate, gate, dissolve). Non-cumulative: each cycle's adapter trains on the base model and
# replaces the previous one (the original's way).

# %%
rows = []
for model in MODELS:
    for cumulative in (True, False):
        m, ev = fresh_machine(model, DEVICE, bank, hparams=HPARAMS, lr=LR, epochs=EPOCHS, seed=SEED,
                              ppl_tokens=PPL_TOKENS, n_locality=N_LOCALITY, cumulative=cumulative, **MACHINE)
        for r in alignment_tax(m, facts, CYCLES, ev):
            rows.append({"model": model, "fusing": "cumulative" if cumulative else "non-cumulative", **r})
            print(f"{model} {rows[-1]['fusing']:14s} {r['when']}: chat {r['chat']:.2f}, LoRA alone "
                  f"{r['lora_alone_chat']:.2f}, start loss {r.get('start_loss') or float('nan'):.2f}")
df = pd.DataFrame(rows)
df[["model", "fusing", "when", "chat", "raw", "lora_alone_chat", "start_loss", "final_loss"]].round(3)

# %%
results = {"rows": rows}
save_results("02_alignment_tax", results, resolve(OUT_DIR), params)
for p in draw("02_alignment_tax", {"results": results}, resolve(FIG_DIR)):
    print("wrote", p.name)

# %% [markdown]
# ## What we found
# The paper: one LoRA pass keeps about 63% of the recall on 8B (a 37% tax) and the starting loss
# falls from 2.91 to 0.62 by cycle 2 under cumulative fusing. The table printed below is this run's;
# the tax here is chat recall with the edits minus chat recall from LoRA alone after cycle 1. The
# paper's models are 3B-70B; on the bundled 135M model the comparison across sizes needs larger
# models in `MODELS` on a GPU, e.g. `make reproduce PARAMS="-y 'MODELS: [135m, 3b]'"`.
#
# **Sizes.** 10 facts and 2 cycles per arm at every `SCALE` (the paper gives no fact count, and it
# compares the starting loss by cycle 2, which two cycles show): 647 s on a 2-core CPU at 2 threads.
#
# Our run (`make reproduce`, `data/results/02_alignment_tax.json`, `figures/02_alignment_tax.png`;
# 10 facts, 2 cycles per arm): chat recall 1.00 with the edits, and 1.00 / 1.00 from LoRA alone
# after one pass (cumulative / non-cumulative), so **no alignment tax** here (the paper's 37% on 8B).
# Starting loss per cycle, cumulative 1.25 -> 0.03, non-cumulative 1.25 -> 1.26: the
# paper's direction (2.91 -> 0.62 by cycle 2) at a lower start; with cumulative fusing the first
# cycle's adapter already holds the facts and the second only confirms them, where a fresh adapter
# on the base model starts from scratch each time. After the second cycle, cumulative / non-cumulative:
# raw 0.50 / 0.40 (the facts move into the chat pathway as the edits dissolve), locality 0.92 / 0.91,
# bleed 0.82 / 0.84, drift +4.6% / +4.5%: the same side effects notebook 06 measures.

# %% tags=["nbval-check-output"]
for (model, fusing), g in df.groupby(["model", "fusing"], sort=False):
    c0, c1 = g.iloc[0], g.iloc[1]
    print(f"{model}, {fusing}: chat with edits {c0['chat']:.2f}; after one pass LoRA alone "
          f"{c1['lora_alone_chat']:.2f} (tax {c0['chat'] - c1['lora_alone_chat']:+.2f}); starting loss per cycle "
          + " -> ".join(f"{x:.1f}" for x in g["start_loss"].dropna()))
cum = df[df["fusing"] == "cumulative"]["start_loss"].dropna().tolist()
non = df[df["fusing"] == "non-cumulative"]["start_loss"].dropna().tolist()
_ = claim("cumulative fusing starts each later cycle at a lower loss than non-cumulative",
          all(a < b for a, b in zip(cum[1:], non[1:])))
