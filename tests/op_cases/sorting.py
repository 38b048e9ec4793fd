"""The op-case rows of the sorting ops (microtensor/ops/sorting.py): values picked by
index (Pick, whose VJP scatters back through Unpick), and the indices themselves (no
gradient), drawn with ties and NaNs where their order is the point."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *

NAN = math.nan


@st.composite
def tied(draw, **extra) -> Sample:
    """Values drawn from 0, 1, 2 and NaN (ties and NaNs everywhere) and a dim, plus the
    attributes `extra` draws."""
    shape = draw(any_shape(min_dims=1))
    a = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 2.0, NAN])))
    return Sample(
        (tensor_of(a),), {"dim": draw(a_dim(len(shape))), **{k: draw(v) for k, v in extra.items()}}
    )


TIED = ([[1.0, NAN, 2.0, 1.0], [2.0, 0.0, 2.0, NAN], [1.0, 1.0, 0.0, 1.0]],)


def along(fn, dtype=np.int64):
    """fn(one slice along dim) -> one value or slice, over every slice of `a` (loops:
    the references do not share the code under test's vectorised form)."""
    return lambda a, dim, **kw: np.asarray(
        np.apply_along_axis(lambda v: np.asarray(fn(list(v), **kw), dtype=dtype), dim, a)
    )


def stable_order(v, descending=False):
    """Positions of v sorted, ties in order, NaN as the largest (first when descending)."""
    key = (
        (lambda i: (not math.isnan(v[i]), -v[i] if v[i] == v[i] else 0))
        if descending
        else (lambda i: (math.isnan(v[i]), v[i] if v[i] == v[i] else 0))
    )
    return sorted(range(len(v)), key=key)


def lower_median_index(v):
    nans = [i for i, e in enumerate(v) if math.isnan(e)]
    return nans[0] if nans else stable_order(v)[(len(v) - 1) // 2]


def median_index_ref(a, dim, keepdim):
    out = along(lower_median_index)(a, dim)
    return np.expand_dims(out, dim) if keepdim else out


def sorted_ref(a, dim, descending):
    out = np.sort(a, axis=dim)
    return np.flip(out, axis=dim) if descending else out


def picked_ref(position):
    """The element at `position(n)` of each slice sorted, its dim kept if asked."""

    def ref(a, dim, keepdim):
        out = np.take(np.sort(a, axis=dim), [position(a.shape[dim])], axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    return ref


def topk_ref(a, k, dim, largest):
    out = np.sort(a, axis=dim)
    out = np.flip(out, axis=dim) if largest else out
    return np.take(out, range(k), axis=dim)


@st.composite
def k_along_a_dim(draw, shapes, keepdim=False):
    """k from 1 to the dim's size, the dim, and largest (topk) or keepdim (kthvalue)."""
    ndim = len(shapes[0])
    dim = draw(a_dim(ndim))
    extra = {"keepdim": draw(st.booleans())} if keepdim else {"largest": draw(st.booleans())}
    return {"k": draw(st.integers(1, shapes[0][dim])), "dim": dim, **extra}


@st.composite
def unpicks(draw) -> Sample:
    """Values and where they go along a dim of `shape`, the same place often."""
    shape = draw(any_shape(min_dims=1))
    dim = draw(a_dim(len(shape)))
    taken = shape[: dim % len(shape)] + (draw(st.integers(1, 3)),) + shape[dim % len(shape) + 1 :]
    index = draw(hnp.arrays(np.int64, taken, elements=st.integers(0, shape[dim] - 1)))
    v = draw(values(taken))
    return Sample((tensor_of(v),), {"index": index, "shape": shape, "dim": dim})


def unpick_ref(v, index, shape, dim):
    out = np.zeros(shape)
    for pos in np.ndindex(index.shape):
        to = list(pos)
        to[dim] = index[pos]
        out[tuple(to)] += v[pos]
    return out


def unique_ref(a, dim):
    """Sorted distinct elements (slices along dim), where each went, how many of each."""
    pieces = (
        [a.reshape(-1)[i] for i in range(a.size)]
        if dim is None
        else [tuple(s.reshape(-1)) for s in np.moveaxis(a, dim, 0)]
    )
    distinct = sorted(set(pieces))
    inverse = np.array([distinct.index(p) for p in pieces], dtype=np.int64)
    counts = np.array([pieces.count(p) for p in distinct], dtype=np.int64)
    if dim is None:
        return np.array(distinct), inverse.reshape(a.shape), counts
    rest = np.moveaxis(a, dim, 0).shape[1:]
    return np.moveaxis(np.array(distinct).reshape((-1,) + rest), 0, dim), inverse, counts


@st.composite
def few_values(draw) -> Sample:
    shape = draw(any_shape())
    a = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 2.5])))
    dim = None if not shape or draw(st.booleans()) else draw(a_dim(len(shape)))
    return Sample((tensor_of(a),), {"dim": dim})


