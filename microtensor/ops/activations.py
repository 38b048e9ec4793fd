"""Activations: relu, leaky_relu, elu, softplus, gelu, silu, mish, hardtanh, relu6,
hardswish, hardsigmoid, logsigmoid and softsign, with PyTorch's kinks (a clipped
function's gradient is 0 at its corners, as PyTorch's), and the normal CDF that gelu
needs. (sigmoid and tanh are in elementwise.py.) Where torch.nn.functional's version
takes `inplace`, so does ours: the result is written into the input, as x.clamp_ is."""

from __future__ import annotations

import math

from ..autograd import apply, apply_inplace, unary
from ..backend import ndarray, quiet, xp
from ..tensor import Tensor
from .base import Op, method
from .elementwise import _sigmoid

__all__ = [
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
    "silu",
    "mish",
    "hardtanh",
    "relu6",
    "hardswish",
    "hardsigmoid",
    "logsigmoid",
    "softsign",
]


def _apply(op, x, inplace: bool, **attrs) -> Tensor:
    return apply_inplace(op, x, **attrs) if inplace else apply(op, x, **attrs)


class Relu(Op):
    save_output = True

    def forward(a):
        return xp.maximum(a, 0)

    def vjp(B, g, out, args, needs):
        return (g * B.gt(out, 0),)


relu = method(unary(Relu))


class LeakyRelu(Op):
    name = "leaky_relu"
    saves = (0,)

    def forward(a, negative_slope):
        return xp.where(a > 0, a, a * negative_slope)

    def vjp(B, g, out, args, needs, negative_slope):
        return (B.where(B.gt(args[0], 0), g, g * negative_slope),)


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _apply(LeakyRelu, x, inplace, negative_slope=negative_slope)


class Elu(Op):
    saves = (0,)

    def forward(a, alpha):
        return xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0)))

    def vjp(B, g, out, args, needs, alpha):
        a = args[0]
        return (B.where(a > 0, g, g * alpha * B.exp(B.minimum(a, 0))),)


def elu(x, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _apply(Elu, x, inplace, alpha=alpha)


def _softplus(z: ndarray) -> ndarray:
    """log(1 + exp(z)) as max(z, 0) + log1p(exp(-|z|)): no overflow for any z."""
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, linear above `threshold`, as in PyTorch."""

    b_name = "softplus"
    saves = (0,)

    def forward(a, beta, threshold):
        z = a * beta
        return xp.where(z > threshold, a, _softplus(z) / beta)

    def vjp(B, g, out, args, needs, beta, threshold):
        z = args[0] * beta
        return (B.where(z > threshold, g, g * B.sigmoid(z)),)


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return apply(Softplus, x, beta=beta, threshold=threshold)


# The normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, which numpy lacks, in float64 whatever
# the input (float32 would lose the tails). With w = x^2 / 2: for |x| < 1.5 sqrt 2, the
# series erf z = 2/sqrt(pi) z exp(-z^2) sum_n (2 z^2)^n / (2n+1)!!, whose terms are all
# positive (no cancellation); beyond, erfc |z| = exp(-w) / sqrt(pi) / (|z| + 1/2 / (|z| +
# 1 / (|z| + 3/2 / ...))), a continued fraction that converges fast there. 22 and 60 terms
# give results within 3e-13 of math.erfc (relative), for float64 and float32 inputs alike.
_SPLIT = 1.5 * math.sqrt(2)
_CONTINUED = 60


def _series_coefficients(n: int) -> list:
    """2^k / (2k+1)!! for k = n ... 0: the series' polynomial in w, for Horner."""
    c = [1.0]
    for k in range(1, n + 1):
        c.append(c[-1] * 2 / (2 * k + 1))
    return c[::-1]


_SERIES = _series_coefficients(22)


def _ndtr_series(x: ndarray) -> ndarray:
    w = x * x * 0.5
    s = xp.full_like(w, _SERIES[0])
    for c in _SERIES[1:]:
        s *= w
        s += c
    return 0.5 + x * xp.exp(-w) * s * (1 / math.sqrt(2 * math.pi))


def _ndtr_tail(x: ndarray) -> ndarray:
    z = xp.abs(x) * (1 / math.sqrt(2))
    k = xp.zeros_like(z)
    for j in range(_CONTINUED, 0, -1):
        k += z
        xp.divide(j / 2, k, out=k)
    tail = xp.exp(x * x * -0.5) / ((z + k) * (2 * math.sqrt(math.pi)))
    return xp.where(x > 0, 1 - tail, tail)


@quiet
def _ndtr(a: ndarray) -> ndarray:
    x = a.astype(xp.float64, copy=False)
    near = xp.abs(x) < _SPLIT
    out = xp.empty_like(x)
    if near.any():
        out[near] = _ndtr_series(x[near])
    if not near.all():
        far = ~near
        out[far] = _ndtr_tail(x[far])
    return out if a.dtype.kind != "f" else out.astype(a.dtype, copy=False)


class Ndtr(Op):
    """The standard normal CDF (torch.special.ndtr): the VJP of gelu computes with it."""

    b_name = "ndtr"
    saves = (0,)
    forward = _ndtr

    @quiet
    def vjp(B, g, out, args, needs):
        a = args[0]
        return (g * B.exp(a * a * -0.5) * (1 / math.sqrt(2 * math.pi)),)


_TANH_SCALE = math.sqrt(2 / math.pi)


class Gelu(Op):
    """x Phi(x) (approximate='none'), or PyTorch's tanh approximation of it."""

    saves = (0,)

    @quiet  # x^3 overflows to inf for huge x, and tanh(inf) = 1: the right value, silently
    def forward(a, approximate):
        if approximate == "none":
            return a * _ndtr(a)
        return 0.5 * a * (1 + xp.tanh(_TANH_SCALE * (a + 0.044715 * a * a * a)))

    @quiet
    def vjp(B, g, out, args, needs, approximate):
        a = args[0]
        if approximate == "none":
            pdf = B.exp(a * a * -0.5) * (1 / math.sqrt(2 * math.pi))
            return (g * (B.ndtr(a) + a * pdf),)
        t = B.tanh(_TANH_SCALE * (a + 0.044715 * a * a * a))
        slope = _TANH_SCALE * (1 + 3 * 0.044715 * a * a)
        return (g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * slope),)


