#!/usr/bin/env bash
# Full-scale notebooks 05 and 06 on the lent GPU machine (no papermill there: run_notebook.py).
# The bundled GGUF (98 MB) is over one call's 64 MiB transfer, so it travels in two parts in two calls
# to the same warm machine: .gpu/a (gguf.aa and the gguf wheel), copied to /tmp/parts/a by the first
# call (the carried folder itself does not survive the next call), then .gpu/b/gguf.ab with this script.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site /tmp/parts/a/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 LOGOS_CACHE=/tmp/logos-cache LOGOS_GGUF=/tmp/smol.gguf
cat /tmp/parts/a/gguf.aa .gpu/b/gguf.ab > /tmp/smol.gguf
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
mkdir -p "$OUT/r"
# smoke: load, one edit, timing (fails fast if anything is wrong)
python3 - <<'PY' || exit 1
import time, torch
from logos_core.models import load_model
from logos_core.hparams import load_hparams
from logos_core.stats import layer_stats
from logos_core.memit import apply_memit
from logos_core.contexts import Request
from logos_core.facts import load_bank
from logos_core.evaluate import recall
lm = load_model("135m"); hp = load_hparams("135m")
print("device", lm.device, next(lm.model.parameters()).dtype)
t = time.time(); st = layer_stats(lm, hp, progress=False); torch.cuda.synchronize(); print("stats", round(time.time() - t, 1), "s")
f = load_bank().sample(2, seed=0)
for x in f:
    t = time.time(); e = apply_memit(lm, hp, [Request.from_fact(x)], st, [x]); torch.cuda.synchronize()
    print("edit", round(time.time() - t, 2), "s", e.info["z"][0]["steps"], "steps")
print(recall(lm, f, modes=("raw", "chat")))
PY
timeout 550 python3 benchmarks/run_notebook.py notebooks/05_convergence.py DEVICE='"cuda"' OUT_DIR="'$OUT/r'" \
  FIG_DIR="'/tmp/fig'" > "$OUT/05_convergence.log" 2>&1 &
nb05=$!
LOGOS="python3 -m logos_core.cli" timeout 550 bash benchmarks/cli_acceptance.sh /tmp/cli-state > "$OUT/cli_acceptance.log" 2>&1 &
cli=$!
# consolidation settings for notebook 06, chosen on other facts (seed 100), all variants side by side
for v in $(python3 -c "import sys; sys.argv=['x']; exec(open('benchmarks/sweep_consolidation.py').read().split('def run')[0]); print(*VARIANTS)"); do
  timeout 200 python3 benchmarks/sweep_consolidation.py $v --device cuda --out /tmp/sweep > /tmp/sweep_$v.log 2>&1 &
  sweeps="${sweeps:-} $!"
done
wait $sweeps
cat /tmp/sweep_*.log > "$OUT/sweep.log"
python3 -c "import json,glob; print(json.dumps([json.load(open(f)) for f in sorted(glob.glob('/tmp/sweep/*.json'))]))" > "$OUT/r/sweep_consolidation.json"
python3 benchmarks/sweep_consolidation.py --pick /tmp/sweep > /tmp/pick.txt
cat /tmp/pick.txt
L=$(sed -n 2p /tmp/pick.txt); [ -n "$L" ] || L="{}"
timeout 280 python3 benchmarks/run_notebook.py notebooks/06_graduated.py DEVICE='"cuda"' OUT_DIR="'$OUT/r'" \
  FIG_DIR="'/tmp/fig'" LORA="$L" > "$OUT/06_graduated.log" 2>&1
wait $nb05 $cli
ls -la "$OUT/r"   # figures: `make figures` redraws them here from the JSON
tail -n 30 "$OUT"/05_convergence.log "$OUT"/06_graduated.log "$OUT"/sweep.log "$OUT"/cli_acceptance.log
