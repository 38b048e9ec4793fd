"""The primitives: each op's forward and its vector-Jacobian product side by side.

An op is a class that is never instantiated:
  forward(*arrays, **attrs) -> array          numpy work, through `backend`
  vjp(B, g, out, args, needs, **attrs)        one gradient per arg (None where not needed)
`B` is the namespace the VJP computes with: bare arrays in an ordinary backward, Tensor
ops under create_graph=True (so every VJP is itself differentiable). `args` are the
inputs (arrays or Tensors to match), `out` the output when `save_output` is set,
`needs[i]` whether arg i wants a gradient. Broadcasting is undone by the engine, which
sums each gradient to its input's shape (`sum_to`, the one place it happens).
`saves` lists the args whose *values* the VJP reads; the engine checks their version
counters so a later in-place change is caught instead of giving a wrong gradient.

Tie and kink rules (decided here, once):
  relu'(0) = 0; leaky_relu'(0) = negative_slope; elu'(0) = alpha; abs'(0) = 0;
  clamp passes the gradient where min <= x <= max (boundaries included);
  maximum/minimum with a == b give each side half; max/min/amax/amin reductions split
  the gradient evenly among tied elements.

Every VJP returns gradients in its inputs' dtype (no float64 helper arrays). Ops whose
forward or VJP can meet log 0, 1/0, 0/0, sqrt(-1) or overflow wear `backend.quiet`:
inf and nan come back silently, as in PyTorch, with no numpy RuntimeWarning.
"""
from __future__ import annotations

import builtins
import math
import operator
from collections import namedtuple

from .autograd import _ArrayNS, _TensorNS, apply, apply1, apply_view, link_view
from . import backend
from .backend import (TwoStepIndex, col2im, conv_out_size, im2col, index_add, ndarray, quiet,
                      restore, silence, xp)
from .tensor import Tensor, _wrap

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "linear", "exp", "log", "log1p", "sqrt",
    "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus",
    "clamp", "maximum", "minimum", "where", "sum", "mean", "max", "min", "amax", "amin",
    "logsumexp", "argmax", "argmin", "all", "any", "softmax", "log_softmax", "reshape",
    "flatten", "transpose", "permute", "squeeze", "unsqueeze", "expand", "broadcast_to",
    "sum_to", "cat", "split", "chunk", "pad", "unfold", "fold", "logical_and",
    "logical_or", "logical_not", "eq", "ne", "lt", "le", "gt", "ge",
]


class Op:
    """Base of the op table; subclasses are namespaces, never instantiated."""

    name = "op"
    n_out = 1
    save_output = False
    saves: tuple = ()
    differentiable = True

    def __init_subclass__(cls) -> None:
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()


# ---------------------------------------------------------------------------- arithmetic
class Add(Op):
    forward = operator.add  # a + b, as a builtin: no Python frame on the hot path
    def vjp(B, g, out, args, needs): return g, g


class Sub(Op):
    forward = operator.sub
    def vjp(B, g, out, args, needs): return g, (-g if needs[1] else None)


class Mul(Op):
    saves = (0, 1)
    forward = operator.mul

    def vjp(B, g, out, args, needs):
        a, b = args
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


class Div(Op):
    """a / b; x / 0 is inf or nan, silently. A nonzero Python number as divisor (x / n,
    the usual case) can only overflow, as a product can, so it skips `quiet`'s cost."""

    saves = (0, 1)

    def forward(a, b):
        if (type(b) is float or type(b) is int) and b:
            return a / b
        token = silence()
        try:
            return a / b
        finally:
            restore(token)

    @quiet
    def vjp(B, g, out, args, needs):
        a, b = args
        ga = g / b
        return (ga if needs[0] else None), (-ga * a / b if needs[1] else None)


class Neg(Op):
    forward = operator.neg
    def vjp(B, g, out, args, needs): return (-g,)


class Pow(Op):
    """a ** b for tensor**scalar, scalar**tensor and tensor**tensor, with PyTorch's
    gradients at a == 0: d/da = b * 0**(b-1) is 0 for b == 0 (not 0 * inf) and b > 1, 1
    for b == 1, inf for 0 < b < 1, -inf for b < 0; d/db = out * log(a) is 0 for b >= 0
    (not 0 * -inf) and -inf for b < 0. d/db is NaN where a < 0. 0 ** -1 is inf and
    (-1) ** 0.5 NaN, silently; x ** k for an integer k >= 0 can only overflow, as a
    product can, so it skips `quiet`'s cost."""

    saves = (0, 1)

    def forward(a, b):
        if type(b) is int and b >= 0:
            return a ** b
        token = silence()
        try:
            return a ** b
        finally:
            restore(token)

    @quiet
    def vjp(B, g, out, args, needs):
        a, b = args
        ga = gb = None
        if needs[0]:
            if isinstance(b, (int, float)):  # the usual tensor ** constant: no pow needed
                ga = g * 0 if b == 0 else g * b if b == 1 else g * (2 * a) if b == 2 \
                    else g * b * a ** (b - 1)
            else:
                if b.dtype != a.dtype:  # an integer exponent: the gradient is a's dtype
                    b = B.cast(b, a.dtype)
                # 0 where a == b == 0 (not 0 * inf); elsewhere the formula, whose
                # derivative in b at b == 0 a mask would cut
                ga = B.where((b == 0) & (a == 0), 0, g * b * a ** (b - 1))
        if needs[1]:
            if isinstance(a, (int, float)):  # a constant base
                log_a = math.log(a) if a > 0 else -math.inf if a == 0 else math.nan
                gb = g * a ** b * log_a
                if a == 0:
                    gb = B.where(b >= 0, 0, gb)
            else:  # log of the positive entries only, so no NaN leaks into create_graph
                positive = a > 0
                log_a = B.where(positive, B.log(B.where(positive, a, 1)),
                                B.where(a == 0, -math.inf, math.nan))
                gb = B.where((b >= 0) & (a == 0), 0, g * a ** b * log_a)
        return ga, gb


