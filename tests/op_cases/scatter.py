"""The op-case rows of gather, scatter and the index_* ops (microtensor/ops/scatter.py).

Each in-place form shares its out-of-place row: the attribute `inplace` (drawn, and
one example each way) calls `(x * 1).<op>_(...)` instead of `x.<op>(...)`. The numpy
references loop over the index, element by element, as PyTorch's documentation states
the ops: out[i][index[i][j]] = src[i][j] for dim 1, and so on."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import MAX_SIDE, OpCase, Sample, any_shape, draw_tensors, ex, signed
from .samples import numpy_index


def call(name: str, *names: str):
    """x.<name>(**attrs), the other tensors passed as the keywords `names`; with
    inplace=True, (x * 1).<name>_(...) (x itself is a leaf that requires grad)."""

    def fn(x, *tensors, inplace=False, **attrs):
        target = x * 1 if inplace else x
        return getattr(target, name + "_" * inplace)(**dict(zip(names, tensors)), **attrs)

    return fn


def _targets(index, dim: int):
    """(position in index, position in x) pairs: index's entry replaces the dim."""
    for pos in np.ndindex(index.shape):
        yield pos, pos[:dim] + (index[pos],) + pos[dim + 1 :]


# ------------------------------------------------------------------- numpy references
def gather_ref(a, dim, index):
    idx = numpy_index(index)
    d = dim % a.ndim
    return np.array([a[t] for _, t in _targets(idx, d)]).reshape(idx.shape)


def scatter_ref(a, src=None, *, dim, index, value=None, inplace=False):
    out = a.copy()
    for pos, t in _targets(numpy_index(index), dim % a.ndim):
        out[t] = value if src is None else src[pos]
    return out


REDUCE = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}


def scatter_reduce_ref(a, src, dim, index, reduce, include_self=True, inplace=False):
    reduce = {"add": "sum", "multiply": "prod"}.get(reduce, reduce)  # scatter's reduce=
    into: dict = {}
    for pos, t in _targets(numpy_index(index), dim % a.ndim):
        into.setdefault(t, [a[t]] if include_self else []).append(src[pos])
    out = a.copy()
    for t, values in into.items():
        out[t] = REDUCE[reduce](values)
    return out


def scatter_add_ref(a, src, dim, index, inplace=False):
    return scatter_reduce_ref(a, src, dim, index, "sum")


def take_along_dim_ref(a, indices, dim=None):
    idx = numpy_index(indices)
    if dim is None:
        return a.reshape(-1)[idx.reshape(-1)]
    return np.take_along_axis(a, idx, axis=dim)


def _slices(a, dim: int, index):
    """(i, the slice of a at i along dim, as an index) for each entry of index."""
    d = dim % a.ndim
    for j, i in enumerate(np.atleast_1d(numpy_index(index))):
        yield j, (slice(None),) * d + (i,)


def index_select_ref(a, dim, index):
    return np.stack([a[s] for _, s in _slices(a, dim, index)], axis=dim % a.ndim)


def index_add_ref(a, source, dim, index, alpha=1, inplace=False):
    out = a.copy()
    for j, s in _slices(a, dim, index):
        out[s] += alpha * np.take(source, j, axis=dim % a.ndim)
    return out


def index_copy_ref(a, source, dim, index, inplace=False):
    out = a.copy()
    for j, s in _slices(a, dim, index):
        out[s] = np.take(source, j, axis=dim % a.ndim)
    return out


def index_fill_ref(a, value, *, dim, index, inplace=False):
    out = a.copy()
    for _, s in _slices(a, dim, index):
        out[s] = value
    return out


# ------------------------------------------------------------------------------ samples
def _choices(draw, choices: dict) -> dict:
    return {name: draw(st.sampled_from(options)) for name, options in choices.items()}


