"""The sweep that chose logos_core/hparams/135m.json: sequential MEMIT of 10 bank facts per setting.

    python benchmarks/sweep_memit_135m.py [--facts 10] [--only NAME]

Each setting edits the same facts one at a time from the unedited model, then measures raw, chat and
paraphrase recall, locality, bleed and perplexity drift. Results: data/results/memit_sweep_135m.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.report import save_results
from logos_core.measure import evaluate as E
from logos_core.measure.facts import heldout_text, load_bank, load_locality
from logos_core.wake.contexts import Request
from logos_core.wake.edits import EditBook
from logos_core.wake.memit import apply_memit
from logos_core.wake.stats import layer_stats

SETTINGS = {
    # Each name overrides logos_core/hparams/135m.json; the measured chat recall on seed 0 follows.
    "generic_chat2_lam1e3": {"n_chat_contexts": 2, "keep_factor": 0.0, "early_stop_loss": 0.05, "v_steps": 25},  # 0.4
    "generic_chat2_lam3e2": {"n_chat_contexts": 2, "keep_factor": 0.0, "early_stop_loss": 0.05, "v_steps": 25,
                             "mom2_weight": 300},                                                                # 0.4
    "chat2_keep1": {"n_chat_contexts": 2, "early_stop_loss": 0.05, "v_steps": 25},                               # 0.6
    "chat2_keep1_anon2": {"n_chat_contexts": 2, "n_anon_contexts": 2, "early_stop_loss": 0.05, "v_steps": 25},   # 0.6
    "chat2_keep1_es0.01": {"n_chat_contexts": 2},                                                                # 0.8
    "chat2_keep2_es0.01": {"n_chat_contexts": 2, "keep_factor": 2.0},                                            # seed 1: 0.7
    "default": {},                                                                                                # 0.8; seed 1: 0.6
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", type=int, default=10)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    bank = load_bank()
    facts = bank.sample(args.facts, seed=args.seed)
    rows = []
    for name, over in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        lm = load_model("135m")
        hp = dataclasses.replace(load_hparams("135m"), **over)
        stats = layer_stats(lm, hp)
        ev = E.Evaluator(lm, load_locality(), bank.bystanders, bank.relations, heldout_text(), ppl_tokens=4096)
        ev.baseline()
        book = EditBook(lm, hp)
        t0 = time.perf_counter()
        for f in facts:
            book.add(apply_memit(lm, hp, [Request.from_fact(f)], stats, [f]))
        secs = (time.perf_counter() - t0) / len(facts)
        m = ev.measure(facts)
        row = {"setting": name, **over, **E.summary(m), "seconds_per_edit": secs,
               "delta_norm_rel": book.total_delta_norm()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    save_results("memit_sweep_135m", {"rows": rows}, "data/results", {"facts": args.facts, "seed": args.seed})


if __name__ == "__main__":
    main()
