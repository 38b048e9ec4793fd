"""Losses that are primitives of their own (one fused node)."""

from __future__ import annotations

import math

from ..autograd import apply
from ..backend import xp
from ..tensor import Tensor
from .base import Op

__all__ = ["mse_loss"]


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(input: Tensor, target, op: str) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: input of shape {input.shape} and target of shape "
            f"{target.shape} must have the same shape"
        )


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


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """(input - target)^2, averaged (or summed) over all elements."""
    _same_shape(input, target, "mse_loss")
    _check_reduction(reduction, "mse_loss")
    return apply(MseLoss, input, target, reduction=reduction)
