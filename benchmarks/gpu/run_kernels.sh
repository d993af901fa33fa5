#!/usr/bin/env bash
# One device call for the kernel work: GPU tests, then whatever stages are named.
#   bash benchmarks/gpu/run_kernels.sh tests sweep host o96 n320 train
# Needs .whl (anemoi-models wheel, `pip download --no-deps anemoi-models==0.19.0 -d .whl`) carried along.
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=.:/tmp/site
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl \
  || echo "anemoi-models wheel not installed: its rows will be missing"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
for stage in "$@"; do
  echo "=== $stage $(date +%T)"
  case $stage in
    tests) python3 -m pytest tests/kernels -q -p no:cacheprovider 2>&1 | tee "$OUT/tests.log" | tail -25 ;;
    sweep) python3 benchmarks/gpu/sweep_tiles.py 2>&1 | tee "$OUT/sweep.log" ;;
    host) python3 benchmarks/gpu/host_profile.py > "$OUT/host.log" 2>&1; grep -E "fast launch|Error" "$OUT/host.log" ;;
    o96|n320) python3 benchmarks/graph_attention.py --sets "$stage" --out "$OUT/$stage.json" 2>&1 | tee "$OUT/bench_$stage.log" ;;
    train) for precision in bf16 fp32; do for backend in triton reference; do
             python3 benchmarks/train_step.py --device cuda --impl anemoic --backend "$backend" --precision "$precision" \
               --steps 5 --warmup 2 2>&1 | tee "$OUT/train_${backend}_$precision.log" | tail -4
           done; done ;;
  esac
done
echo "=== done $(date +%T)"
