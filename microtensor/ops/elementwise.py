"""Elementwise ops: exponentials, logarithms and powers, sin, cos, tanh and sigmoid, clamp,
maximum/minimum, lerp, where, casts and fills; comparisons, logic and floating-point
classification (no gradient)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..autograd import apply, binary, unary
from ..backend import ndarray, quiet, xp
from ..creation import _check_options
from ..tensor import Tensor
from .base import Op, _nondiff, _t, method
from .indexing import nonzero

if TYPE_CHECKING:  # the comparison and logic ops are set through globals() from a table below
    # (no return annotation: an import cycle can reach this before `Any` would be resolved)
    def __getattr__(name: str): ...


__all__ = [
    "exp",
    "expm1",
    "exp2",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "square",
    "abs",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "clamp",
    "clip",
    "clip_",
    "maximum",
    "minimum",
    "lerp",
    "where",
    "clone",
    "nan_to_num",
    "isclose",
    "allclose",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "isnan",
    "isinf",
    "isfinite",
]


class Exp(Op):
    b_name = "exp"
    save_output = True
    forward = quiet(xp.exp)  # overflow is inf, silently

    def vjp(B, g, out, args, needs):
        return (g * out,)


exp = method(unary(Exp))


class Expm1(Op):
    """exp(x) - 1, without the cancellation of exp(x) - 1 near 0."""

    save_output = True  # the VJP reads the output: exp(x) = out + 1
    forward = quiet(xp.expm1)  # overflow is inf, silently, as in PyTorch

    def vjp(B, g, out, args, needs):
        return (g * (out + 1),)


expm1 = method(unary(Expm1))


class Exp2(Op):
    save_output = True
    forward = quiet(xp.exp2)

    def vjp(B, g, out, args, needs):
        return (g * out * math.log(2),)


exp2 = method(unary(Exp2))


class Log(Op):
    b_name = "log"
    saves = (0,)
    forward = quiet(xp.log)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / args[0],)


log = method(unary(Log))


class Log1p(Op):
    saves = (0,)
    forward = quiet(xp.log1p)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / (1 + args[0]),)


log1p = method(unary(Log1p))


class Log2(Op):
    saves = (0,)
    forward = quiet(xp.log2)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / (args[0] * math.log(2)),)


log2 = method(unary(Log2))


class Log10(Op):
    saves = (0,)
    forward = quiet(xp.log10)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / (args[0] * math.log(10)),)


log10 = method(unary(Log10))


class Sqrt(Op):
    b_name = "sqrt"
    save_output = True
    forward = quiet(xp.sqrt)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / (2 * out),)


sqrt = method(unary(Sqrt))


class Rsqrt(Op):
    """1 / sqrt(x); integers give the default float dtype, as in PyTorch."""

    save_output = True
    forward = quiet(lambda a: 1 / xp.sqrt(a))

    def vjp(B, g, out, args, needs):
        return (g * out * out * out * -0.5,)


rsqrt = method(unary(Rsqrt))


class Reciprocal(Op):
    """1 / x; integers give the default float dtype (numpy's reciprocal would give 1/2 = 0)."""

    save_output = True
    forward = quiet(lambda a: 1 / a)

    def vjp(B, g, out, args, needs):
        return (-g * out * out,)


reciprocal = method(unary(Reciprocal))


@method
def square(x) -> Tensor:
    """x ** 2 (integers stay integers), as torch.square."""
    return _t(x) ** 2


class Abs(Op):
    saves = (0,)

    def forward(a):
        return xp.abs(a)

    def vjp(B, g, out, args, needs):
        return (g * B.sign(args[0]),)


abs = method(unary(Abs))  # noqa: A001


class Sin(Op):
    b_name = "sin"
    saves = (0,)
    forward = quiet(xp.sin)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g * B.cos(args[0]),)


sin = method(unary(Sin))


class Cos(Op):
    b_name = "cos"
    saves = (0,)
    forward = quiet(xp.cos)

    @quiet
    def vjp(B, g, out, args, needs):
        return (-g * B.sin(args[0]),)


cos = method(unary(Cos))


