"""Scaled dot-product attention for nn.functional (and nn.MultiheadAttention): two
matmuls around a softmax, masks added as 0 / -inf. Everything is a composition, so the
gradient (and the second one) comes from the op table."""

from __future__ import annotations

import math

from .. import ops
from ..backend import xp
from ..tensor import Tensor
from ._functional_activation import dropout

__all__ = ["scaled_dot_product_attention"]


def additive_mask(mask, allowed: bool, dtype, op: str):
    """A mask to add to the attention scores: a float one as it is (a Tensor may be
    learned), a bool one as 0 where attending is allowed and -inf elsewhere (`allowed`
    says what True means: True attends for SDPA, True blocks for MultiheadAttention)."""
    if mask is None:
        return None
    m = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    if m.dtype == xp.bool_:
        keep = m if allowed else ~m
        return xp.where(keep, 0.0, -math.inf).astype(dtype)
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: a mask must be bool or floating, got dtype {m.dtype}")
    return mask if isinstance(mask, Tensor) else m.astype(dtype)


def attend(
    query: Tensor, key: Tensor, value: Tensor, mask, dropout_p: float, scale: float, safe: bool
) -> tuple:
    """(softmax(q kᵀ scale + mask) v, the attention weights). With `safe`, a query whose
    keys are all masked attends to nothing (output and gradient 0, as PyTorch's
    scaled_dot_product_attention); without, it gives NaN (as its MultiheadAttention)."""
    scores = (query @ key.mT) * scale
    dead = None
    if mask is not None:
        scores = scores + mask
        m = mask._data if isinstance(mask, Tensor) else mask
        if safe and m.size and xp.isneginf(m).any():
            dead = xp.broadcast_to(
                xp.isneginf(m).all(axis=-1, keepdims=True), tuple(scores.shape[:-1]) + (1,)
            )
            dead = dead if dead.any() else None
    if dead is not None:  # no -inf row reaches softmax: its VJP would give NaN
        scores = ops.where(dead, 0.0, scores)
    weights = ops.softmax(scores, -1)
    if dead is not None:
        weights = ops.where(dead, 0.0, weights)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights @ value, weights


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q kᵀ / sqrt(E) + mask) v over (..., L, E) queries and (..., S, E) keys, as
    torch.nn.functional.scaled_dot_product_attention: a bool attn_mask says where to
    attend (True), a float one is added; is_causal lets query i see keys 0..i. Dropout
    applies whenever dropout_p > 0. enable_gqa lets the keys and values have fewer heads
    (dim -3) than the queries, each shared by a group of them."""
    op = "scaled_dot_product_attention"
    if (
        query.ndim < 2
        or key.ndim < 2
        or value.ndim < 2
        or query.shape[-1] != key.shape[-1]
        or key.shape[-2] != value.shape[-2]
    ):
        raise ValueError(
            f"{op}: expected query (..., L, E), key (..., S, E) and value "
            f"(..., S, Ev), got {tuple(query.shape)}, {tuple(key.shape)} and "
            f"{tuple(value.shape)}"
        )
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: an explicit attn_mask should not be set when is_causal=True")
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        if groups * key.shape[-3] != query.shape[-3] or value.shape[-3] != key.shape[-3]:
            raise ValueError(
                f"{op}: with enable_gqa the query heads ({query.shape[-3]}) must "
                f"be a multiple of the key and value heads ({key.shape[-3]}, "
                f"{value.shape[-3]})"
            )
        key = ops.repeat_interleave(key, groups, dim=-3)
        value = ops.repeat_interleave(value, groups, dim=-3)
    if is_causal:
        attn_mask = xp.tril(xp.ones((query.shape[-2], key.shape[-2]), dtype=bool))
    mask = additive_mask(attn_mask, True, query.dtype, op)
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    return attend(query, key, value, mask, dropout_p, scale, safe=True)[0]
