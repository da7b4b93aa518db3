#!/usr/bin/env bash
# How the shipped x86_2core_cpu profile was measured (2-vCPU AMD EPYC VM, torch 2.13 CPU build).
# Run from the repository root on a quiet machine. The shipped run used `chrt -f 10 bash commands.sh`:
# other jobs shared the VM, and without real-time priority the two-thread timings varied 1.5-10x.
# Then `python calibration/build_device_profiles.py` copies devices/x86_2core_cpu.yaml into
# sim/profiles/data/devices/ and checks the cost model against it.
set -euo pipefail
OUT=calibration/measurements/x86_2core_cpu
COMMON=(--device cpu --name x86_2core_cpu --threads 2 --rounds 5 --out "$OUT" --no-progress
        --display-name "x86-64 CPU, 2 vCPUs (AMD EPYC, KVM), PyTorch 2.13 FP32, 2 threads"
        --idle-w 2.0 --compute-w 7.5 --power-provenance assumed
        --power-source "ASSUMED: no power sensor in this VM; 2 busy cores at 360 W / 96 cores (AMD EPYC 9654 TDP) = 7.5 W, idle 1 W per core")

python calibration/time_zoo.py --device cpu --threads 2 --repeats 20 --rounds 5 --out "$OUT/zoo_latency.json"
for model in densenet169 densenet201 resnet152; do
  python calibration/profile_model.py --model "$model" --variant bottlefit --channels 12 "${COMMON[@]}"
  python calibration/profile_model.py --model "$model" --variant bottlefit --channels 1,2,3,6,9 \
    --no-blocks --no-server-sweep "${COMMON[@]}"
  python calibration/profile_model.py --model "$model" --variant autoencoder --channels 3,6,9,12,15,18 \
    --no-blocks --no-server-sweep "${COMMON[@]}"
done
for model in resnet50 mobilenet_v2; do
  python calibration/profile_model.py --model "$model" "${COMMON[@]}"
done