def _matmul_error(a, b) -> ValueError:
    if a.ndim == 0 or b.ndim == 0:
        return ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                          f"{a.shape} and {b.shape}")
    ka, kb = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        return ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align ({ka} != {kb})")
    return ValueError(f"matmul: batch dimensions of shapes {a.shape} and {b.shape} do not "
                      f"broadcast")


class MatMul(Op):
    """a @ b, 1-D, 2-D or batched with broadcasting (numpy.matmul semantics)."""

    name = "matmul"
    saves = (0, 1)

    def forward(a, b):
        try:
            return a @ b
        except ValueError:
            raise _matmul_error(a, b) from None

    def vjp(B, g, out, args, needs):
        a, b = args
        if a.ndim == 2 and b.ndim == 2:
            return (g @ b.T if needs[0] else None), (a.T @ g if needs[1] else None)
        a2 = B.reshape(a, (1,) + a.shape) if a.ndim == 1 else a
        b2 = B.reshape(b, b.shape + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = B.unsqueeze(g2, g2.ndim - 1)
        if b.ndim == 1:
            g2 = B.unsqueeze(g2, g2.ndim)
        ga = gb = None
        if needs[0]:
            ga = g2 @ B.mT(b2)
            if a.ndim == 1:
                ga = B.reshape(B.sum_to(ga, (1,) + a.shape), a.shape)
        if needs[1]:
            gb = B.mT(a2) @ g2
            if b.ndim == 1:
                gb = B.reshape(B.sum_to(gb, b.shape + (1,)), b.shape)
        return ga, gb


class Linear(Op):
    """x @ weight.T + bias, as torch.nn.functional.linear: the layer every network is
    made of, as one node instead of three (matmul, transpose, add). The bias gradient
    is g itself; the engine's sum_to reduces it over the batch."""

    saves = (0, 1)

    def forward(x, weight, bias):
        try:
            out = xp.dot(x, weight.T)  # = x @ weight.T for a 2-D weight, with less overhead
        except ValueError:
            raise ValueError(f"linear: input of shape {x.shape} does not match weight of "
                             f"shape {weight.shape} ({x.shape[-1]} != {weight.shape[-1]} "
                             f"in_features)") from None
        if bias is not None:
            out += bias
        return out

    def vjp(B, g, out, args, needs):
        x, w = args[0], args[1]
        gx = B.dot(g, w) if needs[0] else None
        gw = None
        if needs[1]:
            if x.ndim == 2:
                gw = B.dot(g.mT, x)
            else:
                gw = B.dot(B.reshape(g, (-1, g.shape[-1])).mT, B.reshape(x, (-1, x.shape[-1])))
        return gx, gw, (g if needs[2] else None)


# --------------------------------------------------------------------------- elementwise
class Exp(Op):
    save_output = True
    forward = quiet(xp.exp)  # overflow is inf, silently
    def vjp(B, g, out, args, needs): return (g * out,)


class Log(Op):
    saves = (0,)
    forward = quiet(xp.log)

    @quiet
    def vjp(B, g, out, args, needs): return (g / args[0],)


class Log1p(Op):
    saves = (0,)
    forward = quiet(xp.log1p)

    @quiet
    def vjp(B, g, out, args, needs): return (g / (1 + args[0]),)


class Sqrt(Op):
    save_output = True
    forward = quiet(xp.sqrt)

    @quiet
    def vjp(B, g, out, args, needs): return (g / (2 * out),)


class Abs(Op):
    saves = (0,)
    def forward(a): return xp.abs(a)
    def vjp(B, g, out, args, needs): return (g * B.sign(args[0]),)


class Sin(Op):
    saves = (0,)
    forward = quiet(xp.sin)

    @quiet
    def vjp(B, g, out, args, needs): return (g * B.cos(args[0]),)


class Cos(Op):
    saves = (0,)
    forward = quiet(xp.cos)

    @quiet
    def vjp(B, g, out, args, needs): return (-g * B.sin(args[0]),)


class Tanh(Op):
    save_output = True
    def forward(a): return xp.tanh(a)
    def vjp(B, g, out, args, needs): return (g * (1 - out * out),)


def _sigmoid(a: ndarray) -> ndarray:
    """1 / (1 + exp(-a)) as (tanh(a/2) + 1) / 2: no overflow for any input, three passes."""
    out = xp.tanh(a * 0.5)
    out += 1
    out *= 0.5
    return out


class Sigmoid(Op):
    save_output = True
    def forward(a): return _sigmoid(a)
    def vjp(B, g, out, args, needs): return (g * out * (1 - out),)


class Relu(Op):
    save_output = True
    def forward(a): return xp.maximum(a, 0)
    def vjp(B, g, out, args, needs): return (g * B.gt(out, 0),)


class LeakyRelu(Op):
    name = "leaky_relu"
    saves = (0,)
    def forward(a, negative_slope): return xp.where(a > 0, a, a * negative_slope)

    def vjp(B, g, out, args, needs, negative_slope):
        return (B.where(B.gt(args[0], 0), g, g * negative_slope),)


class Elu(Op):
    saves = (0,)
    def forward(a, alpha): return xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0)))

    def vjp(B, g, out, args, needs, alpha):
        a = args[0]
        return (B.where(a > 0, g, g * alpha * B.exp(B.minimum(a, 0))),)


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, computed as max(x, 0) + log1p(exp(-|x|)) (no overflow);
    linear above `threshold`, as in PyTorch."""

    saves = (0,)

    def forward(a, beta, threshold):
        z = a * beta
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        return xp.where(z > threshold, a, soft)

    def vjp(B, g, out, args, needs, beta, threshold):
        z = args[0] * beta
        return (B.where(z > threshold, g, g * B.sigmoid(z)),)


class Clamp(Op):
    saves = (0,)
    def forward(a, min, max): return xp.clip(a, min, max)

    def vjp(B, g, out, args, needs, min, max):
        a = args[0]
        inside = True
        if min is not None:
            inside = a >= min
        if max is not None:
            inside = (a <= max) & inside if min is not None else a <= max
        return (g * inside,)


class Maximum(Op):
    """As PyTorch: half of g to each side where a == b, all of it to the larger side,
    none to the smaller (a NaN is neither, so both sides get g)."""

    saves = (0, 1)
    def forward(a, b): return xp.maximum(a, b)

    def vjp(B, g, out, args, needs):
        a, b = args
        shared = B.where(a == b, g * 0.5, g)
        return (B.where(a < b, 0, shared) if needs[0] else None,
                B.where(a > b, 0, shared) if needs[1] else None)


class Minimum(Op):
    """Maximum's rule mirrored."""

    saves = (0, 1)
    def forward(a, b): return xp.minimum(a, b)

    def vjp(B, g, out, args, needs):
        a, b = args
        shared = B.where(a == b, g * 0.5, g)
        return (B.where(a > b, 0, shared) if needs[0] else None,
                B.where(a < b, 0, shared) if needs[1] else None)


