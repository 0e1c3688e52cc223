"""What one consolidation does to locality: LoRA-only sleep on N bank facts, then which known facts broke.

    python benchmarks/locality_probe.py [--facts 20] [--lr 1e-3] [--epochs 4] [--replay 24] [--contrast 2]
                                        [--raw-replay 16] [--own 3] [--know 0] [--stop-loss 0] [--rank 16] [--targets gate_proj,up_proj,down_proj]
"""
import argparse

from logos_core.base.hparams import load_hparams
from logos_core.base.models import load_model
from logos_core.lab.experiments import lora_alone
from logos_core.measure import evaluate as E
from logos_core.measure.facts import heldout_text, load_bank, load_locality
from logos_core.memory.config import MachineConfig
from logos_core.memory.machine import LogosMachine
from logos_core.sleep.consolidate import LoraConfig

ap = argparse.ArgumentParser()
ap.add_argument("--facts", type=int, default=20)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--epochs", type=int, default=4)
ap.add_argument("--replay", type=int, default=32)
ap.add_argument("--contrast", type=int, default=2)
ap.add_argument("--rank", type=int, default=16)
ap.add_argument("--raw-replay", type=int, default=16)
ap.add_argument("--own", type=int, default=3)
ap.add_argument("--know", type=int, default=0, help="knowledge answers distilled (LoraConfig.know_replay)")
ap.add_argument("--stop-loss", type=float, default=0.0)
ap.add_argument("--layers", default="", help="comma-separated blocks with an adapter (default: all)")
ap.add_argument("--targets", default="gate_proj,up_proj,down_proj")
a = ap.parse_args()
bank, lm = load_bank(), load_model("135m")
probes = load_locality()
base = E.locality(lm, probes)
ppl0 = E.perplexity(lm, heldout_text(), 4096)
lora = LoraConfig(lr=a.lr, epochs=a.epochs, replay=a.replay, contrast=a.contrast, rank=a.rank, alpha=2 * a.rank,
                  raw_replay=a.raw_replay, own_questions=a.own, know_replay=a.know, stop_loss=a.stop_loss,
                  layers=tuple(int(x) for x in a.layers.split(",")) if a.layers else None,
                  targets=tuple(a.targets.split(",")))
m = LogosMachine(lm, load_hparams("135m"), MachineConfig(wake_edit=False, refresh=False, ppl_limit=None, lora=lora))
facts = bank.sample(a.facts, seed=20)
m.inject(facts)
log = m.sleep(1)[0]
loc = E.locality(lm, probes)
ppl = E.perplexity(lm, heldout_text(), 4096)
print(vars(a))
print(f"LoRA alone chat {lora_alone(m, facts):.2f}; start/final loss {log['start_loss']:.2f}/{log['final_loss']:.2f} "
      f"({len(log['epoch_losses'])} epochs); "
      f"{log['train_seconds']:.0f} s")
print(f"locality raw {base['raw']:.2f} -> {loc['raw']:.2f}, chat {base['chat']:.2f} -> {loc['chat']:.2f}; "
      f"drift {ppl / ppl0 - 1:+.1%}")
raw = E.complete_raw(lm, [p.raw_prompt for p in probes])
chat = E.ask_chat(lm, [p.chat_question for p in probes])
broken = [(p, r, c) for p, r, c, b1, b2, l1, l2 in zip(probes, raw, chat, base["raw_hits"], base["chat_hits"],
                                                      loc["raw_hits"], loc["chat_hits"]) if (b1 and not l1) or (b2 and not l2)]
for p, r, c in broken[:12]:
    print(f"- {p.answer!r}: raw {p.raw_prompt!r} -> {r.strip()!r} | chat -> {c.strip()[:90]!r}")
