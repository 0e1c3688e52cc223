"""The ridge of the projected solve (hp.nullspace_l2) against a batch edit's side effects, on the bundled model.

    python benchmarks/sweep_l2_batch.py --seed 2 --l2 10 30 100

One batch of 20 bank facts (the sample benchmarks/wake_acceptance.py edits for that seed), null-space
constrained, written once per l2 value and measured (raw, chat, paraphrase, locality, bleed, drift),
then removed. The target vectors are computed once: in a batch edit every z is found on the unedited
model before any weight moves, and removing the edit restores the weights bit for bit, so each l2
value's edit starts from the same z (only keys and solves are recomputed). Writes
data/results/wake_sweep/l2_batch_seed{seed}.json.
"""
import argparse
import dataclasses
import time

from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.experiments import write_facts
from logos_core.lab.report import save_results
from logos_core.measure import evaluate as E
from logos_core.measure.facts import heldout_text, load_bank, load_locality
from logos_core.wake import memit
from logos_core.wake.nullspace import null_projectors
from logos_core.wake.stats import layer_stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--l2", type=float, nargs="+", default=[1.0, 10.0, 30.0])
    args = ap.parse_args()
    lm, bank = load_model("135m"), load_bank()
    base = load_hparams("135m")
    stats = layer_stats(lm, base)
    P = null_projectors(lm, base, stats)
    ev = E.Evaluator(lm, load_locality(), bank.bystanders, bank.relations, heldout_text(), ppl_tokens=4096)
    ev.baseline()
    facts = bank.sample(20, seed=args.seed + 1)
    found, compute_z = {}, memit.compute_z

    def cached_z(lm_, hp_, req):   # z does not depend on nullspace_l2, and the model is unedited each time
        key = (req.subject, req.prompt, req.object)
        if key not in found:
            found[key] = compute_z(lm_, hp_, req)
        return found[key]

    memit.compute_z = cached_z
    out = {}
    for l2 in args.l2:
        hp = dataclasses.replace(base, nullspace_l2=l2)
        t0 = time.perf_counter()
        book = write_facts(lm, hp, stats, facts, batch=True, projectors=P)
        secs = time.perf_counter() - t0
        m = ev.measure(facts)
        out[f"l2_{l2:g}"] = {**E.summary(m), "seconds_for_edit": secs, "delta_norm_rel": book.total_delta_norm()}
        print(f"seed {args.seed} l2 {l2:g}", {k: round(v, 3) for k, v in E.summary(m).items()
                                             if isinstance(v, float)}, f"{secs:.0f} s", flush=True)
        for eid in list(book.edits):
            book.remove(eid)
    save_results(f"wake_sweep/l2_batch_seed{args.seed}", out, "data/results",
                 params={"seed": args.seed, "l2": args.l2, "facts": [f.subject for f in facts]})


if __name__ == "__main__":
    main()
