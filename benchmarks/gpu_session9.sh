#!/usr/bin/env bash
# What session 9 ran in its one long call on the lent H200 (see gpu_runs.sh for the two-call transfer):
# notebook 05's four arms at their default sizes, the lifelong run (200 facts, 20 days), notebooks 02
# and 03 at their defaults (03 without its retrieval arm: the embedding model's package is not there).
set -u
R=${RESULTS:-/tmp/r}
N03='["MEMIT only", "null-space MEMIT", "LoRA only", "Logos"]'
exec bash benchmarks/gpu_runs.sh \
  "python3 benchmarks/capacity.py capacity --arm plain --device cuda --out $R" \
  "python3 benchmarks/capacity.py capacity --arm null-space --device cuda --out $R" \
  "python3 benchmarks/capacity.py convergence --arm care --device cuda --out $R" \
  "python3 benchmarks/capacity.py convergence --arm careless --device cuda --out $R" \
  "python3 benchmarks/lifelong.py --device cuda --out $R --figures /tmp/fig" \
  "python3 benchmarks/run_notebook.py notebooks/02_alignment_tax.py DEVICE='\"cuda\"' OUT_DIR='\"$R\"' FIG_DIR='\"/tmp/fig\"'" \
  "python3 benchmarks/run_notebook.py notebooks/03_dual_system.py DEVICE='\"cuda\"' OUT_DIR='\"$R\"' FIG_DIR='\"/tmp/fig\"' ARMS='$N03'"
