"""torch.nn.functional for microtensor: layers and losses as compositions of primitives.

Nothing here has a backward of its own: conv2d is unfold + one matmul, average pooling
unfold + mean; max pooling and the MSE loss are primitives of the op table (the maximum
of strided views; one dot product); the other losses are log_softmax, softplus, gathers
and means. Autodiff derives every gradient.
"""
from __future__ import annotations


from .. import ops
from ..autograd import apply
from ..backend import conv_out_size, xp
from ..ops import (elu, fold, leaky_relu, linear, log_softmax, max_pool2d, mse_loss, pad,
                   relu, sigmoid, softmax, softplus, tanh, unfold)
from ..ops.losses import _check_reduction, _same_shape
from ..ops.windows import _pool_args
from ..random import default_generator
from ..tensor import Tensor

__all__ = [
    "linear", "conv2d", "max_pool2d", "avg_pool2d", "dropout", "relu", "leaky_relu",
    "sigmoid", "tanh", "elu", "softplus", "softmax", "log_softmax", "unfold", "fold", "pad",
    "mse_loss", "l2_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "one_hot",
]


def _pair(v, name: str, op: str) -> tuple:
    return ops._pair(v, name, op)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of (N, C, H, W) with (O, C, kh, kw):
    im2col, then one matmul for the whole batch."""
    if input.ndim != 4 or weight.ndim != 4 or input.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: expected input (N, C, H, W) and weight (O, C, kh, kw) with "
                         f"the same C, got input {input.shape} and weight {weight.shape}")
    n, _, h, w = input.shape
    out_c, in_c, kh, kw = weight.shape
    if bias is not None and tuple(bias.shape) != (out_c,):
        raise ValueError(f"conv2d: bias of shape {bias.shape} does not match weight "
                         f"{weight.shape}: expected ({out_c},), one per output channel")
    s, p, d = (_pair(v, k, "conv2d") for v, k in ((stride, "stride"), (padding, "padding"),
                                                   (dilation, "dilation")))
    oh = conv_out_size(h, kh, s[0], p[0], d[0])
    ow = conv_out_size(w, kw, s[1], p[1], d[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"conv2d: a kernel {(kh, kw)} with dilation {d} does not fit an "
                         f"input of shape {input.shape} with padding {p}")
    cols = unfold(input, (kh, kw), dilation=d, padding=p, stride=s)      # (N, C*kh*kw, L)
    out = weight.reshape(out_c, in_c * kh * kw) @ cols                  # (N, O, L)
    out = out.reshape(n, out_c, oh, ow)
    if bias is not None:
        out = out + bias.reshape(1, out_c, 1, 1)
    return out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0) -> Tensor:
    """Mean over each window; zero padding is counted (count_include_pad=True, as PyTorch)."""
    k, s, p, d = _pool_args(input, kernel_size, stride, padding, 1, "avg_pool2d")
    n, c, h, w = input.shape
    windows = unfold(input.reshape(n * c, 1, h, w), k, dilation=d, padding=p, stride=s)
    return windows.mean(dim=1).reshape(n, c, conv_out_size(h, k[0], s[0], p[0], d[0]),
                                       conv_out_size(w, k[1], s[1], p[1], d[1]))


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p), in training;
    the mask comes from the generator seeded by mt.manual_seed."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = default_generator().random(input.shape) >= p
    return input * (keep.astype(input.dtype) / (1 - p))


# ----------------------------------------------------------------------------- losses
def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    _check_reduction(reduction, op)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def l2_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """The reports' L2 loss: 1/2 (target - input)^2."""
    _same_shape(input, target, "l2_loss")
    _check_reduction(reduction, "l2_loss")
    return apply(ops.MseLoss, input, target, reduction=reduction) * 0.5


