"""Convolutions and padding for nn.functional, all compositions of primitives: a
convolution is unfold (im2col) and one matmul (a batched one per group), a transposed
convolution one matmul and fold (col2im), the 1-D forms the 2-D ones over a height of 1,
and pad's reflect, replicate and circular modes one gather per padded dim."""

from __future__ import annotations

from ..backend import conv_out_size, xp
from ..ops import _pair, fold, index_select, unfold
from ..ops import pad as _constant_pad
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "pad"]

PAD_MODES = ("constant", "reflect", "replicate", "circular")


# ------------------------------------------------------------------------------ pad
def _gather_index(n: int, before: int, after: int, mode: str) -> xp.ndarray:
    """Where each position of a dim of size n padded by (before, after) reads from."""
    i = xp.arange(-before, n + after)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    i = xp.abs(i) % period if period else xp.zeros_like(i)
    return xp.where(i >= n, period - i, i)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dims, (before, after) pairs from the last dim backwards,
    as torch.nn.functional.pad. 'constant' fills with `value` (a negative width crops);
    'reflect' mirrors without repeating the edge, 'replicate' repeats it, 'circular'
    wraps around; these three pad the 1 to 3 dims after (N, C) or (C,)."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    pad = tuple(int(p) for p in pad)
    k = len(pad) // 2
    if len(pad) % 2 or k > input.ndim:
        raise ValueError(
            f"pad: padding {pad} must have an even length of at most "
            f"2 * {input.ndim} for a tensor of shape {input.shape}"
        )
    pairs = [(input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(k)]
    if mode == "constant":
        if any(p < 0 for p in pad):  # crop first, then pad what is left to pad
            input = input[
                tuple(
                    slice(max(-lo, 0), n - max(-hi, 0))
                    for n, (lo, hi) in zip(input.shape, _widths(input.ndim, pairs))
                )
            ]
        return _constant_pad(input, tuple(max(p, 0) for p in pad), 0.0 if value is None else value)
    if value:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take a value argument")
    if not 1 <= k <= 3 or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: {mode} padding pads the last 1 to 3 dims of a tensor with one or two "
            f"leading (batch, channel) dims; got padding {pad} for shape {input.shape}"
        )
    for dim, lo, hi in pairs:
        n = input.shape[dim]
        limit = {"reflect": n - 1, "circular": n}.get(mode, n and max(lo, hi))
        if min(lo, hi) < 0 or max(lo, hi) > limit:
            raise ValueError(
                f"pad: {mode} padding ({lo}, {hi}) of dim {dim} must be "
                f"non-negative and at most {limit} for an input of shape "
                f"{input.shape}"
            )
        if lo or hi:
            input = index_select(input, dim, _gather_index(n, lo, hi, mode))
    return input


def _widths(ndim: int, pairs: list) -> list:
    widths = [(0, 0)] * ndim
    for dim, lo, hi in pairs:
        widths[dim] = (lo, hi)
    return widths


# ------------------------------------------------------------------------ convolution
def _batched(input: Tensor, weight: Tensor, spatial: int, op: str) -> tuple:
    """(input with a batch dim, whether it was added): convolutions take unbatched
    (C, *spatial) inputs too, as PyTorch's."""
    if input.ndim == spatial + 1:
        return input.unsqueeze(0), True
    if input.ndim != spatial + 2 or weight.ndim != spatial + 2:
        dims = ("H", "W")[-spatial:] if spatial <= 2 else ()
        raise ValueError(
            f"{op}: expected input (N, C, {', '.join(dims)}) or (C, "
            f"{', '.join(dims)}) and a {spatial + 2}-D weight, got input "
            f"{input.shape} and weight {weight.shape}"
        )
    return input, False


