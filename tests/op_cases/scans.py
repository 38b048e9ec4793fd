"""The op-case rows of the scans (microtensor/ops/scans.py): cumsum, cumprod (its
gradient at zeros from fixed examples), logcumsumexp, and cummax/cummin: their values by
Pick, their indices (no gradient) drawn with ties and NaNs."""

from __future__ import annotations

import math
import operator

import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *
from .sorting import TIED, along, tied

# zeros: one or two in a row, first, last, and none (dim 1); dim 0 mixes them too
ZEROS = (
    [[2.0, 0.0, -1.5, 0.5], [0.0, 0.5, 0.0, 3.0], [1.2, -0.7, 2.0, 0.0], [1.1, 0.9, -1.3, 2.0]],
)


def running_index(better):
    """The index of the running extreme of a slice: the latest of tied ones; once a NaN
    is met, the latest NaN (PyTorch 2.13's cummax of [1, 3, 3, 2, nan, 5, nan] gives
    indices [0, 1, 2, 2, 4, 4, 6], recorded from torch)."""

    def index(v):
        out, best = [], 0
        for k, e in enumerate(v):
            if math.isnan(e) or (not math.isnan(v[best]) and better(e, v[best])):
                best = k
            out.append(best)
        return out

    return index


ROWS = [
    OpCase(
        "cumsum",
        ops.Cumsum,
        lambda x, dim: x.cumsum(dim),
        lambda a, dim: np.cumsum(a, axis=dim),
        shapes=same_shape(min_dims=1),
        attrs=along_a_dim,
        examples=(ex(dim=1),),
    ),
    # drawn away from 0 (rcumsum(g * out) / x); at zeros from the examples
    OpCase(
        "cumprod",
        ops.Cumprod,
        lambda x, dim: mt.cumprod(x, dim),
        lambda a, dim: np.cumprod(a, axis=dim),
        ("nonzero",),
        shapes=same_shape(min_dims=1),
        attrs=along_a_dim,
        examples=(
            ex(dim=1),
            ex("zeros", values=ZEROS, dim=1),
            ex("zeros-dim-0", values=ZEROS, dim=0),
        ),
    ),
    OpCase(
        "logcumsumexp",
        ops.LogCumSumExp,
        lambda x, dim: x.logcumsumexp(dim),
        lambda a, dim: np.log(np.cumsum(np.exp(a), axis=dim)),
        shapes=same_shape(min_dims=1),
        attrs=along_a_dim,
        examples=(ex(dim=1), ex("dim-0", dim=0)),
    ),
    OpCase(
        "cummax-and-cummin",
        ops.Pick,
        lambda x, dim: (x.cummax(dim).values, mt.cummin(x, dim).values),
        lambda a, dim: (np.maximum.accumulate(a, axis=dim), np.minimum.accumulate(a, axis=dim)),
        distinct=True,
        shapes=same_shape(min_dims=1),
        attrs=along_a_dim,
        examples=(ex(dim=1),),
    ),
    OpCase(
        "cummax-indices",
        ops.CumArgMax,
        lambda x, dim: mt.cummax(x, dim).indices,
        along(running_index(operator.ge)),
        samples=tied(),
        examples=(ex(values=TIED, dim=1), ex("dim-0", values=TIED, dim=0)),
    ),
    OpCase(
        "cummin-indices",
        ops.CumArgMin,
        lambda x, dim: x.cummin(dim).indices,
        along(running_index(operator.le)),
        samples=tied(),
        examples=(ex(values=TIED, dim=1),),
    ),
]
