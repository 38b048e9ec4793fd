"""The buffer forms of the hot ops' VJPs and of the engine's own steps between them
(sum_to, cast, the sum of two gradients), and which forms may write over an input."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from .. import backend
from .. import ops as O
from ..backend import ndarray, xp
from .forward import _BINARY, _UNARY, _interior, _kept, _offset, _reshaper, _transpose, _window_args
from .lower import _Emit, _lowers


# -- VJPs: inputs are g, out, then the op's arguments; outputs one per argument -----------
@_lowers("vjp", O.Linear)
def _linear_vjp(e: _Emit, instr, ins, outs) -> bool:
    if outs[1] is not None and ins[2].ndim != 2:
        return False
    return _grads(
        e,
        outs,
        lambda: f"xp.dot({e.i(0)}, {e.i(3)}, out={e.o(0)})",
        lambda: f"xp.dot({e.view(e.i(0), _transpose)}, {e.i(2)}, out={e.o(1)})",
    )


def _grads(e: _Emit, outs: list, *lines: Callable[[], str]) -> bool:
    """Writes the line of each gradient asked for (line k for output k), made only then:
    a line may bind a view."""
    for k, line in enumerate(lines):
        if outs[k] is not None:
            e(line())
    return True


@_lowers("vjp", O.MatMul)
def _matmul_vjp(e: _Emit, instr, ins, outs) -> bool:
    a, b = ins[2], ins[3]
    if a.ndim < 2 or b.ndim < 2:
        return False
    return _grads(
        e,
        outs,
        lambda: f"xp.matmul({e.i(0)}, {e.view(e.i(3), _transpose)}, out={e.o(0)})",
        lambda: f"xp.matmul({e.view(e.i(2), _transpose)}, {e.i(0)}, out={e.o(1)})",
    )


@_lowers("vjp", O.Sigmoid)
def _sigmoid_vjp(e: _Emit, instr, ins, outs) -> bool:
    """g * out * (1 - out), in the gradient's buffer."""
    out, o = ins[1], e.o(0)
    t = e.tmp(out.shape, out.dtype)
    e(f"xp.multiply({e.i(0)}, {e.i(1)}, out={o})")
    e(f"xp.subtract(1, {e.i(1)}, out={t})")
    e(f"xp.multiply({o}, {t}, out={o})")
    return True


