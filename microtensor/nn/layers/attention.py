"""MultiheadAttention, as torch.nn.MultiheadAttention: the same parameters (in_proj_weight
or q/k/v_proj_weight, in_proj_bias, out_proj), initialisation, masks and outputs, built
on nn.functional's scaled dot-product attention."""

from __future__ import annotations

import math

from ...tensor import Tensor
from .. import init
from .._functional_attention import additive_mask, attend
from ..module import Module
from .linear import Linear, new_parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim / num_heads features each: project
    query, key and value, attend per head, concatenate, project out. Inputs are (L, N, E)
    (or (N, L, E) with batch_first, or unbatched (L, E)); key_padding_mask (N, S) and a
    bool attn_mask mark with True what may NOT be attended (a float mask is added).
    Returns (output, weights), the weights averaged over heads unless
    average_attn_weights=False, None unless need_weights."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv and add_zero_attn are not supported"
            )
        if num_heads < 1 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                f"by num_heads ({num_heads})"
            )
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self.head_dim, self.batch_first = embed_dim // num_heads, batch_first
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        make = lambda *shape: new_parameter(
            *shape, device=device, dtype=dtype, where="MultiheadAttention"
        )
        if self._qkv_same_embed_dim:
            self.in_proj_weight = make(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = make(embed_dim, embed_dim)
            self.k_proj_weight = make(embed_dim, self.kdim)
            self.v_proj_weight = make(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        self.in_proj_bias = make(3 * embed_dim) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """Xavier-uniform projections, zero biases (the out projection keeps Linear's
        weight), as PyTorch."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
        if self.out_proj.bias is not None:  # the two biases exist together (bias=True)
            init.zeros_(self.out_proj.bias)

    def _projections(self) -> list:
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            weights = [self.in_proj_weight[i * e : (i + 1) * e] for i in range(3)]
        else:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        b = self.in_proj_bias
        return [(w, None if b is None else b[i * e : (i + 1) * e]) for i, w in enumerate(weights)]

    def _heads(self, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        """(N, L, E_in) projected and split into heads: (N, H, L, head_dim)."""
        n, length = x.shape[:2]
        x = x @ w.mT if b is None else x @ w.mT + b
        return x.reshape(n, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _mask(self, attn_mask, key_padding_mask, n: int, dtype):
        """One additive mask broadcasting over (N, H, L, S), or None."""
        op = "MultiheadAttention"
        mask = additive_mask(attn_mask, False, dtype, op)
        if mask is not None and mask.ndim == 3:  # (N * H, L, S)
            mask = mask.reshape((n, self.num_heads) + tuple(mask.shape[1:]))
        pad = additive_mask(key_padding_mask, False, dtype, op)
        if pad is not None:
            pad = pad.reshape(n, 1, 1, pad.shape[-1])
            mask = pad if mask is None else mask + pad
        return mask

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple:
        if is_causal and attn_mask is None:
            raise ValueError(
                "MultiheadAttention: is_causal is a hint about attn_mask, which must be given too"
            )
        batched = query.ndim == 3
        if (
            query.ndim not in (2, 3)
            or key.ndim != query.ndim
            or value.ndim != query.ndim
            or query.shape[-1] != self.embed_dim
        ):
            raise ValueError(
                f"MultiheadAttention: expected query, key and value of 3 dims "
                f"(or 2, unbatched) with query's last dim {self.embed_dim}, got "
                f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
            )
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.reshape(1, -1)
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, length = query.shape[:2]
        (wq, bq), (wk, bk), (wv, bv) = self._projections()
        q, k, v = self._heads(query, wq, bq), self._heads(key, wk, bk), self._heads(value, wv, bv)
        out, weights = attend(
            q,
            k,
            v,
            self._mask(attn_mask, key_padding_mask, n, q.dtype),
            self.dropout if self.training else 0.0,
            1 / math.sqrt(self.head_dim),
            safe=not need_weights,
        )
        out = self.out_proj(out.transpose(1, 2).reshape(n, length, self.embed_dim))
        if batched and not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return (out if batched else out[0]), None
        if average_attn_weights:
            weights = weights.mean(1)
        return (out, weights) if batched else (out[0], weights[0])
