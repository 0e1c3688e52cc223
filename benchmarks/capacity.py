"""Notebook 05's experiments one arm at a time, so the arms can run side by side in separate processes
(on a GPU machine the 135M model is launch-bound: four processes take about as long as one).

    python benchmarks/capacity.py capacity --arm plain      [--facts 150 --every 10]
    python benchmarks/capacity.py capacity --arm null-space
    python benchmarks/capacity.py convergence --arm care     [--facts 30 --cycles 4]
    python benchmarks/capacity.py convergence --arm careless [--cycles 6]

Same facts, seeds, machine settings and measuring stick as notebooks/05_convergence.py. Each row is
printed and written to <out>/05_<part>_<arm>.json as soon as it is measured, so a run cut off by a time
limit keeps what it measured.
"""
import argparse
import functools

from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.experiments import capacity_curve, evaluator, maintenance, memit_only
from logos_core.lab.report import resolve, save_results, set_seed
from logos_core.measure.facts import load_bank

ap = argparse.ArgumentParser()
ap.add_argument("part", choices=["capacity", "convergence"])
ap.add_argument("--arm", required=True, choices=["plain", "null-space", "care", "careless"])
ap.add_argument("--facts", type=int, help="default: 150 (capacity), 30 (convergence), as notebook 05")
ap.add_argument("--every", type=int, default=10)
ap.add_argument("--cycles", type=int, help="default: 4 (care), 6 (careless), as notebook 05")
ap.add_argument("--model", default="135m")
ap.add_argument("--device", default="auto")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--ppl-tokens", type=int, default=4096)
ap.add_argument("--out", default="data/results")
a = ap.parse_args()
if (a.part == "capacity") != (a.arm in ("plain", "null-space")):
    raise SystemExit("capacity takes --arm plain or null-space; convergence takes --arm care or careless")
set_seed(a.seed)
bank = load_bank()
lm = load_model(a.model, device=a.device)
hp = load_hparams(a.model)
name = f"05_{a.part}_{a.arm}"
rows = []
machine = functools.partial(memit_only, lm, hp, a.ppl_tokens)    # as notebook 05


def keep(r):
    rows.append(r)
    print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
    save_results(name, {"rows": rows}, resolve(a.out), vars(a))


if a.part == "capacity":
    # the notebook's sample for the curve (seed SEED), written plain or under the projector
    facts = bank.sample(a.facts or 150, seed=a.seed)
    capacity_curve(machine(wake_nullspace=a.arm == "null-space"), facts, a.every, on_row=keep)
else:
    # both arms start from the same damage: the notebook's 30 facts written by plain sequential MEMIT
    ev = evaluator(lm, bank, a.ppl_tokens)
    facts = bank.sample(a.facts or 30, seed=a.seed + 1)
    m = machine(wake_nullspace=False, refresh_projected=a.arm == "care")
    m.inject(facts)
    done = maintenance(m, facts, ev, a.cycles or (4 if a.arm == "care" else 6), on_row=keep)
    rows[:] = done   # with cycle 0 (before any sleep), which maintenance does not pass to on_row
    save_results(name, {"rows": rows}, resolve(a.out), vars(a))
    print(name, "cycle 0:", {k: round(v, 3) for k, v in done[0].items() if isinstance(v, float)})