class Where(Op):
    """x where cond, else y. A floating condition that requires grad (a Mask, in the VJP
    of leaky_relu under create_graph) gets a zero gradient: it is piecewise constant."""

    saves = (0,)
    def forward(cond, a, b): return xp.where(cond, a, b)

    def vjp(B, g, out, args, needs):
        cond = args[0]
        return (B.zeros(cond.shape, cond.dtype) if needs[0] else None,
                B.where(cond, g, 0) if needs[1] else None,
                B.where(cond, 0, g) if needs[2] else None)


class Mask(Op):
    """fn(*args), a piecewise-constant function (a comparison, sign), as a 0/1 (or -1)
    tensor in the inputs' floating dtype: the masks in the VJPs of relu, leaky_relu, abs
    and max_pool2d under create_graph. Its VJP is zero, but it is recorded, so those
    first derivatives stay connected to their input with a zero second derivative, as
    PyTorch's do, instead of not requiring grad. An ordinary backward compares bare
    arrays instead (`_ArrayNS.gt` is operator.gt): no extra work there."""

    def forward(*args, fn): return fn(*args).astype(xp.result_type(*args), copy=False)

    def vjp(B, g, out, args, needs, fn):
        return tuple(B.zeros(a.shape, a.dtype) if need else None
                     for a, need in zip(args, needs))


class Cast(Op):
    def forward(a, dtype): return a.astype(dtype)
    def vjp(B, g, out, args, needs, dtype): return (B.cast(g, args[0].dtype),)


class Clone(Op):
    def forward(a): return a.copy()
    def vjp(B, g, out, args, needs): return (g,)


class Fill(Op):
    def forward(a, value): return xp.full_like(a, value)
    def vjp(B, g, out, args, needs, value): return (None,)


class CopyFrom(Op):
    name = "copy"
    def forward(a, src): return xp.broadcast_to(src, a.shape).astype(a.dtype)
    def vjp(B, g, out, args, needs): return None, g


# ---------------------------------------------------------------- no gradient: compare, logic
def _nondiff(name: str, fn):
    return type(name, (Op,), {"name": name, "differentiable": False,
                              "forward": staticmethod(fn)})


Less = _nondiff("lt", xp.less)
LessEqual = _nondiff("le", xp.less_equal)
Greater = _nondiff("gt", xp.greater)
GreaterEqual = _nondiff("ge", xp.greater_equal)
Equal = _nondiff("eq", xp.equal)
NotEqual = _nondiff("ne", xp.not_equal)
LogicalAnd = _nondiff("logical_and", xp.logical_and)
LogicalOr = _nondiff("logical_or", xp.logical_or)
LogicalXor = _nondiff("logical_xor", xp.logical_xor)
LogicalNot = _nondiff("logical_not", xp.logical_not)
ArgMax = _nondiff("argmax", lambda a, dim, keepdim: xp.argmax(a, axis=dim, keepdims=keepdim))
ArgMin = _nondiff("argmin", lambda a, dim, keepdim: xp.argmin(a, axis=dim, keepdims=keepdim))
All = _nondiff("all", lambda a, dim, keepdim: xp.all(a, axis=dim, keepdims=keepdim))
Any = _nondiff("any", lambda a, dim, keepdim: xp.any(a, axis=dim, keepdims=keepdim))


# ---------------------------------------------------------------------------- reductions
def _unreduce(B, g, shape, dim, keepdim):
    """Put back the reduced axes of `g` as size-1 dims, ready to broadcast to `shape`."""
    if keepdim or dim is None:  # a 0-d or all-ones-shaped g broadcasts as it is
        return g
    dims = range(len(shape)) if dim is None else dim
    kept = list(shape)
    for d in dims:
        kept[d] = 1
    return B.reshape(g, tuple(kept))


class Sum(Op):
    def forward(a, dim, keepdim): return a.sum(axis=dim, keepdims=keepdim)

    def vjp(B, g, out, args, needs, dim, keepdim):
        shape = args[0].shape
        return (B.broadcast_to(_unreduce(B, g, shape, dim, keepdim), shape),)


class Mean(Op):
    def forward(a, dim, keepdim):
        # sum / n: the same pairwise summation as ndarray.mean without its Python wrapper
        n = a.size if dim is None else math.prod(a.shape[d] for d in dim)
        total = a.sum(axis=dim, keepdims=keepdim)
        return xp.true_divide(total, n) if n else total + xp.nan  # of nothing: NaN, as PyTorch

    def vjp(B, g, out, args, needs, dim, keepdim):
        shape = args[0].shape
        n = math.prod(shape) if dim is None else math.prod(shape[d] for d in dim)
        if not n:  # an empty input has an empty gradient (and g / 0 would warn)
            return (B.zeros(shape, args[0].dtype),)
        return (B.broadcast_to(_unreduce(B, g, shape, dim, keepdim) / n, shape),)


class MseLoss(Op):
    """Mean (or sum, or each) of (input - target)^2, as torch.nn.functional.mse_loss: one
    node instead of three, and a reduction that is one dot product."""

    name = "mse_loss"
    saves = (0, 1)

    def forward(a, t, reduction):
        d = a - t
        if reduction == "none":
            return d * d
        d = d.reshape(-1)
        total = xp.dot(d, d)
        if reduction == "sum":
            return total
        return total / d.size if d.size else total + xp.nan  # a mean of nothing is NaN

    def vjp(B, g, out, args, needs, reduction):
        d = args[0] - args[1]
        n = math.prod(d.shape)
        gd = g * d * (2 / n if reduction == "mean" and n else 2)
        return (gd if needs[0] else None), (-gd if needs[1] else None)


