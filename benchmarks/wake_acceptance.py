"""The wake issue's acceptance numbers on the bundled model, default hyperparameters.

    python benchmarks/wake_acceptance.py [--seed 1]

(1) 10 bank facts edited one at a time; (2) a batch of 20 facts in one edit. Each: raw, chat and
paraphrase recall, locality (vs the unedited model), bleed and perplexity drift on 4,096 held-out
tokens, plus seconds per edit. Writes data/results/wake_acceptance_135m.json.
"""
import argparse
import time

from logos_core import evaluate as E
from logos_core.contexts import Request
from logos_core.edits import EditBook
from logos_core.facts import heldout_text, load_bank, load_locality
from logos_core.hparams import load_hparams
from logos_core.memit import apply_memit
from logos_core.models import load_model
from logos_core.report import save_results
from logos_core.stats import layer_stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-batch", action="store_true")
    args = ap.parse_args()
    lm, hp, bank = load_model("135m"), load_hparams("135m"), load_bank()
    stats = layer_stats(lm, hp)
    ev = E.Evaluator(lm, load_locality(), bank.bystanders, bank.relations, heldout_text(), ppl_tokens=4096)
    ev.baseline()
    out = {}
    runs = [("sequential_10", bank.sample(10, seed=args.seed), False)]
    if not args.skip_batch:
        runs.append(("batch_20", bank.sample(20, seed=args.seed + 1), True))
    for name, facts, batch in runs:
        book = EditBook(lm, hp)
        t0 = time.perf_counter()
        if batch:
            book.add(apply_memit(lm, hp, [Request.from_fact(f) for f in facts], stats, facts))
        else:
            for f in facts:
                book.add(apply_memit(lm, hp, [Request.from_fact(f)], stats, [f]))
        secs = time.perf_counter() - t0
        m = ev.measure(facts)
        out[name] = {**E.summary(m), "edit_seconds": secs, "delta_norm_rel": book.total_delta_norm(),
                     "misses_chat": [(f.chat_question, a) for f, a, h in zip(facts, m["chat_answers"], m["chat_hits"]) if not h]}
        print(name, E.summary(m), f"{secs:.0f} s", flush=True)
        for eid in list(book.edits):
            book.remove(eid)
    save_results("wake_acceptance_135m", out, "data/results", {"seed": args.seed, "hparams": hp.to_dict()})


if __name__ == "__main__":
    main()
