"""Scans along one dim: cumsum, cumprod, logcumsumexp, and cummax/cummin with the indices
of their running extremes. A 0-d tensor scans as one element, as in PyTorch."""

from __future__ import annotations

from collections import namedtuple

from ..autograd import apply
from ..backend import quiet, xp
from ..tensor import Tensor
from .base import Op, _nondiff, method
from .reductions import _cast, _flip
from .sorting import Pick, _drop, _lift

__all__ = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]


def _scan(op, name: str, x: Tensor, dim, aliases: dict) -> Tensor:
    flat, d = _lift(name, x, dim, aliases)
    return _drop(apply(op, flat, dim=d), x)


def _rcumsum(B, a, dim: int):
    """Sums from each element to the end along `dim`: cumsum's transpose."""
    return _flip(B, B.cumsum(_flip(B, a, dim), dim=dim), dim)


class Cumsum(Op):
    b_name = "cumsum"

    def forward(a, dim):
        return a.cumsum(axis=dim)

    def vjp(B, g, out, args, needs, dim):
        return (_rcumsum(B, g, dim),)


@method
def cumsum(x: Tensor, dim: int | None = None, *, dtype=None, **aliases) -> Tensor:
    """Running sums along `dim`; integers and bools sum as int64, as in PyTorch."""
    return _scan(Cumsum, "cumsum", _cast(x, dtype), dim, aliases)


class Cumprod(Op):
    """Running products along `dim`. The gradient is rcumsum(g * out) / x where x holds
    no zero. Where it does, as in PyTorch: up to the first zero of a slice the same; at
    that zero, and after it times its value, the gradient of the scan with that zero
    made 1 (one zero fewer: the rest in turn), so second derivatives are exact too."""

    b_name = "cumprod"
    saves = (0,)
    save_output = True

    def forward(a, dim):
        return a.cumprod(axis=dim)

    def vjp(B, g, out, args, needs, dim):
        return (_cumprod_vjp(B, g, out, args[0], dim),)


def _cumprod_vjp(B, g, out, a, dim: int):
    zero = B.value(a) == 0
    if not zero.any():
        return _rcumsum(B, g * out, dim) / a
    seen = zero.cumsum(axis=dim)  # zeros so far, this element included
    before, first = seen == 0, zero & (seen == 1)
    one_fewer = B.where(first, 1, a)
    rest = _cumprod_vjp(B, g, B.cumprod(one_fewer, dim=dim), one_fewer, dim)
    at_first = B.sum(B.where(first, a, 0), dim=(dim,), keepdim=True)  # its value, 0
    head = _rcumsum(B, g * out, dim) / B.where(before, a, 1)
    return B.where(before, head, rest * B.where(first, 1, at_first))


@method
def cumprod(x: Tensor, dim: int | None = None, *, dtype=None, **aliases) -> Tensor:
    """Running products along `dim`, with exact gradients at zeros."""
    return _scan(Cumprod, "cumprod", _cast(x, dtype), dim, aliases)


class LogCumSumExp(Op):
    """log(cumsum(exp(a))) along `dim`, by logaddexp's accumulation: no overflow or
    underflow at any scale. Its VJP is PyTorch's: the positive and negative parts of g
    in log space, so that no exp overflows either."""

    b_name = "logcumsumexp"
    saves = (0,)
    save_output = True
    forward = quiet(lambda a, dim: xp.logaddexp.accumulate(a, axis=dim))

    @quiet
    def vjp(B, g, out, args, needs, dim):
        a, gv = args[0], B.value(g)
        lowest = xp.finfo(gv.dtype).min  # exp(lowest - out) is 0: a part with no terms
        log_g = B.log(B.where(gv != 0, g * B.sign(g), 1))

        def part(mask):
            logs = B.where(mask, log_g, lowest) - out
            return B.exp(_flip(B, B.logcumsumexp(_flip(B, logs, dim), dim=dim), dim) + a)

        return (part(gv > 0) - part(gv < 0),)


@method
def logcumsumexp(x: Tensor, dim: int | None = None, **aliases) -> Tensor:
    """log(cumsum(exp(x))) along `dim`, stable for inputs of any size."""
    return _scan(LogCumSumExp, "logcumsumexp", x, dim, aliases)


def _running_extreme(a, dim: int, accumulate):
    """The index of the running max (min) of `a` along `dim`: the latest of tied ones,
    and the latest NaN once one is met (NaN wins), as PyTorch's cummax."""
    hit = (a == accumulate(a, axis=dim)) | xp.isnan(a)
    at = xp.arange(a.shape[dim]).reshape((-1,) + (1,) * (a.ndim - dim - 1))
    return xp.maximum.accumulate(xp.where(hit, at, 0), axis=dim)


CumArgMax = _nondiff("cumargmax", lambda a, dim: _running_extreme(a, dim, xp.maximum.accumulate))
CumArgMin = _nondiff("cumargmin", lambda a, dim: _running_extreme(a, dim, xp.minimum.accumulate))
# named as torch.return_types.<op> (the repr, __name__), not as the variable: mypy asks that
CummaxResult = namedtuple("cummax", ["values", "indices"])  # type: ignore[name-match]
CumminResult = namedtuple("cummin", ["values", "indices"])  # type: ignore[name-match]


def _cum_extreme(op, result, name: str, x: Tensor, dim, aliases: dict):
    flat, d = _lift(name, x, dim, aliases)
    indices = apply(op, flat, dim=d)
    return result(_drop(apply(Pick, flat, indices, dim=d), x), _drop(indices, x))


@method
def cummax(x: Tensor, dim: int | None = None, **aliases) -> CummaxResult:
    """(values, indices) of the running maximum along `dim`; the gradient of a value goes
    to the element its index names (ties: the latest)."""
    return _cum_extreme(CumArgMax, CummaxResult, "cummax", x, dim, aliases)


@method
def cummin(x: Tensor, dim: int | None = None, **aliases) -> CumminResult:
    """(values, indices) of the running minimum along `dim`, as cummax."""
    return _cum_extreme(CumArgMin, CumminResult, "cummin", x, dim, aliases)
