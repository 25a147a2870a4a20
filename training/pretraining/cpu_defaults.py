"""Settings for training on CPU workers, chosen by measurement (bench/pretrain_throughput.py, docs/benchmarks.md).

This module must not import torch: ``apply_cpu_env_defaults`` only works before the process loads torch's OpenMP
runtime, which reads its environment once, when the library is loaded.
"""

import os
import sys


def apply_cpu_env_defaults() -> str | None:
    """OpenMP threads that wait for work sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``); an explicit
    setting in the environment wins. Returns a line for the run's log when it came too late to take effect.

    Why: a training step runs thousands of small parallel regions, each ending in a barrier, and a waiting thread
    that spins burns CPU that the thread it waits for (or a neighbouring process) needs. On the 2-core development
    VM shared with other work, libgomp's default (spin a while, then sleep) trained at 0.5-0.6x the tokens per
    CPU-second of sleeping waiters and up to 1.5x slower by the wall clock; always spinning (``ACTIVE``) was slower
    than one thread. Sleeping costs microseconds per region on an idle machine.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        return None
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    if "torch" in sys.modules:
        return (
            "note: torch was loaded before OMP_WAIT_POLICY=PASSIVE could be set; set it in the worker's environment "
            "for faster CPU training on shared cores"
        )
    return None


def cpu_threads() -> int:
    """Every core this process may use (its affinity mask, which containers and taskset narrow), not the host's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
