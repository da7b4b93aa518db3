#!/usr/bin/env bash
# Second H100 run: the profiler with the reference measurement's method (15 warm-up calls,
# 40 timed calls everywhere; ../shared/calibration/README.md), fp32, both BottleFit backbones.
set -u
OUT=${OUT:-results/h100_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
{
  for model in densenet201 resnet152; do
    echo "== profile $model fp32, 15 warm-up, 40 timed"
    time python3 calibration/profile_model.py --model "$model" --variant bottlefit --channels 12 \
      --device cuda --out "$OUT/profiles_ref" --name h100_check_ref --no-progress \
      --warmup 15 --repeats 40 --sweep-repeats 40
  done
} > "$OUT/log_reference_method.txt" 2>&1
tar czf "$OUT/profiles_reference_method.tgz" -C "$OUT" profiles_ref && rm -rf "$OUT/profiles_ref"
tail -30 "$OUT/log_reference_method.txt"
