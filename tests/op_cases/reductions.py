"""The op-case rows of the reductions ops (microtensor/ops/reductions.py)."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops
from microtensor.functional import std_mean, var_mean

from .columns import *  # noqa: F401,F403
from .samples import *  # noqa: F401,F403


@st.composite
def one_dim_or_all(draw, shapes):
    """prod, aminmax: over all elements or along one dim; keepdim either way."""
    ndim = len(shapes[0])
    dim = None if ndim == 0 or draw(st.booleans()) else draw(a_dim(ndim))
    return {"dim": dim, "keepdim": draw(st.booleans())}


ROWS = [
    # reductions over `dim`: None, an int or a tuple, negative dims included
    OpCase(
        "sum",
        ops.Sum,
        lambda x, dim, keepdim: mt.sum(x, dim, keepdim),
        reduce_ref(np.sum),
        attrs=over_dims,
        examples=(
            ex(dim=1, keepdim=False),
            ex("keepdim", shapes=((2, 3, 2),), dim=(0, 2), keepdim=True),
        ),
    ),
    OpCase(
        "mean",
        ops.Mean,
        lambda x, dim, keepdim: x.mean(dim, keepdim=keepdim),
        reduce_ref(np.mean),
        attrs=over_dims,
        examples=(ex(dim=0, keepdim=False),),
    ),
    OpCase(
        "amax",
        ops.Amax,
        lambda x, dim, keepdim: mt.amax(x, dim, keepdim),
        reduce_ref(np.max),
        distinct=True,
        attrs=over_dims,
        examples=(ex(dim=1, keepdim=False),),
    ),
    OpCase(
        "amin",
        ops.Amin,
        lambda x, dim, keepdim: x.amin(dim, keepdim),
        reduce_ref(np.min),
        distinct=True,
        attrs=over_dims,
        examples=(ex(dim=0, keepdim=False),),
    ),
    OpCase(
        "max-and-min",
        ops.Amax,
        lambda x: (mt.max(x), x.min()),
        lambda a: (np.max(a), np.min(a)),
        distinct=True,
    ),
    OpCase(
        "max-and-min-along-a-dim",
        ops.Amax,
        lambda x, dim, keepdim: (
            mt.max(x, dim, keepdim).values,
            x.min(dim, keepdim=keepdim).values,
        ),
        lambda a, dim, keepdim: (
            reduce_ref(np.max)(a, dim, keepdim),
            reduce_ref(np.min)(a, dim, keepdim),
        ),
        distinct=True,
        shapes=same_shape(min_dims=1),
        attrs=along_a_dim_keepdim,
        examples=(ex(dim=1, keepdim=False), ex("keepdim", dim=-1, keepdim=True)),
    ),
    OpCase(
        "var",
        None,
        lambda x, dim, correction, keepdim: mt.var(x, dim, correction=correction, keepdim=keepdim),
        lambda a, dim, correction, keepdim: np.var(
            a, axis=np_dims(dim, a.ndim), ddof=correction, keepdims=keepdim
        ),
        distinct=True,
        attrs=var_attrs,
        examples=(ex(dim=1, correction=1, keepdim=False),),
    ),
    OpCase(
        "std",
        None,
        lambda x, dim, correction, keepdim: mt.std(x, dim, correction=correction, keepdim=keepdim),
        lambda a, dim, correction, keepdim: np.std(
            a, axis=np_dims(dim, a.ndim), ddof=correction, keepdims=keepdim
        ),
        distinct=True,
        shapes=splittable(),
        attrs=lambda shapes: var_attrs(shapes, min_reduced=2),
        examples=(ex(dim=None, correction=1, keepdim=False),),
    ),
    OpCase(
        "var_mean-and-std_mean",
        None,
        lambda x, dim, correction, keepdim: (
            *var_mean(x, dim, correction=correction, keepdim=keepdim),
            std_mean(x, axis=dim, correction=correction, keepdims=keepdim)[0],
        ),
        lambda a, dim, correction, keepdim: (
            np.var(a, axis=np_dims(dim, a.ndim), ddof=correction, keepdims=keepdim),
            np.mean(a, axis=np_dims(dim, a.ndim), keepdims=keepdim),
            np.std(a, axis=np_dims(dim, a.ndim), ddof=correction, keepdims=keepdim),
        ),
        distinct=True,
        shapes=splittable(),
        attrs=lambda shapes: var_attrs(shapes, min_reduced=2),
        examples=(ex(dim=1, correction=0, keepdim=True),),
    ),
    OpCase(
        "logsumexp",
        ops.LogSumExp,
        lambda x, dim, keepdim: mt.logsumexp(x, dim, keepdim),
        logsumexp_ref,
        attrs=over_dims,
        examples=(ex(dim=1, keepdim=False),),
    ),
    OpCase(
        "softmax",
        ops.Softmax,
        lambda x, dim: mt.softmax(x, dim),
        softmax_ref,
        shapes=same_shape(min_dims=1),
        attrs=along_a_dim,
        examples=(ex(dim=1),),
    ),
    OpCase(
        "log_softmax",
        ops.LogSoftmax,
        lambda x, dim: x.log_softmax(dim),
        log_softmax_ref,
        shapes=same_shape(min_dims=1),
        attrs=along_a_dim,
        examples=(ex(dim=0),),
    ),
    # no gradient: arg-reductions and all/any
    OpCase(
        "argmax",
        ops.ArgMax,
        lambda x, dim, keepdim: x.argmax(dim, keepdim),
        arg_ref(np.argmax),
        attrs=arg_attrs,
        examples=(ex(dim=1, keepdim=True),),
    ),
    OpCase(
        "argmin",
        ops.ArgMin,
        lambda x, dim, keepdim: mt.argmin(x, dim, keepdim),
        arg_ref(np.argmin),
        attrs=arg_attrs,
        examples=(ex(dim=None, keepdim=False),),
    ),
    OpCase(
        "all",
        ops.All,
        lambda x, dim, keepdim: x.all(dim, keepdim),
        reduce_ref(np.all),
        ("bool",),
        attrs=over_dims,
        examples=(ex(dim=0, keepdim=False),),
    ),
    OpCase(
        "any",
        ops.Any,
        lambda x, dim, keepdim: mt.any(x, dim, keepdim),
        reduce_ref(np.any),
        ("bool",),
        attrs=over_dims,
        examples=(ex(dim=(0, 1), keepdim=True),),
    ),
    OpCase(
        "count_nonzero",
        ops.CountNonzero,
        lambda x, dim: x.count_nonzero(dim),
        lambda a, dim: np.sum(a != 0, axis=np_dims(dim, a.ndim)).astype(np.int64),
        attrs=lambda shapes: st.fixed_dictionaries({"dim": reduction_dims(len(shapes[0]))}),
        examples=(ex(values=([[0.0, 1.5, 0.0], [2.0, -1.0, 0.0]],), dim=0),),
    ),
    # prod: out / x drawn away from 0 (where 1e-300 ** 2 underflows, as in PyTorch); its
    # gradient at zeros from the examples (one in a slice: the product of the others; two: 0)
    OpCase(
        "prod",
        ops.Prod,
        lambda x, dim, keepdim: x.prod(dim, keepdim),
        reduce_ref(np.prod),
        ("nonzero",),
        attrs=one_dim_or_all,
        examples=(
            ex(dim=1, keepdim=False),
            ex("zeros", values=([[2.0, 0.0, -1.5], [0.0, 0.5, 0.0]],), dim=1, keepdim=True),
            ex("a-zero", values=([[2.0, 0.0, -1.5], [1.2, 0.5, 3.0]],), dim=None, keepdim=False),
        ),
    ),
    OpCase(
        "aminmax",
        None,
        lambda x, dim, keepdim: tuple(mt.aminmax(x, dim=dim, keepdim=keepdim)),
        lambda a, dim, keepdim: (
            reduce_ref(np.min)(a, dim, keepdim),
            reduce_ref(np.max)(a, dim, keepdim),
        ),
        distinct=True,
        attrs=one_dim_or_all,
        examples=(ex(dim=-1, keepdim=True),),
    ),
]