UNIQUE = ([[1.0, 2.5, 1.0], [0.0, 2.5, 1.0], [1.0, 2.5, 1.0]],)

ROWS = [
    # values, by Pick: the gradient goes back to the element picked
    OpCase(
        "sort",
        ops.Pick,
        lambda x, dim, descending: x.sort(dim, descending).values,
        sorted_ref,
        distinct=True,
        shapes=same_shape(min_dims=1),
        attrs=lambda shapes: st.fixed_dictionaries(
            {"dim": a_dim(len(shapes[0])), "descending": st.booleans()}
        ),
        examples=(ex(dim=1, descending=False), ex("descending", dim=0, descending=True)),
    ),
    OpCase(
        "topk",
        ops.Pick,
        lambda x, k, dim, largest: mt.topk(x, k, dim, largest).values,
        topk_ref,
        distinct=True,
        shapes=same_shape(min_dims=1),
        attrs=k_along_a_dim,
        examples=(ex(k=2, dim=1, largest=True),),
    ),
    OpCase(
        "kthvalue-and-median",
        ops.Pick,
        lambda x, k, dim, keepdim: (
            x.kthvalue(k, dim, keepdim).values,
            mt.median(x, dim, keepdim).values,
        ),
        lambda a, k, dim, keepdim: (
            picked_ref(lambda n: k - 1)(a, dim, keepdim),
            picked_ref(lambda n: (n - 1) // 2)(a, dim, keepdim),
        ),
        distinct=True,
        shapes=same_shape(min_dims=1),
        attrs=lambda shapes: k_along_a_dim(shapes, keepdim=True),
        examples=(ex(k=2, dim=1, keepdim=False), ex("keepdim", k=1, dim=0, keepdim=True)),
    ),
    OpCase(
        "median",
        ops.Median,
        lambda x: x.median(),
        lambda a: np.sort(a.reshape(-1))[(a.size - 1) // 2],
        distinct=True,
    ),
    OpCase(
        "unpick",
        ops.Unpick,
        lambda v, index, shape, dim: ops.apply(ops.Unpick, v, index=index, shape=shape, dim=dim),
        unpick_ref,
        samples=unpicks(),
        examples=(
            ex(
                values=([[1.5, -2.0], [0.5, 3.0]],),
                index=np.array([[0, 0], [2, 1]]),
                shape=(2, 3),
                dim=1,
            ),
        ),
    ),
    # indices: ties keep their order, NaN sorts as the largest
    OpCase(
        "argsort",
        ops.Argsort,
        lambda x, dim, descending: x.argsort(dim, descending),
        along(stable_order),
        samples=tied(descending=st.booleans()),
        examples=(
            ex(values=TIED, dim=1, descending=False),
            ex("descending", values=TIED, dim=0, descending=True),
        ),
    ),
    OpCase(
        "median-index",
        ops.MedianIndex,
        lambda x, dim, keepdim: mt.median(x, dim, keepdim=keepdim).indices,
        median_index_ref,
        samples=tied(keepdim=st.booleans()),
        examples=(ex(values=TIED, dim=1, keepdim=False),),
    ),
    OpCase(
        "unique",
        ops.Unique,
        lambda x, dim: mt.unique(x, return_inverse=True, return_counts=True, dim=dim),
        unique_ref,
        samples=few_values(),
        examples=(ex(values=UNIQUE, dim=None), ex("rows", values=UNIQUE, dim=0)),
    ),
]
