"""Triangles and diagonals of matrices (the last two dims, or the two dims named):
tril/triu and their in-place forms, diagonal (a view, as PyTorch's) and its transpose
diag_embed, and diag and trace built on them."""

from __future__ import annotations

from ..autograd import apply, apply_inplace, apply_view
from ..backend import xp
from ..tensor import Tensor
from .base import Op, _dim, method

__all__ = ["tril", "triu", "diagonal", "diag_embed", "diag", "trace"]


class Tril(Op):
    """The elements on and below diagonal `diagonal` of the last two dims, zeros above:
    a mask, so its VJP is the same mask."""

    b_name = "tril"

    def forward(a, diagonal):
        return xp.tril(a, diagonal)

    def vjp(B, g, out, args, needs, diagonal):
        return (B.tril(g, diagonal=diagonal),)


class Triu(Op):
    """Tril's mirror: on and above diagonal `diagonal`."""

    b_name = "triu"

    def forward(a, diagonal):
        return xp.triu(a, diagonal)

    def vjp(B, g, out, args, needs, diagonal):
        return (B.triu(g, diagonal=diagonal),)


def _triangle(run, op, x: Tensor, diagonal: int, name: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(
            f"{name}: needs a matrix or a batch of them (2 dims at least), got "
            f"a tensor of shape {x.shape}"
        )
    return run(op, x, diagonal=int(diagonal))


@method
def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of x's last two dims (diagonal > 0 keeps more, < 0 fewer)."""
    return _triangle(apply, Tril, x, diagonal, "tril")


@method
def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of x's last two dims (diagonal > 0 keeps fewer, < 0 more)."""
    return _triangle(apply, Triu, x, diagonal, "triu")


@method
def tril_(x: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(apply_inplace, Tril, x, diagonal, "tril_")


@method
def triu_(x: Tensor, diagonal: int = 0) -> Tensor:
    return _triangle(apply_inplace, Triu, x, diagonal, "triu_")


def _diagonal_of(a, offset: int, dim1: int, dim2: int):
    """numpy's diagonal, a view made writable where `a` is (numpy keeps it read-only
    only to warn about a change of its own API): PyTorch's diagonal is writable."""
    out = xp.diagonal(a, offset, dim1, dim2)
    if a.flags.writeable:
        out.flags.writeable = True
    return out


class Diagonal(Op):
    """The elements [..., i, i + offset] of dims dim1, dim2, as a last dim; its VJP puts
    g back on that diagonal of zeros (DiagEmbed: the transpose pair)."""

    b_name = "diagonal"

    def forward(a, offset, dim1, dim2):
        return _diagonal_of(a, offset, dim1, dim2)

    def vjp(B, g, out, args, needs, offset, dim1, dim2):
        return (B.diag_embed(g, offset=offset, dim1=dim1, dim2=dim2, shape=args[0].shape),)


class DiagEmbed(Op):
    """Zeros of `shape` with v's last dim on the diagonal `offset` of dims dim1, dim2:
    Diagonal's transpose, so its VJP is Diagonal."""

    b_name = "diag_embed"
    name = "diag_embed"

    def forward(v, offset, dim1, dim2, shape):
        out = xp.zeros(shape, v.dtype)
        _diagonal_of(out, offset, dim1, dim2)[...] = v
        return out

    def vjp(B, g, out, args, needs, offset, dim1, dim2, shape):
        return (B.diagonal(g, offset=offset, dim1=dim1, dim2=dim2),)


def _two_dims(dim1: int, dim2: int, ndim: int, op: str) -> tuple:
    d1, d2 = _dim(dim1, ndim, op), _dim(dim2, ndim, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 name the same dim ({dim1} and {dim2} of {ndim})")
    return d1, d2


@method
def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal `offset` (> 0 above the main one) of dims dim1 and dim2, as a last
    dim: a view of x, as in PyTorch, so writing into it writes into x."""
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs 2 dims at least, got a tensor of shape {x.shape}")
    d1, d2 = _two_dims(dim1, dim2, x.ndim, "diagonal")
    return apply_view(Diagonal, x, offset=int(offset), dim1=d1, dim2=d2)


@method
def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor with x's last dim on the diagonal `offset` of its dims dim1 and dim2 (new
    dims, of size n + |offset|), zeros elsewhere; x's other dims are the remaining ones."""
    if x.ndim < 1:
        raise ValueError("diag_embed: needs a tensor of 1 dim at least, got a 0-d one")
    d1, d2 = _two_dims(dim1, dim2, x.ndim + 1, "diag_embed")
    side = x.shape[-1] + abs(int(offset))
    rest = iter(x.shape[:-1])
    shape = tuple(side if d in (d1, d2) else next(rest) for d in range(x.ndim + 1))
    return apply(DiagEmbed, x, offset=int(offset), dim1=d1, dim2=d2, shape=shape)


@method
def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D x as the diagonal `diagonal` of a square matrix of zeros; of a 2-D x, the
    diagonal `diagonal`, as a new tensor (not a view, as torch.diag)."""
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return apply(Diagonal, x, offset=int(diagonal), dim1=0, dim2=1).clone()
    raise ValueError(f"diag: needs a 1-D or 2-D tensor, got shape {x.shape}")


@method
def trace(x: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal (an integer matrix's is int64, as PyTorch's)."""
    if x.ndim != 2:
        raise ValueError(f"trace: needs a matrix, got a tensor of shape {x.shape}")
    if x.dtype == bool:
        raise TypeError("trace: not defined for bool tensors (as in PyTorch)")
    return apply(Diagonal, x, offset=0, dim1=0, dim2=1).sum()
