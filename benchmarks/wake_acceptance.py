"""Wake's acceptance numbers on the bundled model, default hyperparameters.

    python benchmarks/wake_acceptance.py --seeds 11 12 13 [--plain] [--batch] [--hparams JSON] [--out NAME]

Per seed: 10 bank facts edited one at a time (with --batch also a batch of 20 other facts in one
edit). Each: raw, chat and paraphrase recall, locality (vs the unedited model), bleed and perplexity
drift on 4,096 held-out tokens, seconds per edit and target-search steps. Edits are null-space
constrained as the machine writes them (each new edit also leaves the earlier facts' keys alone);
`--plain` uses plain MEMIT. Prints each run and the mean over seeds; writes
data/results/wake_acceptance/NAME.json. The bar: raw and chat >= 0.9, locality >= 0.95, bleed <= 0.1,
drift <= 5%, on seeds that chose no setting (README, "How these settings were chosen").
"""
import argparse
import dataclasses
import json

from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.experiments import evaluator, wake_quality
from logos_core.lab.report import save_results
from logos_core.measure.facts import load_bank
from logos_core.wake.nullspace import null_projectors
from logos_core.wake.stats import layer_stats

KEYS = ("raw", "chat", "paraphrase", "locality", "bleed", "ppl_drift", "seconds_per_edit", "steps")


def run(lm, hp, bank, seeds: list, plain: bool = False, batch: bool = False, sequential: bool = True,
        label: str = "") -> dict:
    stats = layer_stats(lm, hp)
    P = None if plain else null_projectors(lm, hp, stats)
    ev = evaluator(lm, bank)
    out = {}
    for seed in seeds:
        runs = [(f"sequential_10_seed{seed}", bank.sample(10, seed=seed), False)] if sequential else []
        if batch:
            runs.append((f"batch_20_seed{seed}", bank.sample(20, seed=seed + 1), True))
        for name, facts, is_batch in runs:
            out[name] = wake_quality(lm, hp, stats, ev, facts, batch=is_batch, projectors=P)
            print(label, name, {k: round(out[name][k], 3) for k in KEYS}, flush=True)
    for kind in ("sequential_10", "batch_20"):
        rows = [v for k, v in out.items() if k.startswith(kind)]
        if rows:
            out[f"{kind}_mean"] = {k: sum(r[k] for r in rows) / len(rows) for k in KEYS}
            print(label, f"{kind}, mean of {len(rows)} seeds:", {k: round(v, 3) for k, v in out[f"{kind}_mean"].items()})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    ap.add_argument("--plain", action="store_true", help="plain MEMIT instead of the null-space update")
    ap.add_argument("--batch", action="store_true", help="also a batch of 20 facts in one edit per seed")
    ap.add_argument("--hparams", default="{}", help="JSON overrides of the MEMIT hyperparameters")
    ap.add_argument("--out", default="sequential")
    args = ap.parse_args()
    lm, bank = load_model("135m"), load_bank()
    hp = dataclasses.replace(load_hparams("135m"), **json.loads(args.hparams))
    out = run(lm, hp, bank, args.seeds, args.plain, args.batch)
    save_results(f"wake_acceptance/{args.out}", out, "data/results",
                 {"seeds": args.seeds, "plain": args.plain, "hparams": hp.to_dict()})


if __name__ == "__main__":
    main()
