#!/usr/bin/env bash
# One device call: the several-dataset examples (limited-area, stretched-grid, spatial downscaling) trained on a GPU
# from plans built here with `parallel { accelerator = gpu }` and `tracking = off` (the device image has no mlflow):
#   for s in lam_pacific stretched_pacific spatial_downscale spatial_downscale_ensemble; do
#     (edit a copy of examples/$s.anm); anemoic build COPY --target local -o build/gpu13/$s; done
# then run this with `data`, `.whl` and `build/gpu13` carried.  The plans name the stores by their absolute paths
# on the build machine (/work/main/data/...), so that folder is linked to the carried one.
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=.:/tmp/site
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
mkdir -p /work/main && ln -sfn "$PWD/data" /work/main/data
for stem in "$@"; do
  echo "=== $stem $(date +%T)"
  start=$(date +%s)
  timeout 280 python3 -m anemoic.cli.anemoi_runtime exec "build/gpu13/$stem/plan.json" > "$OUT/$stem.log" 2>&1
  echo "exit $? after $(( $(date +%s) - start )) s"
  grep -E "samples/s|accelerator|GPU|cuda" "$OUT/$stem.log" | tail -2
  sed -n '/^End of run/,$p' "$OUT/$stem.log"
done
echo "=== done $(date +%T)"
