"""Norms: torch.norm (Tensor.norm), and linalg.vector_norm and linalg.matrix_norm, which
microtensor.linalg exports with linalg.norm. Gradients follow PyTorch's: 0 where an
element is 0 (for p < 1 too) and where the norm is 0; inf-norm ties share the gradient."""

from __future__ import annotations

import math

from ..autograd import apply
from ..backend import quiet, xp
from ..tensor import Tensor
from .base import Op, _dims, method
from .elementwise import abs, ne
from .reductions import _aliased, _cast, _unreduce, amax, amin, sum

__all__ = ["norm"]


class VectorNorm(Op):
    """(sum |a|^p)^(1/p) over `dim`, for a finite p other than 0. Its gradient is
    sign(a) |a|^(p-1) g / norm^(p-1), written so that the branches masked out (a = 0,
    norm = 0) hold no inf or NaN."""

    saves = (0,)
    save_output = True

    @quiet
    def forward(a, ord, dim, keepdim):  # an array, never a numpy scalar (see _Extremum)
        if ord == 2:
            return xp.asarray(xp.sqrt((a * a).sum(axis=dim, keepdims=keepdim)))
        m = xp.abs(a)
        if ord == 1:
            return xp.asarray(m.sum(axis=dim, keepdims=keepdim))
        return xp.asarray((m**ord).sum(axis=dim, keepdims=keepdim) ** (1 / ord))

    @quiet
    def vjp(B, g, out, args, needs, ord, dim, keepdim):
        a = args[0]
        av, n = B.value(a), _unreduce(B, out, a.shape, dim, keepdim)
        nv = B.value(n)
        scale = _unreduce(B, g, a.shape, dim, keepdim) / B.where(nv == 0, 1, n) ** (ord - 1)
        sign = B.sign(a)
        each = sign * B.where(av == 0, 1, a * sign) ** (ord - 1) * B.where(nv == 0, 0, scale)
        return (B.where(av == 0, 0, each),)


def _floating(x: Tensor, dtype, op: str) -> Tensor:
    x = _cast(x, dtype)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: needs a floating tensor, got dtype {x.dtype} (pass "
            f"dtype=mt.float32, or convert it first)"
        )
    return x


def vector_norm(
    x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None, **aliases
) -> Tensor:
    """The p-norm (sum |x|^ord)^(1/ord) over `dim` (all elements by default); ord inf and
    -inf are the largest and smallest |x|, ord 0 counts the nonzero elements."""
    if aliases:
        dim, keepdim = _aliased("linalg.vector_norm", aliases, dim, keepdim)
    x = _floating(x, dtype, "linalg.vector_norm")
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    dims = _dims(dim, x.ndim, "linalg.vector_norm")
    if math.isinf(ord):
        return (amax if ord > 0 else amin)(abs(x), dims, keepdim)
    if ord == 0:
        return sum(ne(x, 0), dims, keepdim, dtype=x.dtype)
    return apply(VectorNorm, x, ord=float(ord), dim=dims, keepdim=keepdim)


def matrix_norm(
    x: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None, **aliases
) -> Tensor:
    """The norm of the matrices over the two dims `dim`: 'fro' (Frobenius), 1 and -1 (the
    largest and smallest column sum of |x|), inf and -inf (the same for rows)."""
    if aliases:
        dim, keepdim = _aliased("linalg.matrix_norm", aliases, dim, keepdim, default=(-2, -1))
    x = _floating(x, dtype, "linalg.matrix_norm")
    if x.ndim < 2:
        raise ValueError(
            f"linalg.matrix_norm: needs a tensor of at least 2 dims, got shape {x.shape}"
        )
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must be a pair of dims, got {dim!r}")
    _dims(dim, x.ndim, "linalg.matrix_norm")  # in range and distinct, or an error
    rows, cols = (d % x.ndim for d in dim)
    if ord == "fro":
        return apply(VectorNorm, x, ord=2.0, dim=tuple(sorted((rows, cols))), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"linalg.matrix_norm: ord={ord!r} needs the singular values "
            f"(an SVD), which microtensor does not have"
        )
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(
            f"linalg.matrix_norm: ord must be 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2, got {ord!r}"
        )
    summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
    out = (amax if ord > 0 else amin)(sum(abs(x), summed, keepdim=True), picked, keepdim=True)
    if keepdim:
        return out
    return out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in (rows, cols)))


@method
def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None, **aliases) -> Tensor:
    """torch.norm: with a number p the vector p-norm over `dim` (all elements by
    default); with 'fro' the 2-norm over `dim` (one or two dims, or all)."""
    if aliases:
        dim, keepdim = _aliased("norm", aliases, dim, keepdim)
    if p == "nuc":
        return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if p is None or p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' takes one or two dims, got dim={dim!r}")
        p = 2
    return vector_norm(x, p, dim, keepdim, dtype=dtype)
