"""The op-case rows of the arithmetic ops (microtensor/ops/arithmetic.py)."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .rounding import SAME_SHAPE, quotients
from .samples import *

ALPHAS = keywords(alpha=st.sampled_from([2, -0.5, 1.5]))  # an int and floats

ROWS = [
    # arithmetic: the binary ops broadcast, e.g. (3, 1) with (4,), or () with (2, 2)
    OpCase("add", ops.Add, lambda a, b: a + b, np.add, ("real", "real"), broadcasts=True),
    OpCase("sub", ops.Sub, lambda a, b: a - b, np.subtract, ("real", "real"), broadcasts=True),
    OpCase("mul", ops.Mul, lambda a, b: a * b, np.multiply, ("real", "real"), broadcasts=True),
    OpCase("div", ops.Div, lambda a, b: a / b, np.divide, ("real", "nonzero"), broadcasts=True),
    # the functions with PyTorch's keywords: add and sub scale `other` by alpha; div
    # rounds if asked (a zero gradient, like floor_divide's)
    OpCase(
        "add-alpha",
        None,
        mt.add,
        lambda a, b, alpha: a + alpha * b,
        ("real", "real"),
        broadcasts=True,
        attrs=ALPHAS,
        examples=(ex(alpha=2),),
    ),
    OpCase(
        "sub-alpha",
        None,
        mt.sub,
        lambda a, b, alpha: a - alpha * b,
        ("real", "real"),
        broadcasts=True,
        attrs=ALPHAS,
        examples=(ex(alpha=-0.5),),
    ),
    OpCase(
        "div-floor",
        ops.Mask,
        mt.div,
        lambda a, b, rounding_mode: np.floor(a / b),
        broadcasts=True,
        samples=quotients(rounding_mode="floor"),
        examples=(ex(values=SAME_SHAPE.values, broadcasts=False, rounding_mode="floor"),),
    ),
    OpCase(
        "div-trunc",
        ops.Mask,
        mt.div,
        lambda a, b, rounding_mode: np.trunc(a / b),
        broadcasts=True,
        samples=quotients(rounding_mode="trunc"),
        examples=(ex(values=SAME_SHAPE.values, broadcasts=False, rounding_mode="trunc"),),
    ),
    OpCase("neg", ops.Neg, lambda x: -x, np.negative),
    OpCase("pow", ops.Pow, lambda a, b: a**b, np.power, ("positive", "real"), broadcasts=True),
    OpCase(
        "pow-integer-exponent",
        ops.Pow,
        lambda x, exponent: x**exponent,
        lambda a, exponent: a**exponent,
        ("nonzero",),
        attrs=keywords(exponent=st.integers(-2, 3)),
        examples=(ex(exponent=3),),
    ),
    OpCase(
        "pow-real-exponent",
        ops.Pow,
        lambda x, exponent: x**exponent,
        lambda a, exponent: a**exponent,
        ("positive",),
        attrs=keywords(exponent=st.floats(-2.0, 3.0)),
        examples=(ex(exponent=2.5),),
    ),
    OpCase(
        "pow-scalar-base",
        ops.Pow,
        lambda x, base: base**x,
        lambda a, base: np.power(base, a),
        attrs=keywords(base=st.floats(0.2, 4.0)),
        examples=(ex(base=2.0),),
    ),
    OpCase(
        "matmul",
        ops.MatMul,
        lambda a, b: a @ b,
        np.matmul,
        samples=matmul_operands(batched=False),
        examples=(ex(shapes=((3, 3), (3, 3))), ex("vector", shapes=((3,), (3, 4)))),
    ),
    OpCase(
        "matmul-batched",
        ops.MatMul,
        lambda a, b: a @ b,
        np.matmul,
        broadcasts=True,
        samples=matmul_operands(batched=True),
        examples=(ex(shapes=((2, 1, 3, 4), (5, 4, 2))),),
    ),
    OpCase(
        "linear",
        ops.Linear,
        ops.linear,
        linear_ref,
        broadcasts=True,
        samples=linear_operands(),
        examples=(
            ex(shapes=((4, 3), (3, 3), (3,))),
            ex("3d-input", shapes=((2, 2, 3), (4, 3)), broadcasts=False),
        ),
    ),
]
