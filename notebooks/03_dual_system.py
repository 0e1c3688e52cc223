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
# **Arms** (same facts, same order, each from the unedited model):
# - *MEMIT only*: wake edits; sleep = audit + null-space refresh (no LoRA);
# - *LoRA only*: wake notes the facts; sleep = LoRA consolidation ($W \leftarrow W + \tfrac{\alpha}{r}BA$);
# - *dual*: wake edits; sleep = audit, refresh, consolidate, gate, dissolve (`logos_core/sleep.py`).

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
SEED = 0
OUT_DIR = "data/results"
FIG_DIR = "figures"

# %%
import pandas as pd

from logos_core.experiments import day, fresh_machine
from logos_core.facts import load_bank
from logos_core.plotting import draw
from logos_core.report import claim, resolve, save_results, set_seed

set_seed(SEED)
params = dict(MODEL=MODEL, DEVICE=DEVICE, N_FACTS=N_FACTS, CONVERSATIONS=CONVERSATIONS, NIGHTS=NIGHTS, LR=LR,
              EPOCHS=EPOCHS, HPARAMS=HPARAMS, MACHINE=MACHINE, PPL_TOKENS=PPL_TOKENS, N_LOCALITY=N_LOCALITY, SEED=SEED)
bank = load_bank()
facts = bank.sample(N_FACTS, seed=SEED + 3)
ARMS = {"MEMIT only": dict(consolidate=False),
        "LoRA only": dict(wake_edit=False, refresh=False),
        "dual": dict()}

# %%
rows = []
for arm, over in ARMS.items():
    m, ev = fresh_machine(MODEL, DEVICE, bank, hparams=HPARAMS, lr=LR, epochs=EPOCHS, seed=SEED,
                          ppl_tokens=PPL_TOKENS, n_locality=N_LOCALITY, **over, **MACHINE)
    for r in day(m, facts, CONVERSATIONS, NIGHTS, ev):
        rows.append({"arm": arm, **r})
        print(f"{arm:10s} {r['when']:16s} ({r['n_facts']:2d} facts): chat {r['chat']:.2f}, raw {r['raw']:.2f}")
df = pd.DataFrame(rows)
df[["arm", "when", "n_facts", "chat", "raw", "lora_alone_chat", "locality", "ppl_drift"]].round(3)

# %%
results = {"rows": rows}
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
    print(f"{arm:10s}: end of day chat {day_end['chat']:.2f} raw {day_end['raw']:.2f}; after {NIGHTS} nights "
          f"chat {night['chat']:.2f} raw {night['raw']:.2f} (LoRA alone {night['lora_alone_chat']:.2f}), "
          f"locality {night['locality']:.2f}, drift {night['ppl_drift']:+.1%}")
end = {arm: g.iloc[-1]["chat"] for arm, g in df.groupby("arm")}
claim("after the night the dual system recalls at least as much in chat as either system alone",
      end["dual"] >= max(end["MEMIT only"], end["LoRA only"]), strict=False)
