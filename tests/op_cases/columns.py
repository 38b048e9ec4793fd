"""The op-case table's columns (Sample, Example, OpCase, Case) and the strategies every
family draws with: values, shapes, dims."""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
from helpers import leaf

import microtensor as mt
from microtensor.testing import check_grads
from microtensor.testing import strategies as mst

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


# ------------------------------------------------------------------------- the columns
@dataclass
class Sample:
    """One call: tensors (positional) and attributes (keywords)."""

    tensors: tuple
    attrs: dict = field(default_factory=dict)

    def bind(self, fn: Callable) -> Callable:
        """fn with this sample's attributes: a function of the tensors alone."""
        return lambda *tensors: fn(*tensors, **self.attrs)


@dataclass
class Example:
    """A fixed sample of a row: `values` given, or drawn for `shapes` (the row's default
    when None) from the row's domains by a generator seeded with the case's name."""

    label: str = ""
    attrs: dict = field(default_factory=dict)
    shapes: tuple | None = None
    values: tuple | None = None
    broadcasts: bool | None = None  # None: the row's


def ex(label: str = "", *, shapes=None, values=None, broadcasts=None, **attrs) -> Example:
    return Example(label, attrs, shapes, values, broadcasts)


@dataclass
class OpCase:
    """One row of the table: its columns are described at the top of this file."""

    name: str
    op: type | None
    fn: Callable
    reference: Callable
    domains: tuple = ("real",)
    broadcasts: bool = False
    kinks: tuple | Callable = ()
    distinct: bool = False
    attrs: Callable | None = None
    shapes: st.SearchStrategy | None = None
    samples: st.SearchStrategy | None = None
    examples: tuple | None = None
    tolerances: dict = field(default_factory=dict)

    @property
    def differentiable(self) -> bool:
        return self.op is None or self.op.differentiable

    def domain(self, i: int) -> str:
        return self.domains[min(i, len(self.domains) - 1)]

    def kinks_at(self, attrs: dict) -> tuple:
        return tuple(self.kinks(attrs)) if callable(self.kinks) else tuple(self.kinks)

    def strategy(self) -> st.SearchStrategy:
        """Samples: the row's `samples`, or drawn from its other columns."""
        return self.samples if self.samples is not None else _drawn(self)

    def cases(self) -> list:
        examples = (ex(),) if self.examples is None else self.examples
        assert self.samples is None or all(e.shapes or e.values for e in examples), (
            f"{self.name}: a row with its own samples gives its examples' shapes or values"
        )
        return [
            Case(
                self.name + (f"-{e.label}" if e.label else ""),
                self,
                Sample(_example_tensors(self, e), dict(e.attrs)),
                self.broadcasts if e.broadcasts is None else e.broadcasts,
            )
            for e in examples
        ]


@dataclass
class Case:
    """A row on one fixed sample: what the wrong-VJP mutants run on."""

    name: str
    row: OpCase
    sample: Sample
    broadcasts: bool

    @property
    def op(self) -> type | None:
        return self.row.op

    def check(self) -> None:
        """check_grads, full Jacobian, first order: raises GradcheckError on a mismatch."""
        check_grads(
            self.sample.bind(self.row.fn),
            *self.sample.tensors,
            modes=("full",),
            **self.row.tolerances,
        )


# ------------------------------------------------------------------ values and shapes
def tensor_of(a) -> mt.Tensor:
    """A float array as a leaf that requires grad, a bool array as a constant."""
    a = np.asarray(a)
    return mt.tensor(a) if a.dtype == np.bool_ else leaf(a)


# Strategies are built once per argument (functools.cache below): hypothesis spends more
# on building a strategy than on drawing from it.
@functools.cache
def any_shape(min_dims: int = 0, max_dims: int = MAX_DIMS):
    """(), (3,), (2, 1, 3), ...: 0-d and size-1 dims included."""
    return mst.shapes(min_dims=min_dims, max_dims=max_dims, max_side=MAX_SIDE)


@functools.cache
def broadcastable(n: int, min_dims: int = 0, max_dims: int = MAX_DIMS):
    """n shapes that broadcast together, e.g. (3, 1) and (2,), or () and (2, 2)."""
    return mst.broadcastable_shapes(n, min_dims=min_dims, max_dims=max_dims, max_side=MAX_SIDE)


@functools.cache
def same_shape(n: int = 1, min_dims: int = 0):
    return any_shape(min_dims).map(lambda s: (s,) * n)


@functools.lru_cache(maxsize=1024)  # drawn kinks (clamp's bounds) make new keys
def values(shape, domain: str = "real", kinks=(), distinct: bool = False):
    """Arrays of `shape` from a domain, KINK_MARGIN away from the kinks; distinct=True
    keeps every pair of values a thousandth of the domain apart (no ties)."""
    if domain == "bool":
        return hnp.arrays(np.bool_, shape)
    if distinct or not kinks:
        return mst.arrays(shape, domain, distinct=distinct)
    low, high, margin = mst.DOMAINS[domain]
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64).filter(
        lambda v: abs(v) >= margin and all(abs(v - k) >= KINK_MARGIN for k in kinks)
    )
    return hnp.arrays(np.float64, shape, elements=elements)


