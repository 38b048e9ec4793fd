"""The op-case rows of the elementwise ops (microtensor/ops/elementwise.py)."""
from __future__ import annotations

import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


from .columns import *
from .samples import *

ROWS = [
    # elementwise
    OpCase("exp", ops.Exp, mt.exp, np.exp),
    OpCase("expm1", ops.Expm1, mt.expm1, np.expm1),
    OpCase("log", ops.Log, mt.log, np.log, ("positive",)),
    OpCase("log1p", ops.Log1p, mt.log1p, np.log1p, ("unit",)),
    OpCase("sqrt", ops.Sqrt, mt.sqrt, np.sqrt, ("positive",)),
    OpCase("abs", ops.Abs, mt.abs, np.abs, kinks=(0.0,)),
    OpCase("sin", ops.Sin, mt.sin, np.sin),
    OpCase("cos", ops.Cos, mt.cos, np.cos),
    OpCase("tanh", ops.Tanh, mt.tanh, np.tanh),
    OpCase("sigmoid", ops.Sigmoid, mt.sigmoid, sigmoid_ref),
    OpCase("relu", ops.Relu, mt.relu, lambda a: np.maximum(a, 0.0), kinks=(0.0,)),
    OpCase("leaky_relu", ops.LeakyRelu, mt.leaky_relu, leaky_relu_ref, kinks=(0.0,)),
    OpCase("leaky_relu-slope", ops.LeakyRelu, mt.leaky_relu, leaky_relu_ref, kinks=(0.0,),
           attrs=keywords(negative_slope=st.floats(0.0, 2.0)),
           examples=(ex(negative_slope=0.1),)),
    OpCase("elu", ops.Elu, mt.elu, elu_ref, kinks=(0.0,)),
    OpCase("elu-alpha", ops.Elu, mt.elu, elu_ref, kinks=(0.0,),
           attrs=keywords(alpha=st.floats(0.1, 2.0)), examples=(ex(alpha=0.7),)),
    OpCase("softplus", ops.Softplus, mt.softplus, softplus_ref),
    OpCase("softplus-beta", ops.Softplus, mt.softplus, softplus_ref,
           attrs=keywords(beta=st.sampled_from([0.5, 2.0, 3.0])), examples=(ex(beta=2.0),)),
    # a low threshold, so that many elements take the linear branch; the branches meet
    # with a jump at beta x = threshold
    OpCase("softplus-threshold", ops.Softplus, mt.softplus, softplus_ref,
           kinks=lambda attrs: (attrs["threshold"] / attrs["beta"],),
           attrs=keywords(beta=st.sampled_from([1.0, 2.0]), threshold=st.floats(-2.0, 2.0)),
           examples=(ex("above", values=([-1.0, 0.2, 0.9, 1.5],), beta=2.0, threshold=1.0),)),
    OpCase("clamp", ops.Clamp, mt.clamp, lambda a, min, max: np.clip(a, min, max),
           kinks=clamp_kinks, attrs=clamp_bounds,
           examples=(ex(values=([[-0.5, 0.3, 0.8], [-1.7, 1.6, 0.1]],), min=-1.0, max=1.0),)),
    OpCase("maximum", ops.Maximum, mt.maximum, np.maximum, ("real", "real"), broadcasts=True,
           distinct=True,
           examples=(ex(values=([[-1.5], [0.25], [1.3]], [-0.7, 0.6, 1.9, -2.1])),)),
    OpCase("minimum", ops.Minimum, mt.minimum, np.minimum, ("real", "real"), broadcasts=True,
           distinct=True,
           examples=(ex(values=([[-1.5], [0.25], [1.3]], [-0.7, 0.6, 1.9, -2.1])),)),
    OpCase("where", ops.Where, lambda a, b, condition: mt.where(condition, a, b), where_ref,
           broadcasts=True, samples=where_samples(),
           examples=(ex(shapes=((3, 1), (4,)), condition=COND),)),
    # float32 output: a step of 1e-3 keeps its rounding out of the finite differences
    OpCase("cast-to-float32", ops.Cast, lambda x: x.to(mt.float32),
           lambda a: a.astype(np.float32), tolerances={"eps": 1e-3}),
    OpCase("cast-to-float64", ops.Cast, lambda x: x.to(mt.float64),
           lambda a: a.astype(np.float64)),
    # float32 rounding (~1e-7) swamps a 1e-6 step; the function is linear, so a 1e-2 step
    # has no truncation error and keeps the rounding far below the tolerance. No
    # examples: a mutant would change both casts, and two flipped signs cancel.
    OpCase("cast-float32-round-trip", ops.Cast, lambda x: x.to(mt.float32).double(),
           lambda a: a.astype(np.float32).astype(np.float64),
           tolerances={"eps": 1e-2, "atol": 1e-4}, examples=()),
    OpCase("clone", ops.Clone, lambda x: x.clone(), np.copy),
    OpCase("fill", ops.Fill, lambda x: x * x.clone().fill_(2.0), lambda a: a * 2.0),
    OpCase("mask", ops.Mask, lambda x: x * ops.apply(ops.Mask, x, 0.0, fn=np.greater),
           lambda a: a * (a > 0), kinks=(0.0,)),
    OpCase("copy", ops.CopyFrom, lambda a, source: a.clone().copy_(source),
           lambda a, source: np.broadcast_to(source, a.shape).copy(), broadcasts=True,
           samples=copy_samples(), examples=(ex(shapes=((2, 3), (3,))),)),
    # no gradient: comparisons and logic
    OpCase("lt", ops.Less, lambda a, b: a < b, np.less, ("real", "real"), broadcasts=True),
    OpCase("le", ops.LessEqual, lambda a, b: a <= b, np.less_equal, ("real", "real"),
           broadcasts=True),
    OpCase("gt", ops.Greater, lambda a, b: a > b, np.greater, ("real", "real"), broadcasts=True),
    OpCase("ge", ops.GreaterEqual, lambda a, b: a >= b, np.greater_equal, ("real", "real"),
           broadcasts=True),
    OpCase("eq", ops.Equal, lambda a, b: a == b, np.equal, ("bool", "bool"), broadcasts=True),
    OpCase("ne", ops.NotEqual, lambda a, b: a != b, np.not_equal, ("bool", "bool"),
           broadcasts=True),
    OpCase("logical_and", ops.LogicalAnd, lambda a, b: a & b, np.logical_and,
           ("bool", "bool"), broadcasts=True),
    OpCase("logical_or", ops.LogicalOr, lambda a, b: a | b, np.logical_or, ("bool", "bool"),
           broadcasts=True),
    OpCase("logical_xor", ops.LogicalXor, lambda a, b: a ^ b, np.logical_xor,
           ("bool", "bool"), broadcasts=True),
    OpCase("logical_not", ops.LogicalNot, lambda x: ~x, np.logical_not, ("bool",)),
]
