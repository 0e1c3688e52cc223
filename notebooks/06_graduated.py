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
# # 06 · Per-Fact Graduated Consolidation Resolves the Capacity Ceiling in Weight-Edited Language Models
#
# *Paper 6 of the Sleeping-LLM series (Zenodo, DOI 10.5281/zenodo.18779159).*
#
# **Question.** Can facts move from fast weight edits (MEMIT, "hippocampus") into slow LoRA weights
# ("neocortex") one by one, each edit dissolving only once LoRA alone recalls its fact?
#
# **Claims tested.** 100% of facts advance and chat recall is 1.00 at 5/10/15/20 facts; cumulative
# fusing drops the starting loss 2.91 -> 0.62 by cycle 2; some facts are consistently hardest.
#
# **The cycle** (`logos_core/sleep/cycle.py`): audit -> null-space refresh of degraded stage-0 facts ->
# consolidate (a LoRA adapter trained with every edit at scale 0, then fused into the already-fused
# model) -> gate (each fact asked in chat with *its own* edit at 0: advance one stage if recalled,
# else drop back one) -> dissolve (each edit to its fact's scale), under a perplexity guard that
# rolls the whole cycle back past +10% drift. Stage $s$ sets the fact's edit scale
#
# $$W = W_0 + \textstyle\sum_a \tfrac{\alpha}{r} B_a A_a + \sum_f \sigma(s_f)\,\Delta_f, \qquad \sigma = (1.0, 0.5, 0.1, 0.0).$$
#
# The original set every edit to the scale of the least-advanced fact and reset all stages on each
# re-injection; here scales and stages are per fact.
#
# **How we measure.** Chat recall by greedy generation on the bank's own questions (never trained on:
# LoRA trains on other wordings), with every edit at its scheduled scale, and from LoRA alone (all
# edits at 0); paraphrase and raw recall; locality, bleed and perplexity drift.

# %% tags=["parameters"]
MODEL = "135m"              # alias (135m, 3b, 8b, 70b), Hugging Face id, or local path
DEVICE = "auto"             # cuda, mps, cpu, or auto
N_FACTS_LIST = [5, 10, 15, 20]  # memory sizes (paper: 5/10/15/20)
CYCLES = 4                  # sleep cycles per size (the bar: stage 3 within 4)
LR = 1e-3                   # LoRA learning rate per consolidation
EPOCHS = 4                  # passes over the examples per consolidation
LORA = {}                   # LoraConfig settings other than the machine's defaults (memory/config.py)
HPARAMS = {}                # overrides of the model's MEMIT hyperparameters
MACHINE = {}                # other MachineConfig settings (e.g. smaller anchors for quick runs)
PPL_LIMIT = 0.10            # the guard: a cycle drifting past this is rolled back
PPL_TOKENS = 4096
N_LOCALITY = 0              # locality probes used; 0 means the whole set
SEED = 0
OUT_DIR = "data/results"
FIG_DIR = "figures"

# %%
import pandas as pd

from logos_core.lab.experiments import fresh_machine, graduated
from logos_core.measure.facts import load_bank
from logos_core.lab.plotting import draw
from logos_core.lab.report import claim, resolve, save_results, set_seed

set_seed(SEED)
params = dict(MODEL=MODEL, DEVICE=DEVICE, N_FACTS_LIST=N_FACTS_LIST, CYCLES=CYCLES, LR=LR, EPOCHS=EPOCHS, LORA=LORA,
              HPARAMS=HPARAMS, MACHINE=MACHINE, PPL_LIMIT=PPL_LIMIT, PPL_TOKENS=PPL_TOKENS, N_LOCALITY=N_LOCALITY, SEED=SEED)
bank = load_bank()

# %% [markdown]
# ## Wake, then sleep, at each memory size
# Each size starts from the unedited model and its own facts.

# %%
cycle_rows, fact_rows, finals = [], [], {}
for n in N_FACTS_LIST:
    # a fresh base model for each size: consolidation fuses into it
    m, ev = fresh_machine(MODEL, DEVICE, bank, hparams=HPARAMS, lr=LR, epochs=EPOCHS, seed=SEED, lora=LORA,
                          ppl_tokens=PPL_TOKENS, n_locality=N_LOCALITY, ppl_limit=PPL_LIMIT, **MACHINE)
    print("consolidation:", m.cfg.lora)
    facts = bank.sample(n, seed=SEED + n)
    rows, per_fact = graduated(m, facts, ev, CYCLES, on_row=lambda r: print(
        f"{r['n_facts']:2d} facts, cycle {r['cycle']}: stage 3 {r['at_top']:.2f}, chat {r['chat']:.2f} "
        f"(LoRA alone {r['lora_alone_chat']:.2f}), raw {r['raw']:.2f}, locality {r['locality']:.2f}, "
        f"drift {r['ppl_drift']:+.1%}, start loss {r['start_loss']:.2f}, {r['sleep_seconds']:.0f} s"
        + (" ROLLED BACK" if r["rolled_back"] else "")))
    cycle_rows += rows
    fact_rows += per_fact
    finals[n] = rows[-1]
pd.DataFrame(cycle_rows).drop(columns=["ppl"], errors="ignore").round(3)

# %% [markdown]
# ## Which facts are hardest
# Facts ordered by the cycle in which they first reached stage 3 (never: last).

# %%
df = pd.DataFrame(fact_rows)
first_top = (df[df["stage"] == 3].groupby(["n_facts", "fact"])["cycle"].min()
             .reindex(pd.MultiIndex.from_frame(df[["n_facts", "fact"]].drop_duplicates())))
hardest = first_top.fillna(float("inf")).sort_values(ascending=False).reset_index().rename(
    columns={"cycle": "first cycle at stage 3"})
by_relation = (df[df["cycle"] == df["cycle"].max()].groupby("relation")["stage"].mean().sort_values())
hardest.head(10)

# %%
results = {"cycles": cycle_rows, "facts": fact_rows, "by_relation": by_relation.to_dict(),
           "hardest": hardest.head(10).astype({"first cycle at stage 3": str}).to_dict("records")}
save_results("06_graduated", results, resolve(OUT_DIR), params)
for p in draw("06_graduated", {"results": results}, resolve(FIG_DIR)):
    print("wrote", p.name)

# %% [markdown]
# ## What we found
# The paper reports 100% advancement and chat recall 1.00 at every size, and a starting loss falling
# from 2.91 to 0.62 by cycle 2 under cumulative fusing. Our run on 20 facts, 4 cycles, default settings
# (three training wordings per relation; 2-core CPU, 1 thread, `-y "N_FACTS_LIST: [20]"`;
# `data/results/06_graduated.json`):
#
# | cycle | stage 3 | chat | LoRA alone | raw | paraphrase | locality | bleed | drift | starting loss | sleep s |
# |---|---|---|---|---|---|---|---|---|---|---|
# | 1 | 0.00 | 1.00 | 1.00 | 0.95 | | 0.94 | | +4.5% | 0.92 | 1001 |
# | 2 | 0.00 | 1.00 | 1.00 | 0.95 | | 0.91 | | +3.4% | 0.23 | 824 |
# | 3 | 1.00 | 1.00 | 1.00 | 0.95 | | 0.94 | | +2.8% | 0.20 | 811 |
# | 4 | 1.00 | 1.00 | 1.00 | 0.95 | 1.00 | 0.95 | | +3.4% | 0.21 | 669 |
#
# (An earlier run, with the knowledge distillation of anchors.py `know`; blank cells: see the JSON.)
# Before it, the same run held locality at 0.82-0.85: distilling the birth model's whole distribution
# over its answers to 135 general-knowledge questions (chat and raw; not the locality probes, though of
# the same kinds: capitals, languages, continents) lifted it to 0.91-0.95.
#
# So the paper's central claim holds here: all 20 facts were fully consolidated (edit dissolved to 0)
# within 4 cycles, chat recall stayed 1.00 with every edit at its scheduled scale and from LoRA alone,
# and the starting loss fell as the paper says (ours 1.02 -> 0.19 by cycle 2; paper 2.91 -> 0.62).
# With one training wording per relation (the earlier default) the same run reached 0.95 at stage 3 and
# paraphrase recall fell to 0.73; three wordings keep it at 0.98.
# **Where we differ:** what it cost. Locality held at 0.82-0.85 (the bar is 0.9), and bleed (people
# never told about, answered with a told object) stayed at 0.63-0.68: the adapter partly learns
# "relation -> object" rather than "person -> object". Raw recall falls as the edits dissolve (0.95 ->
# 0.85): the facts now live in the chat pathway, which is what consolidation is for. Knowledge replay
# (the birth model's answers to other general-knowledge questions, only where it was right) lifted
# locality from 0.58-0.77 to 0.85; since then, training only on the upper 18 blocks, stopping at a fact
# loss of 0.3, or halving the learning rate each left chat locality at 0.82-0.84
# (one consolidation of 20 facts each, with earlier code), and a 2-day lifelong run with 2 facts
# a day had 0.85 after its first night: the loss of locality comes with training at all, not with the
# number of facts.
# %% tags=["NBVAL_CHECK_OUTPUT"]
table = pd.DataFrame([{"facts": n, "stage 3": r["at_top"], "chat": r["chat"], "LoRA alone": r["lora_alone_chat"],
                       "raw": r["raw"], "paraphrase": r["paraphrase"], "locality": r["locality"],
                       "drift": r["ppl_drift"]} for n, r in finals.items()])
print(f"advancement table after {CYCLES} cycles:")
print(table.round(2).to_string(index=False))
print("starting loss per cycle:", {n: [round(r["start_loss"], 2) for r in cycle_rows if r["n_facts"] == n]
                                   for n in N_FACTS_LIST})
big = finals[max(N_FACTS_LIST)]
claim(f"{max(N_FACTS_LIST)} facts: >= 90% reach stage 3 within {CYCLES} cycles", big["at_top"] >= 0.9, strict=False)
claim("chat recall >= 0.95 with every edit at its scheduled scale", big["chat"] >= 0.95, strict=False)
claim("locality >= 0.9 of baseline and perplexity drift <= 10%",
      big["locality"] >= 0.9 and big["ppl_drift"] <= 0.10, strict=False)
