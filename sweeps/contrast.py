"""Which strangers a consolidation is shown, so that it learns "this person -> this object" and not
"this relation -> a told object": bleed, recall, locality and drift after sleep, per setting of the
contrast rows.

    python sweeps/contrast.py --out data/results/contrast_sweep --name seed100
        [--facts 20] [--seed 100] [--cycles 1] [--settings '{"name": {LoraConfig field: value}}']

Wake runs once; each setting sleeps on its own copy of that woken memory, on a freshly loaded model,
so the settings differ in their sleep alone. Settings (LoraConfig, sleep/lora.py): `contrast`
(invented strangers per fact, asked the fact's relation), `namesakes` (strangers who share a told
person's first name or surname, the other name invented; `namesakes_cross`: the other name another told
person's), `contrast_every_epoch` (those rows in every epoch beside the facts'
own, instead of drawn among the anchors). Measured as everywhere: greedy generation, the stricter hit
beside recall, both locality splits, bleed and bleed over the unedited rate, perplexity drift.
"""
import argparse
import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

from logos_core.lab.experiments import evaluator, fresh_machine
from logos_core.lab.report import resolve, save_results, set_seed
from logos_core.measure.evaluate import summary
from logos_core.measure.facts import load_bank
from logos_core.memory.machine import LogosMachine
from logos_core.sleep.consolidate import namesake_examples

SETTINGS = {
    "default": {},
    "contrast in every epoch": {"contrast_every_epoch": True},
    "4 contrast, every epoch": {"contrast": 4, "contrast_every_epoch": True},
    "2 namesakes, every epoch": {"namesakes": 2, "contrast_every_epoch": True},
    "4 namesakes, every epoch": {"namesakes": 4, "contrast_every_epoch": True},
    "4 cross namesakes, every epoch": {"namesakes_cross": 4, "contrast_every_epoch": True},
    "8 cross namesakes, every epoch": {"namesakes_cross": 8, "contrast_every_epoch": True},
    "4 namesakes and 4 cross, every epoch": {"namesakes": 4, "namesakes_cross": 4, "contrast_every_epoch": True},
}

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--facts", type=int, default=20)
ap.add_argument("--seed", type=int, default=100, help="draws the facts (seed + 0); 100 is the sleep-choosing seed")
ap.add_argument("--cycles", type=int, default=1)
ap.add_argument("--model", default="135m")
ap.add_argument("--device", default="auto")
ap.add_argument("--ppl-tokens", type=int, default=4096)
ap.add_argument("--settings", default=None, help="JSON {name: {LoraConfig field: value}} (default: all of SETTINGS)")
ap.add_argument("--out", default="data/results/contrast_sweep")
ap.add_argument("--name", default="contrast_sweep")
a = ap.parse_args()
settings = json.loads(a.settings) if a.settings else SETTINGS
set_seed(0)
t_all = time.perf_counter()
bank = load_bank()
facts = bank.sample(a.facts, seed=a.seed)
m, ev = fresh_machine(a.model, a.device, bank, ppl_tokens=a.ppl_tokens, strict=True, heldout=True)
m.ensure_baseline()
m.writer.stats()
m.writer.projectors()
t = time.perf_counter()
m.inject(facts)
rows = [{"setting": "after wake", "seconds": time.perf_counter() - t, **summary(ev.measure(facts))}]
print(json.dumps(rows[-1]), flush=True)
with tempfile.TemporaryDirectory() as d:
    woken = Path(d) / "woken"
    m.path = woken
    m.save()
    m.close()
    del m
    for i, (name, lora) in enumerate(settings.items()):
        here = Path(d) / f"setting{i}"
        shutil.copytree(woken, here)
        s = LogosMachine.open(here, model=a.model, device=a.device)
        s.cfg = dataclasses.replace(s.cfg, lora=dataclasses.replace(s.cfg.lora, **lora))
        t = time.perf_counter()
        logs = s.sleep(a.cycles)
        slept = time.perf_counter() - t
        e = evaluator(s.lm, bank, a.ppl_tokens, 0, True, True, base=ev.base)
        # a stranger made from told names could be one of the never-told people bleed asks about
        asked = set(bank.bystanders[:e.per_relation])
        made = {q for c in range(1, a.cycles + 1) for cross in (False, True)
                for q, _ in namesake_examples(None, facts, s.cfg.lora.namesakes_cross if cross else s.cfg.lora.namesakes,
                                              s.cfg.lora.seed + c, s.anchors, cross=cross)}
        rows.append({"setting": name, "lora": lora, "sleep_seconds": slept,
                     "bystanders_trained": sorted(p for p in asked if any(p in q for q in made)),
                     "rolled_back": sum(bool(g["rolled_back"]) for g in logs),
                     "train_rows": logs[-1].get("train_examples"), **summary(e.measure(facts))})
        print(json.dumps(rows[-1]), flush=True)
        s.close()
        del s
params = {"facts": a.facts, "seed": a.seed, "cycles": a.cycles, "model": a.model, "ppl_tokens": a.ppl_tokens,
          "settings": settings}
save_results(a.name, {"rows": rows, "seconds": time.perf_counter() - t_all}, resolve(a.out), params)
