#!/usr/bin/env bash
# Notebooks at their default parameters on the lent GPU machine, side by side (no papermill there:
# run_notebook.py), the results' JSON and each log written to $OUT.
#   bash benchmarks/gpu_notebooks.sh 02_alignment_tax 03_dual_system ...     (LIMIT=seconds each, default 450)
# The bundled GGUF (98 MB) is over one call's 64 MiB transfer, so it travels in two parts in two calls
# to the same warm machine: .gpu/a (gguf.aa and the gguf wheel), copied to /tmp/parts/a by the first
# call (`mkdir -p /tmp/parts && cp -r .gpu/a /tmp/parts/`, carry .gpu/a; the carried folder itself does
# not survive the next call), then .gpu/b/gguf.ab with this script (carry .gpu/b), within the 30 s the
# machine stays warm. Split the file with `split -b 50000000 $GGUF .gpu/a/gguf.` (then move gguf.ab to b).
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site /tmp/parts/a/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 LOGOS_CACHE=/tmp/logos-cache LOGOS_GGUF=/tmp/smol.gguf
cat /tmp/parts/a/gguf.aa .gpu/b/gguf.ab > /tmp/smol.gguf
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
mkdir -p "$OUT/r"
# smoke, which also fills the caches (model conversion, statistics) before the notebooks share them
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
pids=""
for nb in "$@"; do
  timeout "${LIMIT:-450}" python3 benchmarks/run_notebook.py "notebooks/$nb.py" DEVICE='"cuda"' OUT_DIR="'$OUT/r'" \
    FIG_DIR="'/tmp/fig'" > "$OUT/$nb.log" 2>&1 &
  pids="$pids $!"
done
for p in $pids; do wait "$p"; echo "exit $?"; done
ls -la "$OUT/r"   # figures: `make figures` redraws them here from the JSON
for nb in "$@"; do tail -n 25 "$OUT/$nb.log" | grep -v "it/s]"; done
