"""The losses of nn.functional, with PyTorch's signatures (the deprecated size_average and
reduce included), as compositions of primitives: log_softmax and a gather for the
likelihoods, softplus for the logit forms, where/abs/clamp for the robust and margin
losses. Each is stable for large inputs (no overflow, no NaN where PyTorch has none)."""

from __future__ import annotations

import math
import warnings

from .. import ops
from ..backend import xp
from ..ops.losses import _check_reduction, _same_shape
from ..tensor import Tensor
from ._functional_activation import log_softmax
from ._functional_norm import pairwise_distance

__all__ = [
    "mse_loss",
    "l2_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "nll_loss",
    "cross_entropy",
    "kl_div",
    "margin_ranking_loss",
    "cosine_embedding_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "soft_margin_loss",
    "hinge_embedding_loss",
    "triplet_margin_loss",
]


def _reduction(size_average, reduce, reduction: str, op: str) -> str:
    """The reduction, read from the deprecated size_average/reduce when either is given
    (with PyTorch's warning)."""
    if size_average is None and reduce is None:
        _check_reduction(reduction, op)
        return reduction
    warnings.warn(
        f"{op}: size_average and reduce are deprecated, please use "
        f"reduction='{reduction}' instead.",
        stacklevel=3,
    )
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _array(t) -> xp.ndarray:
    return t._data if isinstance(t, Tensor) else xp.asarray(t)