class _Extremum(Op):
    """amax/amin: the gradient is shared evenly among tied extreme elements. A NaN
    extreme equals nothing: NaN gradients over its slice (0 / 0), as in PyTorch."""

    saves = (0,)
    save_output = True

    @quiet
    def vjp(B, g, out, args, needs, dim, keepdim):
        a = args[0]
        out_k = _unreduce(B, out, a.shape, dim, keepdim)
        hit = a == out_k
        count = B.cast(B.sum(hit, dim, True), g.dtype)
        return (_unreduce(B, g, a.shape, dim, keepdim) * hit / count,)


class Amax(_Extremum):
    def forward(a, dim, keepdim): return a.max(axis=dim, keepdims=keepdim)


class Amin(_Extremum):
    def forward(a, dim, keepdim): return a.min(axis=dim, keepdims=keepdim)


class LogSumExp(Op):
    """log(sum(exp(a))) over `dim`; -inf over an empty dim (the log of an empty sum),
    as in PyTorch."""

    saves = (0,)

    @quiet
    def forward(a, dim, keepdim):
        m = a.max(axis=dim, keepdims=True, initial=-math.inf)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(a - m).sum(axis=dim, keepdims=True)) + m
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in dim])

    @quiet
    def vjp(B, g, out, args, needs, dim, keepdim):
        # softmax(a), shifted by a constant max rather than by `out`: at |a| ~ 1e4 in
        # float32, out = m + log(s) has lost the digits that exp(a - out) would need.
        a = args[0]
        m = B.value(a).max(axis=dim, keepdims=True, initial=-math.inf)
        e = B.exp(a - xp.where(xp.isfinite(m), m, 0))
        return (_unreduce(B, g, a.shape, dim, keepdim) * e / B.sum(e, dim, True),)


class Softmax(Op):
    """exp(a) / sum(exp(a)) along `dim`, shifted by the max; an empty dim gives an empty
    result and +inf gives NaN, silently, as in PyTorch."""

    save_output = True

    @quiet
    def forward(a, dim):
        e = xp.exp(a - a.max(axis=dim, keepdims=True, initial=-math.inf))
        e /= e.sum(axis=dim, keepdims=True)
        return e

    def vjp(B, g, out, args, needs, dim):
        return (out * (g - B.sum(g * out, (dim,), True)),)


class LogSoftmax(Op):
    name = "log_softmax"
    save_output = True

    @quiet
    def forward(a, dim):
        shifted = a - a.max(axis=dim, keepdims=True, initial=-math.inf)
        shifted -= xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        return shifted

    def vjp(B, g, out, args, needs, dim):
        return (g - B.exp(out) * B.sum(g, (dim,), True),)


# --------------------------------------------------------------------------------- shape
class Reshape(Op):
    def forward(a, shape): return a.reshape(shape)
    def vjp(B, g, out, args, needs, shape): return (B.reshape(g, args[0].shape),)


class Permute(Op):
    def forward(a, dims): return a.transpose(dims)
    def vjp(B, g, out, args, needs, dims): return (B.permute(g, tuple(xp.argsort(dims))),)


class BroadcastTo(Op):
    name = "broadcast_to"
    def forward(a, shape): return xp.broadcast_to(a, shape)
    def vjp(B, g, out, args, needs, shape): return (B.sum_to(g, args[0].shape),)


class SumTo(Op):
    name = "sum_to"
    def forward(a, shape): return backend.sum_to(a, shape)
    def vjp(B, g, out, args, needs, shape): return (B.broadcast_to(g, args[0].shape),)


class Cat(Op):
    def forward(*arrays, dim): return xp.concatenate(arrays, axis=dim)

    def vjp(B, g, out, args, needs, dim):
        sizes = tuple(a.shape[dim] for a in args)
        return B.split(g, sizes, dim)


class Split(Op):
    """One input, one output per section; the VJP concatenates (zeros for unused parts)."""

    n_out = None  # as many as sections

    def forward(a, sizes, dim):
        return xp.split(a, xp.cumsum(sizes)[:-1], axis=dim)

    def vjp(B, g, out, args, needs, sizes, dim):
        a = args[0]
        parts = []
        for gi, n in zip(g, sizes):
            if gi is None:
                shape = list(a.shape)
                shape[dim] = n
                gi = B.zeros(tuple(shape), a.dtype)
            parts.append(gi)
        return (B.cat(parts, dim),)


class Pad(Op):
    """Constant padding; `widths` is numpy's ((before, after), ...) for every dim."""

    def forward(a, widths, value): return xp.pad(a, widths, constant_values=value)

    def vjp(B, g, out, args, needs, widths, value):
        return (B.getitem(g, tuple(slice(lo, n - hi) for (lo, hi), n in zip(widths, g.shape))),)


class GetItem(Op):
    """x[index] with PyTorch's rules (see normalize_index); the VJP scatter-adds, so
    repeated indices accumulate."""

    def forward(a, index):
        try:
            return a[index] if type(index) is not TwoStepIndex else backend.getitem(a, index)
        except IndexError as e:
            raise IndexError(f"getitem: {e} (indexing a tensor of shape {a.shape})") from None

    def vjp(B, g, out, args, needs, index):
        a = args[0]
        return (B.index_add(a.shape, index, g, a.dtype),)


class IndexAdd(Op):
    """zeros(shape) with `values` added at `index`: GetItem's transpose."""

    name = "index_add"
    def forward(values, shape, index, dtype): return index_add(shape, index, values, dtype)
    def vjp(B, g, out, args, needs, shape, index, dtype): return (B.getitem(g, index),)


