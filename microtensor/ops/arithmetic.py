"""Arithmetic: + - * / ** @ and linear, with their VJPs; add, sub and div with PyTorch's
keywords (alpha=, rounding_mode=) and their aliases."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from ..autograd import apply, binary, unary
from ..backend import ndarray, quiet, restore, silence, xp
from ..tensor import Tensor
from .base import Op, _t, method
from .rounding import floor_divide, trunc_divide

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "matmul",
    "linear",
    "true_divide",
    "multiply",
    "subtract",
    "divide",
    "rsub",
]


class Add(Op):
    """a + b with broadcasting (`a + b` is this op's function; mt.add adds alpha= to it)."""

    forward = operator.add  # a + b, as a builtin: no Python frame on the hot path

    def vjp(B, g, out, args, needs):
        return g, g


# `a + b`: the op function itself, no keyword handling in the way
_add: Callable[..., Tensor] = binary(Add)


class Sub(Op):
    forward = operator.sub

    def vjp(B, g, out, args, needs):
        return g, (-g if needs[1] else None)


_sub: Callable[..., Tensor] = binary(Sub)  # `a - b`


class Mul(Op):
    saves = (0, 1)
    forward = operator.mul

    def vjp(B, g, out, args, needs):
        a, b = args
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


mul = multiply = method("mul", "multiply")(binary(Mul))  # `a * b` too: no keywords


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


_div: Callable[..., Tensor] = method("true_divide")(binary(Div))  # `a / b`
true_divide = _div


class Neg(Op):
    forward = operator.neg

    def vjp(B, g, out, args, needs):
        return (-g,)


neg = method(unary(Neg))


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
            return a**b
        token = silence()
        try:
            return a**b
        finally:
            restore(token)

    @quiet
    def vjp(B, g, out, args, needs):
        a, b = args
        ga = gb = None
        if needs[0]:
            if isinstance(b, (int, float)):  # the usual tensor ** constant: no pow needed
                ga = (
                    g * 0
                    if b == 0
                    else g * b
                    if b == 1
                    else g * (2 * a)
                    if b == 2
                    else g * b * a ** (b - 1)
                )
            else:
                if b.dtype != a.dtype:  # an integer exponent: the gradient is a's dtype
                    b = B.cast(b, a.dtype)
                # 0 where a == b == 0 (not 0 * inf); elsewhere the formula, whose
                # derivative in b at b == 0 a mask would cut
                ga = B.where((b == 0) & (a == 0), 0, g * b * a ** (b - 1))
        if needs[1]:
            if isinstance(a, (int, float)):  # a constant base
                log_a = math.log(a) if a > 0 else -math.inf if a == 0 else math.nan
                gb = g * a**b * log_a
                if a == 0:
                    gb = B.where(b >= 0, 0, gb)
            else:  # log of the positive entries only, so no NaN leaks into create_graph
                positive = a > 0
                log_a = B.where(
                    positive, B.log(B.where(positive, a, 1)), B.where(a == 0, -math.inf, math.nan)
                )
                gb = B.where((b >= 0) & (a == 0), 0, g * a**b * log_a)
        return ga, gb


pow = method(binary(Pow))  # noqa: A001  (torch.pow)


def _scaled(other, alpha, input, op: str):
    """alpha * other, refusing a float alpha with integer tensors, as PyTorch does."""
    if isinstance(alpha, float) and _kind(input) in "biu" and _kind(other) in "biu":
        raise TypeError(f"{op}: for integer tensors alpha must not be a float, got alpha={alpha}")
    if isinstance(other, (int, float)):
        return other * alpha
    return mul(other if isinstance(other, (Tensor, ndarray)) else _t(other), alpha)


def _kind(x) -> str:
    return (
        x.dtype.kind if isinstance(x, (Tensor, ndarray)) else "f" if isinstance(x, float) else "i"
    )


@method
def add(input, other, *, alpha=1) -> Tensor:  # noqa: A002  (torch.add's names)
    """input + alpha * other, as torch.add; `a + b` is the same op without the keyword."""
    return _add(input, other if alpha == 1 else _scaled(other, alpha, input, "add"))


@method("sub", "subtract")
def sub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """input - alpha * other, as torch.sub."""
    return _sub(input, other if alpha == 1 else _scaled(other, alpha, input, "sub"))


subtract = sub


def rsub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """other - alpha * input, as torch.rsub."""
    return _sub(other, input if alpha == 1 else _scaled(input, alpha, other, "rsub"))


@method("div", "divide")
def div(input, other, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    """input / other, as torch.div: true division, or rounded toward zero ('trunc') or
    down ('floor'), which keep integer dtypes and have a zero gradient."""
    if rounding_mode is None:
        return _div(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return trunc_divide(input, other)
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


divide = div


def _matmul_error(a, b) -> ValueError:
    if a.ndim == 0 or b.ndim == 0:
        return ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    ka, kb = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        return ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align ({ka} != {kb})")
    return ValueError(
        f"matmul: batch dimensions of shapes {a.shape} and {b.shape} do not broadcast"
    )


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
        a2 = B.reshape(a, shape=(1,) + a.shape) if a.ndim == 1 else a
        b2 = B.reshape(b, shape=b.shape + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = B.unsqueeze(g2, g2.ndim - 1)
        if b.ndim == 1:
            g2 = B.unsqueeze(g2, g2.ndim)
        ga = gb = None
        if needs[0]:
            ga = g2 @ B.mT(b2)
            if a.ndim == 1:
                ga = B.reshape(B.sum_to(ga, (1,) + a.shape), shape=a.shape)
        if needs[1]:
            gb = B.mT(a2) @ g2
            if b.ndim == 1:
                gb = B.reshape(B.sum_to(gb, b.shape + (1,)), shape=b.shape)
        return ga, gb


_matmul = binary(MatMul)


@method
def matmul(a, b) -> Tensor:
    """Matrix product with numpy.matmul semantics (1-D, 2-D, batched and broadcast)."""
    if type(a) is not Tensor and not isinstance(a, ndarray):
        a = _t(a)  # a list: a tensor of the default dtype, as the other operand would be
    if type(b) is not Tensor and not isinstance(b, ndarray):
        b = _t(b)
    return _matmul(a, b)


class Linear(Op):
    """x @ weight.T + bias, as torch.nn.functional.linear: the layer every network is
    made of, as one node instead of three (matmul, transpose, add). The bias gradient
    is g itself; the engine's sum_to reduces it over the batch."""

    saves = (0, 1)

    def forward(x, weight, bias):
        try:  # np.dot is BLAS only for 2-D operands: a batch of sequences is made 2-D
            out = (
                xp.dot(x, weight.T)
                if x.ndim <= 2
                else xp.dot(x.reshape(-1, x.shape[-1]), weight.T).reshape(*x.shape[:-1], -1)
            )
        except ValueError:
            raise ValueError(
                f"linear: input of shape {x.shape} does not match weight of "
                f"shape {weight.shape} ({x.shape[-1]} != {weight.shape[-1]} "
                f"in_features)"
            ) from None
        if bias is not None:
            out += bias
        return out

    def vjp(B, g, out, args, needs):
        x, w = args[0], args[1]
        gx = None
        if needs[0]:
            gx = (
                B.dot(g, w)
                if g.ndim <= 2
                else B.reshape(
                    B.dot(B.reshape(g, shape=(-1, g.shape[-1])), w), shape=tuple(x.shape)
                )
            )
        gw = None
        if needs[1]:
            if x.ndim == 2:
                gw = B.dot(g.mT, x)
            else:
                gw = B.dot(
                    B.reshape(g, shape=(-1, g.shape[-1])).mT, B.reshape(x, shape=(-1, x.shape[-1]))
                )
        return gx, gw, (g if needs[2] else None)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias with weight of shape (out_features, in_features)."""
    if (x._data.ndim if isinstance(x, Tensor) else xp.ndim(x)) == 0:
        raise ValueError(
            "linear: the input must have at least one dimension (its features), got a 0-d value"
        )
    if weight.ndim != 2 or (bias is not None and bias.shape not in ((weight.shape[0],), ())):
        raise ValueError(
            f"linear: weight must be (out_features, in_features) and bias "
            f"(out_features,), got weight {weight.shape} and bias "
            f"{None if bias is None else bias.shape}"
        )
    return apply(Linear, x, weight, bias)