def _same_padding(input: Tensor, kernel, dilation, stride, op: str) -> tuple:
    """(input, padding) for padding='same': the output keeps the input's size; an odd
    total goes one more to the right/bottom, as in PyTorch."""
    if any(s != 1 for s in stride):
        raise ValueError(
            f"{op}: padding='same' is not supported for strided convolutions (stride {stride})"
        )
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    left = tuple(t // 2 for t in total)
    extra = [t - 2 * lo for t, lo in zip(total, left)]
    if any(extra):
        input = _constant_pad(input, (0, extra[1], 0, extra[0]))
    return input, left


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of (N, C, H, W) with (O, C/groups,
    kh, kw): im2col, then one matmul for the whole batch (a batched one per group).
    `padding` may be 'valid' (none) or 'same' (stride 1)."""
    input, unbatched = _batched(input, weight, 2, "conv2d")
    n, c, h, w = input.shape
    out_c, in_c, kh, kw = weight.shape
    if groups < 1 or c % groups or out_c % groups or in_c * groups != c:
        raise ValueError(
            f"conv2d: expected input (N, C, H, W) and weight (O, C/groups, kh, "
            f"kw) with C and O divisible by groups={groups}, got input "
            f"{input.shape} and weight {weight.shape}"
        )
    if bias is not None and tuple(bias.shape) != (out_c,):
        raise ValueError(
            f"conv2d: bias of shape {bias.shape} does not match weight "
            f"{weight.shape}: expected ({out_c},), one per output channel"
        )
    s, d = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    if padding == "same":
        input, p = _same_padding(input, (kh, kw), d, s, "conv2d")
        h, w = input.shape[2:]
    elif padding == "valid":
        p = (0, 0)
    elif isinstance(padding, str):
        raise ValueError(
            f"conv2d: padding must be 'valid', 'same', an int or a pair, got {padding!r}"
        )
    else:
        p = _pair(padding, "padding", "conv2d")
    oh = conv_out_size(h, kh, s[0], p[0], d[0])
    ow = conv_out_size(w, kw, s[1], p[1], d[1])
    if oh < 1 or ow < 1:
        raise ValueError(
            f"conv2d: a kernel {(kh, kw)} with dilation {d} does not fit an "
            f"input of shape {input.shape} with padding {p}"
        )
    cols = unfold(input, (kh, kw), dilation=d, padding=p, stride=s)  # (N, C*kh*kw, L)
    if groups == 1:
        out = weight.reshape(out_c, in_c * kh * kw) @ cols  # (N, O, L)
    else:  # (G, O/G, K) @ (N, G, K, L): one batched matmul for every group
        out = weight.reshape(groups, out_c // groups, in_c * kh * kw) @ cols.reshape(
            n, groups, in_c * kh * kw, oh * ow
        )
    out = out.reshape(n, out_c, oh, ow)
    if bias is not None:
        out = out + bias.reshape(1, out_c, 1, 1)
    return out[0] if unbatched else out


def _as_2d(v, name: str, op: str, fill) -> tuple | str:
    """A 1-D convolution's int (or 1-tuple) setting as the 2-D one's pair (fill, v); a
    padding string ("same", "valid") as it is."""
    if isinstance(v, str):
        return v
    v = (v,) if isinstance(v, int) else tuple(v)
    if len(v) != 1:
        raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
    return (fill, v[0])


def _conv1d_as_2d(input: Tensor, weight: Tensor, op: str) -> tuple:
    """(input, weight) of a 1-D convolution with a height of 1 inserted."""
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise ValueError(
            f"{op}: expected input (N, C, L) or (C, L) and a 3-D weight, got "
            f"input {input.shape} and weight {weight.shape}"
        )
    return input.unsqueeze(-2), weight.unsqueeze(-2)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of (N, C, L) with (O, C/groups, k): conv2d over a height of 1."""
    x, w = _conv1d_as_2d(input, weight, "conv1d")
    out = conv2d(
        x,
        w,
        bias,
        _as_2d(stride, "stride", "conv1d", 1),
        _as_2d(padding, "padding", "conv1d", 0),
        _as_2d(dilation, "dilation", "conv1d", 1),
        groups,
    )
    return out.squeeze(-2)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """The transpose (gradient) of conv2d: (N, C, H, W) with weight (C, O/groups, kh, kw)
    gives (N, O, (H-1)s - 2p + d(kh-1) + output_padding + 1, ...). One matmul spreads
    each input pixel over a kernel's worth of outputs; fold sums the overlaps."""
    op = "conv_transpose2d"
    input, unbatched = _batched(input, weight, 2, op)
    n, c, h, w = input.shape
    in_c, out_g, kh, kw = weight.shape
    if groups < 1 or in_c != c or c % groups:
        raise ValueError(
            f"{op}: expected input (N, C, H, W) and weight (C, O/groups, kh, kw) "
            f"with C divisible by groups={groups}, got input {input.shape} and "
            f"weight {weight.shape}"
        )
    out_c = out_g * groups
    if bias is not None and tuple(bias.shape) != (out_c,):
        raise ValueError(
            f"{op}: bias of shape {bias.shape} does not match weight "
            f"{weight.shape} and groups={groups}: expected ({out_c},)"
        )
    s, p, d = (
        _pair(v, name, op)
        for v, name in ((stride, "stride"), (padding, "padding"), (dilation, "dilation"))
    )
    op_ = _pair(output_padding, "output_padding", op)
    if any(o >= max(si, di) or o < 0 for o, si, di in zip(op_, s, d)):
        raise ValueError(
            f"{op}: output_padding {op_} must be smaller than either stride {s} or dilation {d}"
        )
    k = kh * kw
    x = input.reshape(n, groups, c // groups, h * w)
    wt = weight.reshape(groups, c // groups, out_g * k).transpose(-1, -2)
    cols = (wt @ x).reshape(n, out_c * k, h * w)  # (N, O*kh*kw, H*W)
    full = tuple(
        (size - 1) * si + di * (ki - 1) + 1 for size, si, di, ki in zip((h, w), s, d, (kh, kw))
    )
    out = fold(cols, full, (kh, kw), dilation=d, stride=s)
    if any(p) or any(op_):  # crop the padding, then add output_padding (maybe cropped)
        out = pad(out, (-p[1], op_[1] - p[1], -p[0], op_[0] - p[0]))
    if bias is not None:
        out = out + bias.reshape(1, out_c, 1, 1)
    return out[0] if unbatched else out


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """The transpose of conv1d: conv_transpose2d over a height of 1."""
    op = "conv_transpose1d"
    x, w = _conv1d_as_2d(input, weight, op)
    out = conv_transpose2d(
        x,
        w,
        bias,
        _as_2d(stride, "stride", op, 1),
        _as_2d(padding, "padding", op, 0),
        _as_2d(output_padding, "output_padding", op, 0),
        groups,
        _as_2d(dilation, "dilation", op, 1),
    )
    return out.squeeze(-2)
