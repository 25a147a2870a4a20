"""Settings for training on CPU workers, chosen by measurement (bench/pretrain_throughput.py, docs/benchmarks.md).

This module must not import torch: ``apply_cpu_env_defaults`` only works before the process loads torch's OpenMP
runtime, which reads its environment once, when the library is loaded.
"""

import os


def apply_cpu_env_defaults() -> None:
    """OpenMP threads that wait for work sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``).

    Why: a training step runs thousands of small parallel regions, each ending in a barrier. With the default
    (spinning) policy, a core that the scheduler gives to another process stalls every barrier for a time slice,
    and on a CPU worker that shares its cores (the web server, the database, another job) two threads then train
    2-3x slower than one. Sleeping waiters cost a few microseconds per region on an idle machine. An explicit
    setting in the environment wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def cpu_training_defaults() -> dict:
    """The micro-batch and thread count the runner uses on CPU when the config leaves them unset."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return {"micro_batch_size": 8, "num_threads": cores}
