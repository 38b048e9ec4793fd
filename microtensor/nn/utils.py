"""torch.nn.utils' gradient clipping and parameter flattening, by PyTorch's names.

Clipping works on the gradients in place, outside autograd (as PyTorch's does under
no_grad); parameters_to_vector is an ordinary differentiable concatenation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..autograd import bump_version
from ..backend import xp
from ..ops import cat
from ..tensor import Tensor, tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def _vector_norm(x, p: float):
    """PyTorch's vector_norm of order p over all elements of array x."""
    a = xp.abs(x.ravel())
    if p == math.inf:
        return a.max()
    if p == -math.inf:
        return a.min()
    if p == 0:
        return (a != 0).sum().astype(a.dtype)
    if p == 2:
        return xp.sqrt((a * a).sum())
    return (a**p).sum() ** (1 / p)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients so that their total norm (the norm of the vector of every
    gradient's norm) is at most max_norm; returns that total norm before scaling.
    The scale is max_norm / (total + 1e-6), capped at 1, as in PyTorch.

    >>> import microtensor as mt
    >>> w = mt.tensor([1.0, 1.0], requires_grad=True)
    >>> (w * mt.tensor([3.0, 4.0])).sum().backward()
    >>> float(mt.nn.utils.clip_grad_norm_([w], max_norm=1.0))
    5.0
    >>> [round(g, 5) for g in w.grad.tolist()]  # 3 and 4 times 1 / (5 + 1e-6)
    [0.6, 0.8]
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    norms = xp.stack([_vector_norm(g._data, norm_type) for g in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the "
            f"gradients is non-finite ({total}), so it cannot be clipped; "
            f"pass error_if_nonfinite=False to scale them by it anyway"
        )
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with xp.errstate(invalid="ignore"):  # an infinite norm makes NaNs, as in PyTorch
        for g in grads:
            g._data *= coef
    bump_version(*grads)
    return tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient, in place, into [-clip_value, clip_value]."""
    grads = _grads(parameters)
    clip_value = float(clip_value)
    for g in grads:
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
    bump_version(*grads)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one vector (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's values the next slice of `vec`, reshaped: the parameters
    then share vec's memory, as PyTorch's assignment to .data makes them."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    flat = vec._data.reshape(-1)
    start = 0
    for i, p in enumerate(parameters):
        end = start + p._data.size
        if end > flat.size:
            raise RuntimeError(
                f"vector_to_parameters: the vector has {flat.size} elements, "
                f"too few for parameter {i} of shape {p.shape} at offset "
                f"{start}"
            )
        p._data = flat[start:end].reshape(p.shape)
        bump_version(p)
        start = end
