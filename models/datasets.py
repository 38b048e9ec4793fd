"""The data sets of the reports, generated or loaded with a fixed seed (numpy arrays)."""
from __future__ import annotations

import numpy as np

__all__ = ["linear_set", "xor_easy", "digits"]


def linear_set(n: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lab 1's linear set: n points uniform in the unit square, label 0 where x > y, else 1.
    Returns X (n, 2) float64 and y (n, 1) float64."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 2))
    y = (x[:, 0] <= x[:, 1]).astype(np.float64)[:, None]
    return x, y


def xor_easy() -> tuple[np.ndarray, np.ndarray]:
    """Lab 1's 21-point "XOR easy" set: (0.1i, 0.1i) labelled 0 for i = 0..10, and
    (0.1i, 1 - 0.1i) labelled 1 except at i = 5 (where it would repeat (0.5, 0.5))."""
    points, labels = [], []
    for i in range(11):
        points.append((0.1 * i, 0.1 * i))
        labels.append(0.0)
        if i == 5:
            continue
        points.append((0.1 * i, 1 - 0.1 * i))
        labels.append(1.0)
    return np.array(points), np.array(labels)[:, None]


def digits(test_size: float = 0.2, seed: int = 0):
    """scikit-learn's 8x8 digits (the MNIST stand-in), scaled to [0, 1], as
    (X_train, X_test, y_train, y_test) with X of shape (n, 1, 8, 8), stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None]
    return train_test_split(x, data.target, test_size=test_size, random_state=seed,
                            stratify=data.target)
