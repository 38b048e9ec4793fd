"""Parameter: the tensor a Module learns (as torch.nn.Parameter)."""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor, _check_grad_dtype

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that a Module treats as a learnable parameter (requires grad).

    >>> import microtensor as mt
    >>> p = mt.nn.Parameter(mt.zeros(2))
    >>> p.requires_grad, isinstance(p, mt.Tensor)
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        data = xp.zeros(0, dtype=xp.float32) if data is None else data
        super().__init__(data._data if isinstance(data, Tensor) else data)
        if requires_grad:
            _check_grad_dtype(self.dtype, "Parameter")
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