@st.composite
def along_samples(
    draw,
    source: bool = True,
    unique: bool = False,
    domain: str = "real",
    distinct: bool = False,
    **choices,
) -> Sample:
    """x, a dim and an index of x's dims, no larger than x outside the dim, whose entries
    repeat (unless `unique`: then no element of x is named twice); with source, a
    source no smaller than the index; attributes drawn from `choices` (name -> options)."""
    shape = draw(any_shape(min_dims=1))
    d = draw(st.integers(0, len(shape) - 1))
    ishape = tuple(
        draw(st.integers(1, n if i != d or unique else MAX_SIDE)) for i, n in enumerate(shape)
    )
    if unique:  # the first entries of a permutation of each line
        keys = draw(
            hnp.arrays(
                np.float64,
                ishape[:d] + shape[d : d + 1] + ishape[d + 1 :],
                elements=st.floats(0, 1),
            )
        )
        index = np.take(np.argsort(keys, axis=d, kind="stable"), range(ishape[d]), axis=d)
    else:
        index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    shapes = (shape,) + ((tuple(k + draw(st.integers(0, 1)) for k in ishape),) if source else ())
    attrs = {"dim": signed(draw, d, len(shape)), "index": mt.tensor(index)}
    return Sample(
        draw_tensors(draw, shapes, domain, (), distinct), {**attrs, **_choices(draw, choices)}
    )


@st.composite
def index_samples(draw, source: str | None = "slices", unique: bool = False, **choices) -> Sample:
    """x, a dim, a 1-D index along it (repeats unless `unique`) and a source: "slices"
    (x's shape but one entry per index along the dim), a "scalar" (0-d) or none."""
    shape = draw(any_shape(min_dims=1))
    d = draw(st.integers(0, len(shape) - 1))
    n = shape[d]
    if unique:
        index = draw(st.permutations(range(n)))[: draw(st.integers(1, n))]
    else:
        index = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=MAX_SIDE))
    sources = {"slices": (shape[:d] + (len(index),) + shape[d + 1 :],), "scalar": ((),), None: ()}
    attrs = {"dim": signed(draw, d, len(shape)), "index": mt.tensor(index)}
    return Sample(
        draw_tensors(draw, (shape,) + sources[source]), {**attrs, **_choices(draw, choices)}
    )


@st.composite
def take_along_dim_samples(draw) -> Sample:
    """x and indices that broadcast with it outside `dim` (negative entries included),
    or any indices into the flattened x (dim None)."""
    shape = draw(any_shape(min_dims=1))
    if draw(st.booleans()):
        dim, ishape, size = None, draw(any_shape(min_dims=1)), int(np.prod(shape))
    else:
        d = draw(st.integers(0, len(shape) - 1))
        dim, size = signed(draw, d, len(shape)), shape[d]
        ishape = tuple(
            draw(st.integers(1, MAX_SIDE)) if i == d or n == 1 else draw(st.sampled_from([1, n]))
            for i, n in enumerate(shape)
        )
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-size, size - 1)))
    return Sample(draw_tensors(draw, (shape,)), {"indices": mt.tensor(index), "dim": dim})


IDX = mt.tensor([[0, 2, 0], [1, 1, 1]])  # repeats: sums, ties and products
UNIQUE = mt.tensor([[2, 0], [0, 1]])
INPLACE = (False, True)


def each_way(**attrs) -> tuple:
    """The examples of a row with an in-place form: out of place and in place."""
    return (ex(**attrs), ex("in-place", inplace=True, **attrs))


