"""The wake issue's acceptance numbers on the bundled model, default hyperparameters.

    python benchmarks/wake_acceptance.py [--seeds 1 2 3] [--plain] [--skip-batch] [--skip-sequential]
                                         [--hparams JSON] [--out NAME]

Per seed: (1) 10 bank facts edited one at a time; (2) a batch of 20 other facts in one edit. Each:
raw, chat and paraphrase recall, locality (vs the unedited model), bleed and perplexity drift on
4,096 held-out tokens, plus seconds per edit. Edits are null-space constrained as the machine writes
them (each new edit also leaves the earlier facts' keys alone); `--plain` uses plain MEMIT. Prints
each run and the mean over seeds; writes data/results/wake_acceptance_135m.json.
"""
import argparse
import dataclasses
import json
import time

from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.experiments import write_facts
from logos_core.lab.report import save_results
from logos_core.measure import evaluate as E
from logos_core.measure.facts import heldout_text, load_bank, load_locality
from logos_core.wake.nullspace import null_projectors
from logos_core.wake.stats import layer_stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--plain", action="store_true", help="plain MEMIT instead of the null-space update")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-sequential", action="store_true")
    ap.add_argument("--hparams", default="{}", help="JSON overrides of the MEMIT hyperparameters")
    ap.add_argument("--out", default="wake_acceptance_135m")
    args = ap.parse_args()
    lm, bank = load_model("135m"), load_bank()
    hp = dataclasses.replace(load_hparams("135m"), **json.loads(args.hparams))
    stats = layer_stats(lm, hp)
    P = None if args.plain else null_projectors(lm, hp, stats)
    ev = E.Evaluator(lm, load_locality(), bank.bystanders, bank.relations, heldout_text(), ppl_tokens=4096)
    ev.baseline()
    out = {}
    for seed in args.seeds:
        runs = [] if args.skip_sequential else [(f"sequential_10_seed{seed}", bank.sample(10, seed=seed), False)]
        if not args.skip_batch:
            runs.append((f"batch_20_seed{seed}", bank.sample(20, seed=seed + 1), True))
        for name, facts, batch in runs:
            t0 = time.perf_counter()
            book = write_facts(lm, hp, stats, facts, batch=batch, projectors=P)
            secs = (time.perf_counter() - t0) / (1 if batch else len(facts))
            m = ev.measure(facts)
            out[name] = {**E.summary(m), "seconds_per_edit": secs, "delta_norm_rel": book.total_delta_norm(),
                         "misses_chat": [(f.chat_question, a) for f, a, h in
                                         zip(facts, m["chat_answers"], m["chat_hits"]) if not h]}
            print(name, {k: round(v, 3) for k, v in E.summary(m).items() if isinstance(v, float)},
                  f"{secs:.0f} s per edit", flush=True)
            for eid in list(book.edits):
                book.remove(eid)
    for kind in ("sequential_10", "batch_20"):
        runs = [v for k, v in out.items() if k.startswith(kind)]
        if runs:
            mean = {k: sum(r[k] for r in runs) / len(runs) for k in ("raw", "chat", "paraphrase", "locality",
                                                                   "bleed", "ppl_drift")}
            out[f"{kind}_mean"] = mean
            print(f"{kind}, mean of {len(runs)} seeds:", {k: round(v, 3) for k, v in mean.items()})
    save_results(args.out, out, "data/results",
                 {"seeds": args.seeds, "plain": args.plain, "hparams": hp.to_dict()})


if __name__ == "__main__":
    main()
