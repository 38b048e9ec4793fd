"""Pooling and resizing for nn.functional, compositions of primitives: max pooling is
the max_pool2d op (ceil_mode pads with -inf first), average pooling the sum of unfolded
windows over a divisor worked out once per shape, adaptive average pooling and linear or
cubic interpolation a constant matrix per spatial dim (the weights are separable),
adaptive max pooling a max over row bands then column bands, nearest a gather."""

from __future__ import annotations

import math

from ..backend import conv_out_size, xp
from ..functional import stack
from ..ops import amax, index_select, unfold
from ..ops import max_pool2d as _max_pool2d
from ..ops import pad as _constant_pad
from ..ops.windows import _pool_args
from ..tensor import Tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "interpolate",
    "upsample",
]


def _no_indices(return_indices: bool, op: str) -> None:
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices=True is not supported")


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output length: with ceil_mode a last partial window counts, unless it
    would start in the right padding."""
    if not ceil_mode:
        return conv_out_size(size, k, s, p, d)
    out = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
    return out - 1 if (out - 1) * s >= size + p else out


def _ceil_extra(input: Tensor, k, s, p, d, ceil_mode: bool) -> tuple:
    """How far ceil_mode's last windows reach past the padded input, per spatial dim."""
    return tuple(
        max(0, (_pool_out(n, *a, ceil_mode) - 1) * a[1] + a[3] * (a[0] - 1) + 1 - n - 2 * a[2])
        for n, a in zip(input.shape[2:], zip(k, s, p, d))
    )


def _unbatched(fn, input: Tensor, spatial: int, *args) -> Tensor:
    """fn on (N, C, *spatial) inputs, and on unbatched (C, *spatial) ones as PyTorch."""
    if input.ndim == spatial + 1:
        return fn(input.unsqueeze(0), *args)[0]
    return fn(input, *args)


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """Max over each window of (N, C, H, W) or (C, H, W). Padding counts as -inf (it
    never wins); tied maxima share the gradient evenly (PyTorch gives it to one)."""
    _no_indices(return_indices, "max_pool2d")
    if input.ndim == 3:
        return _unbatched(max_pool2d, input, 2, kernel_size, stride, padding, dilation, ceil_mode)
    if ceil_mode:
        k, s, p, d = _pool_args(input, kernel_size, stride, padding, dilation, "max_pool2d")
        extra = _ceil_extra(input, k, s, p, d, ceil_mode)
        if any(extra):
            input = _constant_pad(input, (p[1], p[1] + extra[1], p[0], p[0] + extra[0]), -math.inf)
            return _max_pool2d(input, k, s, 0, d)
    return _max_pool2d(input, kernel_size, stride, padding, dilation)


def _divisor(size: int, k: int, s: int, p: int, out: int, count_include_pad: bool):
    """Per output position along one dim: the window's length inside the padded input
    (count_include_pad) or inside the input, as PyTorch divides by."""
    start = xp.arange(out) * s - p
    end = xp.minimum(start + k, size + p)
    if not count_include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, size)
    return end - start


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each window of (N, C, H, W) or (C, H, W): the windows' sums over the
    count PyTorch divides by (the kernel area, the window inside the padded input, or
    with count_include_pad=False the part inside the input; or divisor_override)."""
    if input.ndim == 3:
        return _unbatched(
            avg_pool2d,
            input,
            2,
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
            divisor_override,
        )
    k, s, p, d = _pool_args(input, kernel_size, stride, padding, 1, "avg_pool2d")
    n, c, h, w = input.shape
    oh, ow = (
        _pool_out(size, ki, si, pi, 1, ceil_mode) for size, ki, si, pi in zip((h, w), k, s, p)
    )
    extra = _ceil_extra(input, k, s, p, d, ceil_mode)
    x = input.reshape(n * c, 1, h, w)
    if any(extra):
        x, p_unfold = _constant_pad(x, (p[1], p[1] + extra[1], p[0], p[0] + extra[0])), 0
    else:
        p_unfold = p
    sums = unfold(x, k, padding=p_unfold, stride=s).sum(dim=1)  # (N*C, oh*ow)
    if divisor_override:
        return (sums / divisor_override).reshape(n, c, oh, ow)
    div = xp.outer(
        _divisor(h, k[0], s[0], p[0], oh, count_include_pad),
        _divisor(w, k[1], s[1], p[1], ow, count_include_pad),
    )
    return (sums / Tensor(div.reshape(-1).astype(input.dtype))).reshape(n, c, oh, ow)


def _as_1d(input: Tensor, op: str) -> Tensor:
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected an (N, C, L) or (C, L) tensor, got shape {input.shape}")
    return input.unsqueeze(-2)


def _one(v, name: str, op: str, fill):
    """A 1-D pool's int (or 1-tuple) setting as the 2-D one's pair (fill, v)."""
    v = (v,) if isinstance(v, int) else tuple(v)
    if len(v) != 1:
        raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
    return (fill, v[0])


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """Max over each window of (N, C, L) or (C, L): max_pool2d over a height of 1."""
    op = "max_pool1d"
    _no_indices(return_indices, op)
    k = _one(kernel_size, "kernel_size", op, 1)
    return max_pool2d(
        _as_1d(input, op),
        k,
        k if stride is None else _one(stride, "stride", op, 1),
        _one(padding, "padding", op, 0),
        _one(dilation, "dilation", op, 1),
        ceil_mode,
    ).squeeze(-2)


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each window of (N, C, L) or (C, L): avg_pool2d over a height of 1."""
    op = "avg_pool1d"
    k = _one(kernel_size, "kernel_size", op, 1)
    return avg_pool2d(
        _as_1d(input, op),
        k,
        k if stride is None else _one(stride, "stride", op, 1),
        _one(padding, "padding", op, 0),
        ceil_mode,
        count_include_pad,
    ).squeeze(-2)