def draw_tensors(draw, shapes, domain: str = "real", kinks=(), distinct: bool = False) -> tuple:
    """Tensors of the given shapes from one domain: one array drawn and cut in pieces (a
    draw costs more per array than per element), so distinct values differ across the
    tensors too."""
    sizes = [math.prod(s) for s in shapes]
    flat = draw(values((sum(sizes),), domain, tuple(kinks), distinct))
    pieces = np.split(flat, np.cumsum(sizes)[:-1])
    return tuple(tensor_of(p.reshape(s)) for p, s in zip(pieces, shapes))


_ATTRS: dict = {}


@st.composite
def _drawn(draw, row: OpCase) -> Sample:
    n = len(row.domains)
    if row.shapes is not None:
        shapes = draw(row.shapes)
    elif row.broadcasts:
        shapes = draw(broadcastable(n))
    else:
        shapes = draw(same_shape(n))
    attrs = {}
    if row.attrs:
        key = (row.name, shapes)
        if key not in _ATTRS:
            _ATTRS[key] = row.attrs(shapes)
        attrs = draw(_ATTRS[key])
    kinks = row.kinks_at(attrs)
    if len(set(row.domain(i) for i in range(n))) == 1:
        drawn = draw_tensors(draw, shapes, row.domain(0), kinks, row.distinct)
    else:
        drawn = sum(
            (draw_tensors(draw, (s,), row.domain(i), kinks) for i, s in enumerate(shapes)), ()
        )
    return Sample(drawn, attrs)


def _example_tensors(row: OpCase, e: Example) -> tuple:
    if e.values is not None:
        return tuple(
            tensor_of(np.asarray(v, dtype=np.bool_ if row.domain(i) == "bool" else np.float64))
            for i, v in enumerate(e.values)
        )
    shapes = e.shapes or (
        ((3, 1), (4,)) if row.broadcasts and len(row.domains) == 2 else ((2, 3),) * len(row.domains)
    )
    rng = np.random.default_rng(zlib.crc32(f"{row.name}/{e.label}".encode()))
    if row.distinct:
        low, high, _ = mst.DOMAINS[row.domain(0)]
        total = sum(math.prod(s) for s in shapes)
        flat = low + (high - low) * (rng.permutation(total) + 0.5) / total
        parts = np.split(flat, np.cumsum([math.prod(s) for s in shapes])[:-1])
        return tuple(leaf(p.reshape(s)) for p, s in zip(parts, shapes))
    kinks = row.kinks_at(e.attrs)
    return tuple(tensor_of(_seeded(rng, s, row.domain(i), kinks)) for i, s in enumerate(shapes))


def _seeded(rng, shape, domain: str, kinks: tuple) -> np.ndarray:
    if domain == "bool":
        return rng.random(shape) < 0.5
    low, high, margin = mst.DOMAINS[domain]
    a = rng.uniform(low, high, shape)
    while True:
        bad = np.abs(a) < margin
        for k in kinks:
            bad |= np.abs(a - k) < KINK_MARGIN
        if not bad.any():
            return a
        a[bad] = rng.uniform(low, high, int(bad.sum()))


# ----------------------------------------------------------------- dims and attributes
def signed(draw, dim: int, ndim: int) -> int:
    """`dim` as given or counted from the end (negative), hypothesis's choice."""
    return dim - ndim if draw(st.booleans()) else dim


@st.composite
def a_dim(draw, ndim: int) -> int:
    """One dim of an ndim-dimensional tensor, negative dims included."""
    return signed(draw, draw(st.integers(0, ndim - 1)), ndim)


@st.composite
def reduction_dims(draw, ndim: int):
    """None (all dims), one dim, or a tuple of distinct dims; negative dims included."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(a_dim(ndim))
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(signed(draw, d, ndim) for d in dims)


def np_dims(dim, ndim: int):
    """A dim argument as numpy's axis: None, or a tuple of non-negative dims."""
    if dim is None or ndim == 0:
        return None
    return tuple(d % ndim for d in (dim if isinstance(dim, tuple) else (dim,)))


def reduced_size(shape, dim) -> int:
    """How many elements each output of a reduction over `dim` gathers."""
    axis = np_dims(dim, len(shape))
    return math.prod(shape) if axis is None else math.prod(shape[d] for d in axis)


def over_dims(shapes):
    return st.fixed_dictionaries({"dim": reduction_dims(len(shapes[0])), "keepdim": st.booleans()})


def along_a_dim(shapes):
    return st.fixed_dictionaries({"dim": a_dim(len(shapes[0]))})


def along_a_dim_keepdim(shapes):
    return st.fixed_dictionaries({"dim": a_dim(len(shapes[0])), "keepdim": st.booleans()})


def keywords(**strategies) -> Callable:
    """Attributes that do not depend on the shapes."""
    return lambda shapes: st.fixed_dictionaries(strategies)


@functools.cache
def basic_indices(shape, allow_newaxis: bool = False):
    """Ints, slices with (negative) steps, Ellipsis, and None if allowed."""
    return hnp.basic_indices(shape, allow_newaxis=allow_newaxis)


@st.composite
def broadcast_targets(draw, shape) -> tuple:
    """A shape `shape` broadcasts to: new leading dims, and size-1 dims grown."""
    lead = tuple(draw(st.lists(st.integers(1, MAX_SIDE), max_size=2)))
    return lead + tuple(draw(st.integers(1, MAX_SIDE)) if n == 1 else n for n in shape)


@st.composite
def broadcast_into(draw, shape) -> tuple:
    """A shape that broadcasts to `shape`: some of its trailing dims, some made 1."""
    kept = shape[draw(st.integers(0, len(shape))) :]
    return tuple(1 if draw(st.booleans()) else n for n in kept)
