"""Datasets and mini-batches, as torch.utils.data: a TensorDataset pairs tensors along
their first dimension, a DataLoader cuts a dataset into (shuffled) batches of Tensors.

Shuffling is seeded: a loader given `seed` owns a generator made from it, so two loaders
with the same seed give the same batches epoch after epoch; a loader without one draws
from microtensor's generator, so `mt.manual_seed` fixes its order.

>>> import microtensor as mt
>>> x, y = mt.arange(10.0).reshape(5, 2), mt.tensor([0, 1, 0, 1, 1])
>>> loader = mt.data.DataLoader(mt.data.TensorDataset(x, y), batch_size=2)
>>> [tuple(yb.tolist()) for _, yb in loader]
[(0, 1), (0, 1), (1,)]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from . import random as _random
from .backend import ndarray, xp
from .tensor import Tensor, tensor

__all__ = ["TensorDataset", "DataLoader"]


class TensorDataset:
    """Tensors (or arrays) of the same length, sample i being the tuple of their i-th rows.
    Indexing with an int, a slice or an array of ints gives a tuple of new Tensors.

    >>> import microtensor as mt
    >>> ds = mt.data.TensorDataset(mt.zeros(4, 3), mt.tensor([0, 1, 2, 3]))
    >>> len(ds), [tuple(t.shape) for t in ds[1:3]]
    (4, [(2, 3), (2,)])
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else tensor(t) for t in tensors)
        for i, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is a scalar; every tensor needs "
                    f"a first dimension to index samples along"
                )
        sizes = [t.shape[0] for t in self.tensors]
        if len(set(sizes)) > 1:
            raise ValueError(
                f"TensorDataset: all tensors must have the same first "
                f"dimension (number of samples), got {sizes}"
            )

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index) -> tuple[Tensor, ...]:
        return tuple(Tensor(t._data[index]) for t in self.tensors)


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size` samples, in order or reshuffled
    every epoch; `drop_last` drops a last batch smaller than `batch_size`. The dataset is
    a TensorDataset or anything with __len__ and __getitem__(i) giving a sample (an array,
    a Tensor, a number, or a tuple of them). Each batch is a tuple of Tensors for samples
    that are tuples, else one Tensor.

    >>> import microtensor as mt
    >>> ds = mt.data.TensorDataset(mt.arange(6))
    >>> [b.tolist() for (b,) in mt.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)]
    [[3, 2, 5, 4], [0, 1]]
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: a dataset needs __len__ and __getitem__, got {type(dataset).__name__}"
            )
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.seed = seed
        self._rng = None if seed is None else xp.random.default_rng(seed)

    def __len__(self) -> int:
        """Batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        if self.shuffle:
            rng = self._rng if self._rng is not None else _random.default_generator()
            order = rng.permutation(n)
        else:
            order = xp.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._fetch(order[start : start + self.batch_size])

    def _fetch(self, indices: ndarray):
        if isinstance(self.dataset, TensorDataset):
            return self.dataset[indices]
        return _collate([self.dataset[int(i)] for i in indices])


def _collate(samples: list):
    """Stack samples (arrays/Tensors/numbers, or tuples of them) into batch Tensors."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(_collate(list(field)) for field in zip(*samples))
    return Tensor(xp.stack([s._data if isinstance(s, Tensor) else xp.asarray(s) for s in samples]))
