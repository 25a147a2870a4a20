"""Peak FLOP/s for MFU: a table of known GPUs (dense bf16), or a short matmul probe measured once per process."""

import time
from functools import lru_cache

import torch

GPU_PEAK_BF16 = {
    "H200": 989e12,
    "H100": 989e12,
    "GH200": 989e12,
    "A100": 312e12,
    "A10G": 125e12,
    "A10": 125e12,
    "L40S": 362e12,
    "L4": 121e12,
    "RTX 4090": 165e12,
    "RTX 3090": 71e12,
    "V100": 125e12,
}


@lru_cache(maxsize=4)
def peak_flops(device_type: str, precision: str) -> tuple[float, str]:
    """(FLOP/s, how it was obtained)."""
    if device_type == "cuda":
        name = torch.cuda.get_device_name()
        for key, value in GPU_PEAK_BF16.items():
            if key in name:
                return (value if precision != "fp32" else value / 2, f"table: {name}")
    return measured_matmul_flops(device_type, precision), "measured matmul probe"


def measured_matmul_flops(
    device_type: str = "cpu", precision: str = "fp32", n: int = 1024, seconds: float = 0.5
) -> float:
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    device = torch.device(device_type)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    _sync(device)
    count, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    _sync(device)
    elapsed = time.perf_counter() - start
    if device.type == "cpu":
        # What the cores can do rather than what the scheduler lent the probe: on a worker sharing its cores with
        # other processes the wall clock alone read anywhere from 20 to 170 GFLOP/s within an hour on one machine.
        busy = (time.process_time() - cpu_start) / torch.get_num_threads()
        elapsed = min(elapsed, max(busy, 1e-9))
    return 2 * n**3 * count / elapsed


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