class SetItem(Op):
    """A copy of x with x[index] = value: the out-of-place form of `x[index] = value`."""

    def forward(a, value, index):
        out = a.copy()
        try:
            backend.setitem(out, index, value)
        except IndexError as e:
            raise IndexError(f"setitem: {e} (indexing a tensor of shape {a.shape})") from None
        return out

    def vjp(B, g, out, args, needs, index):
        a = args[0]
        keep = xp.ones(a.shape, dtype=bool)
        backend.setitem(keep, index, False)
        return (g * keep if needs[0] else None), (B.getitem(g, index) if needs[1] else None)


class CopySlices(Op):
    """`base` with the elements of one of its views replaced by `value`: what an in-place
    op on a view does to the base (PyTorch's CopySlices). The engine records it without
    running forward; `index` holds the view's flat positions in the base, so a chain of
    views of any kind is one gather in the VJP."""

    name = "copy_slices"

    def forward(base, value, index):
        out = xp.array(base, order="C")
        out.reshape(-1)[index] = value
        return out

    def vjp(B, g, out, args, needs, index):
        return (B.copy_slices(g, 0, index) if needs[0] else None,
                B.take(g, index) if needs[1] else None)


class Unfold(Op):
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L), as torch.nn.functional.unfold."""

    def forward(a, kernel, stride, padding, dilation):
        return im2col(a, kernel, stride, padding, dilation)

    def vjp(B, g, out, args, needs, kernel, stride, padding, dilation):
        return (B.fold(g, args[0].shape[2:], kernel, stride, padding, dilation),)


class Fold(Op):
    """col2im: the transpose of Unfold, summing overlapping windows."""

    def forward(a, size, kernel, stride, padding, dilation):
        return col2im(a, size, kernel, stride, padding, dilation)

    def vjp(B, g, out, args, needs, size, kernel, stride, padding, dilation):
        return (B.unfold(g, kernel, stride, padding, dilation),)


class MaxPool2d(Op):
    """Max over each window of (N, C, H, W): the elementwise maximum of the kh*kw strided
    views, one per kernel offset, so the windows are never copied and no reduction runs
    over a strided axis. Padding is -inf, so it never wins. Tied maxima share the
    gradient evenly, as in amax."""

    name = "max_pool2d"
    saves = (0,)
    save_output = True

    def forward(a, kernel, stride, padding, dilation):
        views = backend.windows(a, kernel, stride, padding, dilation, -math.inf)
        out = views[:, :, 0, 0].copy()
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                if i or j:
                    xp.maximum(out, views[:, :, i, j], out=out)
        return out

    @quiet  # a NaN maximum matches nothing in its window: 0 / 0
    def vjp(B, g, out, args, needs, kernel, stride, padding, dilation):
        x = args[0]
        hits, count = B.pool_hits(x, out, kernel, stride, padding, dilation)
        return (B.unpool(g / count, hits, x.shape[2:], kernel, stride, padding, dilation),)


# ------------------------------------------------ what VJPs compute with, in both modes
def _pool_hits_tensor(x: Tensor, m: Tensor, kernel, stride, padding, dilation) -> tuple:
    """backend.pool_hits over Tensors: where each window of x (its unfolded columns,
    padded with -inf) equals its maximum, as a Mask of shape (N, C, kh*kw, oh*ow) that
    keeps max_pool2d's first derivative connected to x; and the count per window."""
    n, c, oh, ow = m.shape
    widths = ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1]))
    cols = apply(Unfold, apply(Pad, x, widths=widths, value=-math.inf), kernel=kernel,
                 stride=stride, padding=(0, 0), dilation=dilation)
    cols = apply(Reshape, cols, shape=(n, c, kernel[0] * kernel[1], oh * ow))
    hits = apply(Mask, cols, apply(Reshape, m, shape=(n, c, 1, oh * ow)), fn=xp.equal)
    count = apply(Sum, hits, dim=(2,), keepdim=False)
    return hits, apply(Reshape, count, shape=(n, c, oh, ow))


def _unpool_tensor(share: Tensor, hits: Tensor, size, kernel, stride, padding,
                   dilation) -> Tensor:
    """backend.unpool over Tensors: col2im (Fold) of share times the masks."""
    n, c, oh, ow = share.shape
    cols = apply(Reshape, share, shape=(n, c, 1, oh * ow)) * hits
    return apply(Fold, apply(Reshape, cols, shape=(n, c * kernel[0] * kernel[1], oh * ow)),
                 size=tuple(size), kernel=kernel, stride=stride, padding=padding,
                 dilation=dilation)


