"""The activations and dropouts of nn.functional that the op table does not hold as
they are: compositions of its ops (selu, celu, glu, the shrinks, prelu, rrelu, softmin),
the ones whose PyTorch signature adds `inplace` or `dtype` (relu, threshold, softmax),
and dropout in its element-wise, channel-wise and alpha forms."""

from __future__ import annotations

import math
import warnings

from .. import ops
from ..autograd import apply_inplace
from ..random import default_generator
from ..tensor import Tensor

__all__ = [
    "relu",
    "threshold",
    "selu",
    "celu",
    "glu",
    "softshrink",
    "hardshrink",
    "tanhshrink",
    "prelu",
    "rrelu",
    "softmax",
    "log_softmax",
    "softmin",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
]

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _inplace(fn, input: Tensor, inplace: bool, *args) -> Tensor:
    """fn(input, *args), written into input when inplace: fn runs on a clone, so what it
    saved for backward is not changed under it; the copy keeps the gradient flowing."""
    if not inplace:
        return fn(input, *args)
    return input.copy_(fn(input.clone(), *args))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); relu'(0) = 0, as in PyTorch."""
    return apply_inplace(ops.Relu, input) if inplace else ops.relu(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else `value`."""
    return _inplace(lambda x: ops.where(x > threshold, x, value), input, inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al."""
    return _inplace(lambda x: ops.elu(x, _SELU_ALPHA) * _SELU_SCALE, input, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)): alpha * elu(x / alpha)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return _inplace(lambda x: ops.elu(x / alpha) * alpha, input, inplace)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the halves of input along dim."""
    d = ops._dim(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise ValueError(
            f"glu: halving dim {dim} of a tensor of shape {input.shape} needs "
            f"an even size, got {input.shape[d]}"
        )
    a, b = ops.chunk(input, 2, d)
    return a * ops.sigmoid(b)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be at least 0, got {lambd}")
    return ops.where(input > lambd, input - lambd, ops.where(input < -lambd, input + lambd, 0.0))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return ops.where((input > lambd) | (input < -lambd), input, 0.0)


def tanhshrink(input: Tensor) -> Tensor:
    return input - ops.tanh(input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x), one weight for all or one per channel (dim 1)."""
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim else 1)
    if weight.ndim > 1 or n not in (1, channels):
        raise ValueError(
            f"prelu: weight of shape {weight.shape} must hold 1 or {channels} "
            f"values (the channels of input {input.shape})"
        )
    if n > 1 and input.ndim >= 2:
        weight = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    return ops.where(input > 0, input, input * weight)


def rrelu(
    input: Tensor,
    lower: float = 1 / 8,
    upper: float = 1 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """leaky_relu with a slope drawn from U(lower, upper) per element in training, and
    (lower + upper) / 2 otherwise (Xu et al.)."""
    if not training:
        return ops.leaky_relu(input, (lower + upper) / 2, inplace)
    slope = default_generator().uniform(lower, upper, input.shape).astype(input.dtype)
    return _inplace(lambda x: ops.where(x >= 0, x, x * slope), input, inplace)


def _softmax_dim(dim, ndim: int, op: str) -> int:
    """PyTorch's implicit dim when none is given (dim 0 for 0-, 1- and 3-D input, else
    1), with its warning."""
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call "
        f"to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum exp(x) along dim (cast to dtype first, if given)."""
    x = input if dtype is None else input.to(dtype)
    return ops.softmax(x, _softmax_dim(dim, x.ndim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    x = input if dtype is None else input.to(dtype)
    return ops.log_softmax(x, _softmax_dim(dim, x.ndim, "log_softmax"))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x)."""
    x = input if dtype is None else input.to(dtype)
    return ops.softmax(-x, _softmax_dim(dim, x.ndim, "softmin"))


# ---------------------------------------------------------------------------- dropout
def _check_p(p: float, op: str) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")


def _drop(input: Tensor, p: float, mask_shape: tuple, inplace: bool) -> Tensor:
    """input times a mask of `mask_shape` (broadcast over input) that keeps each entry
    with probability 1 - p, scaled by 1 / (1 - p); the mask comes from the generator
    seeded by mt.manual_seed."""
    keep = default_generator().random(mask_shape) >= p
    scale = Tensor(keep.astype(input.dtype) * (1 / (1 - p) if p < 1 else 0.0))
    return input.mul_(scale) if inplace else input * scale


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p), in training."""
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return _drop(input, p, input.shape, inplace)


def _channel_dropout(
    input: Tensor, p: float, training: bool, inplace: bool, spatial: int, op: str
) -> Tensor:
    """Zero whole channels: one draw per (N, C) of (N, C, *spatial), or per C of
    unbatched (C, *spatial)."""
    _check_p(p, op)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D "
            f"(batched) input, got shape {input.shape}"
        )
    if not training or p == 0:
        return input
    lead = input.ndim - spatial
    return _drop(input, p, input.shape[:lead] + (1,) * spatial, inplace)


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L)."""
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W); a 3-D input is read as (N, C, L)
    with a warning, as PyTorch does."""
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that "
            "channel-wise 1D dropout behavior is desired - input is interpreted "
            "as shape (N, C, L). Use dropout1d for this instead.",
            stacklevel=2,
        )
        return _channel_dropout(input, p, training, inplace, 1, "dropout2d")
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W)."""
    return _channel_dropout(input, p, training, inplace, 3, "dropout3d")


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Dropout for selu networks: dropped entries become selu's negative saturation
    value, then an affine map restores the mean and variance (Klambauer et al.)."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0:
        return input
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    alpha = _SELU_ALPHA * _SELU_SCALE  # -alpha is selu's limit at -inf
    a = 1 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    keep = default_generator().random(input.shape) >= p
    scale = Tensor((keep * a).astype(input.dtype))
    shift = Tensor(((keep - 1.0) * alpha * a + alpha * a * p).astype(input.dtype))
    return _inplace(lambda x: x * scale + shift, input, inplace)
