"""CounterFact and zsRE through the project's measuring stick: plain MEMIT, null-space MEMIT and the
Logos loop side by side, teacher-forced and generated.

    python benchmarks/field_edits.py --requests data/external/counterfact_edit_dev.json --n 100 \\
        [--batch 1] [--arms memit nullspace logos] [--cycles 1] [--out NAME]

Edits the first N records in order (`--batch 1`: one at a time, sequential; `--batch N`: one edit of
all), scores every record written so far after 10, 50, 100, 200 of them, and writes
data/results/field_edits/NAME.json and NAME.png beside it. Any file in ROME/MEMIT's,
EasyEdit's CounterFact or MEND's zsRE format is read by path (logos_core/measure/requests.py).
"""
import argparse
import sys
from pathlib import Path

from logos_core.base.errors import LogosError
from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.experiments import fresh_machine
from logos_core.lab.field import LITERATURE, edit_and_score, logos_loop, unedited
from logos_core.lab.plotting import draw_field_edits
from logos_core.lab.report import resolve, save_results, set_seed
from logos_core.measure.facts import load_bank
from logos_core.measure.requests import load_cases
from logos_core.wake.stats import layer_stats

SHOW = ("edits", "efficacy", "generalisation", "specificity", "raw", "chat", "paraphrase", "neighbours_kept",
        "neighbours_say_new", "ppl_drift", "seconds_per_edit", "rolled_back", "cycle_ppl_drift")


def line(r: dict) -> str:
    head = f"{r.get('arm', 'unedited'):9s} {r.get('phase', ''):8s}"
    return head + "  ".join(f"{k} {r[k]:.3f}" if isinstance(r[k], float) else f"{k} {r[k]}" for k in SHOW if k in r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", required=True, help="a CounterFact or zsRE records file (JSON)")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1, help="facts per edit (1: sequential)")
    ap.add_argument("--arms", nargs="+", default=["memit", "nullspace", "logos"],
                    choices=["memit", "nullspace", "logos"])
    ap.add_argument("--cycles", type=int, default=1, help="sleep cycles of the logos arm")
    ap.add_argument("--model", default="135m")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ppl-tokens", type=int, default=4096)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    try:
        cases = load_cases(a.requests, a.n)
    except LogosError as e:
        print(f"logos: {e}", file=sys.stderr)
        raise SystemExit(2)
    name = f"field_edits/{a.out or Path(a.requests).stem + f'_{len(cases)}'}"
    set_seed(a.seed)
    lm, hp = load_model(a.model), load_hparams(a.model)
    base = unedited(lm, cases, a.ppl_tokens)
    print(line(base["scores"]), flush=True)
    rows = []
    results = {"requests": a.requests, "kind": cases[0].kind, "n": len(cases), "unedited": base["scores"],
               "literature_teacher_forced": LITERATURE, "rows": rows}

    def on_row(r):
        rows.append(r)
        print(line(r), flush=True)
        save_results(name, results, "data/results", vars(a))

    stats = layer_stats(lm, hp)
    for arm in [x for x in a.arms if x != "logos"]:
        edit_and_score(lm, hp, stats, cases, base, arm=arm, batch=a.batch, on_row=on_row)
    if "logos" in a.arms:   # last: sleep's consolidation changes the weights for good
        del lm
        m, _ = fresh_machine(a.model, "auto", load_bank(), seed=a.seed, ppl_tokens=a.ppl_tokens)
        logos_loop(m, cases, base, a.cycles, on_row=on_row)
    for p in draw_field_edits({"results": results}, resolve("data/results/field_edits"), Path(name).name):
        print("wrote", p)


if __name__ == "__main__":
    main()
