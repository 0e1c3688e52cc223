"""The lifelong run: facts told over simulated days, wake each day and sleep each night.

    python benchmarks/lifelong.py [--facts 200] [--days 20] [--cycles 1] [--model 135m] [--seed 0]

After each night: chat, raw and paraphrase recall of every fact ever told, each also by the stricter hit
(an answer naming another told object of the relation is a confusion, not recall), locality (known facts
still answered, on the tuning probes and on the held-out split), bleed and its excess over the unedited
model's rate, perplexity drift on held-out text, the share of facts fully consolidated (stage 3), and
how many MEMIT edits are still held. The bar at the end (200 facts, 20 days): chat >= 0.95, raw >= 0.9,
paraphrase >= 0.9, bleed <= 0.05, locality >= 0.95, drift <= 5%. Writes
data/results/lifelong_<model>.json (rows appear as each night ends, so a cut-off run keeps what it
measured) and figures/lifelong_<model>.png.
"""
import argparse

from logos_core.lab.experiments import fresh_machine, lifelong
from logos_core.lab.plotting import draw_lifelong
from logos_core.lab.report import resolve, save_results, set_seed
from logos_core.measure.facts import load_bank

ap = argparse.ArgumentParser()
ap.add_argument("--facts", type=int, default=200)
ap.add_argument("--days", type=int, default=20)
ap.add_argument("--cycles", type=int, default=1, help="sleep cycles each night")
ap.add_argument("--model", default="135m")
ap.add_argument("--device", default="auto")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--ppl-tokens", type=int, default=4096)
ap.add_argument("--out", default="data/results")
ap.add_argument("--figures", default="figures")
a = ap.parse_args()
set_seed(a.seed)
bank = load_bank()
if a.facts > len(bank.facts):
    raise SystemExit(f"the bank holds {len(bank.facts)} facts; ask for at most that many")
facts = bank.sample(a.facts, seed=a.seed + 11)
m, ev = fresh_machine(a.model, a.device, bank, seed=a.seed, ppl_tokens=a.ppl_tokens, strict=True,
                      heldout=True)
name = f"lifelong_{a.model}"


def on_row(r):
    print(f"day {r['day']:2d} ({r['n_facts']:3d} facts): chat {r['chat']:.2f} (strict {r['chat_strict']:.2f}, "
          f"confused {r['chat_confused']:.2f}) raw {r['raw']:.2f} (strict {r['raw_strict']:.2f}) paraphrase "
          f"{r['paraphrase']:.2f} locality {r['locality']:.2f} (held-out {r['locality_heldout']:.2f}) "
          f"bleed {r['bleed']:.2f} (over unedited "
          f"{r['bleed_excess']:+.2f}) drift {r['ppl_drift']:+.1%} stage 3 {r['at_top']:.2f} "
          f"edits {r['edits']} wake {r['wake_seconds_per_fact']:.0f} s/fact sleep {r['sleep_seconds']:.0f} s "
          f"(cycles {[round(s) for s in r['cycle_seconds']]} s, trained facts {r['trained_facts']})",
          flush=True)
    save_results(name, {"rows": rows}, resolve(a.out), vars(a))


rows = []
lifelong(m, facts, ev, a.days, a.cycles, on_row=lambda r: (rows.append(r), on_row(r)))
for p in draw_lifelong({"results": {"rows": rows}}, resolve(a.figures), name):
    print("wrote", p)
end = rows[-1]
print(f"end ({end['n_facts']} facts, {end['day']} days): chat {end['chat']:.2f} (bar 0.95), raw {end['raw']:.2f} "
      f"(bar 0.9), paraphrase {end['paraphrase']:.2f} (bar 0.9), bleed {end['bleed']:.2f} (bar 0.05), locality "
      f"{end['locality']:.2f} and held-out {end['locality_heldout']:.2f} (bar 0.95), drift {end['ppl_drift']:+.1%} "
      f"(bar +5%)")
