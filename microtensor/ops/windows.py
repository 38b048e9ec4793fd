"""Sliding windows over (N, C, H, W): unfold (im2col), fold (col2im), max pooling."""

from __future__ import annotations

import math

from .. import backend
from ..autograd import apply
from ..backend import col2im, conv_out_size, im2col, quiet, xp
from ..tensor import Tensor
from .base import Op, _pair
from .elementwise import Mask
from .reductions import Sum
from .shape import Pad, Reshape

__all__ = ["unfold", "fold", "max_pool2d"]


class Unfold(Op):
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L), as torch.nn.functional.unfold."""

    b_name = "unfold"

    def forward(a, kernel, stride, padding, dilation):
        return im2col(a, kernel, stride, padding, dilation)

    def vjp(B, g, out, args, needs, kernel, stride, padding, dilation):
        return (
            B.fold(
                g,
                size=tuple(args[0].shape[2:]),
                kernel=kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
            ),
        )


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
            raise ValueError(
                f"unfold: a window of kernel {k}, dilation {d} does not fit an "
                f"input of shape {x.shape} with padding {p} (stride {s})"
            )
    return apply(Unfold, x, kernel=k, stride=s, padding=p, dilation=d)


class Fold(Op):
    """col2im: the transpose of Unfold, summing overlapping windows."""

    b_name = "fold"

    def forward(a, size, kernel, stride, padding, dilation):
        return col2im(a, size, kernel, stride, padding, dilation)

    def vjp(B, g, out, args, needs, size, kernel, stride, padding, dilation):
        return (B.unfold(g, kernel=kernel, stride=stride, padding=padding, dilation=dilation),)


def fold(cols: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C*kh*kw, L) back into an (N, C, H, W) image: unfold's transpose."""
    k, d = _pair(kernel_size, "kernel_size", "fold"), _pair(dilation, "dilation", "fold")
    p, s = _pair(padding, "padding", "fold"), _pair(stride, "stride", "fold")
    size = _pair(output_size, "output_size", "fold")
    n_windows = math.prod(conv_out_size(size[i], k[i], s[i], p[i], d[i]) for i in range(2))
    if cols.ndim != 3 or cols.shape[1] % (k[0] * k[1]) or cols.shape[2] != n_windows:
        raise ValueError(
            f"fold: columns of shape {cols.shape} do not match output_size "
            f"{size} with kernel {k} ({n_windows} windows expected)"
        )
    return apply(Fold, cols, size=size, kernel=k, stride=s, padding=p, dilation=d)


def _pool_args(input: Tensor, kernel_size, stride, padding, dilation, op: str) -> tuple:
    """kernel, stride, padding and dilation as pairs, checked; stride defaults to the
    kernel size."""
    if input.ndim != 4:
        raise ValueError(f"{op}: expected an (N, C, H, W) tensor, got shape {input.shape}")
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None else _pair(stride, "stride", op)
    p, d = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} should be at most half of kernel_size {k}")
    return k, s, p, d


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


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """Max over each window. Padding counts as -inf (it never wins); tied maxima share
    the gradient evenly (PyTorch gives it to one of them)."""
    k, s, p, d = _pool_args(input, kernel_size, stride, padding, dilation, "max_pool2d")
    return apply(MaxPool2d, input, kernel=k, stride=s, padding=p, dilation=d)


def _pool_hits_tensor(x: Tensor, m: Tensor, kernel, stride, padding, dilation) -> tuple:
    """backend.pool_hits over Tensors: where each window of x (its unfolded columns,
    padded with -inf) equals its maximum, as a Mask of shape (N, C, kh*kw, oh*ow) that
    keeps max_pool2d's first derivative connected to x; and the count per window."""
    n, c, oh, ow = m.shape
    widths = ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1]))
    cols = apply(
        Unfold,
        apply(Pad, x, widths=widths, value=-math.inf),
        kernel=kernel,
        stride=stride,
        padding=(0, 0),
        dilation=dilation,
    )
    cols = apply(Reshape, cols, shape=(n, c, kernel[0] * kernel[1], oh * ow))
    hits = apply(Mask, cols, apply(Reshape, m, shape=(n, c, 1, oh * ow)), fn=xp.equal)
    count = apply(Sum, hits, dim=(2,), keepdim=False)
    return hits, apply(Reshape, count, shape=(n, c, oh, ow))


def _unpool_tensor(share: Tensor, hits: Tensor, size, kernel, stride, padding, dilation) -> Tensor:
    """backend.unpool over Tensors: col2im (Fold) of share times the masks."""
    n, c, oh, ow = share.shape
    cols = apply(Reshape, share, shape=(n, c, 1, oh * ow)) * hits
    return apply(
        Fold,
        apply(Reshape, cols, shape=(n, c * kernel[0] * kernel[1], oh * ow)),
        size=tuple(size),
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
