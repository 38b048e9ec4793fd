"""Normalization, distances and lookups for nn.functional, compositions of primitives:
layer, RMS, batch and group normalization from means and rsqrt; normalize,
cosine_similarity and pairwise_distance from norms; embedding a gather (its gradient the
gather's scatter-add); bilinear one einsum."""

from __future__ import annotations

from .. import ops
from ..autograd import bump_version
from ..backend import xp
from ..tensor import Tensor

__all__ = [
    "layer_norm",
    "rms_norm",
    "batch_norm",
    "group_norm",
    "normalize",
    "cosine_similarity",
    "pairwise_distance",
    "embedding",
    "one_hot",
    "bilinear",
]


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    if weight is not None:
        x = x * weight.reshape(shape)
    if bias is not None:
        x = x + bias.reshape(shape)
    return x


def _standardize(x: Tensor, dims: tuple, eps: float) -> tuple:
    """((x - mean) / sqrt(var + eps), mean, biased var) over dims, keeping them."""
    mean = x.mean(dims, keepdim=True)
    centred = x - mean
    var = (centred * centred).mean(dims, keepdim=True)
    return centred * ops.rsqrt(var + eps), mean, var


def _trailing(input: Tensor, normalized_shape, op: str) -> tuple:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape) :]) != shape:
        raise ValueError(
            f"{op}: given normalized_shape={list(shape)}, expected input with "
            f"shape [*, {', '.join(map(str, shape))}], but got input of size "
            f"{tuple(input.shape)}"
        )
    return shape, tuple(range(input.ndim - len(shape), input.ndim))


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize over the trailing normalized_shape dims (biased variance), then scale
    and shift elementwise (Ba et al.)."""
    shape, dims = _trailing(input, normalized_shape, "layer_norm")
    return _affine(_standardize(input, dims, eps)[0], weight, bias, shape)


def rms_norm(
    input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times weight (Zhang & Sennrich);
    eps defaults to the dtype's machine epsilon, as in PyTorch."""
    shape, dims = _trailing(input, normalized_shape, "rms_norm")
    eps = float(xp.finfo(input.dtype).eps) if eps is None else eps
    out = input * ops.rsqrt((input * input).mean(dims, keepdim=True) + eps)
    return _affine(out, weight, None, shape)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize each channel (dim 1) over the batch and spatial dims (Ioffe & Szegedy).
    In training the batch's statistics are used and the running ones (when given) move
    toward them by `momentum`, the variance unbiased; otherwise the running ones are used."""
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of at least 2 dims (N, C, ...), got shape {input.shape}"
        )
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"batch_norm: {name} of shape {t.shape} does not match the "
                f"{c} channels of input {input.shape}"
            )
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are needed when not training"
            )
        out = (input - running_mean.reshape(shape)) * ops.rsqrt(running_var.reshape(shape) + eps)
        return _affine(out, weight, bias, shape)
    count = input.numel() // max(c, 1)
    if count <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, "
            f"got input size {tuple(input.shape)}"
        )
    dims = (0,) + tuple(range(2, input.ndim))
    out, mean, var = _standardize(input, dims, eps)
    unbiased = var._data * (count / (count - 1))
    for running, batch in ((running_mean, mean._data), (running_var, unbiased)):
        if running is not None:  # in place, outside the graph, as PyTorch updates them
            stats = running._data
            stats *= 1 - momentum
            stats += momentum * batch.reshape(c)
            bump_version(running)
    return _affine(out, weight, bias, shape)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize each group of num_groups channels of each sample (Wu & He), then
    scale and shift per channel."""
    if input.ndim < 2 or num_groups < 1 or input.shape[1] % num_groups:
        raise ValueError(
            f"group_norm: expected an input (N, C, ...) with C divisible by "
            f"num_groups={num_groups}, got shape {input.shape}"
        )
    n, c = input.shape[:2]
    grouped = input.reshape(n, num_groups, -1)
    out = _standardize(grouped, (2,), eps)[0].reshape(input.shape)
    return _affine(out, weight, bias, (1, c) + (1,) * (input.ndim - 2))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along dim."""
    return input / ops.norm(input, p, dim, keepdim=True).clamp(min=eps)


def _broadcast(x1: Tensor, x2: Tensor) -> tuple:
    shape = xp.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    return tuple(t if tuple(t.shape) == shape else ops.broadcast_to(t, shape) for t in (x1, x2))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim, after broadcasting,
    as PyTorch computes it."""
    x1, x2 = _broadcast(x1, x2)
    n1 = ops.norm(x1, 2, dim, keepdim=True).clamp(min=eps)
    n2 = ops.norm(x2, 2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (eps keeps the norm's gradient finite)."""
    return ops.norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


def _indices(input, op: str) -> xp.ndarray:
    idx = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer indices, got dtype {idx.dtype}")
    return idx


def embedding(
    input,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows of weight (num_embeddings, dim) at the integer indices `input`: a gather,
    whose gradient scatter-adds into the rows used. The padding_idx row gets none.
    sparse=True is accepted and gives the same gradient, dense."""
    if max_norm is not None:
        raise NotImplementedError(
            "embedding: max_norm (renormalizing the rows looked up, in place) is not supported"
        )
    if scale_grad_by_freq:
        raise NotImplementedError("embedding: scale_grad_by_freq=True is not supported")
    idx = _indices(input, "embedding")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(
            f"embedding: index {bad} is out of range for a weight of "
            f"{n} rows (shape {weight.shape})"
        )
    out = weight[idx]
    if padding_idx is not None:
        pad = padding_idx + n if padding_idx < 0 else padding_idx
        hit = idx == pad
        if hit.any():  # the padding row's value, cut off from the gradient
            out = ops.where(hit[..., None], weight.detach()[pad], out)
    return out


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot vectors along a new last dim; num_classes=-1: the largest index + 1."""
    idx = _indices(tensor, "one_hot")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError(
                "one_hot: can not infer the number of classes from an empty "
                "tensor; give num_classes"
            )
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(idx.min())}")
    if idx.size and idx.max() >= num_classes:
        raise ValueError(
            f"one_hot: class values must be smaller than num_classes="
            f"{num_classes}, got {int(idx.max())}"
        )
    return Tensor((idx[..., None] == xp.arange(num_classes)).astype(xp.int64))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_o = x1ᵀ W_o x2 + b_o for weight (out, in1, in2), over any leading dims."""
    if (
        weight.ndim != 3
        or input1.shape[-1] != weight.shape[1]
        or input2.shape[-1] != weight.shape[2]
        or input1.shape[:-1] != input2.shape[:-1]
    ):
        raise ValueError(
            f"bilinear: expected inputs (*, in1) and (*, in2) and weight (out, "
            f"in1, in2), got {input1.shape}, {input2.shape} and {weight.shape}"
        )
    out = ops.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias
