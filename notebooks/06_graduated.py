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
N_FACTS_LIST = [20]         # memory sizes (paper: 5/10/15/20; the largest is the claim's)
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
# from 2.91 to 0.62 by cycle 2 under cumulative fusing.
#
# **Sizes.** `make reproduce` runs one memory of 20 facts for 4 cycles (`SCALE=paper`: memories of 5,
# 10, 15 and 20): 20 facts is the paper's largest memory and the size of its claim, and 4 cycles its
# bar (a fact needs three to reach stage 3). The three smaller memories would add about 24 minutes
# here and are reported below from a run of them. 895 s on a 2-core CPU at 2 threads.
#
# Our run (`make reproduce`, `data/results/06_graduated.json`, which records its commit; three training
# wordings per relation, 64 of the anchor rows drawn afresh each epoch), cycle by cycle:
#
# | cycle | stage 3 | chat | LoRA alone | raw | paraphrase | locality | bleed | drift | starting loss | sleep s |
# |---|---|---|---|---|---|---|---|---|---|---|
# | 1 | 0.00 | 0.95 | 1.00 | 1.00 | 1.00 | 0.89 | 0.70 | +5.9% | 0.93 | 140 |
# | 2 | 0.00 | 1.00 | 1.00 | 0.85 | 1.00 | 0.92 | 0.77 | +7.3% | 0.02 | 133 |
# | 3 | 0.95 | 1.00 | 1.00 | 0.85 | 1.00 | 0.95 | 0.78 | +6.8% | 0.01 | 135 |
# | 4 | 1.00 | 1.00 | 1.00 | 0.85 | 1.00 | 0.92 | 0.80 | +5.7% | 0.01 | 88 |
#
# So the paper's central claim holds here: all 20 facts were fully consolidated (edit dissolved to 0)
# within 4 cycles (19 by the third), chat recall was 0.95 after the first cycle and 1.00 after every
# other with every edit at its scheduled scale, 1.00 from LoRA alone, and paraphrase recall stayed
# 1.00. The starting loss falls much further than the paper's (0.93 -> 0.02 by cycle 2; paper 2.91 ->
# 0.62): the first cycle's adapter, fused, already holds the facts, and later cycles only confirm
# them. A cycle on 20 facts costs 133-140 s while all of them learn and 88 s once most have graduated
# (the facts at stage 3 are no longer trained, bar the 8 rehearsed).
# The smaller memories did the same in a run at the paper's sizes (commit 2d829cb, 1987 s;
# `data/results/06_graduated/paper_scale.json`, whose 20-fact memory gave this table's numbers, cycle
# times aside): every fact at stage 3 by cycle 4 (5 and 15 facts by cycle 3, 10 facts 0.80 then
# 1.00), chat recall 1.00 after every cycle, starting loss 1.10-1.37 -> 0.03 by cycle 2.
# **Where we differ:** what it costs the rest of the model. On 20 facts locality ends at 0.92 (0.89
# after the first cycle, under the 0.9 line), perplexity drift at +5.7% (+5.7 to +7.3%), and bleed
# (people never told about, answered with a told object) at 0.70-0.80: the adapter partly learns
# "relation -> object" rather than "person -> object". In the run at the paper's sizes, after the
# fourth cycle locality is 0.93, 0.88, 0.91 and 0.92 at 5, 10, 15 and 20 facts and drift +3.9%,
# +5.2%, +3.9% and +5.7%: the 10-fact memory ends under the 0.9 line. Raw recall falls as the edits
# dissolve (0.85 here after the fourth cycle, 0.60-0.85 across the four memories): the facts now live
# in the chat pathway, which is what consolidation is for. Before the anchors were
# sampled (every one of the ~370 anchor rows in every epoch, 669-1001 s a cycle) a run on 20 facts held
# locality at 0.91-0.95 and drift at +2.8 to +4.5%: the sample costs some locality and drift. The birth
# model's whole answer distribution over 135 general-knowledge questions (chat and raw; not the
# locality probes, though of the same kinds: capitals, languages, continents) is what lifted locality
# from 0.82-0.85 to over 0.9; with one training wording per relation instead of three, the run reached
# 0.95 at stage 3 and paraphrase recall fell to 0.73.
# %% tags=["nbval-check-output"]
table = pd.DataFrame([{"facts": n, "stage 3": r["at_top"], "chat": r["chat"], "LoRA alone": r["lora_alone_chat"],
                       "raw": r["raw"], "paraphrase": r["paraphrase"], "locality": r["locality"],
                       "drift": r["ppl_drift"]} for n, r in finals.items()])
print(f"advancement table after {CYCLES} cycles:")
print(table.to_string(index=False, float_format="{:.2f}".format))
print("starting loss per cycle:", {n: [round(r["start_loss"], 1) for r in cycle_rows if r["n_facts"] == n]
                                   for n in N_FACTS_LIST})
big = finals[max(N_FACTS_LIST)]
claim(f"{max(N_FACTS_LIST)} facts: >= 90% reach stage 3 within {CYCLES} cycles", big["at_top"] >= 0.9)
claim("chat recall >= 0.95 with every edit at its scheduled scale", big["chat"] >= 0.95)
_ = claim("locality >= 0.9 of baseline and perplexity drift <= 10%",
          big["locality"] >= 0.9 and big["ppl_drift"] <= 0.10)
