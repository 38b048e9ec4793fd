"""numpy references and the samplers of attributes and whole samples that the rows of
several families share."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
from hypothesis import assume
from references import fold_reference, max_pool2d_reference, positions, unfold_reference

import microtensor as mt
from microtensor import ops

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


from .columns import *
from .columns import _drawn  # noqa: F401


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
        np_fn(a, axis=np_dims(dim, a.ndim), keepdims=keepdim)
    )


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
    return a.reshape(a.shape[:s] + (math.prod(a.shape[s : e + 1]),) + a.shape[e + 1 :])


def expand_ref(a, sizes):
    lead = len(sizes) - a.ndim
    return np.broadcast_to(
        a, tuple(a.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    )


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
        return index.numpy(force=True)
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
    """argmax/argmin: over all elements (a flat index; keepdim keeps every dim as size 1,
    as in PyTorch) or along one dim."""
    ndim = len(shapes[0])
    dim = None if ndim == 0 or draw(st.booleans()) else draw(a_dim(ndim))
    return {"dim": dim, "keepdim": draw(st.booleans())}


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
    return {
        "start_dim": draw(st.sampled_from([start, start - ndim])),
        "end_dim": draw(st.sampled_from([end, end - ndim])),
    }


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
    return signed(
        draw, draw(st.sampled_from([d for d, n in enumerate(shape) if n >= 2])), len(shape)
    )


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
    kinds = ["array", "list", "tensor", "2d array"] + (
        ["pair", "slice after"] if len(shape) > 1 else []
    )
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
        index = (
            rows,
            np.asarray(
                draw(st.lists(st.integers(-m, m - 1), min_size=len(rows), max_size=len(rows)))
            ),
        )
    else:
        index = (rows, slice(None, None, draw(st.sampled_from([1, -1, 2]))))
    return {"index": index}


@st.composite
def boolean_mask(draw, shapes):
    """A bool mask over all or the leading dims, as an array or a Tensor."""
    shape = shapes[0]
    mask = draw(values(shape[: draw(st.integers(0, len(shape)))], "bool"))
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
    batch_a, batch_b = ((), ()) if not batched else draw(broadcastable(2, min_dims=1, max_dims=2))
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
    return Sample(
        draw_tensors(draw, ((len(index),) + shape[1:],)), {"shape": shape, "index": index}
    )


@st.composite
def copy_slices_samples(draw) -> Sample:
    """A base and distinct flat positions in it (1-D or 2-D) that a value replaces."""
    shape = draw(any_shape())
    size = math.prod(shape)
    flat = draw(st.permutations(range(size)))[: draw(st.integers(1, size))]
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
def window_configs(
    draw, pool=False, max_side=3, max_kernel=3, max_stride=3, max_dilation=2, max_padding=2
):
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
    return Sample(
        draw_tensors(draw, (shape,)),
        dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride),
    )


def unfold_ref(a, kernel_size, dilation, padding, stride):
    return unfold_reference(a, kernel_size, stride, padding, dilation)


@st.composite
def fold_samples(draw) -> Sample:
    # columns hold every window's taps: few windows keep their finite differences cheap
    shape, kernel, stride, padding, dilation = draw(
        window_configs(max_side=1, max_stride=2, max_padding=1)
    )
    cols = unfold_reference(np.zeros(shape), kernel, stride, padding, dilation).shape
    return Sample(
        draw_tensors(draw, (cols,)),
        dict(
            output_size=shape[2:],
            kernel_size=kernel,
            dilation=dilation,
            padding=padding,
            stride=stride,
        ),
    )


def fold_ref(cols, output_size, kernel_size, dilation, padding, stride):
    return fold_reference(cols, output_size, kernel_size, stride, padding, dilation)


@st.composite
def max_pool_samples(draw) -> Sample:
    """Distinct values (no ties: the max is differentiable), every window with a tap."""
    shape, kernel, stride, padding, dilation = draw(window_configs(pool=True, max_side=2))
    for size, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation):
        # a dilated window can fall wholly in the padding: its max is -inf, no gradient
        assume(
            all(
                any(0 <= start - p + t * d < size for t in range(k))
                for start in positions(size, k, s, p, d)
            )
        )
    (x,) = draw_tensors(draw, (shape,), distinct=True)
    return Sample((x,), dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation))


def max_pool_ref(a, kernel_size, stride, padding, dilation):
    return max_pool2d_reference(a, kernel_size, stride, padding, dilation)


def windows_of(kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> dict:
    """Square windows' attributes as the windowed ops take them: (h, w) pairs."""
    return dict(
        kernel_size=(kernel, kernel),
        stride=(stride, stride),
        padding=(padding, padding),
        dilation=(dilation, dilation),
    )


COND = np.array(
    [[True, False, True, False], [False, True, False, True], [True, True, False, False]]
)
