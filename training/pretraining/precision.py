"""Precision per device: bf16 where the hardware computes it natively, fp16 with a scaler, else fp32.

On CPUs without native bf16 (AVX2 only) bf16 is emulated and 7-20x slower, so "auto" picks fp32 there. CPUs with
AVX512-BF16 or AMX compute bf16 matmuls natively: on an AMD EPYC (Zen 4) worker bf16 autocast trains the small
preset 1.6-1.8x faster per CPU-second than fp32 with the same losses to 3 digits (docs/benchmarks.md), so pretraining
asks for it there (``cpu_bf16=True``); the other runners keep fp32 on CPUs until they are measured likewise.
"""

import contextlib

import torch


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX tiles. (``torch.backends.cpu.get_cpu_capability()`` names only the vector width,
    "AVX512" on such CPUs too, so it cannot tell.)"""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def choose_precision(requested: str, device: torch.device, *, cpu_bf16: bool = False) -> str:
    """ "auto": bf16 on GPUs that have it (else fp16), fp32 on CPUs, or bf16 on CPUs that compute it natively when
    the caller opts in with ``cpu_bf16``."""
    if requested != "auto":
        if requested == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError("this GPU has no bf16: use precision fp16 or fp32")
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_bf16 and cpu_has_native_bf16() else "fp32"


def autocast(precision: str, device: torch.device):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(precision: str, device: torch.device):
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")
