"""Published whole-model latencies and board power of the shipped boards, with sources.

Every figure is restated from ``../shared/reference/devices.md`` (which cites
the primary sources); the section is given with each table. Latencies are
batch 1, 224 x 224, model time only [ms]. Models are named as in
:mod:`calibration.zoo`; a published network that the zoo builds only
approximately is noted in ``caveats``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEV = "../shared/reference/devices.md"


@dataclass(frozen=True)
class Figure:
    """A published number with its provenance tag and source."""

    value: float
    provenance: str
    source: str


@dataclass(frozen=True)
class Board:
    """What is published for one (board, software stack) pair."""

    name: str
    display_name: str
    processor: str
    bytes_per_element: int
    latency_ms: dict[str, float]
    latency_source: str
    idle_w: Figure
    compute_w: Figure
    excluded: dict[str, str] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()


TORCH2TRT = (
    f"{DEV} §2.1: NVIDIA-AI-IOT/torch2trt benchmarks/JETSON_NANO.md @ebfa3bc, 1x3x224x224 on the GPU, "
    "mean of 50 synchronised calls, MAXN + jetson_clocks implied"
)
NANO_IDLE = Figure(
    1.10,
    "published",
    f"{DEV} §3.1: DeepEdgeBench idle log with Ethernet, median, HM310P 5.0 V supply (whole board)",
)

BOARDS: dict[str, Board] = {
    "jetson_nano": Board(
        name="jetson_nano",
        display_name="NVIDIA Jetson Nano 4 GB (MAXN), PyTorch FP16 on the GPU",
        processor="gpu",
        bytes_per_element=2,
        latency_ms={
            "alexnet": 22.1,
            "squeezenet1_0": 24.2,
            "squeezenet1_1": 14.0,
            "resnet18": 34.7,
            "resnet34": 64.8,
            "resnet50": 81.7,
            "resnet101": 141.0,
            "densenet121": 84.5,
            "densenet169": 118.0,
            "densenet161": 247.0,
            "vgg11": 114.0,
            "vgg13": 156.0,
            "vgg16": 201.0,
            # Added 2026-12-06 (devices.md §2.1); held back until then to test the cost model,
            # which predicted them +9 % and +11 % (high).
            "resnet152": 204.0,
            "densenet201": 141.0,
        },
        latency_source=TORCH2TRT + " ('PyTorch' column: module and input in float16)",
        idle_w=NANO_IDLE,
        compute_w=Figure(
            7.2,
            "published",
            f"{DEV} §3.1: 7.08-7.28 W board power under continuous GPU inference "
            "(DeepEdgeBench results.py, MobileNetV2)",
        ),
        excluded={
            "mobilenet_v2": "no Nano PyTorch figure (torch2trt lists it in test.sh but has no result)"
        },
    ),
    "jetson_nano_trt": Board(
        name="jetson_nano_trt",
        display_name="NVIDIA Jetson Nano 4 GB (MAXN), TensorRT FP16 (torch2trt)",
        processor="gpu",
        bytes_per_element=2,
        latency_ms={
            "alexnet": 14.7,
            "squeezenet1_0": 7.6,
            "squeezenet1_1": 4.34,
            "resnet18": 11.4,
            "resnet34": 20.2,
            "resnet50": 29.8,
            "resnet101": 51.1,
            "densenet121": 24.8,
            "densenet169": 31.2,
            "densenet161": 65.8,
            "vgg11": 55.1,
            "vgg13": 68.7,
            "vgg16": 85.1,
            # Added 2026-12-06 (devices.md §2.1): predicted +6 % and +12 % before.
            "resnet152": 72.3,
            "densenet201": 40.8,
        },
        latency_source=TORCH2TRT + " ('TensorRT' column: fp16_mode=True)",
        idle_w=NANO_IDLE,
        compute_w=Figure(
            7.08,
            "published",
            f"{DEV} §3.1: 7.08 W board power under continuous ONNX->TensorRT "
            "inference (DeepEdgeBench results.py, MobileNetV2)",
        ),
        excluded={
            "mobilenet_v2": "the only Nano TensorRT MobileNetV2 figure (23.7 ms, DeepEdgeBench) is FP32 "
            "via ONNX and includes host-device copies"
        },
    ),
    "raspberry_pi4": Board(
        name="raspberry_pi4",
        display_name="Raspberry Pi 4 B (4 GB), PyTorch FP32, 4 threads",
        processor="cpu",
        bytes_per_element=4,
        latency_ms={
            "resnet18": 100.3,
            "resnet50": 225.2,
            "resnext101_32x8d": 885.3,
            "inception_v3": 195.5,
            "googlenet": 132.0,
            "shufflenet_v2_x1_0": 37.7,
        },
        latency_source=(
            f"{DEV} §2.3: PyTorch tutorial 'Real Time Inference on Raspberry Pi 4 and 5' "
            "(pytorch/tutorials realtime_rpi.rst), 64-bit OS, 4 threads, 'model ms/frame'"
        ),
        idle_w=Figure(
            2.65, "published", f"{DEV} §3.2: DeepEdgeBench idle log with Ethernet, 5.0 V lab supply"
        ),
        compute_w=Figure(
            6.4,
            "published",
            f"{DEV} §3.2: Pi Dramble `stress --cpu 4` (all four cores busy, as "
            "PyTorch with 4 threads)",
        ),
        excluded={
            "mobilenet_v2": "the tutorial's MobileNetV2 is int8 (qnnpack, TorchScript), not FP32",
            "mobilenet_v3_large": "int8 (qnnpack); not in the zoo",
        },
        caveats=(
            "the tutorial does not state the precision of the non-quantised rows; FP32 is inferred "
            "(devices.md §2.3)",
            "Inception v3 ran on 224 x 224 frames, and is counted at 224 x 224 here",
        ),
    ),
    "raspberry_pi3bplus": Board(
        name="raspberry_pi3bplus",
        display_name="Raspberry Pi 3 B+ (Cortex-A53 1.4 GHz), ncnn FP32, 4 threads",
        processor="cpu",
        bytes_per_element=4,
        latency_ms={
            "mobilenet_v2": 111.68,
            "resnet18": 271.93,
            "resnet50": 587.42,
            "googlenet": 224.22,
            "squeezenet1_1": 85.22,
        },
        latency_source=(
            f"{DEV} §2.4: Tencent/ncnn benchmark/README.md @a4d2ea1, 'Raspberry Pi 3 Model B+', "
            "4 threads, FP32, 4 loops"
        ),
        idle_w=Figure(1.9, "published", f"{DEV} §3.3: Pi Dramble, idle 350 mA at 5 V"),
        compute_w=Figure(
            5.1, "published", f"{DEV} §3.3: Pi Dramble, maximum CPU load 980 mA at 5 V"
        ),
        excluded={"efficientnet_b0": "not in the zoo"},
        caveats=(
            "no PyTorch figures exist for the Pi 3B+ (devices.md §2.4): this profile is the ncnn stack",
            "ncnn's benchmark networks are Caffe ports: its ResNet-50 strides in the first 1x1 conv "
            "(about 3.9 instead of 4.1 GMAC) and its GoogLeNet has LRN and no batch norm; they are "
            "counted with the torchvision architectures here",
            "ncnn's 'squeezenet' is taken to be SqueezeNet 1.1 (the ncnn benchmark model)",
        ),
    ),
}
