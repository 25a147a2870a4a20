"""What bench/pretrain_gpu.py learns about its device: facts (GPU, versions), the measured matmul rate, whether
flash attention runs, and its memory between settings. torch is imported inside the functions."""

from __future__ import annotations

import gc
import os
import platform
import time


def device_facts(device) -> dict:
    import torch
    import transformers

    facts = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            multiprocessors=props.multi_processor_count,
            capability=f"{props.major}.{props.minor}",
            cuda=torch.version.cuda,
            bf16=torch.cuda.is_bf16_supported(),
        )
    else:
        facts.update(cpu=platform.processor() or platform.machine(), cores=os.cpu_count())
    return facts


def matmul_rate(device, precision: str, n: int, repeats: int = 10) -> float:
    """n x n x n matmul FLOP/s on random data in the run's precision (the ceiling its matmuls can reach here)."""
    import torch

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def flash_attention_usable(config, tokenizer, device) -> bool | str:
    """Whether the model's attention runs on the flash kernel: one eager forward with every other SDPA backend
    switched off fails if the model hands SDPA a mask or a layout flash cannot take."""
    import torch

    from training.pretraining.models import build_model

    if device.type != "cuda":
        return "n/a (no CUDA)"
    from torch.nn.attention import SDPBackend, sdpa_kernel

    model = build_model(config, tokenizer).to(device)
    ids = torch.randint(10, 1000, (1, config.seq_len), device=device)
    try:
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]), torch.autocast("cuda", dtype=torch.bfloat16):
            model(input_ids=ids)
        return True
    except RuntimeError as exc:
        return f"no: {str(exc).splitlines()[0][:200]}"
    finally:
        del model
        torch.cuda.empty_cache()


def release(device) -> None:
    import torch

    gc.collect()
    torch._dynamo.reset()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None
