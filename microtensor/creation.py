"""Factories: new leaf tensors of a given shape, filled or drawn from the seeded generator."""
from __future__ import annotations

from .backend import xp
from .random import default_generator
from .tensor import Tensor, _wrap, get_default_dtype

__all__ = ["empty", "zeros", "ones", "full", "arange", "eye", "rand", "randn", "zeros_like",
           "ones_like", "full_like"]


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _leaf(data, requires_grad: bool) -> Tensor:
    """A leaf around a freshly made array (no copy)."""
    return _wrap(data).requires_grad_(requires_grad) if requires_grad else _wrap(data)


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uninitialised memory of the given shape (filled by nn.init right after)."""
    return _leaf(xp.empty(_shape(size), dtype or get_default_dtype()), requires_grad)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.zeros(_shape(size), dtype or get_default_dtype()), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.ones(_shape(size), dtype or get_default_dtype()), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = get_default_dtype() if isinstance(fill_value, float) else xp.asarray(fill_value).dtype
    return _leaf(xp.full(_shape((size,)), fill_value, dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Like torch.arange: integers give int64, any float argument the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) \
            else xp.int64
    return _leaf(xp.arange(start, end, step, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.eye(n, m, dtype=dtype or get_default_dtype()), requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the generator seeded by mt.manual_seed."""
    data = default_generator().random(_shape(size))
    return _leaf(data.astype(dtype or get_default_dtype()), requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from the generator seeded by mt.manual_seed."""
    data = default_generator().standard_normal(_shape(size))
    return _leaf(data.astype(dtype or get_default_dtype()), requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.zeros(t.shape, dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.ones(t.shape, dtype or t.dtype), requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.full(t.shape, fill_value, dtype or t.dtype), requires_grad)
