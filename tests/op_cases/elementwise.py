"""The op-case rows of the elementwise ops (microtensor/ops/elementwise.py)."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *


@st.composite
def near_pairs(draw) -> Sample:
    """a, and b = a plus steps around isclose's tolerance (1e-5 relative): some elements
    close, some not."""
    shape = draw(any_shape())
    a = draw(values(shape))
    step = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1e-7, 1e-3])))
    return Sample((mt.tensor(a), mt.tensor(a + step * np.abs(a))))


# values inside, below and above the bounds
CLAMPED = ex(values=([[-0.5, 0.3, 0.8], [-1.7, 1.6, 0.1]],), min=-1.0, max=1.0)

ROWS = [
    # elementwise
    OpCase("exp", ops.Exp, mt.exp, np.exp),
    OpCase("expm1", ops.Expm1, mt.expm1, np.expm1),
    OpCase("exp2", ops.Exp2, mt.exp2, np.exp2),
    OpCase("log", ops.Log, mt.log, np.log, ("positive",)),
    OpCase("log1p", ops.Log1p, mt.log1p, np.log1p, ("unit",)),
    OpCase("log2", ops.Log2, mt.log2, np.log2, ("positive",)),
    OpCase("log10", ops.Log10, mt.log10, np.log10, ("positive",)),
    OpCase("sqrt", ops.Sqrt, mt.sqrt, np.sqrt, ("positive",)),
    OpCase("rsqrt", ops.Rsqrt, mt.rsqrt, lambda a: 1 / np.sqrt(a), ("positive",)),
    OpCase("reciprocal", ops.Reciprocal, mt.reciprocal, lambda a: 1 / a, ("nonzero",)),
    OpCase("square", None, mt.square, lambda a: a * a),
    OpCase("abs", ops.Abs, mt.abs, np.abs, kinks=(0.0,)),
    OpCase("sin", ops.Sin, mt.sin, np.sin),
    OpCase("cos", ops.Cos, mt.cos, np.cos),
    OpCase("tanh", ops.Tanh, mt.tanh, np.tanh),
    OpCase("sigmoid", ops.Sigmoid, mt.sigmoid, sigmoid_ref),
    OpCase(
        "clamp",
        ops.Clamp,
        mt.clamp,
        lambda a, min, max: np.clip(a, min, max),
        kinks=clamp_kinks,
        attrs=clamp_bounds,
        examples=(CLAMPED,),
    ),
    OpCase(
        "clip_",
        ops.Clamp,
        lambda x, min, max: x.clone().clip_(min, max),
        lambda a, min, max: np.clip(a, min, max),
        kinks=clamp_kinks,
        attrs=clamp_bounds,
        examples=(CLAMPED,),
    ),
    OpCase(
        "maximum",
        ops.Maximum,
        mt.maximum,
        np.maximum,
        ("real", "real"),
        broadcasts=True,
        distinct=True,
        examples=(ex(values=([[-1.5], [0.25], [1.3]], [-0.7, 0.6, 1.9, -2.1])),),
    ),
    OpCase(
        "minimum",
        ops.Minimum,
        mt.minimum,
        np.minimum,
        ("real", "real"),
        broadcasts=True,
        distinct=True,
        examples=(ex(values=([[-1.5], [0.25], [1.3]], [-0.7, 0.6, 1.9, -2.1])),),
    ),
    # three inputs that broadcast: a weight on both sides of 0.5, where the formula changes
    OpCase(
        "lerp",
        ops.Lerp,
        mt.lerp,
        lambda a, b, w: a + w * (b - a),
        ("real", "real", "unit"),
        broadcasts=True,
        examples=(ex(shapes=((3, 1), (4,), (3, 4))),),
    ),
    OpCase("nan_to_num", ops.NanToNum, mt.nan_to_num, np.nan_to_num),
    OpCase(
        "where",
        ops.Where,
        lambda a, b, condition: mt.where(condition, a, b),
        where_ref,
        broadcasts=True,
        samples=where_samples(),
        examples=(ex(shapes=((3, 1), (4,)), condition=COND),),
    ),
    # float32 output: a step of 1e-3 keeps its rounding out of the finite differences
    OpCase(
        "cast-to-float32",
        ops.Cast,
        lambda x: x.to(mt.float32),
        lambda a: a.astype(np.float32),
        tolerances={"eps": 1e-3},
    ),
    # the op itself: x.to(mt.float64) of a float64 tensor is x, as in PyTorch
    OpCase(
        "cast-to-float64",
        ops.Cast,
        lambda x: ops.apply(ops.Cast, x, dtype=np.float64),
        lambda a: a.astype(np.float64),
    ),
    # float32 rounding (~1e-7) swamps a 1e-6 step; the function is linear, so a 1e-2 step
    # has no truncation error and keeps the rounding far below the tolerance. No
    # examples: a mutant would change both casts, and two flipped signs cancel.
    OpCase(
        "cast-float32-round-trip",
        ops.Cast,
        lambda x: x.to(mt.float32).double(),
        lambda a: a.astype(np.float32).astype(np.float64),
        tolerances={"eps": 1e-2, "atol": 1e-4},
        examples=(),
    ),
    OpCase("clone", ops.Clone, lambda x: x.clone(), np.copy),
    OpCase("fill", ops.Fill, lambda x: x * x.clone().fill_(2.0), lambda a: a * 2.0),
    OpCase(
        "mask",
        ops.Mask,
        lambda x: x * ops.apply(ops.Mask, x, 0.0, fn=np.greater),
        lambda a: a * (a > 0),
        kinks=(0.0,),
    ),
    OpCase(
        "copy",
        ops.CopyFrom,
        lambda a, source: a.clone().copy_(source),
        lambda a, source: np.broadcast_to(source, a.shape).copy(),
        broadcasts=True,
        samples=copy_samples(),
        examples=(ex(shapes=((2, 3), (3,))),),
    ),
    # no gradient: comparisons and logic
    OpCase("lt", ops.Less, lambda a, b: a < b, np.less, ("real", "real"), broadcasts=True),
    OpCase(
        "le", ops.LessEqual, lambda a, b: a <= b, np.less_equal, ("real", "real"), broadcasts=True
    ),
    OpCase("gt", ops.Greater, lambda a, b: a > b, np.greater, ("real", "real"), broadcasts=True),
    OpCase(
        "ge",
        ops.GreaterEqual,
        lambda a, b: a >= b,
        np.greater_equal,
        ("real", "real"),
        broadcasts=True,
    ),
    OpCase("eq", ops.Equal, lambda a, b: a == b, np.equal, ("bool", "bool"), broadcasts=True),
    OpCase(
        "ne", ops.NotEqual, lambda a, b: a != b, np.not_equal, ("bool", "bool"), broadcasts=True
    ),
    OpCase(
        "logical_and",
        ops.LogicalAnd,
        mt.logical_and,
        np.logical_and,
        ("bool", "bool"),
        broadcasts=True,
    ),
    OpCase(
        "logical_or", ops.LogicalOr, mt.logical_or, np.logical_or, ("bool", "bool"), broadcasts=True
    ),
    OpCase(
        "logical_xor",
        ops.LogicalXor,
        mt.logical_xor,
        np.logical_xor,
        ("bool", "bool"),
        broadcasts=True,
    ),
    OpCase("logical_not", ops.LogicalNot, mt.logical_not, np.logical_not, ("bool",)),
    # the table's values are finite: these say False (True) everywhere; test_api_elementwise
    # has the NaN and inf
    OpCase("isnan", ops.IsNan, mt.isnan, np.isnan),
    OpCase("isinf", ops.IsInf, mt.isinf, np.isinf),
    OpCase("isfinite", ops.IsFinite, mt.isfinite, np.isfinite),
    # b within a hundredth of a (or not): both answers drawn
    OpCase(
        "isclose",
        ops.IsClose,
        mt.isclose,
        np.isclose,
        samples=near_pairs(),
        examples=(ex(values=([1.0, 2.0, 3.0], [1.0, 2.0 + 1e-6, 3.1])),),
    ),
    OpCase(
        "allclose",
        ops.IsClose,
        lambda a, b: mt.tensor(a.allclose(b)),
        lambda a, b: np.asarray(np.allclose(a, b)),
        samples=near_pairs(),
        examples=(
            ex(values=([1.0, 2.0], [1.0, 2.0 + 1e-6])),
            ex("far", values=([1.0, 2.0], [1.0, 2.1])),
        ),
    ),
]
