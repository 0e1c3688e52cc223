"""Bleed of the unedited bundled model on each notebook's fact sample (same seeds as the notebooks).

Bleed counts never-told people who, asked a told fact's relation, answer with a told object. Some of
that could be the model's own guess ("London") rather than leakage; this measures that base rate.

    python sweeps/bleed_unedited.py      # data/results/bleed_unedited/bleed_unedited.log
"""
import time

from logos_core.base.models import load_model
from logos_core.measure.evaluate import bleed
from logos_core.measure.facts import load_bank

lm = load_model("135m"); bank = load_bank()
# notebook, N_FACTS, the seed its sample is drawn with (SEED=0)
for name, n, seed in [("01", 20, 0), ("03", 20, 3), ("04", 20, 4), ("06 n=20", 20, 20), ("06 n=10", 10, 10)]:
    t = time.perf_counter()
    b = bleed(lm, bank.sample(n, seed=seed), bank.bystanders, bank.relations)
    print(name, b, round(time.perf_counter() - t, 1), flush=True)
