"""The op-case table: one row per case of the ops in microtensor.ops, and the strategies
that draw their inputs. Read by
  test_ops.py          every case's value against its numpy reference and, where it has
                       a gradient, its first and second derivatives against finite
                       differences, on inputs hypothesis draws (one draw for both);
                       and the table's guards: every op class has a case, every op
                       function that is a Tensor method (ops.METHODS) is called by one;
  test_wrong_vjps.py   a wrong VJP substituted into the op of every case is caught;
  test_nn_functional.py, test_ops_gradients.py: the strategies (window_configs,
                       values, split_sections) of their own hypothesis tests.

A row (OpCase) has these columns:
  name        the case, as test ids show it
  op          the op class whose VJP the case runs; None for a composite (no VJP of its
              own: only its values and derivatives are checked)
  fn          fn(*tensors, **attrs): the call under test
  reference   reference(*arrays, **attrs): the value fn must give, in numpy
  domains     where each input's values are drawn: a domain of
              microtensor.testing.strategies.DOMAINS (real, positive, nonzero, unit...)
              or "bool"; the last one is repeated for the remaining inputs
  broadcasts  the inputs have shapes that broadcast together, so the engine sums a
              gradient down to an input's shape (examples: (3, 1) and (4,))
  kinks       points where fn's derivative jumps, or attrs -> those points: drawn values
              keep KINK_MARGIN away from them
  distinct    ties avoided: all the values of a sample differ (max, min, maximum, ...)
  attrs       shapes -> a strategy of the keyword attributes (dims, sizes, slopes...)
  shapes      a strategy of the inputs' shapes (one tuple per sample), where not "any
              shape, 0-d and size-1 dims included, the same for every input"
  samples     a strategy of whole Samples, for inputs that depend on each other
              (windows, indices); it replaces the columns above
  examples    fixed samples (Example): the wrong-VJP mutants run on them and the
              property test starts from them. By default one, of shape (2, 3) (or (3, 1)
              and (4,) when the row broadcasts) with seeded values from its domains;
              none (`examples=()`) where a mutant would cancel itself
  tolerances  check_grads options (eps, atol) for the finite differences

A new elementwise primitive is one row, e.g.
    OpCase("expm1", ops.Expm1, mt.expm1, np.expm1),
(real inputs of any shape, an example of shape (2, 3)) and its value check, its
property test of first and second derivatives and its wrong-VJP mutants follow.
"""
from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass, field
from typing import Callable

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
from hypothesis import assume

import microtensor as mt
from helpers import leaf
from microtensor import ops
from microtensor.testing import check_grads
from microtensor.testing import strategies as mst
from references import fold_reference, max_pool2d_reference, positions, unfold_reference

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
        assert self.samples is None or all(e.shapes or e.values for e in examples), \
            f"{self.name}: a row with its own samples gives its examples' shapes or values"
        return [Case(self.name + (f"-{e.label}" if e.label else ""), self,
                     Sample(_example_tensors(self, e), dict(e.attrs)),
                     self.broadcasts if e.broadcasts is None else e.broadcasts)
                for e in examples]


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
        check_grads(self.sample.bind(self.row.fn), *self.sample.tensors, modes=("full",),
                    **self.row.tolerances)


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
    return mst.broadcastable_shapes(n, min_dims=min_dims, max_dims=max_dims,
                                    max_side=MAX_SIDE)


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
        lambda v: abs(v) >= margin and all(abs(v - k) >= KINK_MARGIN for k in kinks))
    return hnp.arrays(np.float64, shape, elements=elements)


def draw_tensors(draw, shapes, domain: str = "real", kinks=(),
                 distinct: bool = False) -> tuple:
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
        drawn = sum((draw_tensors(draw, (s,), row.domain(i), kinks)
                     for i, s in enumerate(shapes)), ())
    return Sample(drawn, attrs)


def _example_tensors(row: OpCase, e: Example) -> tuple:
    if e.values is not None:
        return tuple(tensor_of(np.asarray(v, dtype=np.bool_ if row.domain(i) == "bool"
                                          else np.float64)) for i, v in enumerate(e.values))
    shapes = e.shapes or (((3, 1), (4,)) if row.broadcasts and len(row.domains) == 2
                          else ((2, 3),) * len(row.domains))
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
    return st.fixed_dictionaries({"dim": reduction_dims(len(shapes[0])),
                                  "keepdim": st.booleans()})


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
    kept = shape[draw(st.integers(0, len(shape))):]
    return tuple(1 if draw(st.booleans()) else n for n in kept)


# ------------------------------------------------------------------- references in numpy
def sigmoid_ref(a):
    return 1 / (1 + np.exp(-a))


def leaky_relu_ref(a, negative_slope=0.01):
    return np.where(a > 0, a, negative_slope * a)


