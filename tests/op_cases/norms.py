"""The op-case rows of the norms (microtensor/ops/norms.py): VectorNorm, and the norms
built on it and on amax/amin/sum, against numpy.linalg.norm or the p-norm's formula."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
from hypothesis import assume

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *

INF = math.inf


def p_norm_ref(a, ord, dim, keepdim):
    """(sum |a|^p)^(1/p) over dim; ord inf, -inf the largest, smallest |a|."""
    axis, m = np_dims(dim, a.ndim), np.abs(a)
    if math.isinf(ord):
        return np.asarray((np.max if ord > 0 else np.min)(m, axis=axis, keepdims=keepdim))
    return np.asarray(np.sum(m**ord, axis=axis, keepdims=keepdim) ** (1 / ord))


def vector_attrs(ords):
    return lambda shapes: st.fixed_dictionaries(
        {
            "ord": st.sampled_from(ords),
            "dim": reduction_dims(len(shapes[0])),
            "keepdim": st.booleans(),
        }
    )


@st.composite
def matrix_attrs(draw, shapes, ords=("fro", 1, -1, INF, -INF)):
    """An ord and two distinct dims, in either order, negative ones included."""
    ndim = len(shapes[0])
    rows, cols = draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2, unique=True))
    return {
        "ord": draw(st.sampled_from(ords)),
        "dim": (signed(draw, rows, ndim), signed(draw, cols, ndim)),
        "keepdim": draw(st.booleans()),
    }


def sum_gap(a, ord, dim) -> float:
    """For a matrix norm that is the largest or smallest row or column sum of |a| (ord
    1, -1, inf, -inf), the smallest gap between two of the sums it chooses from (a tie is
    a kink: finite differences there see half of each side); inf for other norms."""
    if ord not in (1, -1, INF, -INF) or dim is None or not isinstance(dim, tuple):
        return INF
    summed, chosen = (dim[0], dim[1]) if ord in (1, -1) else (dim[1], dim[0])
    sums = np.moveaxis(np.abs(a).sum(axis=summed, keepdims=True), chosen, -1)
    if sums.shape[-1] < 2:
        return INF
    return float(np.diff(np.sort(sums, axis=-1), axis=-1).min())


@st.composite
def separated(draw, attrs_of, min_dims=2):
    """A tensor and a norm's attributes; for a matrix norm, its candidate sums apart."""
    shape = draw(any_shape(min_dims=min_dims))
    attrs = draw(attrs_of((shape,)))
    (x,) = draw_tensors(draw, (shape,), "positive", distinct=True)
    dim = attrs["dim"] if attrs["dim"] is not None or len(shape) != 2 else (0, 1)
    assume(sum_gap(x.numpy(force=True), attrs["ord"], dim) > 1e-3)
    return Sample((x,), attrs)


def matrix_ref(a, ord, dim, keepdim):
    return np.asarray(np.linalg.norm(a, ord, axis=tuple(dim), keepdims=keepdim))


@st.composite
def linalg_norm_attrs(draw, shapes):
    """linalg.norm: no dim (ord None, or an ord of a 1-D or 2-D input), one dim or two."""
    ndim = len(shapes[0])
    kind = draw(st.sampled_from(["all", "ord"] + ["one"] * (ndim >= 1) + ["two"] * (ndim >= 2)))
    keepdim = draw(st.booleans())
    if kind == "all" or (kind == "ord" and ndim not in (1, 2)):
        return {"ord": None, "dim": None, "keepdim": keepdim}
    if kind == "ord":
        return {
            "ord": draw(st.sampled_from([1, INF] + ["fro"] * (ndim == 2) + [3] * (ndim == 1))),
            "dim": None,
            "keepdim": keepdim,
        }
    if kind == "one":
        return {
            "ord": draw(st.sampled_from([None, 1, 3])),
            "dim": draw(a_dim(ndim)),
            "keepdim": keepdim,
        }
    return draw(matrix_attrs(shapes, ords=(None, "fro", 1, -INF)))


def linalg_norm_ref(a, ord, dim, keepdim):
    if dim is None and ord is None:
        return np.asarray(
            np.linalg.norm(a.reshape(-1), keepdims=keepdim).reshape(
                (1,) * a.ndim if keepdim else ()
            )
        )
    axis = dim if isinstance(dim, tuple) or dim is None else (dim,)
    return np.asarray(np.linalg.norm(a, ord, axis=axis, keepdims=keepdim))


@st.composite
def norm_attrs(draw, shapes):
    """torch.norm: p 'fro' over one or two dims or all, a number p over any dims."""
    p, dim = draw(st.sampled_from(["fro", 2, 1, 3])), draw(reduction_dims(len(shapes[0])))
    if p == "fro" and isinstance(dim, tuple):
        dim = dim[:2]
    return {"p": p, "dim": dim, "keepdim": draw(st.booleans())}


ROWS = [
    OpCase(
        "vector_norm",
        ops.VectorNorm,
        lambda x, ord, dim, keepdim: mt.linalg.vector_norm(x, ord, dim, keepdim),
        p_norm_ref,
        ("nonzero",),
        attrs=vector_attrs([2, 1, 3, 0.5, -1.5]),
        examples=(
            ex(ord=2, dim=1, keepdim=False),
            ex("p-3", ord=3, dim=None, keepdim=True),
            ex("p-0.5", ord=0.5, dim=0, keepdim=False),
        ),
    ),
    # |x| distinct: positive values
    OpCase(
        "vector_norm-inf",
        None,
        lambda x, ord, dim, keepdim: mt.linalg.vector_norm(x, ord, dim, keepdim),
        p_norm_ref,
        ("positive",),
        distinct=True,
        attrs=vector_attrs([INF, -INF]),
        examples=(ex(ord=INF, dim=1, keepdim=False), ex("-inf", ord=-INF, dim=None, keepdim=True)),
    ),
    OpCase(
        "matrix_norm",
        None,
        lambda x, ord, dim, keepdim: mt.linalg.matrix_norm(x, ord, dim, keepdim),
        matrix_ref,
        ("positive",),
        distinct=True,
        samples=separated(matrix_attrs),
        examples=(
            ex(ord="fro", dim=(-2, -1), keepdim=False, shapes=((2, 3),)),
            ex("1", ord=1, dim=(1, 0), keepdim=True, shapes=((2, 3),)),
        ),
    ),
    OpCase(
        "linalg.norm",
        None,
        lambda x, ord, dim, keepdim: mt.linalg.norm(x, ord, dim, keepdim),
        linalg_norm_ref,
        ("positive",),
        distinct=True,
        samples=separated(linalg_norm_attrs, min_dims=0),
        examples=(ex(ord=None, dim=None, keepdim=False, shapes=((2, 3),)),),
    ),
    OpCase(
        "norm",
        None,
        lambda x, p, dim, keepdim: x.norm(p, dim, keepdim),
        lambda a, p, dim, keepdim: p_norm_ref(a, 2 if p == "fro" else p, dim, keepdim),
        ("nonzero",),
        attrs=norm_attrs,
        examples=(ex(p="fro", dim=None, keepdim=False),),
    ),
]
