#!/usr/bin/env bash
# How calibration/measurements/h100_check was measured: one H100 (the device tool's
# nvidia-h100-x1 machine, PyTorch 2.11 + CUDA 13 with torchvision), from the repository root.
# OUT: where to write. The profiles and raw JSON are packed into one archive.
set -u
OUT=${OUT:-results/h100_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv
  python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
  echo "== zoo vs torchvision"
  python3 calibration/check_against_torchvision.py --device cuda --out "$OUT/zoo_vs_torchvision.json"
  echo "zoo check exit code $?"
  for model in densenet201 resnet152; do
    echo "== profile $model fp32"
    time python3 calibration/profile_model.py --model "$model" --variant bottlefit --channels 12 \
      --device cuda --out "$OUT/profiles" --name h100_check --no-progress
  done
  echo "== profile densenet201 fp16"
  time python3 calibration/profile_model.py --model densenet201 --variant bottlefit --channels 12 \
    --device cuda --precision fp16 --out "$OUT/profiles_fp16" --name h100_check_fp16 --no-progress
} > "$OUT/log.txt" 2>&1
tar czf "$OUT/profiles.tgz" -C "$OUT" profiles profiles_fp16 && rm -rf "$OUT/profiles" "$OUT/profiles_fp16"
tail -40 "$OUT/log.txt"