def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100), with log 0 = -100: finite values, and gradients that are 0
    (not NaN) where the clamp holds."""
    positive = p.data > 0
    return ops.clamp(ops.where(positive, ops.log(ops.where(positive, p, 1.0)), -100.0),
                     min=-100.0)


def _probabilities(p) -> bool:
    """Whether every element is in [0, 1]; NaN is not (as PyTorch checks)."""
    a = p.data if isinstance(p, Tensor) else xp.asarray(p)
    return bool(((a >= 0) & (a <= 1)).all())


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p; the logs are clamped at -100
    as in PyTorch, so p = 0 or 1 gives a finite loss."""
    _same_shape(input, target, "binary_cross_entropy")
    if not _probabilities(input):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1] "
                         "(NaN is not one); for logits use binary_cross_entropy_with_logits")
    if not _probabilities(target):
        raise ValueError("binary_cross_entropy: target must hold values in [0, 1] (NaN is "
                         "not one)")
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression:
    softplus(x) - t x, or with pos_weight, (1 - t) x + (1 + (w - 1) t) softplus(-x)."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = softplus(input) - target * input
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def nll_loss(input: Tensor, target, weight=None, reduction: str = "mean",
             ignore_index: int = -100) -> Tensor:
    """-input[n, target[n]] for log-probabilities (N, C) and class indices (N,);
    'mean' divides by the summed weights of the counted targets, as PyTorch."""
    t = target.data if isinstance(target, Tensor) else xp.asarray(target)
    if input.ndim != 2 or t.shape != input.shape[:1] or t.dtype.kind not in "iu":
        raise ValueError(f"nll_loss: expected input (N, C) and integer target (N,), got "
                         f"input {input.shape} and target {t.shape} of dtype {t.dtype}")
    valid = t != ignore_index
    if ((t[valid] < 0) | (t[valid] >= input.shape[1])).any():
        bad = t[valid][(t[valid] < 0) | (t[valid] >= input.shape[1])][0]
        raise IndexError(f"nll_loss: target {int(bad)} is out of bounds for "
                         f"{input.shape[1]} classes")
    rows = xp.arange(t.shape[0])
    picked = input[rows, xp.where(valid, t, 0)]
    w = xp.ones(t.shape, dtype=input.dtype) if weight is None else \
        (weight.data if isinstance(weight, Tensor) else xp.asarray(weight))[xp.where(valid, t, 0)]
    w = w * valid
    loss = -picked * w.astype(input.dtype)
    if reduction == "mean":
        return loss.sum() / float(w.sum())
    return _reduce(loss, reduction, "nll_loss")


def one_hot(target, num_classes: int) -> Tensor:
    t = target.data if isinstance(target, Tensor) else xp.asarray(target)
    return Tensor(xp.eye(num_classes, dtype=xp.int64)[t])


def cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean",
                  label_smoothing: float = 0.0, ignore_index: int = -100) -> Tensor:
    """log_softmax + negative log-likelihood for logits (N, C). `target` holds class
    indices (N,) or probabilities (N, C) (one-hot included); label_smoothing mixes the
    target with the uniform distribution, as PyTorch."""
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits (N, C), got shape {input.shape}")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    logp = log_softmax(input, dim=1)
    t = target if isinstance(target, Tensor) else Tensor(xp.asarray(target))
    n_classes = input.shape[1]
    if t.dtype.kind == "f":  # probabilities
        _same_shape(input, t, "cross_entropy")
        probs = t * (1 - label_smoothing) + label_smoothing / n_classes
        per_class = -logp * probs
        if weight is not None:
            per_class = per_class * weight
        return _reduce(per_class.sum(dim=1), reduction, "cross_entropy")
    nll = nll_loss(logp, t, weight=weight, reduction=reduction, ignore_index=ignore_index)
    if label_smoothing == 0:
        return nll
    valid = Tensor((t.data != ignore_index).astype(input.dtype))
    per_class = -logp if weight is None else -logp * weight
    smooth = per_class.sum(dim=1) * valid / n_classes
    if reduction == "mean":
        denom = float(valid.data.sum()) if weight is None else float(
            (xp.asarray(weight.data if isinstance(weight, Tensor) else weight)[
                xp.where(t.data != ignore_index, t.data, 0)] * valid.data).sum())
        smooth = smooth.sum() / denom
    else:
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return nll * (1 - label_smoothing) + smooth * label_smoothing
