"""The generator's model of a program's tensors (`_Storage`, `_Var`), the values it draws
and the tests that keep values away from kinks and domain edges, and the op tables."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_BOUND = 20.0  # |values| stay below this: finite differences keep their accuracy
_MARGIN = 0.05  # distance kept from kinks, clamp bounds and comparison thresholds


@dataclass
class _Storage:
    """Memory shared by a tensor and its views, as the generator models PyTorch."""

    leaf: bool = False
    dep: bool = False  # its values may depend on the leaves
    consumed: bool = False  # read by an op that may have saved it for backward
    version: int = 0
    via_view: bool = False  # changed in place through a view


@dataclass
class _Var:
    name: str
    storage: _Storage
    view: bool = False  # made by a view op from another variable
    multi: bool = False  # a piece of split/chunk (or a view of one): PyTorch refuses in-place
    sure: bool = True  # numpy and PyTorch give it the same strides (reshape is safe)
    born: int = 0  # the storage's version when this variable was made
    hidden: bool = False  # left out of the result


def _grid(k: int) -> float:
    """Value k of 302 distinct ones: magnitudes 0.50, 0.51, ..., 2.00, either sign."""
    magnitude = round(0.5 + 0.01 * (k // 2), 2)
    return magnitude if k % 2 == 0 else -magnitude


def _amin(a) -> float:
    return float(a.min()) if a.size else math.inf


def _absmin(a) -> float:
    return float(np.abs(a).min()) if a.size else math.inf


def _absmax(a) -> float:
    return float(np.abs(a).max()) if a.size else 0.0


def _ok(a) -> bool:
    return bool(np.all(np.isfinite(a))) and _absmax(a) <= _BOUND


def _fmt(v: float) -> str:
    return repr(float(v))


# unary ops: (template, domain check, what it saves for backward in PyTorch and microtensor)
_UNARY = [
    ("{}.tanh()", lambda a: True, "output"),
    ("{}.sigmoid()", lambda a: True, "output"),
    ("{}.exp()", lambda a: _absmax(a) <= 2.5, "output"),
    ("{}.sqrt()", lambda a: _amin(a) >= 0.2, "output"),
    ("{}.relu()", lambda a: _absmin(a) >= _MARGIN, "output"),
    ("{}.softmax(-1)", lambda a: a.size and a.shape[-1:] > (1,), "output"),  # else constant
    ("{}.sin()", lambda a: True, "input"),
    ("{}.log()", lambda a: _amin(a) >= 0.2, "input"),
    ("{}.abs()", lambda a: _absmin(a) >= _MARGIN, "input"),
    ("-{}", lambda a: True, "input"),
    ("{} ** 2", lambda a: True, "input"),
    ("{} ** 3", lambda a: _absmax(a) <= 2.5, "input"),
    ("{} ** 1.5", lambda a: _amin(a) >= 0.2, "input"),
    ("{} ** -1.0", lambda a: _absmin(a) >= 0.3, "input"),
]
_SCALARS = (0.5, 1.5, 2.0, -0.5, -1.5, 3.0)
_INPLACE = (
    "add_",
    "sub_",
    "mul_",
    "div_",
    "+=",
    "-=",
    "*=",
    "/=",
    "clamp_",
    "zero_",
    "fill_",
    "copy_",
    "setitem",
)
_SAVES_TARGET = ("mul_", "div_", "*=", "/=", "clamp_")  # may save the tensor they change
_INTO_CONSTANT = ("mul_", "div_", "*=", "/=", "copy_", "setitem", "add_")
_AUGMENTED = {"+=": "add_", "-=": "sub_", "*=": "mul_", "/=": "div_"}
_ARITHMETIC = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.divide}
_ARITHMETIC.update({aug: _ARITHMETIC[method] for aug, method in _AUGMENTED.items()})


class _MaskMaker:
    """`mt.tensor(mask)` inside an index, evaluated by numpy when the generator probes
    an index's shape."""

    @staticmethod
    def tensor(values):
        return np.array(values)
