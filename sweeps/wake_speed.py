"""The sweep that chose the target search's schedule (logos_core/hparams/135m.json: v_lr, v_steps,
early_stop_loss, stop_context_nll): each setting writes 10 facts one at a time per seed, as
benchmarks/wake_acceptance.py does, on the seeds that choose (0-4), never on the reporting seeds.

    python sweeps/wake_speed.py [--seeds 0 1 2 3 4] [--only NAME ...]

Writes data/results/sweeps/wake_speed.json: per setting and seed, recall (raw, chat, paraphrase),
locality, bleed, drift, seconds per edit and steps; the pick is the fastest setting whose mean chat
and raw recall are within 0.05 of the 40-step search's and whose every seed meets the bar.
"""
import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from wake_acceptance import run  # noqa: E402

from logos_core.base.hparams import load_hparams  # noqa: E402
from logos_core.base.models import load_model  # noqa: E402
from logos_core.lab.report import save_results  # noqa: E402
from logos_core.measure.facts import load_bank  # noqa: E402

BEFORE = {"v_lr": 0.5, "v_steps": 40, "early_stop_loss": 0.01, "stop_context_nll": None}
SETTINGS = {
    "adam_lr0.5_40_steps": BEFORE,                                        # the schedule before
    "lr2_until_argmax_everywhere": {**BEFORE, "v_lr": 2.0, "v_steps": 25, "early_stop_loss": 1e9,
                                    "stop_context_nll": 0.69},           # ENCORE's rule (p > 1/2)
    "lr2_until_worst_0.3": {**BEFORE, "v_lr": 2.0, "v_steps": 25, "early_stop_loss": 1e9, "stop_context_nll": 0.3},
    "lr1_until_worst_0.3": {**BEFORE, "v_lr": 1.0, "v_steps": 25, "early_stop_loss": 1e9, "stop_context_nll": 0.3},
    "lr2_until_mean_0.05": {**BEFORE, "v_lr": 2.0, "v_steps": 25, "early_stop_loss": 0.05},
    "lr2_until_mean_0.03_worst_0.1": {**BEFORE, "v_lr": 2.0, "v_steps": 25, "early_stop_loss": 0.03,
                                      "stop_context_nll": 0.1},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    lm, bank = load_model("135m"), load_bank()
    results = {}
    for name, over in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        results[name] = run(lm, dataclasses.replace(load_hparams("135m"), **over), bank, args.seeds, label=name)
    save_results("sweeps/wake_speed", results, "data/results", {"seeds": args.seeds, "settings": SETTINGS})


if __name__ == "__main__":
    main()
