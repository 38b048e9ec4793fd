"""The op table: each primitive's public function, forward and vector-jacobian product
side by side, one family per file (arithmetic, elementwise, activations, trigonometric,
rounding, bitwise, reductions, scans, sorting, norms, shape, rearrange, indexing, scatter,
triangular, products, windows, losses). The Tensor methods (`@method`) and the namespaces VJPs compute with
(`b_name`) are generated from it; adding a primitive touches its family's file only.

An op is a class that is never instantiated:
  forward(*arrays, **attrs) -> array          numpy work, through `backend`
  vjp(B, g, out, args, needs, **attrs)        one gradient per arg (None where not needed)
`B` is the namespace the VJP computes with: bare arrays in an ordinary backward, Tensor
ops under create_graph=True (so every VJP is itself differentiable). `args` are the
inputs (arrays or Tensors to match), `out` the output when `save_output` is set,
`needs[i]` whether arg i wants a gradient. Broadcasting is undone by the engine, which
sums each gradient to its input's shape (`sum_to`, the one place it happens).
`saves` lists the args whose *values* the VJP reads; the engine checks their version
counters so a later in-place change is caught instead of giving a wrong gradient.

Tie and kink rules (decided here, once):
  relu'(0) = 0; leaky_relu'(0) = negative_slope; elu'(0) = alpha; abs'(0) = 0;
  hardtanh, relu6, hardsigmoid: 0 at their corners; hardswish: 0 at -3, 1 at 3;
  atan2: 0 at the origin; rounding ops (floor, round, sign, ...): zero gradient;
  clamp passes the gradient where min <= x <= max (boundaries included);
  maximum/minimum with a == b give each side half; max/min/amax/amin reductions split
  the gradient evenly among tied elements.

Every VJP returns gradients in its inputs' dtype (no float64 helper arrays). Ops whose
forward or VJP can meet log 0, 1/0, 0/0, sqrt(-1) or overflow wear `backend.quiet`:
inf and nan come back silently, as in PyTorch, with no numpy RuntimeWarning.
"""

from __future__ import annotations

import importlib
import operator
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import backend
from ..autograd import _ArrayNS, _TensorNS, apply
from ..backend import xp
from ..tensor import _wrap
from .arithmetic import MatMul
from .base import METHODS, Op, _dim, _dims, _pair, _t, method  # noqa: F401
from .elementwise import Cast, Mask, _sigmoid, check_clamp_bounds  # noqa: F401
from .indexing import GetItem, normalize_index  # noqa: F401
from .shape import BroadcastTo, Cat, Reshape, SumTo, transpose, unsqueeze
from .windows import _pool_hits_tensor, _unpool_tensor

if TYPE_CHECKING:  # the families' names are set through globals() below: mypy can't list them
    # (no return annotation: an import cycle can reach this before `Any` would be resolved)
    def __getattr__(name: str): ...


# every module of this package but base is a family: a new file is a new family
FAMILIES = tuple(
    importlib.import_module(f".{m.name}", __name__)
    for m in pkgutil.iter_modules(__path__)
    if m.name != "base"
)
__all__: list = []
for _family in FAMILIES:
    for _name in _family.__all__:
        if _name in __all__:
            raise ImportError(
                f"microtensor.ops: {_name!r} is defined by two families "
                f"({_family.__name__} and another)"
            )
        globals()[_name] = getattr(_family, _name)
        __all__.append(_name)
    for _name, _value in vars(_family).items():  # the op classes too, as ops.Exp
        if isinstance(_value, type) and issubclass(_value, Op) and not _name.startswith("__"):
            globals()[_name] = _value


def _subclasses(cls) -> list:
    found = []
    for sub in cls.__subclasses__():
        found += [sub] + _subclasses(sub)
    return found


def _fill_namespaces() -> None:
    """The names VJPs compute with, over bare arrays (_ArrayNS) and over Tensor ops
    (_TensorNS, under create_graph). Ops with a `b_name` give their forward and
    themselves; the entries below are those with no op of their own, or a faster or
    writable array form."""
    arrays: dict[str, Callable] = {
        "broadcast_to": backend.broadcast_to,  # writable: a gradient may be added into
        "unsqueeze": xp.expand_dims,
        "mT": lambda a: a.swapaxes(-1, -2),
        "dot": xp.dot,  # a matrix product whose right operand is 2-D (then = matmul)
        "sign": xp.sign,
        "gt": operator.gt,  # a bool mask: g * mask keeps g's dtype
        "value": lambda a: a,
        "cast": lambda a, dtype: a.astype(dtype, copy=False),
        "zeros": xp.zeros,
        "cat": lambda parts, dim: xp.concatenate(parts, axis=dim),
        "pool_hits": backend.pool_hits,
        "unpool": backend.unpool,
        "take": lambda a, index: a.reshape(-1)[index],
    }
    tensors: dict[str, Callable] = {
        "sum_to": lambda a, shape: apply(SumTo, a, shape=shape),
        "broadcast_to": lambda a, shape: apply(BroadcastTo, a, shape=tuple(shape)),
        "unsqueeze": lambda a, dim: unsqueeze(a, dim),
        "mT": lambda a: transpose(a, -1, -2),
        "dot": lambda a, b: apply(MatMul, a, b),
        "sign": lambda a: apply(Mask, a, fn=xp.sign),
        "gt": lambda a, b: apply(Mask, a, b, fn=xp.greater),
        "value": lambda a: a._data,  # a constant: used only where the math is shift-invariant
        "cast": lambda a, dtype: apply(Cast, a, dtype=dtype),
        "zeros": lambda shape, dtype: _wrap(xp.zeros(shape, dtype)),
        "cat": lambda parts, dim: apply(Cat, *parts, dim=dim),
        "pool_hits": _pool_hits_tensor,
        "unpool": _unpool_tensor,
        "take": lambda a, index: apply(GetItem, apply(Reshape, a, shape=(-1,)), index=index),
    }
    for op in _subclasses(Op):
        if op.b_name is not None:
            arrays[op.b_name] = op.forward
            tensors[op.b_name] = _on_tensors(op)
    for name, fn in arrays.items():
        setattr(_ArrayNS, name, staticmethod(fn))
    for name, fn in tensors.items():
        setattr(_TensorNS, name, staticmethod(fn))


def _on_tensors(op):
    def run(*args, **attrs):
        return apply(op, *args, **attrs)

    run.__name__ = op.b_name
    return run


_fill_namespaces()