# ------------------------------------------------------------------- regression losses
def mse_loss(
    input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """(input - target)^2, averaged (or summed) over all elements: one fused op."""
    return ops.mse_loss(input, target, _reduction(size_average, reduce, reduction, "mse_loss"))


def l2_loss(
    input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """The reports' L2 loss: 1/2 (target - input)^2."""
    return mse_loss(input, target, size_average, reduce, reduction) * 0.5


def _difference(input: Tensor, target, op: str, size_average, reduce, reduction) -> tuple:
    _same_shape(input, target, op)
    return input - target, _reduction(size_average, reduce, reduction, op)


def l1_loss(
    input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """|input - target|; its gradient at 0 is 0, as PyTorch's."""
    d, reduction = _difference(input, target, "l1_loss", size_average, reduce, reduction)
    return _reduce(ops.abs(d), reduction)


def smooth_l1_loss(
    input: Tensor,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta beyond (beta = 0: l1_loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d, reduction = _difference(input, target, "smooth_l1_loss", size_average, reduce, reduction)
    a = ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(ops.where(a < beta, d * d * (0.5 / beta), a - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) beyond: smooth_l1 times delta."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d, reduction = _difference(input, target, "huber_loss", None, None, reduction)
    a = ops.abs(d)
    return _reduce(ops.where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta), reduction)


# --------------------------------------------------------------------- binary losses
def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100), with log 0 = -100: finite values, and gradients that are 0
    (not NaN) where the clamp holds."""
    positive = p._data > 0
    return ops.clamp(ops.where(positive, ops.log(ops.where(positive, p, 1.0)), -100.0), min=-100.0)


def _probabilities(p) -> bool:
    """Whether every element is in [0, 1]; NaN is not (as PyTorch checks)."""
    a = _array(p)
    return bool(((a >= 0) & (a <= 1)).all())


def binary_cross_entropy(
    input: Tensor, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p; the logs are clamped at -100
    as in PyTorch, so p = 0 or 1 gives a finite loss."""
    op = "binary_cross_entropy"
    _same_shape(input, target, op)
    reduction = _reduction(size_average, reduce, reduction, op)
    if not _probabilities(input):
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1] (NaN is not one); "
            f"for logits use binary_cross_entropy_with_logits"
        )
    if not _probabilities(target):
        raise ValueError(f"{op}: target must hold values in [0, 1] (NaN is not one)")
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight=None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression:
    softplus(x) - t x, or with pos_weight, (1 - t) x + (1 + (w - 1) t) softplus(-x)."""
    op = "binary_cross_entropy_with_logits"
    _same_shape(input, target, op)
    reduction = _reduction(size_average, reduce, reduction, op)
    if pos_weight is None:
        loss = ops.softplus(input) - target * input
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * ops.softplus(-input)
    return _reduce(loss if weight is None else loss * weight, reduction)


# ------------------------------------------------------------------ likelihood losses
def _flat_classes(input: Tensor, target, op: str) -> tuple:
    """(input as (M, C), integer targets (M,), the shape of the unreduced loss) for
    (N, C) with (N,), (C,) with (), or (N, C, d1, ...) with (N, d1, ...)."""
    t = _array(target)
    unbatched = input.ndim == 1
    want = () if unbatched else (input.shape[0],) + tuple(input.shape[2:])
    if input.ndim == 0 or t.shape != want or t.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: expected input (N, C), (C,) or (N, C, d1, ...) and integer "
            f"target (N,), () or (N, d1, ...), got input {tuple(input.shape)} "
            f"and target {t.shape} of dtype {t.dtype}"
        )
    n_classes = input.shape[-1 if unbatched else 1]
    if input.ndim > 2:
        input = input.movedim(1, -1).reshape(-1, n_classes)
    return input.reshape(-1, n_classes) if unbatched else input, t.reshape(-1), want


def _picked(logp: Tensor, t: xp.ndarray, weight, ignore_index: int, op: str) -> tuple:
    """(-w[t] logp[m, t[m]] for each row m, and the weights w[t] of the rows counted)."""
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= logp.shape[1]))
    if bad.any():
        raise IndexError(
            f"{op}: target {int(t[bad][0])} is out of bounds for {logp.shape[1]} classes"
        )
    safe = xp.where(valid, t, 0)
    w = (
        valid.astype(logp.dtype)
        if weight is None
        else (_array(weight)[safe] * valid).astype(logp.dtype)
    )
    return -logp[xp.arange(t.shape[0]), safe] * w, w


def _finish(loss: Tensor, w: xp.ndarray, reduction: str, shape: tuple) -> Tensor:
    """'mean' divides by the summed weights of the targets counted (NaN if none is), as
    PyTorch's; 'none' gives the loss in the target's shape."""
    if reduction == "mean":
        total = float(w.sum())
        return loss.sum() * (1 / total if total else math.nan)
    return loss.sum() if reduction == "sum" else loss.reshape(shape)


def nll_loss(
    input: Tensor,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-w[t] input[n, t, ...] for log-probabilities (N, C, d1, ...) or (C,) and class
    indices; targets equal to ignore_index count for nothing."""
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    logp, t, shape = _flat_classes(input, target, "nll_loss")
    loss, w = _picked(logp, t, weight, ignore_index, "nll_loss")
    return _finish(loss, w, reduction, shape)


def cross_entropy(
    input: Tensor,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax over the class dim (1, or 0 for unbatched (C,) logits) + negative
    log-likelihood. `target` holds class indices or class probabilities (input's shape);
    label_smoothing mixes it with the uniform distribution, as PyTorch.

    >>> import microtensor as mt
    >>> logits = mt.zeros(2, 4, 3)                       # (N, C, T): 4 classes, 3 steps
    >>> mt.nn.functional.cross_entropy(logits, mt.tensor([[0, 1, 2], [3, 3, -100]]))
    tensor(1.3863)
    """
    op = "cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError(f"{op}: expected logits (N, C), (C,) or (N, C, d1, ...), got a 0-d tensor")
    cdim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[cdim]
    logp = log_softmax(input, cdim)
    if _array(target).dtype.kind == "f":  # class probabilities
        _same_shape(input, target, op)
        probs = (
            target * (1 - label_smoothing) + label_smoothing / n_classes
            if label_smoothing
            else target
        )
        per_class = logp * probs
        if weight is not None:
            per_class = per_class * weight.reshape((n_classes,) + (1,) * (input.ndim - cdim - 1))
        return _reduce(-per_class.sum(cdim), reduction)
    flat, t, shape = _flat_classes(logp, target, op)
    loss, w = _picked(flat, t, weight, ignore_index, op)
    if label_smoothing:
        per_class = flat if weight is None else flat * weight
        smooth = -per_class.sum(1) * (t != ignore_index).astype(flat.dtype)
        loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
    return _finish(loss, w, reduction, shape)


def kl_div(
    input: Tensor,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """target (log target - input) for log-probabilities `input`, 0 where target is 0.
    'batchmean' divides the sum by the batch size (the true KL divergence); 'mean' by
    the number of elements, with PyTorch's warning."""
    op = "kl_div"
    if reduction != "batchmean":
        reduction = _reduction(size_average, reduce, reduction, op)
    if log_target:
        loss = ops.exp(target) * (target - input)
    else:
        t = target if isinstance(target, Tensor) else Tensor(target)
        positive = t > 0
        loss = ops.where(positive, t * ops.log(ops.where(positive, t, 1.0)), 0.0) - t * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction 'mean' divides the total loss by both the batch "
            "size and the support size; 'batchmean' divides only by the batch "
            "size, and aligns with the KL div math definition.",
            stacklevel=2,
        )
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """exp(input) - target input (log_input), or input - target log(input + eps); `full`
    adds Stirling's target log target - target + log(2 pi target) / 2 where target > 1."""
    reduction = _reduction(size_average, reduce, reduction, "poisson_nll_loss")
    loss = ops.exp(input) - target * input if log_input else input - target * ops.log(input + eps)
    if full:
        t = _array(target)
        big = t > 1
        safe = xp.where(big, t, 1.0)
        loss = loss + Tensor(
            xp.where(big, safe * xp.log(safe) - safe + 0.5 * xp.log(2 * math.pi * safe), 0).astype(
                input.dtype
            )
        )
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
) -> Tensor:
    """(log max(var, eps) + (input - target)^2 / max(var, eps)) / 2 (+ log(2 pi) / 2 when
    full); var is clamped without cutting its gradient off, as PyTorch does."""
    _check_reduction(reduction, "gaussian_nll_loss")
    if (_array(var) < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    var = var if isinstance(var, Tensor) else Tensor(var)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(var.shape) == tuple(input.shape[:-1]):  # one variance per sample
            var = var.unsqueeze(-1)
        elif tuple(var.shape[:-1]) != tuple(input.shape[:-1]) or var.shape[-1] != 1:
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} is of "
                f"incorrect size for input {tuple(input.shape)}"
            )
    shift = Tensor(xp.maximum(eps - var._data, 0).astype(var.dtype))  # a constant
    v = var + shift
    loss = (ops.log(v) + (input - target) ** 2 / v) * 0.5
    return _reduce(loss + 0.5 * math.log(2 * math.pi) if full else loss, reduction)


# ------------------------------------------------------------------------ margin losses
def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y (x1 - x2) + margin) for y in {1, -1}."""
    reduction = _reduction(size_average, reduce, reduction, "margin_ranking_loss")
    return _reduce(ops.relu(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1."""
    reduction = _reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    t = _array(target)
    loss = ops.where(t == 1, input, 0.0) + ops.where(t == -1, ops.relu(margin - input), 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(
    input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """log(1 + exp(-y x)), as softplus (stable for any y x)."""
    reduction = _reduction(size_average, reduce, reduction, "soft_margin_loss")
    return _reduce(ops.softplus(-target * input), reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; the cosine
    over the last dim, its squared norms offset by 1e-12 as in PyTorch."""
    reduction = _reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    norms = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cos = dot / ops.sqrt(norms)
    t = _array(target)
    loss = ops.where(t == 1, 1 - cos, 0.0) + ops.where(t == -1, ops.relu(cos - margin), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with pairwise distances (Balntas et al.);
    swap uses min(d(a, n), d(p, n))."""
    reduction = _reduction(size_average, reduce, reduction, "triplet_margin_loss")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(ops.relu(d_pos - d_neg + margin), reduction)
