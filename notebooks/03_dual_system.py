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
# # 03 · Dual-System Memory Consolidation: Combining Direct Weight Editing with Sleep-Wake Training
#
# *Paper 3 of the Sleeping-LLM series (Zenodo, series DOI 10.5281/zenodo.18779159).*
#
# **Question.** A day of conversation, then a night of sleep: what does each memory system remember,
# and when? MEMIT is the fast "hippocampal" system (a fact is recalled the moment it is told), LoRA the
# slow "neocortical" one (it learns only in sleep).
#
# **Claim tested.** Combining them (MEMIT during the day, LoRA consolidation at night) gives recall both
# during the day and after it, where MEMIT alone degrades as edits pile up and LoRA alone knows nothing
# until it has slept.
#
# **Arms** (same facts, same order, each from the unedited model; `logos_core/compare.py`):
# - *MEMIT only*: sequential MEMIT edits, nothing at night (the original fast system on its own);
# - *null-space MEMIT*: edits constrained to the null space of ordinary keys and of the facts already
#   held (AlphaEdit); sleep = audit + null-space refresh, no LoRA;
# - *LoRA only*: wake notes the facts; sleep = LoRA consolidation ($W \leftarrow W + \tfrac{\alpha}{r}BA$);
# - *Logos* (the dual system): wake edits; sleep = audit, refresh, consolidate, gate, dissolve (`logos_core/sleep.py`);
# - *RAG*: no weight changes; each statement is embedded (all-MiniLM-L6-v2, shipped in a PyPI package)
#   into a FAISS index, and the 3 nearest statements go into every prompt (`logos_core/retrieval.py`).
#
# **Measured** with one stick (`logos_core/evaluate.py`) for every arm: chat, raw and paraphrase recall
# by greedy generation; locality (known facts still answered) and bleed, with retrieval in the loop for
# RAG, as a deployed system would run; perplexity drift on held-out text; prompt tokens the model reads
# per answer, wake seconds per fact (the once-per-model covariance statistics and projectors are computed
# before the day and not counted), seconds per answer, and the memory's bytes on disk.

# %% tags=["parameters"]
MODEL = "135m"
DEVICE = "auto"
N_FACTS = 20              # facts told during the day
CONVERSATIONS = 4         # conversations they arrive in
NIGHTS = 3                # sleep cycles at the end of the day
LR = 1e-3
EPOCHS = 4
HPARAMS = {}             # overrides of the MEMIT hyperparameters
MACHINE = {}             # other MachineConfig settings (e.g. smaller anchors for quick runs)
PPL_TOKENS = 4096
N_LOCALITY = 0
ARMS = ["MEMIT only", "null-space MEMIT", "LoRA only", "Logos", "RAG"]
RAG_K = 3                 # statements retrieved into each prompt
SEED = 0
OUT_DIR = "data/results"
FIG_DIR = "figures"

# %%
import pandas as pd

from logos_core.compare import arm_machine, costs
from logos_core.experiments import day
from logos_core.facts import load_bank
from logos_core.plotting import draw
from logos_core.report import claim, resolve, save_results, set_seed

set_seed(SEED)
params = dict(MODEL=MODEL, DEVICE=DEVICE, N_FACTS=N_FACTS, CONVERSATIONS=CONVERSATIONS, NIGHTS=NIGHTS, LR=LR,
              EPOCHS=EPOCHS, HPARAMS=HPARAMS, MACHINE=MACHINE, PPL_TOKENS=PPL_TOKENS, N_LOCALITY=N_LOCALITY, ARMS=ARMS,
              RAG_K=RAG_K, SEED=SEED)
bank = load_bank()
facts = bank.sample(N_FACTS, seed=SEED + 3)

# %%
rows, compare = [], []
for arm in ARMS:
    m, ev = arm_machine(arm, MODEL, DEVICE, bank, hparams=HPARAMS, lr=LR, epochs=EPOCHS, seed=SEED,
                        ppl_tokens=PPL_TOKENS, n_locality=N_LOCALITY, rag_k=RAG_K, **MACHINE)
    day_rows = day(m, facts, CONVERSATIONS, NIGHTS, ev)
    for r in day_rows:
        rows.append({"arm": arm, **r})
        print(f"{arm:16s} {r['when']:16s} ({r['n_facts']:2d} facts): chat {r['chat']:.2f}, raw {r['raw']:.2f}")
    last = day_rows[-1]
    wake = [r["wake_seconds_per_fact"] for r in day_rows if "wake_seconds_per_fact" in r]
    compare.append({"arm": arm, **{k: last[k] for k in ("chat", "raw", "paraphrase", "locality", "bleed", "ppl_drift")},
                    "lora_alone_chat": last["lora_alone_chat"], "wake_seconds_per_fact": sum(wake) / len(wake),
                    "sleep_seconds": sum(r.get("sleep_seconds", 0.0) for r in day_rows), **costs(m, facts)})
    del m, ev
df = pd.DataFrame(rows)
df[["arm", "when", "n_facts", "chat", "raw", "lora_alone_chat", "locality", "ppl_drift"]].round(3)

# %% [markdown]
# ## The comparison: every arm after the last night
# Quality (recall, side effects) and cost (prompt tokens per answer, wake and answer latency, bytes on
# disk). Latencies are this run's machine; the checked cell below prints only the quality columns.

# %%
cmp = pd.DataFrame(compare).set_index("arm")
cmp.round(3)

# %%
results = {"rows": rows, "compare": compare}
save_results("03_dual_system", results, resolve(OUT_DIR), params)
for p in draw("03_dual_system", {"results": results}, resolve(FIG_DIR)):
    print("wrote", p.name)

# %% [markdown]
# ## What we found
# The paper argues the dual system combines MEMIT's instant recall with LoRA's durability. The checked
# cell prints, per arm, chat recall at the end of the day (before sleep) and after the last night,
# with the side effects; the committed default run's numbers and how they compare with the paper's are
# in the closing notes.

# %% tags=["NBVAL_CHECK_OUTPUT"]
for arm, g in df.groupby("arm", sort=False):
    day_end, night = g.iloc[CONVERSATIONS - 1], g.iloc[-1]
    print(f"{arm:16s}: end of day chat {day_end['chat']:.2f} raw {day_end['raw']:.2f}; after {NIGHTS} nights "
          f"chat {night['chat']:.2f} raw {night['raw']:.2f} paraphrase {night['paraphrase']:.2f} "
          f"(LoRA alone {night['lora_alone_chat']:.2f}), locality {night['locality']:.2f}, drift {night['ppl_drift']:+.1%}")
end = {arm: g.iloc[-1]["chat"] for arm, g in df.groupby("arm")}
if {"Logos", "MEMIT only", "LoRA only"} <= set(end):
    claim("after the night the dual system recalls at least as much in chat as either system alone",
          end["Logos"] >= max(end["MEMIT only"], end["LoRA only"]), strict=False)
