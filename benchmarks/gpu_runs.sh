#!/usr/bin/env bash
# Long runs on the bundled model on the lent GPU machine, side by side, inside one call:
#   LIMIT=450 bash benchmarks/gpu_runs.sh "python3 benchmarks/capacity.py capacity --arm plain" \
#       "python3 benchmarks/run_notebook.py notebooks/02_alignment_tax.py" ...
# Each command runs in the background under `timeout $LIMIT` (each names its own device and writes
# its JSON under $RESULTS, default /tmp/r), its output in $OUT/<n>.log; the JSON come back as
# $OUT/results.tgz (a call returns at most 8 files). Keep LIMIT plus about 60 s of setup inside the
# call's own limit, or the packing never happens (session 9 lost its JSON that way). The 135M model is launch-bound on a GPU, so processes side by side cost
# little more wall time than one.
#
# The bundled GGUF (98 MB) is over one call's 64 MiB transfer, so it travels in two parts in two calls
# to the same warm machine (it stays warm 30 s after a call):
#   split -b 50000000 $GGUF .gpu/a/gguf. && mkdir -p .gpu/b && mv .gpu/a/gguf.ab .gpu/b/
#   pip download --no-deps -d .gpu/a/whl gguf==0.19.0        (not in the GPU image)
#   call 1 (carry .gpu/a): mkdir -p /tmp/parts && cp -r .gpu/a /tmp/parts/
#   call 2 (carry .gpu/b): bash benchmarks/gpu_runs.sh ...
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site /tmp/parts/a/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 LOGOS_CACHE=/tmp/logos-cache LOGOS_GGUF=/tmp/smol.gguf
export LOGOS_THREADS=${LOGOS_THREADS:-2} RESULTS=${RESULTS:-/tmp/r}
cat /tmp/parts/a/gguf.aa .gpu/b/gguf.ab > /tmp/smol.gguf || exit 1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
mkdir -p "$RESULTS"
# the caches every process reads (converted weights, statistics, projectors), made once before they start
python3 -m logos_core.app.cli warm --device cuda || exit 1
pids="" n=0
for cmd in "$@"; do
  n=$((n + 1))
  echo "[$n] $cmd" > "$OUT/$n.log"
  timeout "${LIMIT:-450}" bash -c "$cmd" >> "$OUT/$n.log" 2>&1 &
  pids="$pids $!"
done
for p in $pids; do wait "$p"; echo "exit $?"; done
tar czf "$OUT/results.tgz" -C "$RESULTS" .
for i in $(seq 1 $n); do echo "== $i"; grep -v "it/s]" "$OUT/$i.log" | tail -n 12; done