# --------------------------------------------------------------------------- adaptive
def _sizes(input: Tensor, output_size, spatial: int, op: str) -> tuple:
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D tensor, got shape {input.shape}"
        )
    sizes = (
        (output_size,) * spatial
        if isinstance(output_size, int) or output_size is None
        else tuple(output_size)
    )
    if len(sizes) != spatial:
        raise ValueError(
            f"{op}: output_size must be an int or {spatial} of them, got {output_size!r}"
        )
    out = tuple(n if o is None else int(o) for o, n in zip(sizes, input.shape[-spatial:]))
    if any(o < 1 for o in out) or any(n < 1 for n in input.shape[-spatial:]):
        raise ValueError(f"{op}: output_size {out} and input {input.shape} must be positive")
    return out


def _bands(n_in: int, n_out: int) -> tuple:
    """PyTorch's adaptive windows: [floor(i n_in / n_out), ceil((i+1) n_in / n_out))."""
    i = xp.arange(n_out)
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)


def _along(x: Tensor, dim: int, m: xp.ndarray) -> Tensor:
    """x with the (out, in) matrix m applied along dim: a linear map of each line."""
    mt_ = Tensor(m.astype(x.dtype))
    if dim == x.ndim - 1:
        return x @ mt_.mT
    if dim == x.ndim - 2:
        return mt_ @ x
    return (x.movedim(dim, -1) @ mt_.mT).movedim(-1, dim)


def _adaptive_avg(input: Tensor, sizes: tuple) -> Tensor:
    x = input
    for i, out in enumerate(sizes):
        dim = input.ndim - len(sizes) + i
        start, end = _bands(input.shape[dim], out)
        j = xp.arange(input.shape[dim])
        inside = (j >= start[:, None]) & (j < end[:, None])
        x = _along(x, dim, inside / (end - start)[:, None])
    return x


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Mean over PyTorch's adaptive windows, to an (oh, ow) output of any input size."""
    return _adaptive_avg(input, _sizes(input, output_size, 2, "adaptive_avg_pool2d"))


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg(input, _sizes(input, output_size, 1, "adaptive_avg_pool1d"))


def _adaptive_max(input: Tensor, sizes: tuple) -> Tensor:
    x = input
    for i, out in enumerate(sizes):  # max over a rectangle: rows' bands, then columns'
        dim = input.ndim - len(sizes) + i
        start, end = _bands(input.shape[dim], out)
        idx = (slice(None),) * dim
        x = stack(
            [amax(x[idx + (slice(int(a), int(b)),)], dim=dim) for a, b in zip(start, end)], dim=dim
        )
    return x


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False) -> Tensor:
    """Max over PyTorch's adaptive windows; ties share the gradient, as in amax."""
    _no_indices(return_indices, "adaptive_max_pool2d")
    return _adaptive_max(input, _sizes(input, output_size, 2, "adaptive_max_pool2d"))


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False) -> Tensor:
    _no_indices(return_indices, "adaptive_max_pool1d")
    return _adaptive_max(input, _sizes(input, output_size, 1, "adaptive_max_pool1d"))


