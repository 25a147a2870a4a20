"""The unbiased pass@k estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on Code".

With n samples of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the chance that k samples drawn without
replacement from the n include a passing one. Binomials overflow quickly, so the ratio is taken as the product
prod_{i=n-c+1}^{n} (1 - k / i), which is exact and stable. When fewer than k samples fail (n - c < k) every draw
of k includes a pass, so the value is 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """The benchmark's pass@k: the mean over problems of each problem's estimate from its (n, c)."""
    if not counts:
        raise ValueError("no problems")
    return float(np.mean([pass_at_k(n, c, k) for n, c in counts]))
