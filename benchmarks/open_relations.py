"""Open-relation facts through the whole loop: told, then slept on, recalled in chat and raw.

    python benchmarks/open_relations.py [--facts 20] [--cycles 3] [--model 135m] [--sentences FILE]

The facts are the "open" sentences of data/extract/conversation.tsv (birthdays, allergies,
workplaces, spouses, pets' names, hobbies, possessions: relations outside the 11 families), read by
the extractor exactly as `logos remember` reads them, so each has the raw prompt and chat question
the extractor derived. They are written one at a time with the machine's default settings (none was
chosen on them), then slept on for --cycles cycles. `--sentences data/extract/open_report.txt` takes
20 other open-relation sentences instead, written to report on and never used to choose a setting. After the wake and after each cycle: chat and raw
recall (greedy generation), locality on the held-out probes, bleed (bystanders asked each open
relation in its own derived wording) and perplexity drift. Writes
data/results/open_relations/open_relations_<model>[_<sentences file>].json.
"""
import argparse
from pathlib import Path

from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.experiments import share_at_top
from logos_core.lab.report import resolve, save_results, set_seed
from logos_core.measure.evaluate import Evaluator, summary
from logos_core.measure.facts import heldout_text, load_bank, load_locality
from logos_core.memory.config import MachineConfig
from logos_core.memory.extract import extract
from logos_core.memory.machine import LogosMachine

ap = argparse.ArgumentParser()
ap.add_argument("--facts", type=int, default=20)
ap.add_argument("--cycles", type=int, default=3)
ap.add_argument("--model", default="135m")
ap.add_argument("--device", default="auto")
ap.add_argument("--ppl-tokens", type=int, default=4096)
ap.add_argument("--locality", type=int, default=0, help="probes (0: all)")
ap.add_argument("--sentences", help="a text file of sentences, one a line (default: the open sentences of "
                                     "data/extract/conversation.tsv)")
ap.add_argument("--out", default="data/results/open_relations")
a = ap.parse_args()
set_seed(0)

if a.sentences:
    sentences = [line.strip() for line in resolve(a.sentences).read_text().splitlines() if line.strip()]
else:
    sentences = [line.split("\t")[1] for line in (Path(__file__).resolve().parent.parent / "data" / "extract" /
                                                  "conversation.tsv").read_text().splitlines()
                 if line.startswith("open\t")]
facts = [f for s in sentences for f in extract(s)][:a.facts]
if len(facts) < a.facts:
    raise SystemExit(f"the open sentences give {len(facts)} facts; ask for at most that many")
bank = load_bank()
lm = load_model(a.model, device=a.device)
# bystanders are asked each open relation in the wording derived for it
relations = {**bank.relations, **{f.relation: {"raw": f.raw_prompt.replace(f.subject, "{s}"),
                                               "chat": f.chat_question.replace(f.subject, "{s}")} for f in facts}}
ev = Evaluator(lm, load_locality()[:a.locality or None], bank.bystanders, relations, heldout_text(), a.ppl_tokens)
ev.baseline()
m = LogosMachine(lm, load_hparams(a.model), MachineConfig(ppl_tokens=a.ppl_tokens))
name = f"open_relations_{a.model}" + (f"_{Path(a.sentences).stem}" if a.sentences else "")
rows = []


def row(stage: str, seconds: float, **extra) -> None:
    r = ev.measure(facts, modes=("raw", "chat"))
    rows.append({"after": stage, **summary(r), "chat_hits": r["chat_hits"], "raw_hits": r["raw_hits"],
                 "at_top": share_at_top(m.ledger), "edits": len(m.book.edits), "seconds": round(seconds, 1), **extra})
    x = rows[-1]
    print(f"{stage:8} chat {x['chat']:.2f} raw {x['raw']:.2f} locality {x['locality']:.2f} bleed {x['bleed']:.2f} "
          f"drift {x['ppl_drift']:+.1%} stage 3 {x['at_top']:.2f} ({x['seconds']:.0f} s)", flush=True)
    save_results(name, {"facts": [f.to_dict() for f in facts], "rows": rows}, resolve(a.out), vars(a))


rep = m.inject(facts)
row("wake", rep.seconds, seconds_per_fact=round(rep.seconds / len(facts), 2))
for c in range(a.cycles):
    log = m.sleep(1)[0]
    row(f"cycle {c + 1}", log["seconds"], rolled_back=bool(log["rolled_back"]))