def _fill_namespaces() -> None:
    """The same names over bare arrays (_ArrayNS) and over Tensor ops (_TensorNS)."""
    arrays = {
        "broadcast_to": backend.broadcast_to,
        "reshape": lambda a, shape: a.reshape(shape),
        "permute": lambda a, dims: a.transpose(dims),
        "unsqueeze": xp.expand_dims,
        "mT": lambda a: a.swapaxes(-1, -2),
        "dot": xp.dot,  # a matrix product whose right operand is 2-D (then = matmul)
        "sum": lambda a, dim, keepdim: a.sum(axis=dim, keepdims=keepdim),
        "exp": xp.exp, "log": xp.log, "sin": xp.sin, "cos": xp.cos, "sign": xp.sign,
        "sigmoid": _sigmoid, "where": xp.where, "minimum": xp.minimum,
        "gt": operator.gt,  # a bool mask: g * mask keeps g's dtype
        "value": lambda a: a,
        "cast": lambda a, dtype: a.astype(dtype, copy=False),
        "zeros": xp.zeros,
        "cat": lambda parts, dim: xp.concatenate(parts, axis=dim),
        "split": lambda a, sizes, dim: xp.split(a, xp.cumsum(sizes)[:-1], axis=dim),
        "getitem": backend.getitem,
        "index_add": index_add,
        "fold": col2im,
        "unfold": im2col,
        "pool_hits": backend.pool_hits,
        "unpool": backend.unpool,
        "copy_slices": CopySlices.forward,
        "take": lambda a, index: a.reshape(-1)[index],
    }
    tensors = {
        "sum_to": lambda a, shape: apply(SumTo, a, shape=shape),
        "broadcast_to": lambda a, shape: apply(BroadcastTo, a, shape=tuple(shape)),
        "reshape": lambda a, shape: apply(Reshape, a, shape=tuple(shape)),
        "permute": lambda a, dims: apply(Permute, a, dims=dims),
        "unsqueeze": lambda a, dim: unsqueeze(a, dim),
        "mT": lambda a: transpose(a, -1, -2),
        "dot": lambda a, b: apply(MatMul, a, b),
        "sum": lambda a, dim, keepdim: apply(Sum, a, dim=dim, keepdim=keepdim),
        "exp": lambda a: apply(Exp, a), "log": lambda a: apply(Log, a),
        "sin": lambda a: apply(Sin, a), "cos": lambda a: apply(Cos, a),
        "sign": lambda a: apply(Mask, a, fn=xp.sign), "sigmoid": lambda a: apply(Sigmoid, a),
        "gt": lambda a, b: apply(Mask, a, b, fn=xp.greater),
        "value": lambda a: a.data,  # a constant: used only where the math is shift-invariant
        "where": lambda c, a, b: apply(Where, c, a, b),
        "minimum": lambda a, b: apply(Minimum, a, b),
        "cast": lambda a, dtype: apply(Cast, a, dtype=dtype),
        "zeros": lambda shape, dtype: _wrap(xp.zeros(shape, dtype)),
        "cat": lambda parts, dim: apply(Cat, *parts, dim=dim),
        "split": lambda a, sizes, dim: apply(Split, a, sizes=tuple(sizes), dim=dim),
        "getitem": lambda a, index: apply(GetItem, a, index=index),
        "index_add": lambda shape, index, g, dtype: apply(IndexAdd, g, shape=shape,
                                                          index=index, dtype=dtype),
        "fold": lambda a, size, *window: apply(Fold, a, size=tuple(size), kernel=window[0],
                                               stride=window[1], padding=window[2],
                                               dilation=window[3]),
        "unfold": lambda a, *window: apply(Unfold, a, kernel=window[0], stride=window[1],
                                           padding=window[2], dilation=window[3]),
        "pool_hits": _pool_hits_tensor,
        "unpool": _unpool_tensor,
        "copy_slices": lambda a, value, index: apply(CopySlices, a, value, index=index),
        "take": lambda a, index: apply(GetItem, apply(Reshape, a, shape=(-1,)), index=index),
    }
    for name, fn in arrays.items():
        setattr(_ArrayNS, name, staticmethod(fn))
    for name, fn in tensors.items():
        setattr(_TensorNS, name, staticmethod(fn))


_fill_namespaces()


# ----------------------------------------------- public functions: argument checks, then apply
def _dim(dim: int, ndim: int, op: str) -> int:
    """A dim in range(ndim), from a possibly negative one; errors name the op."""
    if not isinstance(dim, (int, xp.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    span = builtins.max(ndim, 1)
    if not -span <= dim < span:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} "
                         f"dimension{'s' if ndim != 1 else ''} (expected {-span} to "
                         f"{span - 1})")
    return dim % ndim if ndim else 0


def _dims(dim, ndim: int, op: str):
    """None (all dims) or a sorted tuple of distinct non-negative dims."""
    if dim is None:
        return None
    dims = (dim,) if not isinstance(dim, (tuple, list)) else dim
    if ndim == 0:
        for d in dims:
            _dim(d, 0, op)
        return None
    out = tuple(sorted({_dim(d, ndim, op) for d in dims}))
    if len(out) != len(dims):
        raise ValueError(f"{op}: dim {tuple(dims)} names a dimension twice")
    return out


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def add(a, b): return apply(Add, a, b)
def sub(a, b): return apply(Sub, a, b)
def mul(a, b): return apply(Mul, a, b)
def div(a, b): return apply(Div, a, b)
def neg(a): return apply1(Neg, a)
def pow(a, b): return apply(Pow, a, b)  # noqa: A001  (torch.pow)