# ------------------------------------------------------------------------ interpolate
_LINEAR = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", "area", *_LINEAR)


def _linear_weights(
    n_in: int, n_out: int, scale: float, cubic: bool, align_corners: bool
) -> xp.ndarray:
    """The (n_out, n_in) matrix of linear (or cubic, A = -0.75) interpolation weights,
    with PyTorch's source coordinates (area_pixel_compute_source_index)."""
    i = xp.arange(n_out, dtype=xp.float64)
    if align_corners:
        src = i * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = scale * (i + 0.5) - 0.5
        src = src if cubic else xp.maximum(src, 0)
    base = xp.floor(src).astype(xp.int64)
    t = src - base
    if cubic:
        a = -0.75

        def near(x):
            return ((a + 2) * x - (a + 3)) * x * x + 1  # for |x| <= 1

        def far(x):
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # for 1 < |x| < 2

        taps = [(-1, far(t + 1)), (0, near(t)), (1, near(1 - t)), (2, far(2 - t))]
    else:
        taps = [(0, 1 - t), (1, t)]
    m = xp.zeros((n_out, n_in))
    for offset, weight in taps:
        xp.add.at(m, (xp.arange(n_out), xp.clip(base + offset, 0, n_in - 1)), weight)
    return m


def _nearest_index(n_in: int, n_out: int, scale: float, exact: bool) -> xp.ndarray:
    """PyTorch's nearest source indices, computed in float32 as its kernels do (and
    halving exactly where the output is twice the input, as nearest's does)."""
    if n_out == 2 * n_in and not exact:
        return xp.arange(n_out) // 2
    i = xp.arange(n_out, dtype=xp.float32)
    src = xp.floor(((i + 0.5) if exact else i) * xp.float32(scale)).astype(xp.int64)
    return xp.minimum(src, n_in - 1)


def _out_sizes(input: Tensor, size, scale_factor, spatial: int, op: str) -> tuple:
    """(output sizes, the scales the source coordinates use: 1 / scale_factor when one is
    given and not recomputed, else input / output)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")

    def per_dim(v, name):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v,) * spatial
        if len(v) != spatial:
            raise ValueError(
                f"{op}: {name} {v} must have {spatial} entries for an input of shape {input.shape}"
            )
        return v

    ins = input.shape[2:]
    if size is not None:
        outs = tuple(int(o) for o in per_dim(size, "size"))
        return outs, tuple(n / o for n, o in zip(ins, outs))
    factors = per_dim(scale_factor, "scale_factor")
    outs = tuple(math.floor(n * f) for n, f in zip(ins, factors))
    return outs, tuple(1 / f for f in factors)


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W), as
    torch.nn.functional.interpolate: nearest and nearest-exact gather, area is adaptive
    average pooling, (bi/tri)linear and bicubic apply one weight matrix per dim."""
    op = "interpolate"
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {_MODES}, got {mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    if input.ndim not in (3, 4, 5) or _LINEAR.get(mode, input.ndim) != input.ndim:
        raise ValueError(
            f"{op}: got a {input.ndim}-D input, but mode {mode!r} needs "
            f"{_LINEAR.get(mode, '3-D, 4-D or 5-D')}"
            f"{'-D' if mode in _LINEAR else ''} input (N, C, ...)"
        )
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError(
            f"{op}: align_corners can only be set with the interpolating "
            f"modes linear, bilinear, bicubic and trilinear, not {mode!r}"
        )
    outs, scales = _out_sizes(input, size, scale_factor, input.ndim - 2, op)
    if recompute_scale_factor:
        scales = tuple(n / o for n, o in zip(input.shape[2:], outs))
    if any(o < 1 for o in outs):
        raise ValueError(f"{op}: output size {outs} must be positive (input {input.shape})")
    if mode == "area":
        return _adaptive_avg(input, outs)
    x = input
    for i, (n_out, scale) in enumerate(zip(outs, scales)):
        dim, n_in = 2 + i, input.shape[2 + i]
        if mode in _LINEAR:
            x = _along(
                x, dim, _linear_weights(n_in, n_out, scale, mode == "bicubic", bool(align_corners))
            )
        elif n_out != n_in:
            x = index_select(x, dim, _nearest_index(n_in, n_out, scale, mode == "nearest-exact"))
    return x


def upsample(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """interpolate's older name (torch.nn.functional.upsample)."""
    return interpolate(input, size, scale_factor, mode, align_corners)
