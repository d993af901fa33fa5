#!/usr/bin/env bash
# One device call for the several-GPU work (docs/performance.md): name the stages to run.
#   bash benchmarks/gpu/run_parallel.sh tests ddp shard n320 single
# Needs .whl carried (the compiler's wheels for the tests; anemoi-models' for `single`).
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=.:/tmp/site ANEMOIC_BENCH_CACHE=/tmp/anemoic-bench-graphs
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.device_count(), 'GPUs')"
O96="--device cuda --grid 96 --hidden-refinement 5 --channels 1024 --layers 16 --heads 16 --variables 90 --precision bf16"
for stage in "$@"; do
  echo "=== $stage $(date +%T)"
  case $stage in
    tests) timeout 200 python3 -m pytest -q -p no:cacheprovider -m gpu -rs tests/runtime/distributed/test_sharded_model.py \
             2>&1 | tee "$OUT/tests.log" | tail -15 ;;
    ddp) timeout 330 python3 benchmarks/sharding.py $O96 --checkpointing --steps 10 --warmup 3 \
           --layouts big-2,big-4,whole,ddp-2,ddp-4 --json "$OUT/ddp.json" 2>&1 | tee "$OUT/ddp.log" ;;
    shard) timeout 330 python3 benchmarks/sharding.py $O96 --steps 5 --warmup 2 \
             --layouts whole,edges-2,heads-2,edges-4,heads-4,edges-4-kept --json "$OUT/shard.json" 2>&1 | tee "$OUT/shard.log" ;;
    n320) timeout 200 python3 benchmarks/sharding.py --device cuda --grid 320 --hidden-refinement 6 --channels 1024 --layers 16 --heads 16 \
            --variables 90 --precision bf16 --checkpointing --rollout 12 --steps 3 --warmup 1 --layouts edges-4,whole \
            --json "$OUT/n320.json" 2>&1 | tee "$OUT/n320.log" ;;
    single) python3 benchmarks/train_step.py --device cuda --backend triton --precision bf16 --steps 10 --warmup 3 \
              2>&1 | tee "$OUT/single.log" | tail -5 ;;
  esac
done
echo "=== done $(date +%T)"
