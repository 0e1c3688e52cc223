"""Choose the consolidation settings (LoRA replay, contrast, layers, lr) for graduated sleep.

    python benchmarks/sweep_consolidation.py VARIANT [--device cuda] [--out DIR]
    python benchmarks/sweep_consolidation.py --pick DIR        # prints the chosen variant's name

Each variant: 10 bank facts drawn with seed 100 (not the facts notebook 06 reports on), wake, then 3
sleep cycles. The pick: most facts at stage 3, among variants with locality >= 0.9 and perplexity drift
<= 10%; ties go to higher chat recall. Results: DIR/sweep_<variant>.json.
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path

from logos_core.sleep.consolidate import LoraConfig

VARIANTS = {
    "replay16_contrast2": dict(replay=16, contrast=2),
    "replay8_contrast1": dict(replay=8, contrast=1),
    "replay32_contrast2": dict(replay=32, contrast=2),
    "replay16_contrast2_lr3e-4_ep8": dict(replay=16, contrast=2, lr=3e-4, epochs=8),
    "replay16_contrast2_rank4": dict(replay=16, contrast=2, rank=4, alpha=8),
    "replay16_contrast2_layers0-19": dict(replay=16, contrast=2, layers=tuple(range(20))),
}


def run(name: str, device: str | None, out: Path, n_facts: int = 10, cycles: int = 3):
    from logos_core.base.hparams import load_hparams
    from logos_core.base.models import load_model
    from logos_core.lab.experiments import graduated
    from logos_core.measure import evaluate as E
    from logos_core.measure.facts import heldout_text, load_bank, load_locality
    from logos_core.memory.config import MachineConfig
    from logos_core.memory.machine import LogosMachine

    bank = load_bank()
    lm = load_model("135m", device=device)
    ev = E.Evaluator(lm, load_locality(), bank.bystanders, bank.relations, heldout_text(), ppl_tokens=4096)
    ev.baseline()
    lora = dataclasses.replace(LoraConfig(lr=1e-3, epochs=4), **VARIANTS[name])
    m = LogosMachine(lm, load_hparams("135m"), MachineConfig(lora=lora))
    rows, _ = graduated(m, bank.sample(n_facts, seed=100), ev, cycles,
                        on_row=lambda r: print(name, {k: r[k] for k in ("cycle", "at_top", "chat", "locality", "ppl_drift", "bleed")}, flush=True))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"sweep_{name}.json").write_text(json.dumps({"variant": name, "lora": VARIANTS[name], "rows": rows},
                                                       default=str))


def pick(out: Path) -> str:
    res = [json.loads(f.read_text()) for f in sorted(out.glob("sweep_*.json"))]
    ok = [r for r in res if r["rows"][-1]["locality"] >= 0.9 and r["rows"][-1]["ppl_drift"] <= 0.10] or res
    best = max(ok, key=lambda r: (r["rows"][-1]["at_top"], r["rows"][-1]["chat"]))
    return best["variant"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("variant", nargs="?")
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default="data/results")
    ap.add_argument("--pick", default=None)
    ap.add_argument("--n-facts", type=int, default=10)
    ap.add_argument("--cycles", type=int, default=3)
    a = ap.parse_args()
    if a.pick:   # two lines: the name, then its settings as a Python literal (for run_notebook.py)
        name = pick(Path(a.pick))
        print(name)
        print(repr(VARIANTS[name]))
        sys.exit(0)
    run(a.variant, a.device, Path(a.out), a.n_facts, a.cycles)