def matmul(a, b) -> Tensor:
    """Matrix product with numpy.matmul semantics (1-D, 2-D, batched and broadcast)."""
    return apply(MatMul, _t(a) if not isinstance(a, ndarray) else a,
                 _t(b) if not isinstance(b, ndarray) else b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias with weight of shape (out_features, in_features)."""
    if (x.data.ndim if isinstance(x, Tensor) else xp.ndim(x)) == 0:
        raise ValueError("linear: the input must have at least one dimension (its "
                         "features), got a 0-d value")
    if weight.ndim != 2 or (bias is not None and bias.shape not in ((weight.shape[0],), ())):
        raise ValueError(f"linear: weight must be (out_features, in_features) and bias "
                         f"(out_features,), got weight {weight.shape} and bias "
                         f"{None if bias is None else bias.shape}")
    return apply(Linear, x, weight, bias)


def exp(x): return apply1(Exp, x)
def log(x): return apply1(Log, x)
def log1p(x): return apply1(Log1p, x)
def sqrt(x): return apply1(Sqrt, x)
def abs(x): return apply1(Abs, x)  # noqa: A001
def sin(x): return apply1(Sin, x)
def cos(x): return apply1(Cos, x)
def tanh(x): return apply1(Tanh, x)
def sigmoid(x): return apply1(Sigmoid, x)
def relu(x): return apply1(Relu, x)
def leaky_relu(x, negative_slope: float = 0.01): return apply(LeakyRelu, x, negative_slope=negative_slope)
def elu(x, alpha: float = 1.0): return apply(Elu, x, alpha=alpha)
def softplus(x, beta: float = 1.0, threshold: float = 20.0): return apply(Softplus, x, beta=beta, threshold=threshold)
def maximum(a, b): return apply(Maximum, a, b)
def minimum(a, b): return apply(Minimum, a, b)
def logical_and(a, b): return apply(LogicalAnd, a, b)
def logical_or(a, b): return apply(LogicalOr, a, b)
def logical_not(a): return apply(LogicalNot, a)
def eq(a, b): return apply(Equal, a, b)
def ne(a, b): return apply(NotEqual, a, b)
def lt(a, b): return apply(Less, a, b)
def le(a, b): return apply(LessEqual, a, b)
def gt(a, b): return apply(Greater, a, b)
def ge(a, b): return apply(GreaterEqual, a, b)


def check_clamp_bounds(min, max, op: str = "clamp") -> None:  # noqa: A002
    if min is None and max is None:
        raise ValueError(f"{op}: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"{op}: min ({min}) is greater than max ({max})")


def clamp(x, min=None, max=None) -> Tensor:  # noqa: A002  (torch.clamp's names)
    check_clamp_bounds(min, max)
    return apply(Clamp, x, min=min, max=max)


def where(condition, x, y) -> Tensor:
    """x where condition holds, else y; the gradient flows to the branch that was taken."""
    return apply(Where, condition, x, y)


def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return apply(Sum, x, dim=_dims(dim, x.ndim, "sum"), keepdim=keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating tensor, got dtype {x.dtype}")
    return apply(Mean, x, dim=_dims(dim, x.ndim, "mean"), keepdim=keepdim)


def _check_reducible(x: Tensor, dims, op: str) -> None:
    """A max or min needs an element to pick: none over a dim of size 0, or over all dims
    of an empty tensor (PyTorch raises there too). Over non-empty dims of an empty tensor
    the result is empty, as in PyTorch."""
    shape = x.shape
    if dims is None or not shape:
        if x.data.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {shape}; name "
                             f"the dims to reduce over, none of size 0")
        return
    for d in dims:
        if shape[d] == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {shape} over "
                             f"dim {d}, which has size 0")


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dims = _dims(dim, x.ndim, "amax")
    _check_reducible(x, dims, "amax")
    return apply(Amax, x, dim=dims, keepdim=keepdim)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dims = _dims(dim, x.ndim, "amin")
    _check_reducible(x, dims, "amin")
    return apply(Amin, x, dim=dims, keepdim=keepdim)


MaxResult = namedtuple("MaxResult", ["values", "indices"])


def max(x: Tensor, dim: int | None = None, keepdim: bool = False):  # noqa: A001
    """The largest element, or with `dim` a (values, indices) pair as in PyTorch.
    Tied maxima share the gradient evenly."""
    if dim is None:
        return amax(x)
    return MaxResult(amax(x, dim, keepdim), argmax(x, dim, keepdim))


def min(x: Tensor, dim: int | None = None, keepdim: bool = False):  # noqa: A001
    """The smallest element, or with `dim` a (values, indices) pair as in PyTorch."""
    if dim is None:
        return amin(x)
    return MaxResult(amin(x, dim, keepdim), argmin(x, dim, keepdim))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    d = None if dim is None else _dim(dim, x.ndim, "argmax")
    _check_reducible(x, None if d is None else (d,), "argmax")
    return apply(ArgMax, x, dim=d, keepdim=keepdim and d is not None)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    d = None if dim is None else _dim(dim, x.ndim, "argmin")
    _check_reducible(x, None if d is None else (d,), "argmin")
    return apply(ArgMin, x, dim=d, keepdim=keepdim and d is not None)


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return apply(All, x, dim=_dims(dim, x.ndim, "all"), keepdim=keepdim)


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return apply(Any, x, dim=_dims(dim, x.ndim, "any"), keepdim=keepdim)


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, without overflow for any input size."""
    dims = _dims(dim, x.ndim, "logsumexp")
    return apply(LogSumExp, x, dim=tuple(range(x.ndim)) if dims is None else dims,
                 keepdim=keepdim)


def softmax(x: Tensor, dim: int) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max so it never overflows."""
    d = _dim(dim, x.ndim, "softmax")
    if x.ndim == 0:  # as PyTorch: a 0-d tensor is a softmax over one element
        return reshape(apply(Softmax, reshape(x, 1), dim=0))
    return apply(Softmax, x, dim=d)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    """x - logsumexp(x) along `dim`: stable, and exact where softmax underflows."""
    d = _dim(dim, x.ndim, "log_softmax")
    if x.ndim == 0:
        return reshape(apply(LogSoftmax, reshape(x, 1), dim=0))
    return apply(LogSoftmax, x, dim=d)


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(x: Tensor, *shape) -> Tensor:
    shape = _shape_arg(shape)
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or x.data.size % known)) or (
            -1 not in shape and known != x.data.size):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.data.size} elements) into shape {shape}")
    return apply_view(Reshape, x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return apply_view(Reshape, x, shape=shape)


def permute(x: Tensor, *dims) -> Tensor:
    dims = _shape_arg(dims)
    norm = tuple(_dim(d, x.ndim, "permute") for d in dims)
    if sorted(norm) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} "
                         f"dimensions of a tensor of shape {x.shape}")
    return apply_view(Permute, x, dims=norm)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    dims = list(range(x.ndim))
    a, b = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    if dims:  # a 0-d tensor's only "dim" is itself: nothing to swap
        dims[a], dims[b] = dims[b], dims[a]
    return apply_view(Permute, x, dims=tuple(dims))


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims (all of them, or those in `dim` that have size 1, as in PyTorch)."""
    dims = range(x.ndim) if dim is None else (_dims(dim, x.ndim, "squeeze") or ())
    drop = {d for d in dims if x.shape[d] == 1}
    return apply_view(Reshape, x, shape=tuple(n for i, n in enumerate(x.shape) if i not in drop))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    return apply_view(Reshape, x, shape=x.shape[:d] + (1,) + x.shape[d:])


def broadcast_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    try:
        xp.broadcast_shapes(x.shape, shape)
        ok = len(shape) >= x.ndim and builtins.all(
            n == m or n == 1 for n, m in zip(x.shape[::-1], shape[::-1]))
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast "
                         f"to shape {shape}")
    return apply_view(BroadcastTo, x, shape=shape)


