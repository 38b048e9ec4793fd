"""torch.linalg's norms: `mt.linalg.norm`, `vector_norm` and `matrix_norm`, with
PyTorch's `ord`, `dim` and `keepdim` (and `axis=`, `keepdims=`). The work is in
microtensor/ops/norms.py, beside torch.norm (`Tensor.norm`).

>>> import microtensor as mt
>>> mt.linalg.norm(mt.tensor([[3.0, 0.0], [0.0, 4.0]]))
tensor(5.)
"""

from __future__ import annotations

from .ops.norms import matrix_norm, vector_norm
from .ops.reductions import _aliased
from .tensor import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm"]


def norm(x: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None, **aliases) -> Tensor:
    """A vector norm over one dim, a matrix norm over two; without `dim`, the 2-norm of
    all elements when `ord` is None, else the vector norm of a 1-D tensor or the matrix
    norm of a 2-D one, as torch.linalg.norm."""
    if aliases:
        dim, keepdim = _aliased("linalg.norm", aliases, dim, keepdim)
    if dim is None:
        if ord is None:
            return vector_norm(x, 2, None, keepdim, dtype=dtype)
        if x.ndim not in (1, 2):
            raise ValueError(
                f"linalg.norm: with ord and no dim the input must be 1-D or 2-D, "
                f"got shape {x.shape}; give dim"
            )
        dim = tuple(range(x.ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) == 1:
        return vector_norm(x, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(x, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: dim must be one dim or two, got {dim!r}")
