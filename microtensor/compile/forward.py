"""The buffer forms of the hot ops' forwards, and the views they share with the VJPs'
(vjp.py). A buffer form makes the same numpy calls, in the same order, as the op's
forward or VJP (or the engine's sum_to, cast and sum), each result written with out= into
a buffer the replay keeps; it is used only where _lower saw it give the op's own bits on
the recorded values."""

from __future__ import annotations

import functools
import math

from .. import backend
from .. import ops as O
from ..backend import ndarray, xp
from .lower import _Emit, _lowers
from .values import _Instr


def _plain(instr: _Instr, outs: list) -> bool:
    """A forward whose result needs no dtype promotion after it, one array out."""
    return not instr.op.multi and instr.info[0][1] is None and isinstance(outs[0], ndarray)


_BINARY = {
    O.Add: "add",
    O.Sub: "subtract",
    O.Mul: "multiply",
    O.Maximum: "maximum",
    O.Minimum: "minimum",
}
_UNARY = {
    O.Neg: ("negative", False),
    O.Exp: ("exp", True),
    O.Log: ("log", True),
    O.Sqrt: ("sqrt", True),
    O.Tanh: ("tanh", False),
    O.Abs: ("abs", False),
}


@_lowers("fwd", *_BINARY)
def _binary(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.{_BINARY[instr.op]}({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Div)
def _div(e: _Emit, instr, ins, outs) -> bool:
    b = ins[1]
    if not ((type(b) is float or type(b) is int) and b):
        e.quiet()
    e(f"xp.true_divide({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Pow)
def _pow(e: _Emit, instr, ins, outs) -> bool:
    if ins[1] == 2 and type(ins[1]) is int:
        e(f"xp.square({e.i(0)}, out={e.o()})")
    else:
        e.quiet()
        e(f"xp.power({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", *_UNARY)
def _unary(e: _Emit, instr, ins, outs) -> bool:
    name, quiet = _UNARY[instr.op]
    if quiet:
        e.quiet()
    e(f"xp.{name}({e.i(0)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Relu)
def _relu(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.maximum({e.i(0)}, 0, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Sigmoid)
def _sigmoid(e: _Emit, instr, ins, outs) -> bool:
    """ops._sigmoid: (tanh(a / 2) + 1) / 2, in the output buffer."""
    o = e.o()
    e(f"xp.multiply({e.i(0)}, 0.5, out={o})")
    e(f"xp.tanh({o}, out={o})")
    e(f"xp.add({o}, 1, out={o})")
    e(f"xp.multiply({o}, 0.5, out={o})")
    return _plain(instr, outs)


@_lowers("fwd", O.MatMul)
def _matmul(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.matmul({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs) and outs[0].ndim >= 2


@_lowers("fwd", O.Linear)
def _linear(e: _Emit, instr, ins, outs) -> bool:
    """x @ weight.T into the GEMM's output buffer, the bias added there."""
    e(f"xp.dot({e.i(0)}, {e.view(e.i(1), _transpose)}, out={e.o()})")
    if ins[2] is not None:
        e(f"xp.add({e.o()}, {e.i(2)}, out={e.o()})")
    return _plain(instr, outs)


def _transpose(a):
    return a.swapaxes(-1, -2)


@_lowers("fwd", O.Sum)
def _sum(e: _Emit, instr, ins, outs) -> bool:
    dim, keepdim = instr.attrs["dim"], instr.attrs["keepdim"]
    e(f"{e.i(0)}.sum(axis={dim!r}, keepdims={keepdim!r}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Mean)
def _mean(e: _Emit, instr, ins, outs) -> bool:
    a, dim, keepdim = ins[0], instr.attrs["dim"], instr.attrs["keepdim"]
    n = a.size if dim is None else math.prod(a.shape[d] for d in dim)
    e(f"{e.i(0)}.sum(axis={dim!r}, keepdims={keepdim!r}, out={e.o()})")
    e(f"xp.true_divide({e.o()}, {n}, out={e.o()})")
    return _plain(instr, outs) and n > 0


@_lowers("fwd", O.MseLoss)
def _mse(e: _Emit, instr, ins, outs) -> bool:
    a, t = ins
    reduction = instr.attrs["reduction"]
    if reduction == "none":
        e(f"xp.subtract({e.i(0)}, {e.i(1)}, out={e.o()})")
        e(f"xp.multiply({e.o()}, {e.o()}, out={e.o()})")
        return _plain(instr, outs)
    d = e.tmp(xp.broadcast_shapes(a.shape, t.shape), xp.result_type(a, t))
    flat = e.view(d, _flatten)
    e(f"xp.subtract({e.i(0)}, {e.i(1)}, out={d})")
    total = f"xp.dot({flat}, {flat})"
    e(f"{e.o()}[()] = {total}" if reduction == "sum" else f"{e.o()}[()] = {total} / {a.size}")
    return _plain(instr, outs) and a.size > 0


def _flatten(a):
    return a.reshape(-1)


def _reshaper(shape):
    def reshape(a):
        return a.reshape(shape)

    return reshape


def _kept(shape, dims) -> tuple:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


@_lowers("fwd", O.LogSoftmax, O.Softmax)
def _softmax(e: _Emit, instr, ins, outs) -> bool:
    a, dim, o = ins[0], instr.attrs["dim"], e.o()
    m = e.tmp(_kept(a.shape, (dim,)), a.dtype)
    total = e.tmp(_kept(a.shape, (dim,)), a.dtype)
    e.quiet()
    e(f"{e.i(0)}.max(axis={dim}, keepdims=True, initial=-xp.inf, out={m})")
    e(f"xp.subtract({e.i(0)}, {m}, out={o})")
    if instr.op is O.Softmax:
        e(f"xp.exp({o}, out={o})")
        e(f"{o}.sum(axis={dim}, keepdims=True, out={total})")
        e(f"xp.true_divide({o}, {total}, out={o})")
    else:
        t = e.tmp(a.shape, a.dtype)
        e(f"xp.exp({o}, out={t})")
        e(f"{t}.sum(axis={dim}, keepdims=True, out={total})")
        e(f"xp.log({total}, out={total})")
        e(f"xp.subtract({o}, {total}, out={o})")
    return _plain(instr, outs)


def _window_args(instr: _Instr) -> tuple:
    a = instr.attrs
    return a["kernel"], a["stride"], a["padding"], a["dilation"]


@_lowers("fwd", O.Unfold)
def _unfold(e: _Emit, instr, ins, outs) -> bool:
    """im2col: one copy of the strided windows into the output buffer."""
    kernel, stride, padding, dilation = _window_args(instr)
    n, c = ins[0].shape[:2]
    src = _padded(e, e.i(0), ins[0], padding, 0.0)
    windows = e.view(
        src,
        functools.partial(
            backend.windows, kernel=kernel, stride=stride, padding=(0, 0), dilation=dilation
        ),
    )
    out_hw = backend.windows(ins[0], kernel, stride, padding, dilation).shape[4:]
    shape = (n, c, *kernel, *out_hw)
    e(f"copyto({e.view(e.o(), _reshaper(shape))}, {windows})")
    return _plain(instr, outs)


def _padded(e: _Emit, name: str, a, padding, fill) -> str:
    """`name`'s array, or a copy of it inside a border of `fill` kept from call to call."""
    if not (padding[0] or padding[1]):
        return name
    n, c, h, w = a.shape
    buf = e.tmp((n, c, h + 2 * padding[0], w + 2 * padding[1]), a.dtype, fill)
    e(f"{e.view(buf, _interior(padding, h, w))}[...] = {name}")
    return buf


def _interior(padding, h, w):
    def view(a):
        return a[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]

    return view


@_lowers("fwd", O.MaxPool2d)
def _max_pool(e: _Emit, instr, ins, outs) -> bool:
    """The elementwise maximum of the window's strided views, in the output buffer."""
    kernel, stride, padding, dilation = _window_args(instr)
    src = _padded(e, e.i(0), ins[0], padding, -xp.inf)
    windows = e.view(
        src,
        functools.partial(
            backend.windows, kernel=kernel, stride=stride, padding=(0, 0), dilation=dilation
        ),
    )
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            view = e.view(windows, _offset(i, j))
            e(
                f"copyto({e.o()}, {view})"
                if not (i or j)
                else f"xp.maximum({e.o()}, {view}, out={e.o()})"
            )
    return _plain(instr, outs)


def _offset(i: int, j: int):
    def view(w):
        return w[:, :, i, j]

    return view