def expand(x: Tensor, *sizes) -> Tensor:
    """broadcast_to, where -1 keeps a dim's size (torch.Tensor.expand)."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s
                  for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def sum_to(x: Tensor, shape) -> Tensor:
    """Sum `x` down to `shape`: the transpose of broadcast_to."""
    return apply(SumTo, x, shape=tuple(shape))


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [_t(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    d = _dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or t.shape[:d] + t.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]:
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, which does not match "
                             f"tensor 0's shape {ref.shape} outside dim {d}")
    return apply(Cat, *tensors, dim=d)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `x` along `dim`: of size `split_size_or_sections` each (the last may be
    smaller) or of the listed sizes, as torch.split."""
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = tuple(builtins.min(step, n - i) for i in range(0, n, step)) or (0,)
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} sum to {builtins.sum(sizes)}, but dim "
                             f"{d} of shape {x.shape} has size {n}")
    pieces = apply(Split, x, sizes=sizes, dim=d)
    start = 0
    for piece, n in zip(pieces, sizes):  # each piece a view: the slice it is of x
        index = (slice(None),) * d + (slice(start, start + n),)
        link_view(x, piece, ((GetItem, {"index": index}),))
        start += n
    return pieces


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """`chunks` pieces of (nearly) equal size along `dim`, as torch.chunk."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


def pad(x: Tensor, pad: tuple, value: float = 0.0) -> Tensor:
    """Constant padding; `pad` lists (before, after) pairs from the last dim backwards,
    as torch.nn.functional.pad."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding {tuple(pad)} must have an even length of at most "
                         f"2 * {x.ndim} for a tensor of shape {x.shape}")
    if builtins.any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return apply(Pad, x, widths=tuple(widths), value=value)


def _pair(v, name: str, op: str) -> tuple:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair, got {v!r}")
    return pair


def unfold(x: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every (kh, kw) window of an (N, C, H, W) tensor as a column: (N, C*kh*kw, L),
    as torch.nn.functional.unfold. Convolution is this plus one matmul."""
    k, d = _pair(kernel_size, "kernel_size", "unfold"), _pair(dilation, "dilation", "unfold")
    p, s = _pair(padding, "padding", "unfold"), _pair(stride, "stride", "unfold")
    if x.ndim != 4:
        raise ValueError(f"unfold: expected an (N, C, H, W) tensor, got shape {x.shape}")
    for i in range(2):
        span = d[i] * (k[i] - 1) + 1
        if x.shape[2 + i] + 2 * p[i] < span or k[i] < 1 or s[i] < 1 or d[i] < 1 or p[i] < 0:
            raise ValueError(f"unfold: a window of kernel {k}, dilation {d} does not fit an "
                             f"input of shape {x.shape} with padding {p} (stride {s})")
    return apply(Unfold, x, kernel=k, stride=s, padding=p, dilation=d)


def fold(cols: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C*kh*kw, L) back into an (N, C, H, W) image: unfold's transpose."""
    k, d = _pair(kernel_size, "kernel_size", "fold"), _pair(dilation, "dilation", "fold")
    p, s = _pair(padding, "padding", "fold"), _pair(stride, "stride", "fold")
    size = _pair(output_size, "output_size", "fold")
    n_windows = math.prod(conv_out_size(size[i], k[i], s[i], p[i], d[i]) for i in range(2))
    if cols.ndim != 3 or cols.shape[1] % (k[0] * k[1]) or cols.shape[2] != n_windows:
        raise ValueError(f"fold: columns of shape {cols.shape} do not match output_size "
                         f"{size} with kernel {k} ({n_windows} windows expected)")
    return apply(Fold, cols, size=size, kernel=k, stride=s, padding=p, dilation=d)


_BASIC = frozenset((int, slice, type(None), type(Ellipsis)))


def normalize_index(index):
    """`index` as numpy reads it to select what PyTorch selects.

    Ints, slices, None and Ellipsis alone mean the same to both and pass untouched (the
    hot path). Otherwise, as in PyTorch: tensors, lists and tuples inside the index are
    index arrays (`[]` an empty one), a 0-d integer tensor is an int, a uint8 array a
    mask, a bool a new dim indexed by [0] (True) or [] (False), and ints select before
    the arrays index (backend.TwoStepIndex), so x[0, :, [0, 1]] keeps the slice's dim
    first, where numpy would move the arrays' dim first."""
    kind = type(index)
    if kind is int or kind is slice:
        return index
    if kind is tuple:
        for part in index:
            if type(part) not in _BASIC:
                return _torch_index(index)
        return index
    return _torch_index(index)


def _torch_index(index):
    """normalize_index for an index with arrays, tensors, lists, bools or numpy scalars."""
    if type(index) is list and len(index) < 32 and builtins.any(
            isinstance(p, (list, tuple, slice, Tensor, ndarray)) or p is None or p is Ellipsis
            for p in index):
        raise IndexError(
            "getitem: a list holding lists, tensors, slices, None or ... is ambiguous: "
            "PyTorch 2.13 reads it as a tuple of indices (deprecated), numpy as one index "
            "array; write x[tuple(index)] or x[mt.tensor(index)]")
    single = type(index) is not tuple
    parts = [_index_part(p) for p in ((index,) if single else index)]
    advanced = [i for i, p in enumerate(parts) if type(p) is bool or isinstance(p, ndarray)]
    if advanced:
        has_int = builtins.any(type(p) is int for p in parts)
        # numpy, unlike PyTorch, parts arrays that an Ellipsis of no dims lies between
        split = builtins.any(p is Ellipsis for p in parts[advanced[0]:advanced[-1]])
        if has_int or split:
            return TwoStepIndex(parts)
    return parts[0] if single else tuple(parts)


def _index_part(p):
    """One part of an index as an int, bool, slice, None, Ellipsis or index array."""
    if isinstance(p, Tensor):
        p = p.data
    elif isinstance(p, (list, tuple)):
        p = xp.asarray(p)
        if p.size == 0:
            p = p.astype(xp.intp)  # [] selects nothing, as in PyTorch
    if isinstance(p, (ndarray, xp.generic)):
        kind = p.dtype.kind
        if kind == "b":
            return bool(p) if p.ndim == 0 else p
        if kind not in "iu":
            raise IndexError(f"getitem: tensors used as indices must be integer or bool, "
                             f"got dtype {p.dtype}")
        if p.ndim == 0:
            return int(p)
        return p.astype(bool) if p.dtype == xp.uint8 else p  # PyTorch: a uint8 mask
    return p