def elu_ref(a, alpha=1.0):
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))


def softplus_ref(a, beta=1.0, threshold=20.0):
    return np.where(beta * a > threshold, a, np.log1p(np.exp(beta * a)) / beta)


def linear_ref(x, weight, bias=None):
    return x @ weight.T + (0.0 if bias is None else bias)


def reduce_ref(np_fn):
    """np_fn over `dim` (microtensor's spelling), keepdim as asked."""
    return lambda a, dim=None, keepdim=False: np.asarray(
        np_fn(a, axis=np_dims(dim, a.ndim), keepdims=keepdim))


def logsumexp_ref(a, dim, keepdim):
    axis = np_dims(dim, a.ndim)
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=axis)


def softmax_ref(a, dim):
    e = np.exp(a - np.max(a, axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax_ref(a, dim):
    shifted = a - np.max(a, axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def arg_ref(np_fn):
    return lambda a, dim=None, keepdim=False: np.asarray(np_fn(a, axis=dim, keepdims=keepdim))


def squeeze_ref(a, dim=None):
    dims = range(a.ndim) if dim is None else (np_dims(dim, a.ndim) or ())
    return np.squeeze(a, axis=tuple(d for d in dims if a.shape[d] == 1))


def flatten_ref(a, start_dim, end_dim):
    s, e = start_dim % a.ndim, end_dim % a.ndim
    return a.reshape(a.shape[:s] + (math.prod(a.shape[s:e + 1]),) + a.shape[e + 1:])


def expand_ref(a, sizes):
    lead = len(sizes) - a.ndim
    return np.broadcast_to(a, tuple(a.shape[i - lead] if n == -1 else n
                                    for i, n in enumerate(sizes)))


def sum_to_ref(a, shape):
    out = a.sum(axis=tuple(range(a.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and out.shape[i] != 1)
    return out.sum(axis=axes, keepdims=True)


def split_ref(a, split_size_or_sections, dim):
    n = a.shape[dim]
    if isinstance(split_size_or_sections, int):
        cuts = list(range(split_size_or_sections, n, split_size_or_sections))
    else:
        cuts = list(np.cumsum(split_size_or_sections)[:-1])
    return tuple(np.split(a, cuts, axis=dim))


def chunk_ref(a, chunks, dim):
    return split_ref(a, max(1, -(-a.shape[dim] // chunks)), dim)


def pad_ref(a, pad, value=0.0):
    """torch's `pad`: (before, after) pairs from the last dim backwards."""
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(a, widths, constant_values=value)


def numpy_index(index):
    """An index of Tensors, lists and arrays as numpy reads it (the cases drawn here are
    those where numpy and PyTorch agree)."""
    if isinstance(index, mt.Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(numpy_index(i) for i in index)
    return index


def setitem(x, value, index):
    """x with x[index] = value, out of place (x is cloned)."""
    y = x.clone()
    y[index] = value
    return y


def setitem_ref(a, value, index):
    out = a.copy()
    out[index] = value
    return out


def mul_columns_in_place(x, v):
    """Columns 1: of x * 1, multiplied by v in place through a view of a view."""
    y = x * 1.0
    y.T[1:].mul_(v)
    return y


def mul_columns_in_place_ref(a, v):
    out = a.copy()
    out.T[1:] *= v
    return out


def index_add(v, shape, index):
    return ops.apply(ops.IndexAdd, v, shape=shape, index=index, dtype=np.float64)


def index_add_ref(v, shape, index):
    out = np.zeros(shape)
    np.add.at(out, index, v)
    return out


def copy_slices(base, v, index):
    return ops.apply(ops.CopySlices, base, v, index=index)


def copy_slices_ref(base, v, index):
    out = base.copy()
    out.reshape(-1)[index] = v
    return out


def mse_ref(a, t, reduction="mean"):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction]((a - t) ** 2)


# ------------------------------------------------------------ attributes and samples
@st.composite
def var_attrs(draw, shapes, min_reduced=1):
    ndim = len(shapes[0])
    dim = draw(reduction_dims(ndim).filter(lambda d: reduced_size(shapes[0], d) >= min_reduced))
    correction = min(draw(st.sampled_from([0, 1])), reduced_size(shapes[0], dim) - 1)
    return {"dim": dim, "correction": correction, "keepdim": draw(st.booleans())}


@st.composite
def arg_attrs(draw, shapes):
    """argmax/argmin: over all elements, or along one dim (keepdim only with a dim: over
    all elements microtensor gives a 0-d index whatever keepdim, where PyTorch 2.13 keeps
    the dims)."""
    ndim = len(shapes[0])
    if ndim == 0 or draw(st.booleans()):
        return {"dim": None, "keepdim": False}
    return {"dim": draw(a_dim(ndim)), "keepdim": draw(st.booleans())}


@st.composite
def clamp_bounds(draw, shapes):
    """min, max or both."""
    which = draw(st.sampled_from(["min", "max", "both"]))
    lo, hi = sorted(draw(st.lists(st.floats(-2.5, 2.5), min_size=2, max_size=2)))
    return {"min": lo if which != "max" else None, "max": hi if which != "min" else None}


def clamp_kinks(attrs):
    return [b for b in (attrs["min"], attrs["max"]) if b is not None]


@st.composite
def new_shapes(draw, shapes):
    """reshape's argument: the sides permuted, 1s added, perhaps one side left -1."""
    sides = draw(st.permutations(list(shapes[0]))) + [1] * draw(st.integers(0, 2))
    sides = draw(st.permutations(sides))
    if sides and draw(st.booleans()):
        sides[draw(st.integers(0, len(sides) - 1))] = -1
    return {"shape": tuple(sides)}


@st.composite
def flatten_span(draw, shapes):
    ndim = len(shapes[0])
    start, end = sorted(draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2)))
    return {"start_dim": draw(st.sampled_from([start, start - ndim])),
            "end_dim": draw(st.sampled_from([end, end - ndim]))}


@st.composite
def two_dims(draw, shapes):
    ndim = len(shapes[0])
    return {"dim0": draw(a_dim(ndim)), "dim1": draw(a_dim(ndim))}


@st.composite
def a_permutation(draw, shapes):
    ndim = len(shapes[0])
    return {"dims": tuple(signed(draw, d, ndim) for d in draw(st.permutations(range(ndim))))}


@st.composite
def squeeze_dims(draw, shapes):
    return {"dim": draw(reduction_dims(len(shapes[0])))}


@st.composite
def new_dim(draw, shapes):
    ndim = len(shapes[0])
    return {"dim": draw(st.integers(-ndim - 1, ndim))}


@st.composite
def broadcast_target(draw, shapes):
    return {"shape": draw(broadcast_targets(shapes[0]))}


@st.composite
def expand_sizes(draw, shapes):
    """broadcast_to's target, with sizes it keeps written as -1 now and then."""
    shape = shapes[0]
    target = list(draw(broadcast_targets(shape)))
    lead = len(target) - len(shape)
    for i, n in enumerate(shape):
        if target[lead + i] == n and draw(st.booleans()):
            target[lead + i] = -1
    return {"sizes": tuple(target)}


@st.composite
def sum_to_target(draw, shapes):
    """A shape the input could have been broadcast from: leading dims dropped, some 1."""
    shape = shapes[0]
    drop = draw(st.integers(0, len(shape)))
    return {"shape": tuple(1 if draw(st.booleans()) else n for n in shape[drop:])}


@st.composite
def pad_widths(draw, shapes):
    padded = draw(st.integers(1, len(shapes[0])))
    widths = draw(st.lists(st.integers(0, 2), min_size=2 * padded, max_size=2 * padded))
    return {"pad": tuple(widths), "value": draw(st.floats(-3.0, 3.0))}


def splittable():
    """Shapes with a dim of size 2 or more (so that it can give two pieces)."""
    return any_shape(min_dims=1).filter(lambda s: max(s) >= 2).map(lambda s: (s,))


@st.composite
def a_splittable_dim(draw, shape) -> int:
    return signed(draw, draw(st.sampled_from([d for d, n in enumerate(shape) if n >= 2])),
                  len(shape))


@st.composite
def split_sections(draw, shapes, one_piece=False):
    """An int piece size, or a list of section sizes (empty sections included), giving at
    least two pieces along a dim; with one_piece, which piece is used."""
    dim = draw(a_splittable_dim(shapes[0]))
    n = shapes[0][dim]
    if draw(st.booleans()):
        sizes = draw(st.integers(1, n - 1))
        count = -(-n // sizes)
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), min_size=1, max_size=3)))
        sizes = [int(s) for s in np.diff([0] + cuts + [n])]
        count = len(sizes)
    attrs = {"split_size_or_sections": sizes, "dim": dim}
    if one_piece:
        attrs["piece"] = draw(st.integers(0, count - 1))
    return attrs


@st.composite
def chunk_count(draw, shapes):
    return {"chunks": draw(st.integers(2, 4)), "dim": draw(a_splittable_dim(shapes[0]))}


@st.composite
def basic_index(draw, shapes):
    """Ints, slices with (negative) steps, None and Ellipsis."""
    return {"index": draw(basic_indices(shapes[0], allow_newaxis=True))}


@st.composite
def integer_index(draw, shapes):
    """Integer arrays (negative entries included) that repeat at least one index, alone,
    as a list or a Tensor, 2-D, in a pair, or beside a slice."""
    shape = shapes[0]
    n = shape[0]
    rows = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
    rows = np.asarray(rows + [rows[0]])
    kinds = ["array", "list", "tensor", "2d array"] + (["pair", "slice after"]
                                                       if len(shape) > 1 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "array":
        index = rows
    elif kind == "list":
        index = rows.tolist()
    elif kind == "tensor":
        index = mt.tensor(rows)
    elif kind == "2d array":
        index = np.stack([rows, rows[::-1]])
    elif kind == "pair":
        m = shape[1]
        index = (rows, np.asarray(draw(st.lists(st.integers(-m, m - 1), min_size=len(rows),
                                                max_size=len(rows)))))
    else:
        index = (rows, slice(None, None, draw(st.sampled_from([1, -1, 2]))))
    return {"index": index}


@st.composite
def boolean_mask(draw, shapes):
    """A bool mask over all or the leading dims, as an array or a Tensor."""
    shape = shapes[0]
    mask = draw(values(shape[:draw(st.integers(0, len(shape)))], "bool"))
    return {"index": mt.tensor(mask) if draw(st.booleans()) else mask}


@st.composite
def where_samples(draw) -> Sample:
    """A bool condition (an array or a Tensor) and two branches: shapes that broadcast."""
    shape_c, shape_a, shape_b = draw(broadcastable(3))
    condition = draw(values(shape_c, "bool"))
    if draw(st.booleans()):
        condition = mt.tensor(condition)
    return Sample(draw_tensors(draw, (shape_a, shape_b)), {"condition": condition})


def where_ref(a, b, condition):
    return np.where(numpy_index(condition), a, b)


@st.composite
def copy_samples(draw) -> Sample:
    """A tensor and a source that broadcasts to its shape."""
    shape = draw(any_shape())
    source = draw(broadcast_into(shape))
    return Sample(draw_tensors(draw, (shape, source)))


@st.composite
def matmul_operands(draw, batched: bool) -> Sample:
    """Operands of every matmul form: 1-D or 2-D, or batched with broadcast batch dims."""
    n, k, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    batch_a, batch_b = ((), ()) if not batched else draw(broadcastable(2, min_dims=1,
                                                                     max_dims=2))
    a_is_vector, b_is_vector = draw(st.booleans()), draw(st.booleans())
    if batched and a_is_vector and b_is_vector:
        a_is_vector = False
    shape_a = (k,) if a_is_vector else batch_a + (n, k)
    shape_b = (k,) if b_is_vector else batch_b + (k, m)
    return Sample(draw_tensors(draw, (shape_a, shape_b)))


@st.composite
def linear_operands(draw) -> Sample:
    """x of shape (..., in), weight (out, in), and a bias of shape (out,) or () or none."""
    n_in, n_out = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    batch = draw(any_shape(max_dims=2))
    shapes = [batch + (n_in,), (n_out, n_in)]
    bias = draw(st.sampled_from([(n_out,), (), None]))
    shapes += [] if bias is None else [bias]
    return Sample(draw_tensors(draw, shapes))


@st.composite
def cat_samples(draw) -> Sample:
    """2 or 3 tensors that agree outside `dim`, with their own sizes along it."""
    base = list(draw(any_shape(min_dims=1)))
    dim = draw(a_dim(len(base)))
    shapes = []
    for _ in range(draw(st.integers(2, 3))):
        base[dim] = draw(st.integers(1, MAX_SIDE))
        shapes.append(tuple(base))
    return Sample(draw_tensors(draw, shapes), {"dim": dim})


@st.composite
def stack_samples(draw) -> Sample:
    shape = draw(any_shape())
    parts = draw_tensors(draw, (shape,) * draw(st.integers(2, 3)))
    return Sample(parts, {"dim": draw(st.integers(-len(shape) - 1, len(shape)))})


@st.composite
def setitem_samples(draw) -> Sample:
    """x, a basic index that selects something, and a value that broadcasts into it."""
    shape = draw(any_shape(min_dims=1))
    index = draw(basic_indices(shape).filter(lambda i: np.empty(shape)[i].size > 0))
    value = draw(broadcast_into(np.empty(shape)[index].shape))
    return Sample(draw_tensors(draw, (shape, value)), {"index": index})


@st.composite
def index_add_samples(draw) -> Sample:
    """Values added into zeros at row indices that repeat."""
    shape = (draw(st.integers(1, MAX_SIDE)),) + draw(any_shape(max_dims=1))
    rows = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=3))
    index = np.asarray(rows + [rows[0]])
    return Sample(draw_tensors(draw, ((len(index),) + shape[1:],)),
                  {"shape": shape, "index": index})


@st.composite
def copy_slices_samples(draw) -> Sample:
    """A base and distinct flat positions in it (1-D or 2-D) that a value replaces."""
    shape = draw(any_shape())
    size = math.prod(shape)
    flat = draw(st.permutations(range(size)))[:draw(st.integers(1, size))]
    index = np.asarray(flat)
    if index.size % 2 == 0 and draw(st.booleans()):
        index = index.reshape(2, -1)
    return Sample(draw_tensors(draw, (shape, index.shape)), {"index": index})


@st.composite
def columns_and_factors(draw) -> Sample:
    """x of shape (n, m >= 2) and factors that broadcast to its columns 1:, transposed."""
    n, m = draw(st.integers(1, MAX_SIDE)), draw(st.integers(2, MAX_SIDE))
    v = draw(broadcast_into((m - 1, n)))
    return Sample(draw_tensors(draw, ((n, m), v)))


@st.composite
def window_configs(draw, pool=False, max_side=3, max_kernel=3, max_stride=3, max_dilation=2,
                   max_padding=2):
    """(input shape, kernel, stride, padding, dilation) with at least one window that fits;
    for pools the padding is at most half the kernel (as PyTorch requires)."""
    kernel, stride, padding, dilation = [], [], [], []
    spatial = []
    for _ in range(2):
        k = draw(st.integers(1, max_kernel))
        s = draw(st.integers(1, max_stride))
        d = draw(st.integers(1, max_dilation))
        p = draw(st.integers(0, k // 2 if pool else max_padding))
        span = d * (k - 1) + 1
        spatial.append(max(1, span - 2 * p) + draw(st.integers(0, max_side)))
        kernel.append(k), stride.append(s), padding.append(p), dilation.append(d)
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return ((n, c, *spatial), tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))


@st.composite
def unfold_samples(draw) -> Sample:
    shape, kernel, stride, padding, dilation = draw(window_configs(max_side=2))
    return Sample(draw_tensors(draw, (shape,)),
                  dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride))


def unfold_ref(a, kernel_size, dilation, padding, stride):
    return unfold_reference(a, kernel_size, stride, padding, dilation)


@st.composite
def fold_samples(draw) -> Sample:
    # columns hold every window's taps: few windows keep their finite differences cheap
    shape, kernel, stride, padding, dilation = draw(
        window_configs(max_side=1, max_stride=2, max_padding=1))
    cols = unfold_reference(np.zeros(shape), kernel, stride, padding, dilation).shape
    return Sample(draw_tensors(draw, (cols,)),
                  dict(output_size=shape[2:], kernel_size=kernel, dilation=dilation,
                       padding=padding, stride=stride))


def fold_ref(cols, output_size, kernel_size, dilation, padding, stride):
    return fold_reference(cols, output_size, kernel_size, stride, padding, dilation)


@st.composite
def max_pool_samples(draw) -> Sample:
    """Distinct values (no ties: the max is differentiable), every window with a tap."""
    shape, kernel, stride, padding, dilation = draw(window_configs(pool=True, max_side=2))
    for size, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation):
        # a dilated window can fall wholly in the padding: its max is -inf, no gradient
        assume(all(any(0 <= start - p + t * d < size for t in range(k))
                   for start in positions(size, k, s, p, d)))
    (x,) = draw_tensors(draw, (shape,), distinct=True)
    return Sample((x,), dict(kernel_size=kernel, stride=stride, padding=padding,
                             dilation=dilation))


def max_pool_ref(a, kernel_size, stride, padding, dilation):
    return max_pool2d_reference(a, kernel_size, stride, padding, dilation)


def windows_of(kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> dict:
    """Square windows' attributes as the windowed ops take them: (h, w) pairs."""
    return dict(kernel_size=(kernel, kernel), stride=(stride, stride),
                padding=(padding, padding), dilation=(dilation, dilation))


COND = np.array([[True, False, True, False], [False, True, False, True],
                 [True, True, False, False]])


# ------------------------------------------------------------------------------ the table
ROWS = [
    # arithmetic: the binary ops broadcast, e.g. (3, 1) with (4,), or () with (2, 2)
    OpCase("add", ops.Add, lambda a, b: a + b, np.add, ("real", "real"), broadcasts=True),
    OpCase("sub", ops.Sub, lambda a, b: a - b, np.subtract, ("real", "real"), broadcasts=True),
    OpCase("mul", ops.Mul, lambda a, b: a * b, np.multiply, ("real", "real"), broadcasts=True),
    OpCase("div", ops.Div, lambda a, b: a / b, np.divide, ("real", "nonzero"), broadcasts=True),
    OpCase("neg", ops.Neg, lambda x: -x, np.negative),
    OpCase("pow", ops.Pow, lambda a, b: a ** b, np.power, ("positive", "real"),
           broadcasts=True),
    OpCase("pow-integer-exponent", ops.Pow, lambda x, exponent: x ** exponent,
           lambda a, exponent: a ** exponent, ("nonzero",),
           attrs=keywords(exponent=st.integers(-2, 3)), examples=(ex(exponent=3),)),
    OpCase("pow-real-exponent", ops.Pow, lambda x, exponent: x ** exponent,
           lambda a, exponent: a ** exponent, ("positive",),
           attrs=keywords(exponent=st.floats(-2.0, 3.0)), examples=(ex(exponent=2.5),)),
    OpCase("pow-scalar-base", ops.Pow, lambda x, base: base ** x,
           lambda a, base: np.power(base, a), attrs=keywords(base=st.floats(0.2, 4.0)),
           examples=(ex(base=2.0),)),
    OpCase("matmul", ops.MatMul, lambda a, b: a @ b, np.matmul,
           samples=matmul_operands(batched=False),
           examples=(ex(shapes=((3, 3), (3, 3))), ex("vector", shapes=((3,), (3, 4))))),
    OpCase("matmul-batched", ops.MatMul, lambda a, b: a @ b, np.matmul, broadcasts=True,
           samples=matmul_operands(batched=True),
           examples=(ex(shapes=((2, 1, 3, 4), (5, 4, 2))),)),
    OpCase("linear", ops.Linear, ops.linear, linear_ref, broadcasts=True,
           samples=linear_operands(),
           examples=(ex(shapes=((4, 3), (3, 3), (3,))),
                     ex("3d-input", shapes=((2, 2, 3), (4, 3)), broadcasts=False))),
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
    # reductions over `dim`: None, an int or a tuple, negative dims included
    OpCase("sum", ops.Sum, lambda x, dim, keepdim: mt.sum(x, dim, keepdim), reduce_ref(np.sum),
           attrs=over_dims, examples=(ex(dim=1, keepdim=False),
                                      ex("keepdim", shapes=((2, 3, 2),), dim=(0, 2),
                                         keepdim=True))),
    OpCase("mean", ops.Mean, lambda x, dim, keepdim: x.mean(dim, keepdim=keepdim),
           reduce_ref(np.mean), attrs=over_dims, examples=(ex(dim=0, keepdim=False),)),
    OpCase("amax", ops.Amax, lambda x, dim, keepdim: mt.amax(x, dim, keepdim),
           reduce_ref(np.max), distinct=True, attrs=over_dims,
           examples=(ex(dim=1, keepdim=False),)),
    OpCase("amin", ops.Amin, lambda x, dim, keepdim: x.amin(dim, keepdim), reduce_ref(np.min),
           distinct=True, attrs=over_dims, examples=(ex(dim=0, keepdim=False),)),
    OpCase("max-and-min", ops.Amax, lambda x: (mt.max(x), x.min()),
           lambda a: (np.max(a), np.min(a)), distinct=True),
    OpCase("max-and-min-along-a-dim", ops.Amax, lambda x, dim, keepdim: (
        mt.max(x, dim, keepdim).values, x.min(dim, keepdim=keepdim).values),
        lambda a, dim, keepdim: (reduce_ref(np.max)(a, dim, keepdim),
                                 reduce_ref(np.min)(a, dim, keepdim)),
        distinct=True, shapes=same_shape(min_dims=1), attrs=along_a_dim_keepdim,
        examples=(ex(dim=1, keepdim=False), ex("keepdim", dim=-1, keepdim=True))),
    OpCase("var", None, lambda x, dim, correction, keepdim: mt.var(
        x, dim, correction=correction, keepdim=keepdim),
        lambda a, dim, correction, keepdim: np.var(a, axis=np_dims(dim, a.ndim),
                                                   ddof=correction, keepdims=keepdim),
        distinct=True, attrs=var_attrs, examples=(ex(dim=1, correction=1, keepdim=False),)),
    OpCase("std", None, lambda x, dim, correction, keepdim: mt.std(
        x, dim, correction=correction, keepdim=keepdim),
        lambda a, dim, correction, keepdim: np.std(a, axis=np_dims(dim, a.ndim),
                                                   ddof=correction, keepdims=keepdim),
        distinct=True, shapes=splittable(),
        attrs=lambda shapes: var_attrs(shapes, min_reduced=2),
        examples=(ex(dim=None, correction=1, keepdim=False),)),
    OpCase("logsumexp", ops.LogSumExp, lambda x, dim, keepdim: mt.logsumexp(x, dim, keepdim),
           logsumexp_ref, attrs=over_dims, examples=(ex(dim=1, keepdim=False),)),
    OpCase("softmax", ops.Softmax, lambda x, dim: mt.softmax(x, dim), softmax_ref,
           shapes=same_shape(min_dims=1), attrs=along_a_dim, examples=(ex(dim=1),)),
    OpCase("log_softmax", ops.LogSoftmax, lambda x, dim: x.log_softmax(dim), log_softmax_ref,
           shapes=same_shape(min_dims=1), attrs=along_a_dim, examples=(ex(dim=0),)),
    # shape
    OpCase("reshape-and-view", ops.Reshape, lambda x, shape: (x.reshape(shape), x.view(*shape)),
           lambda a, shape: (a.reshape(shape),) * 2, attrs=new_shapes,
           examples=(ex(shape=(3, 2)),)),
    OpCase("flatten", ops.Reshape, lambda x, start_dim, end_dim: mt.flatten(
        x, start_dim, end_dim), flatten_ref, shapes=same_shape(min_dims=1), attrs=flatten_span,
        examples=(ex(shapes=((2, 3, 2),), start_dim=0, end_dim=-2),)),
    OpCase("flatten-all", ops.Reshape, lambda x: x.flatten(), lambda a: a.reshape(-1)),
    OpCase("transpose", ops.Permute, lambda x, dim0, dim1: x.transpose(dim0, dim1),
           lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1), shapes=same_shape(min_dims=1),
           attrs=two_dims, examples=(ex(dim0=0, dim1=-1),)),
    OpCase("permute", ops.Permute, lambda x, dims: (mt.permute(x, dims), x.permute(*dims)),
           lambda a, dims: (np.transpose(a, dims),) * 2, attrs=a_permutation,
           examples=(ex(shapes=((2, 3, 2),), dims=(2, 0, 1)),)),
    OpCase("T", ops.Permute, lambda x: x.T, lambda a: a.T, examples=(ex(shapes=((2, 3, 2),)),)),
    OpCase("squeeze", ops.Reshape, lambda x, dim: x.squeeze(dim), squeeze_ref,
           attrs=squeeze_dims, examples=(ex(shapes=((2, 1, 3),), dim=None),)),
    OpCase("unsqueeze", ops.Reshape, lambda x, dim: mt.unsqueeze(x, dim),
           lambda a, dim: np.expand_dims(a, dim), attrs=new_dim, examples=(ex(dim=-1),)),
    OpCase("broadcast_to", ops.BroadcastTo, lambda x, shape: mt.broadcast_to(x, shape),
           lambda a, shape: np.broadcast_to(a, shape), attrs=broadcast_target,
           examples=(ex(shapes=((3, 1),), shape=(2, 3, 4), broadcasts=True),)),
    OpCase("expand", ops.BroadcastTo, lambda x, sizes: x.expand(*sizes), expand_ref,
           attrs=expand_sizes, examples=(ex(shapes=((3, 1),), sizes=(2, -1, 4),
                                            broadcasts=True),)),
    OpCase("sum_to", ops.SumTo, lambda x, shape: mt.sum_to(x, shape), sum_to_ref,
           attrs=sum_to_target, examples=(ex(shapes=((2, 3, 4),), shape=(3, 1)),)),
    OpCase("cat", ops.Cat, lambda *parts, dim: mt.cat(list(parts), dim),
           lambda *arrays, dim: np.concatenate(arrays, axis=dim), samples=cat_samples(),
           examples=(ex(shapes=((2, 2), (2, 3)), dim=1),)),
    OpCase("stack", None, lambda *parts, dim: mt.stack(parts, dim),
           lambda *arrays, dim: np.stack(arrays, axis=dim), samples=stack_samples(),
           examples=(ex(shapes=((2, 3), (2, 3)), dim=-1),)),
    OpCase("split", ops.Split, mt.split, split_ref, shapes=splittable(), attrs=split_sections,
           examples=(ex(shapes=((5, 2),), split_size_or_sections=[2, 3], dim=0),)),
    OpCase("split-one-piece-used", ops.Split,
           lambda x, split_size_or_sections, dim, piece: x.split(
               split_size_or_sections, dim)[piece] * 2.0,
           lambda a, split_size_or_sections, dim, piece: split_ref(
               a, split_size_or_sections, dim)[piece] * 2.0,
           shapes=splittable(), attrs=lambda shapes: split_sections(shapes, one_piece=True),
           examples=(ex(shapes=((5, 2),), split_size_or_sections=[2, 3], dim=0, piece=1),)),
    OpCase("chunk", ops.Split, mt.chunk, chunk_ref, shapes=splittable(), attrs=chunk_count,
           examples=(ex(shapes=((2, 5),), chunks=2, dim=1),)),
    OpCase("chunk-last-piece", ops.Split, lambda x, chunks, dim: x.chunk(chunks, dim)[-1],
           lambda a, chunks, dim: chunk_ref(a, chunks, dim)[-1], shapes=splittable(),
           attrs=chunk_count, examples=(ex(shapes=((5, 2),), chunks=3, dim=0),)),
    OpCase("pad", ops.Pad, mt.pad, pad_ref, shapes=same_shape(min_dims=1), attrs=pad_widths,
           examples=(ex(pad=(1, 2), value=0.0),)),
    # indexing: getitem with PyTorch's rules, and its transposes
    OpCase("getitem-basic-index", ops.GetItem, lambda x, index: x[index],
           lambda a, index: np.asarray(a[index]), attrs=basic_index,
           examples=(ex(shapes=((3, 4),), index=(slice(1, None), slice(None, None, 2))),)),
    OpCase("getitem-integer-index", ops.GetItem, lambda x, index: x[index],
           lambda a, index: a[numpy_index(index)], shapes=same_shape(min_dims=1),
           attrs=integer_index, examples=(ex(shapes=((4, 2),), index=[0, 2, 2]),)),
    OpCase("getitem-boolean-mask", ops.GetItem, lambda x, index: x[index],
           lambda a, index: a[numpy_index(index)], attrs=boolean_mask,
           examples=(ex(index=np.array([True, False])),)),
    OpCase("index_add", ops.IndexAdd, index_add, index_add_ref, samples=index_add_samples(),
           examples=(ex(shapes=((3, 2),), shape=(4, 2), index=np.array([0, 2, 2])),)),
    OpCase("setitem", ops.SetItem, setitem, setitem_ref, broadcasts=True,
           samples=setitem_samples(),
           examples=(ex(shapes=((2, 3), ()), index=(slice(None), 1)),)),
    OpCase("copy_slices", ops.CopySlices, copy_slices, copy_slices_ref,
           samples=copy_slices_samples(),
           examples=(ex(shapes=((2, 3), (2, 2)), index=np.array([[4, 0], [2, 5]])),)),
    OpCase("copy_slices-in-place-on-a-view", ops.CopySlices, mul_columns_in_place,
           mul_columns_in_place_ref, broadcasts=True, samples=columns_and_factors(),
           examples=(ex(shapes=((2, 3), (2, 1))),)),
    # sliding windows
    OpCase("unfold", ops.Unfold, mt.unfold, unfold_ref, samples=unfold_samples(),
           examples=(ex(shapes=((1, 2, 3, 3),), **windows_of(2)),
                     ex("strided-padded", shapes=((1, 1, 4, 4),),
                        **windows_of(2, stride=2, padding=1)))),
    OpCase("fold", ops.Fold, mt.fold, fold_ref, samples=fold_samples(),
           examples=(ex(shapes=((1, 8, 4),), output_size=(3, 3), **windows_of(2)),)),
    OpCase("max_pool2d", ops.MaxPool2d, mt.nn.functional.max_pool2d, max_pool_ref,
           distinct=True, samples=max_pool_samples(),
           examples=(ex(shapes=((2, 2, 4, 4),), **windows_of(2, stride=2)),
                     ex("overlapping-padded", shapes=((1, 2, 5, 5),),
                        **windows_of(3, stride=2, padding=1)))),
    # losses
    OpCase("mse_loss", ops.MseLoss, mt.nn.functional.mse_loss, mse_ref, ("real", "real"),
           attrs=keywords(reduction=st.sampled_from(["mean", "sum", "none"])),
           examples=(ex(shapes=((3, 2), (3, 2)), reduction="mean"),
                     ex("sum", shapes=((4,), (4,)), reduction="sum"),
                     ex("none", reduction="none"))),
    # no gradient: comparisons, logic, arg-reductions
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
    OpCase("argmax", ops.ArgMax, lambda x, dim, keepdim: x.argmax(dim, keepdim),
           arg_ref(np.argmax), attrs=arg_attrs, examples=(ex(dim=1, keepdim=True),)),
    OpCase("argmin", ops.ArgMin, lambda x, dim, keepdim: mt.argmin(x, dim, keepdim),
           arg_ref(np.argmin), attrs=arg_attrs, examples=(ex(dim=None, keepdim=False),)),
    OpCase("all", ops.All, lambda x, dim, keepdim: x.all(dim, keepdim), reduce_ref(np.all),
           ("bool",), attrs=over_dims, examples=(ex(dim=0, keepdim=False),)),
    OpCase("any", ops.Any, lambda x, dim, keepdim: mt.any(x, dim, keepdim), reduce_ref(np.any),
           ("bool",), attrs=over_dims, examples=(ex(dim=(0, 1), keepdim=True),)),
]
ROW = {row.name: row for row in ROWS}
CASES = [case for row in ROWS for case in row.cases()]
CASE = {case.name: case for case in CASES}