ROWS = [
    OpCase(
        "gather",
        ops.GetItem,
        lambda x, dim, index: x.gather(dim, index),
        gather_ref,
        samples=along_samples(source=False),
        examples=(ex(shapes=((2, 3),), dim=1, index=IDX),),
    ),
    OpCase(
        "take_along_dim",
        ops.GetItem,
        lambda x, indices, dim: mt.take_along_dim(x, indices, dim),
        take_along_dim_ref,
        samples=take_along_dim_samples(),
        examples=(
            ex(shapes=((2, 3),), indices=mt.tensor([[-1], [0]]), dim=1),
            ex("flattened", shapes=((2, 3),), indices=IDX, dim=None),
        ),
    ),
    OpCase(
        "scatter",
        ops.SetItem,
        call("scatter", "src"),
        scatter_ref,
        samples=along_samples(unique=True, inplace=INPLACE),
        examples=each_way(shapes=((2, 3), (2, 3)), dim=1, index=UNIQUE),
    ),
    OpCase(
        "scatter-value",
        ops.SetItem,
        call("scatter"),
        scatter_ref,
        samples=along_samples(source=False, unique=True, value=(-1.5, 2.0), inplace=INPLACE),
        examples=each_way(shapes=((2, 3),), dim=-1, index=UNIQUE, value=0.5),
    ),
    OpCase(
        "scatter-reduce-argument",
        ops.ScatterReduce,
        call("scatter", "src"),
        scatter_reduce_ref,
        domains=("nonzero",),
        samples=along_samples(domain="nonzero", reduce=("add", "multiply"), inplace=INPLACE),
        examples=each_way(shapes=((2, 3), (2, 3)), dim=1, index=IDX, reduce="multiply"),
    ),
    OpCase(
        "scatter_add",
        ops.ScatterReduce,
        call("scatter_add", "src"),
        scatter_add_ref,
        samples=along_samples(inplace=INPLACE),
        examples=each_way(shapes=((2, 3), (3, 3)), dim=1, index=IDX),
    ),
    OpCase(
        "scatter_reduce-sum-mean",
        ops.ScatterReduce,
        call("scatter_reduce", "src"),
        scatter_reduce_ref,
        samples=along_samples(reduce=("sum", "mean"), include_self=INPLACE, inplace=INPLACE),
        examples=(
            ex("sum", shapes=((2, 3), (2, 3)), dim=1, index=IDX, reduce="sum"),
            ex(
                "mean",
                shapes=((2, 3), (2, 3)),
                dim=1,
                index=IDX,
                reduce="mean",
                include_self=False,
                inplace=True,
            ),
        ),
    ),
    OpCase(
        "scatter_reduce-prod",
        ops.ScatterReduce,
        call("scatter_reduce", "src"),
        scatter_reduce_ref,
        domains=("nonzero",),
        samples=along_samples(
            domain="nonzero", reduce=("prod",), include_self=INPLACE, inplace=INPLACE
        ),
        examples=(
            ex(shapes=((2, 3), (2, 3)), dim=1, index=IDX, reduce="prod"),
            ex(
                "without-self",
                shapes=((2, 3), (2, 3)),
                dim=1,
                index=IDX,
                reduce="prod",
                include_self=False,
            ),
        ),
    ),
    # distinct values: a tie is a kink, where finite differences mean nothing
    OpCase(
        "scatter_reduce-amax-amin",
        ops.ScatterReduce,
        call("scatter_reduce", "src"),
        scatter_reduce_ref,
        distinct=True,
        samples=along_samples(
            distinct=True, reduce=("amax", "amin"), include_self=INPLACE, inplace=INPLACE
        ),
        examples=(
            ex("amax", shapes=((2, 3), (2, 3)), dim=1, index=IDX, reduce="amax"),
            ex(
                "amin", shapes=((2, 3), (2, 3)), dim=1, index=IDX, reduce="amin", include_self=False
            ),
        ),
    ),
    OpCase(
        "index_select",
        ops.GetItem,
        lambda x, dim, index: x.index_select(dim, index),
        index_select_ref,
        samples=index_samples(None),
        examples=(ex(shapes=((2, 3),), dim=1, index=mt.tensor([2, 0, 2])),),
    ),
    OpCase(
        "index_add-along-a-dim",
        ops.ScatterReduce,
        call("index_add", "source"),
        index_add_ref,
        samples=index_samples(alpha=(1, -2.5), inplace=INPLACE),
        examples=each_way(shapes=((2, 3), (2, 2)), dim=1, index=mt.tensor([2, 2]), alpha=1.5),
    ),
    OpCase(
        "index_copy",
        ops.SetItem,
        call("index_copy", "source"),
        index_copy_ref,
        samples=index_samples(unique=True, inplace=INPLACE),
        examples=each_way(shapes=((3, 2), (2, 2)), dim=0, index=mt.tensor([2, 0])),
    ),
    OpCase(
        "index_fill",
        ops.SetItem,
        call("index_fill", "value"),
        index_fill_ref,
        broadcasts=True,
        samples=index_samples("scalar", inplace=INPLACE),
        examples=each_way(shapes=((3, 2), ()), dim=-1, index=mt.tensor([1])),
    ),
    OpCase(
        "index_fill-a-number",
        ops.SetItem,
        call("index_fill"),
        index_fill_ref,
        samples=index_samples(None, value=(0.5, -2.0), inplace=INPLACE),
        examples=(ex(shapes=((3, 2),), dim=0, index=mt.tensor([2, 0, 2]), value=0.5),),
    ),
]