def gelu(input, approximate: str = "none") -> Tensor:  # noqa: A002  (F.gelu's names)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(Gelu, input, approximate=approximate)


class Silu(Op):
    """x sigmoid(x), also called swish."""

    saves = (0,)

    def forward(a):
        return a * _sigmoid(a)

    def vjp(B, g, out, args, needs):
        a = args[0]
        s = B.sigmoid(a)
        return (g * s * (1 + a * (1 - s)),)


def silu(input, inplace: bool = False) -> Tensor:  # noqa: A002
    return _apply(Silu, input, inplace)


class Mish(Op):
    """x tanh(softplus(x))."""

    saves = (0,)

    def forward(a):
        return a * xp.tanh(_softplus(a))

    def vjp(B, g, out, args, needs):
        a = args[0]
        t = B.tanh(B.softplus(a, beta=1.0, threshold=20.0))
        return (g * (t + a * B.sigmoid(a) * (1 - t * t)),)


def mish(input, inplace: bool = False) -> Tensor:  # noqa: A002
    return _apply(Mish, input, inplace)


class Hardtanh(Op):
    """x clipped to [min_val, max_val]; unlike clamp's, its gradient is 0 at the bounds."""

    saves = (0,)

    def forward(a, min_val, max_val):
        return xp.clip(a, min_val, max_val)

    def vjp(B, g, out, args, needs, min_val, max_val):
        a = args[0]
        return (g * ((a > min_val) & (a < max_val)),)


def hardtanh(
    input,
    min_val: float = -1.0,
    max_val: float = 1.0,  # noqa: A002
    inplace: bool = False,
) -> Tensor:
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) is greater than max_val ({max_val})")
    return _apply(Hardtanh, input, inplace, min_val=min_val, max_val=max_val)


def relu6(input, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6), as PyTorch computes it: hardtanh(x, 0, 6), whose gradient is 0 at
    0 and at 6."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Hardswish(Op):
    """x relu6(x + 3) / 6; the gradient is 0 at x = -3 and 1 at x = 3, as PyTorch's."""

    saves = (0,)

    def forward(a):
        return a * xp.clip(a + 3, 0, 6) / 6

    def vjp(B, g, out, args, needs):
        a = args[0]
        return (B.where(a <= -3, 0, B.where(a < 3, g * (a / 3 + 0.5), g)),)


def hardswish(input, inplace: bool = False) -> Tensor:  # noqa: A002
    return _apply(Hardswish, input, inplace)


class Hardsigmoid(Op):
    """relu6(x + 3) / 6; the gradient is 0 at x = -3 and x = 3, as PyTorch's."""

    saves = (0,)

    def forward(a):
        return xp.clip(a / 6 + 0.5, 0, 1)

    def vjp(B, g, out, args, needs):
        a = args[0]
        return (g * ((a > -3) & (a < 3)) / 6,)


def hardsigmoid(input, inplace: bool = False) -> Tensor:  # noqa: A002
    return _apply(Hardsigmoid, input, inplace)


class Logsigmoid(Op):
    """log(sigmoid(x)) = -softplus(-x), with no overflow and no log 0 for any x."""

    saves = (0,)

    def forward(a):
        return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))

    def vjp(B, g, out, args, needs):
        return (g * B.sigmoid(-args[0]),)


logsigmoid = unary(Logsigmoid)


class Softsign(Op):
    """x / (1 + |x|)."""

    saves = (0,)

    def forward(a):
        return a / (1 + xp.abs(a))

    def vjp(B, g, out, args, needs):
        d = 1 + abs(args[0])
        return (g / (d * d),)


softsign = unary(Softsign)
