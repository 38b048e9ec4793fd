"""The op-case rows of the activations (microtensor/ops/activations.py)."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *

_erf = np.vectorize(math.erf, otypes=[np.float64])


def ndtr_ref(a):
    return 0.5 * (1 + _erf(a / math.sqrt(2)))


def gelu_ref(a, approximate="none"):
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))
    return a * ndtr_ref(a)


def hardtanh_ref(a, min_val=-1.0, max_val=1.0):
    return np.minimum(np.maximum(a, min_val), max_val)


ROWS = [
    OpCase("relu", ops.Relu, mt.relu, lambda a: np.maximum(a, 0.0), kinks=(0.0,)),
    OpCase("leaky_relu", ops.LeakyRelu, mt.leaky_relu, leaky_relu_ref, kinks=(0.0,)),
    OpCase(
        "leaky_relu-slope",
        ops.LeakyRelu,
        mt.leaky_relu,
        leaky_relu_ref,
        kinks=(0.0,),
        attrs=keywords(negative_slope=st.floats(0.0, 2.0)),
        examples=(ex(negative_slope=0.1),),
    ),
    OpCase("elu", ops.Elu, mt.elu, elu_ref, kinks=(0.0,)),
    OpCase(
        "elu-alpha",
        ops.Elu,
        mt.elu,
        elu_ref,
        kinks=(0.0,),
        attrs=keywords(alpha=st.floats(0.1, 2.0)),
        examples=(ex(alpha=0.7),),
    ),
    OpCase("softplus", ops.Softplus, mt.softplus, softplus_ref),
    OpCase(
        "softplus-beta",
        ops.Softplus,
        mt.softplus,
        softplus_ref,
        attrs=keywords(beta=st.sampled_from([0.5, 2.0, 3.0])),
        examples=(ex(beta=2.0),),
    ),
    # a low threshold, so that many elements take the linear branch; the branches meet
    # with a jump at beta x = threshold
    OpCase(
        "softplus-threshold",
        ops.Softplus,
        mt.softplus,
        softplus_ref,
        kinks=lambda attrs: (attrs["threshold"] / attrs["beta"],),
        attrs=keywords(beta=st.sampled_from([1.0, 2.0]), threshold=st.floats(-2.0, 2.0)),
        examples=(ex("above", values=([-1.0, 0.2, 0.9, 1.5],), beta=2.0, threshold=1.0),),
    ),
    # the normal CDF: its continued fraction (|x| > 2.1) is also checked against math.erfc
    # in test_api_elementwise.py, far into the tails
    OpCase("ndtr", ops.Ndtr, lambda x: ops.apply(ops.Ndtr, x), ndtr_ref),
    OpCase("gelu", ops.Gelu, mt.gelu, gelu_ref),
    OpCase(
        "gelu-tanh",
        ops.Gelu,
        mt.gelu,
        gelu_ref,
        attrs=keywords(approximate=st.just("tanh")),
        examples=(ex(approximate="tanh"),),
    ),
    OpCase("silu", ops.Silu, mt.silu, lambda a: a * sigmoid_ref(a)),
    OpCase("mish", ops.Mish, mt.mish, lambda a: a * np.tanh(np.log1p(np.exp(a)))),
    OpCase("hardtanh", ops.Hardtanh, mt.hardtanh, hardtanh_ref, kinks=(-1.0, 1.0)),
    # 2.5 x puts the upper corner, 6, at x = 2.4: inside the drawn values
    OpCase(
        "relu6",
        ops.Hardtanh,
        lambda x: mt.relu6(x * 2.5),
        lambda a: np.clip(a * 2.5, 0, 6),
        kinks=(0.0, 2.4),
    ),
    OpCase(
        "hardswish",
        ops.Hardswish,
        mt.hardswish,
        lambda a: a * np.clip(a + 3, 0, 6) / 6,
        kinks=(-3.0, 3.0),
    ),
    OpCase(
        "hardsigmoid",
        ops.Hardsigmoid,
        mt.hardsigmoid,
        lambda a: np.clip(a + 3, 0, 6) / 6,
        kinks=(-3.0, 3.0),
    ),
    OpCase("logsigmoid", ops.Logsigmoid, mt.logsigmoid, lambda a: -np.log1p(np.exp(-a))),
    OpCase("softsign", ops.Softsign, mt.softsign, lambda a: a / (1 + np.abs(a)), kinks=(0.0,)),
]
