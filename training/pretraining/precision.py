"""Precision per device: bf16 where the hardware computes it natively, fp16 with a scaler, else fp32.

On CPUs without native bf16 (AVX2 only) bf16 is emulated and 7-20x slower, so "auto" picks fp32 there.
"""

import contextlib

import torch


def cpu_has_native_bf16() -> bool:
    capability = torch.backends.cpu.get_cpu_capability().upper()
    return "AMX" in capability or "BF16" in capability


def choose_precision(requested: str, device: torch.device) -> str:
    if requested != "auto":
        if requested == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError("this GPU has no bf16: use precision fp16 or fp32")
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def autocast(precision: str, device: torch.device):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(precision: str, device: torch.device):
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")
