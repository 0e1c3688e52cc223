"""Recall of the whole fact bank and the locality set on the unedited model: data/results/bank_baseline.json.

Run: python data/facts/measure_baseline.py [--model 135m]
"""
import argparse
import time

from logos_core.base.models import load_model
from logos_core.lab.report import save_results
from logos_core.measure import evaluate as E
from logos_core.measure.facts import load_bank, load_locality


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="135m")
    args = ap.parse_args()
    lm = load_model(args.model)
    bank = load_bank()
    t0 = time.perf_counter()
    r = E.recall(lm, bank.facts, modes=("raw", "chat"))
    secs = time.perf_counter() - t0
    loc = E.locality(lm, load_locality())
    out = {"n_facts": len(bank.facts), "raw": r["raw"], "chat": r["chat"], "seconds": secs,
           "facts_per_s": len(bank.facts) / secs, "locality_raw": loc["raw"], "locality_chat": loc["chat"],
           "hits": [f.id for f, a, b in zip(bank.facts, r["raw_hits"], r["chat_hits"]) if a or b]}
    save_results("bank_baseline", out, "data/results", {"model": args.model})
    print({k: v for k, v in out.items() if k != "hits"})


if __name__ == "__main__":
    main()
