"""Elementwise ops: unary functions, activations, clamp, maximum/minimum, where, casts and
fills; comparisons and logic (no gradient)."""
from __future__ import annotations

from ..autograd import apply, binary, unary
from ..backend import ndarray, quiet, xp
from ..tensor import Tensor
from .base import Op, _nondiff, method

__all__ = ["exp", "expm1", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
           "leaky_relu", "elu", "softplus", "clamp", "maximum", "minimum", "where", "clone",
           "logical_and", "logical_or", "logical_xor", "logical_not", "eq", "ne", "lt", "le", "gt", "ge"]


class Exp(Op):
    b_name = "exp"
    save_output = True
    forward = quiet(xp.exp)  # overflow is inf, silently
    def vjp(B, g, out, args, needs): return (g * out,)


exp = method(unary(Exp))



class Expm1(Op):
    """exp(x) - 1, without the cancellation of exp(x) - 1 near 0."""

    save_output = True          # the VJP reads the output: exp(x) = out + 1
    forward = quiet(xp.expm1)   # overflow is inf, silently, as in PyTorch
    def vjp(B, g, out, args, needs): return (g * (out + 1),)


expm1 = method(unary(Expm1))

class Log(Op):
    b_name = "log"
    saves = (0,)
    forward = quiet(xp.log)

    @quiet
    def vjp(B, g, out, args, needs): return (g / args[0],)


log = method(unary(Log))


class Log1p(Op):
    saves = (0,)
    forward = quiet(xp.log1p)

    @quiet
    def vjp(B, g, out, args, needs): return (g / (1 + args[0]),)


log1p = method(unary(Log1p))


class Sqrt(Op):
    save_output = True
    forward = quiet(xp.sqrt)

    @quiet
    def vjp(B, g, out, args, needs): return (g / (2 * out),)


sqrt = method(unary(Sqrt))


class Abs(Op):
    saves = (0,)
    def forward(a): return xp.abs(a)
    def vjp(B, g, out, args, needs): return (g * B.sign(args[0]),)


abs = method(unary(Abs))  # noqa: A001


class Sin(Op):
    b_name = "sin"
    saves = (0,)
    forward = quiet(xp.sin)

    @quiet
    def vjp(B, g, out, args, needs): return (g * B.cos(args[0]),)


sin = method(unary(Sin))


class Cos(Op):
    b_name = "cos"
    saves = (0,)
    forward = quiet(xp.cos)

    @quiet
    def vjp(B, g, out, args, needs): return (-g * B.sin(args[0]),)


cos = method(unary(Cos))


class Tanh(Op):
    save_output = True
    def forward(a): return xp.tanh(a)
    def vjp(B, g, out, args, needs): return (g * (1 - out * out),)


tanh = method(unary(Tanh))


def _sigmoid(a: ndarray) -> ndarray:
    """1 / (1 + exp(-a)) as (tanh(a/2) + 1) / 2: no overflow for any input, three passes."""
    out = xp.tanh(a * 0.5)
    out += 1
    out *= 0.5
    return out


class Sigmoid(Op):
    b_name = "sigmoid"
    save_output = True
    def forward(a): return _sigmoid(a)
    def vjp(B, g, out, args, needs): return (g * out * (1 - out),)


sigmoid = method(unary(Sigmoid))


class Relu(Op):
    save_output = True
    def forward(a): return xp.maximum(a, 0)
    def vjp(B, g, out, args, needs): return (g * B.gt(out, 0),)


relu = method(unary(Relu))


class LeakyRelu(Op):
    name = "leaky_relu"
    saves = (0,)
    def forward(a, negative_slope): return xp.where(a > 0, a, a * negative_slope)

    def vjp(B, g, out, args, needs, negative_slope):
        return (B.where(B.gt(args[0], 0), g, g * negative_slope),)


def leaky_relu(x, negative_slope: float = 0.01): return apply(LeakyRelu, x, negative_slope=negative_slope)


class Elu(Op):
    saves = (0,)
    def forward(a, alpha): return xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0)))

    def vjp(B, g, out, args, needs, alpha):
        a = args[0]
        return (B.where(a > 0, g, g * alpha * B.exp(B.minimum(a, 0))),)


def elu(x, alpha: float = 1.0): return apply(Elu, x, alpha=alpha)


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


def softplus(x, beta: float = 1.0, threshold: float = 20.0): return apply(Softplus, x, beta=beta, threshold=threshold)


def check_clamp_bounds(min, max, op: str = "clamp") -> None:  # noqa: A002
    if min is None and max is None:
        raise ValueError(f"{op}: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"{op}: min ({min}) is greater than max ({max})")


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


@method
def clamp(x, min=None, max=None) -> Tensor:  # noqa: A002  (torch.clamp's names)
    check_clamp_bounds(min, max)
    return apply(Clamp, x, min=min, max=max)


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


@method
def maximum(a, b): return apply(Maximum, a, b)


class Minimum(Op):
    """Maximum's rule mirrored."""

    b_name = "minimum"

    saves = (0, 1)
    def forward(a, b): return xp.minimum(a, b)

    def vjp(B, g, out, args, needs):
        a, b = args
        shared = B.where(a == b, g * 0.5, g)
        return (B.where(a > b, 0, shared) if needs[0] else None,
                B.where(a < b, 0, shared) if needs[1] else None)


@method
def minimum(a, b): return apply(Minimum, a, b)


class Where(Op):
    """x where cond, else y. A floating condition that requires grad (a Mask, in the VJP
    of leaky_relu under create_graph) gets a zero gradient: it is piecewise constant."""

    b_name = "where"

    saves = (0,)
    def forward(cond, a, b): return xp.where(cond, a, b)

    def vjp(B, g, out, args, needs):
        cond = args[0]
        return (B.zeros(cond.shape, cond.dtype) if needs[0] else None,
                B.where(cond, g, 0) if needs[1] else None,
                B.where(cond, 0, g) if needs[2] else None)


def where(condition, x, y) -> Tensor:
    """x where condition holds, else y; the gradient flows to the branch that was taken."""
    return apply(Where, condition, x, y)


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
    """A copy that stays in the graph: its gradient is the copy's."""

    def forward(a): return a.copy()
    def vjp(B, g, out, args, needs): return (g,)


clone = method(unary(Clone))


class Fill(Op):
    def forward(a, value): return xp.full_like(a, value)
    def vjp(B, g, out, args, needs, value): return (None,)


class CopyFrom(Op):
    name = "copy"
    def forward(a, src): return xp.broadcast_to(src, a.shape).astype(a.dtype)
    def vjp(B, g, out, args, needs): return None, g


Less = _nondiff("lt", xp.less)


lt = binary(Less)


LessEqual = _nondiff("le", xp.less_equal)


le = binary(LessEqual)


Greater = _nondiff("gt", xp.greater)


gt = binary(Greater)


GreaterEqual = _nondiff("ge", xp.greater_equal)


ge = binary(GreaterEqual)


Equal = _nondiff("eq", xp.equal)


eq = binary(Equal)


NotEqual = _nondiff("ne", xp.not_equal)


ne = binary(NotEqual)


LogicalAnd = _nondiff("logical_and", xp.logical_and)


logical_and = binary(LogicalAnd)


LogicalOr = _nondiff("logical_or", xp.logical_or)


logical_or = binary(LogicalOr)


LogicalXor = _nondiff("logical_xor", xp.logical_xor)


logical_xor = binary(LogicalXor)


LogicalNot = _nondiff("logical_not", xp.logical_not)


logical_not = unary(LogicalNot)