@_lowers("vjp", O.Tanh)
def _tanh_vjp(e: _Emit, instr, ins, outs) -> bool:
    out = ins[1]
    t = e.tmp(out.shape, out.dtype)
    e(f"xp.multiply({e.i(1)}, {e.i(1)}, out={t})")
    e(f"xp.subtract(1, {t}, out={t})")
    e(f"xp.multiply({e.i(0)}, {t}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Relu)
def _relu_vjp(e: _Emit, instr, ins, outs) -> bool:
    """g * (out > 0), the mask a bool buffer."""
    mask = e.tmp(ins[1].shape, bool)
    e(f"xp.greater({e.i(1)}, 0, out={mask})")
    e(f"xp.multiply({e.i(0)}, {mask}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Exp)
def _exp_vjp(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.multiply({e.i(0)}, {e.i(1)}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Neg, O.Sub)
def _negate_vjp(e: _Emit, instr, ins, outs) -> bool:
    k = len(outs) - 1  # Neg's only gradient, Sub's second
    if outs[k] is not None:
        e(f"xp.negative({e.i(0)}, out={e.o(k)})")
    return k == 1 or outs[0] is not None


@_lowers("vjp", O.Mul)
def _mul_vjp(e: _Emit, instr, ins, outs) -> bool:
    return _grads(
        e,
        outs,
        lambda: f"xp.multiply({e.i(0)}, {e.i(3)}, out={e.o(0)})",
        lambda: f"xp.multiply({e.i(0)}, {e.i(2)}, out={e.o(1)})",
    )


@_lowers("vjp", O.Div)
def _div_vjp(e: _Emit, instr, ins, outs) -> bool:
    g, b = ins[0], ins[3]
    ga = (
        e.o(0)
        if outs[0] is not None
        else e.tmp(xp.broadcast_shapes(xp.shape(g), xp.shape(b)), xp.result_type(g, b))
    )
    e.quiet()
    e(f"xp.true_divide({e.i(0)}, {e.i(3)}, out={ga})")
    if outs[1] is not None:
        o = e.o(1)
        e(f"xp.negative({ga}, out={o})")
        e(f"xp.multiply({o}, {e.i(2)}, out={o})")
        e(f"xp.true_divide({o}, {e.i(3)}, out={o})")
    return True


@_lowers("vjp", O.MseLoss)
def _mse_vjp(e: _Emit, instr, ins, outs) -> bool:
    a, t = ins[2], ins[3]
    n = math.prod(xp.broadcast_shapes(a.shape, t.shape))
    scale = 2 / n if instr.attrs["reduction"] == "mean" and n else 2
    if outs[0] is None:
        return False
    gd = e.o(0)
    g = ins[0]
    e(f"xp.subtract({e.i(2)}, {e.i(3)}, out={gd})")
    if not (
        e.fixed(0)
        and isinstance(g, ndarray)
        and g.ndim == 0
        and g == 1
        and g.dtype == outs[0].dtype
    ):  # times a seed of exactly 1: the same bits
        e(f"xp.multiply({e.i(0)}, {gd}, out={gd})")
    e(f"xp.multiply({gd}, {e.k(scale)}, out={gd})")
    if outs[1] is not None:
        e(f"xp.negative({gd}, out={e.o(1)})")
    return True


def _unreduced(e: _Emit, g: str, garr, shape, dim, keepdim) -> str:
    """ops.reductions._unreduce: g with the reduced dims put back as size-1 dims."""
    if keepdim or dim is None:
        return g
    return e.view(g, _reshaper(_kept(shape, dim)))


@_lowers("vjp", O.Sum)
def _sum_vjp(e: _Emit, instr, ins, outs) -> bool:
    a, dim, keepdim = ins[2], instr.attrs["dim"], instr.attrs["keepdim"]
    e(f"{e.o(0)}[...] = {_unreduced(e, e.i(0), ins[0], a.shape, dim, keepdim)}")
    return True


@_lowers("vjp", O.Mean)
def _mean_vjp(e: _Emit, instr, ins, outs) -> bool:
    g, a, dim, keepdim = ins[0], ins[2], instr.attrs["dim"], instr.attrs["keepdim"]
    n = a.size if dim is None else math.prod(a.shape[d] for d in dim)
    src = _unreduced(e, e.i(0), g, a.shape, dim, keepdim)
    shape = xp.shape(g) if keepdim or dim is None else _kept(a.shape, dim)
    q = e.tmp(shape, xp.result_type(g, 1.0) if not isinstance(g, ndarray) else g.dtype)
    e(f"xp.true_divide({src}, {n}, out={q})")
    e(f"{e.o(0)}[...] = {q}")
    return n > 0


@_lowers("vjp", O.LogSoftmax)
def _log_softmax_vjp(e: _Emit, instr, ins, outs) -> bool:
    """g - exp(out) * sum(g) along dim."""
    g, out, dim = ins[0], ins[1], instr.attrs["dim"]
    t = e.tmp(out.shape, out.dtype)
    total = e.tmp(_kept(g.shape, (dim,)), g.dtype)
    e.quiet()
    e(f"xp.exp({e.i(1)}, out={t})")
    e(f"{e.i(0)}.sum(axis={(dim,)!r}, keepdims=True, out={total})")
    e(f"xp.multiply({t}, {total}, out={t})")
    e(f"xp.subtract({e.i(0)}, {t}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Softmax)
def _softmax_vjp(e: _Emit, instr, ins, outs) -> bool:
    """out * (g - sum(g * out) along dim)."""
    g, out, dim = ins[0], ins[1], instr.attrs["dim"]
    t = e.tmp(xp.broadcast_shapes(g.shape, out.shape), xp.result_type(g, out))
    total = e.tmp(_kept(g.shape, (dim,)), xp.result_type(g, out))
    e(f"xp.multiply({e.i(0)}, {e.i(1)}, out={t})")
    e(f"{t}.sum(axis={(dim,)!r}, keepdims=True, out={total})")
    e(f"xp.subtract({e.i(0)}, {total}, out={t})")
    e(f"xp.multiply({e.i(1)}, {t}, out={e.o(0)})")
    return True


@_lowers("vjp", O.GetItem)
def _getitem_vjp(e: _Emit, instr, ins, outs) -> bool:
    """backend.index_add: zeros with g added (or, for slices, set) at the index."""
    index = instr.attrs["index"]
    if type(index) is backend.TwoStepIndex:
        return False
    e(f"{e.o(0)}.fill(0)")
    if backend._is_basic(index):
        e(f"{e.o(0)}[{e.k(index)}] = {e.i(0)}")
    elif _distinct(index):  # no element twice: adding at the index adds as add.at does
        e(f"{e.o(0)}[{e.k(index)}] += {e.i(0)}")
    else:
        e(f"xp.add.at({e.o(0)}, {e.k(index)}, {e.i(0)})")
    return True


def _distinct(index) -> bool:
    """Whether an index of 1-D arrays of one length picks no element twice because one
    of them is arange (cross_entropy's (arange(n), targets)): a replay keeps that part."""
    return (
        type(index) is tuple
        and all(type(p) is ndarray and p.ndim == 1 for p in index)
        and len({p.shape for p in index}) == 1
        and any(p.dtype.kind in "iu" and (p == xp.arange(p.size)).all() for p in index)
    )


@_lowers("vjp", O.Unfold)
def _unfold_vjp(e: _Emit, instr, ins, outs) -> bool:
    """backend.col2im: zeros, and each kernel offset's columns added at their places."""
    kernel, stride, padding, dilation = _window_args(instr)
    g, a = ins[0], ins[2]
    n, c, h, w = a.shape
    oh, ow = backend.windows(a, kernel, stride, padding, dilation).shape[4:]
    full = (
        e.o(0)
        if not (padding[0] or padding[1])
        else e.tmp((n, c, h + 2 * padding[0], w + 2 * padding[1]), g.dtype)
    )
    cols = e.view(e.i(0), _reshaper((n, c, *kernel, oh, ow)))
    e(f"{full}.fill(0)")
    for k, (i, j) in enumerate(_offsets(kernel)):
        dst = e.view(full, _offset_view(k, kernel, stride, dilation, (oh, ow)))
        e(f"xp.add({dst}, {e.view(cols, _offset(i, j))}, out={dst})")
    if full != e.o(0):
        e(f"copyto({e.o(0)}, {e.view(full, _interior(padding, h, w))})")
    return True


def _offsets(kernel):
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _offset_view(k: int, kernel, stride, dilation, out_hw):
    def view(a):
        return list(backend._offset_views(a, kernel, stride, dilation, out_hw))[k][2]

    return view


@_lowers("vjp", O.MaxPool2d)
def _max_pool_vjp(e: _Emit, instr, ins, outs) -> bool:
    """backend.pool_hits and unpool: where each window holds its maximum, the count of
    such places, and g shared among them, into zeros."""
    kernel, stride, padding, dilation = _window_args(instr)
    g, m = ins[0], ins[1]
    if padding[0] or padding[1]:
        return False
    windows = e.view(
        e.i(2),
        functools.partial(
            backend.windows,
            kernel=kernel,
            stride=stride,
            padding=(0, 0),
            dilation=dilation,
            fill=-xp.inf,
        ),
    )
    hits = []
    for i, j in _offsets(kernel):
        hit = e.tmp(m.shape, bool)
        e(f"xp.equal({e.view(windows, _offset(i, j))}, {e.i(1)}, out={hit})")
        hits.append(hit)
    count = e.tmp(m.shape, m.dtype)
    e(f"copyto({count}, {hits[0]}, casting='unsafe')")
    for hit in hits[1:]:
        e(f"xp.add({count}, {hit}, out={count})")
    share = e.tmp(g.shape, xp.result_type(g, m))
    e.quiet()
    e(f"xp.true_divide({e.i(0)}, {count}, out={share})")
    o = e.o(0)
    overlap = any(s < (k - 1) * d + 1 for k, s, d in zip(kernel, stride, dilation))
    e(f"{o}.fill(0)")
    for k, hit in enumerate(hits):
        dst = e.view(o, _offset_view(k, kernel, stride, dilation, m.shape[2:]))
        if overlap:
            t = e.tmp(m.shape, xp.result_type(g, m))
            e(f"xp.multiply({share}, {hit}, out={t})")
            e(f"xp.add({dst}, {t}, out={dst})")
        else:
            e(f"xp.multiply({share}, {hit}, out={dst})")
    return True


# Buffer forms that may write their output (index 0 here, `k` for a VJP's) over one of
# their inputs (flat index) once nothing reads that input after them: each line of the form
# reads the input elementwise before (or as) it writes the same element.
_IN_PLACE: dict = {
    **{("fwd", op): [(0, 0), (0, 1)] for op in (*_BINARY, O.Div)},
    **{
        ("fwd", op): [(0, 0)] for op in (*_UNARY, O.Pow, O.Relu, O.Sigmoid, O.Softmax, O.LogSoftmax)
    },
    **{
        ("vjp", op): [(0, 0)]
        for op in (O.Sigmoid, O.Tanh, O.Relu, O.Exp, O.Neg, O.LogSoftmax, O.Softmax)
    },
    ("vjp", O.Sub): [(1, 0)],
    ("vjp", O.Mul): [(0, 0), (1, 0)],
    ("vjp", O.MseLoss): [(0, 2)],
    ("add", None): [(0, 0), (0, 1)],
}


# -- the engine's own steps between VJPs ---------------------------------------------------
@_lowers("sum_to")
def _sum_to(e: _Emit, instr, ins, outs) -> bool:
    """backend.sum_to into a buffer: the bias case as one BLAS call, else one sum."""
    a, shape = ins[0], instr.attrs["shape"]
    lead = a.ndim - len(shape)
    if lead == 1 and a.shape[1:] == shape:
        if a.ndim == 2 and a.dtype in (xp.dtype(xp.float32), xp.dtype(xp.float64)):
            e(f"xp.dot({e.k(xp.ones(a.shape[0], a.dtype))}, {e.i(0)}, out={e.o(0)})")
        else:
            e(f"xp.add.reduce({e.i(0)}, axis=0, out={e.o(0)})")
        return True
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1
    )
    kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    e(f"{e.i(0)}.sum(axis={axes!r}, keepdims=True, out={e.view(e.o(0), _reshaper(kept))})")
    return bool(axes)


@_lowers("cast")
def _cast(e: _Emit, instr, ins, outs) -> bool:
    e(f"copyto({e.o(0)}, {e.i(0)}, casting='unsafe')")
    return True


@_lowers("add")
def _add(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.add({e.i(0)}, {e.i(1)}, out={e.o(0)})")
    return True