class Tanh(Op):
    b_name = "tanh"
    save_output = True

    def forward(a):
        return xp.tanh(a)

    def vjp(B, g, out, args, needs):
        return (g * (1 - out * out),)


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

    def forward(a):
        return _sigmoid(a)

    def vjp(B, g, out, args, needs):
        return (g * out * (1 - out),)


sigmoid = method(unary(Sigmoid))


def check_clamp_bounds(min, max, op: str = "clamp") -> None:  # noqa: A002
    if min is None and max is None:
        raise ValueError(f"{op}: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"{op}: min ({min}) is greater than max ({max})")


class Clamp(Op):
    saves = (0,)

    def forward(a, min, max):
        return xp.clip(a, min, max)

    def vjp(B, g, out, args, needs, min, max):
        a = args[0]
        inside = True
        if min is not None:
            inside = a >= min
        if max is not None:
            inside = (a <= max) & inside if min is not None else a <= max
        return (g * inside,)


@method("clamp", "clip")
def clamp(x, min=None, max=None) -> Tensor:  # noqa: A002  (torch.clamp's names)
    check_clamp_bounds(min, max)
    return apply(Clamp, x, min=min, max=max)


clip = clamp


@method
def clip_(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """x.clamp_(min, max): clamped in place, by PyTorch's other name for it."""
    return x.clamp_(min, max)


class Maximum(Op):
    """As PyTorch: half of g to each side where a == b, all of it to the larger side,
    none to the smaller (a NaN is neither, so both sides get g)."""

    saves = (0, 1)

    def forward(a, b):
        return xp.maximum(a, b)

    def vjp(B, g, out, args, needs):
        a, b = args
        shared = B.where(a == b, g * 0.5, g)
        return (
            B.where(a < b, 0, shared) if needs[0] else None,
            B.where(a > b, 0, shared) if needs[1] else None,
        )


@method
def maximum(a, b):
    return apply(Maximum, a, b)


class Minimum(Op):
    """Maximum's rule mirrored."""

    b_name = "minimum"

    saves = (0, 1)

    def forward(a, b):
        return xp.minimum(a, b)

    def vjp(B, g, out, args, needs):
        a, b = args
        shared = B.where(a == b, g * 0.5, g)
        return (
            B.where(a > b, 0, shared) if needs[0] else None,
            B.where(a < b, 0, shared) if needs[1] else None,
        )


@method
def minimum(a, b):
    return apply(Minimum, a, b)


class Lerp(Op):
    """start + weight (end - start), as torch.lerp: computed from `end` where weight >= 0.5,
    so that weight = 1 gives `end` exactly. `weight` is a tensor or a number."""

    saves = (0, 1, 2)

    def forward(start, end, weight):
        diff = end - start
        return xp.where(xp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))

    def vjp(B, g, out, args, needs):
        start, end, weight = args
        return (
            g * (1 - weight) if needs[0] else None,
            g * weight if needs[1] else None,
            g * (end - start) if needs[2] else None,
        )


@method
def lerp(input, end, weight) -> Tensor:  # noqa: A002  (torch.lerp's names)
    return apply(Lerp, input, end, weight)


class NanToNum(Op):
    """NaN, inf and -inf replaced by finite numbers (by default 0 and the dtype's largest
    and smallest); the gradient passes where x is finite, as PyTorch's."""

    name = "nan_to_num"
    saves = (0,)

    def forward(a, nan, posinf, neginf):
        return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def vjp(B, g, out, args, needs, nan, posinf, neginf):
        a = args[0]
        return (g * ((a > -math.inf) & (a < math.inf)),)


@method
def nan_to_num(
    x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    return apply(NanToNum, x, nan=nan, posinf=posinf, neginf=neginf)


class Where(Op):
    """x where cond, else y. A floating condition that requires grad (a Mask, in the VJP
    of leaky_relu under create_graph) gets a zero gradient: it is piecewise constant."""

    b_name = "where"

    saves = (0,)

    def forward(cond, a, b):
        return xp.where(cond, a, b)

    def vjp(B, g, out, args, needs):
        cond = args[0]
        return (
            B.zeros(cond.shape, cond.dtype) if needs[0] else None,
            B.where(cond, g, 0) if needs[1] else None,
            B.where(cond, 0, g) if needs[2] else None,
        )


def where(condition, x=None, y=None):
    """x where condition holds, else y; the gradient flows to the branch that was taken.
    With the condition alone: nonzero(condition, as_tuple=True), as torch.where."""
    if x is None and y is None:
        return nonzero(_t(condition), as_tuple=True)
    if x is None or y is None:
        raise TypeError(
            "where: give both x and y, or neither (then the indices of the "
            "condition's nonzero elements)"
        )
    return apply(Where, condition, x, y)


class Mask(Op):
    """fn(*args), a piecewise-constant function, in the inputs' dtype: floor, ceil, round,
    trunc, sign and the rounded divisions (ops/rounding.py), and the 0/1 masks in the
    VJPs of relu, leaky_relu, abs and max_pool2d under create_graph. Its VJP is zero, but
    it is recorded, so its output requires grad and those first derivatives stay
    connected to their input with a zero second derivative, as PyTorch's do. An ordinary
    backward compares bare arrays instead (`_ArrayNS.gt` is operator.gt): no extra work
    there."""

    def forward(*args, fn):
        return fn(*args).astype(xp.result_type(*args), copy=False)

    def vjp(B, g, out, args, needs, fn):
        return tuple(B.zeros(a.shape, a.dtype) if need else None for a, need in zip(args, needs))


class Cast(Op):
    def forward(a, dtype):
        return a.astype(dtype)

    def vjp(B, g, out, args, needs, dtype):
        return (B.cast(g, args[0].dtype),)


class Clone(Op):
    """A copy that stays in the graph: its gradient is the copy's."""

    def forward(a):
        return a.copy()

    def vjp(B, g, out, args, needs):
        return (g,)


_clone = unary(Clone)


@method
def clone(input: Tensor, *, memory_format=None) -> Tensor:  # noqa: A002
    """A copy that stays in the graph; memory_format as PyTorch's (row-major either way)."""
    if memory_format is not None:
        _check_options("clone", None, {"memory_format": memory_format})
    return _clone(input)


class Fill(Op):
    def forward(a, value):
        return xp.full_like(a, value)

    def forward_(a, value):  # zero_() under no_grad (an optimizer's) without a new array
        xp.copyto(a, value, casting="unsafe")

    def vjp(B, g, out, args, needs, value):
        return (None,)


class CopyFrom(Op):
    name = "copy"

    def forward(a, src):
        return xp.broadcast_to(src, a.shape).astype(a.dtype)

    def vjp(B, g, out, args, needs):
        return None, g


# comparisons, logic and classification: no gradient. `a < b` is lt (set in tensor.py);
# `a & b` and `~a` are the bitwise ops (ops/bitwise.py), which are logical on bools.
for _cls, _name, _fn in (
    ("Less", "lt", xp.less),
    ("LessEqual", "le", xp.less_equal),
    ("Greater", "gt", xp.greater),
    ("GreaterEqual", "ge", xp.greater_equal),
    ("Equal", "eq", xp.equal),
    ("NotEqual", "ne", xp.not_equal),
    ("LogicalAnd", "logical_and", xp.logical_and),
    ("LogicalOr", "logical_or", xp.logical_or),
    ("LogicalXor", "logical_xor", xp.logical_xor),
    ("LogicalNot", "logical_not", xp.logical_not),
    ("IsNan", "isnan", xp.isnan),
    ("IsInf", "isinf", xp.isinf),
    ("IsFinite", "isfinite", xp.isfinite),
):
    globals()[_cls] = _nondiff(_name, _fn)
    globals()[_name] = method(_name)((unary if _fn.nin == 1 else binary)(globals()[_cls]))
del _cls, _name, _fn

IsClose = _nondiff("isclose", xp.isclose)


@method
def isclose(
    input,
    other,
    rtol: float = 1e-05,
    atol: float = 1e-08,  # noqa: A002
    equal_nan: bool = False,
) -> Tensor:
    """|input - other| <= atol + rtol |other|, elementwise, as torch.isclose."""
    return apply(IsClose, input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


@method
def allclose(
    input,
    other,
    rtol: float = 1e-05,
    atol: float = 1e-08,  # noqa: A002
    equal_nan: bool = False,
) -> bool:
    """Whether isclose holds everywhere: a Python bool, as torch.allclose."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())
