"""Tensor: an array, its gradient, and the node that made it. Its op methods are the
op functions of `ops/` themselves (registered there with @method); no op logic lives
here."""
from __future__ import annotations

import weakref
from typing import Any, Callable

from .backend import ndarray, xp

__all__ = ["Tensor", "tensor", "set_default_dtype", "get_default_dtype", "promote_result"]

_default = {"dtype": xp.dtype(xp.float32)}


def set_default_dtype(dtype) -> None:
    """The floating dtype given to Python floats and lists (float32 unless changed)."""
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default["dtype"] = dtype


def get_default_dtype():
    return _default["dtype"]


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _promote_types(a, b):
    """PyTorch's promote_types: the higher category wins whole (float32 with int64 is
    float32); within a category, the wider type."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    return xp.promote_types(a, b) if ca == cb else a if ca > cb else b


def promote_result(out: ndarray, inputs) -> ndarray:
    """`out`, which numpy made float64, in the dtype PyTorch gives the same inputs.

    numpy promotes an integer tensor with a Python float, two integer tensors divided, a
    float32 tensor with an integer tensor, and a float32 tensor with a 0-d float64 one to
    float64. PyTorch keeps the dimensioned tensors' dtype unless a 0-d tensor or a Python
    scalar is of a higher category (bool < integer < float), and gives integer inputs of
    a floating op the default dtype."""
    dims = zeros = None
    scalar = -1
    for a in inputs:
        if isinstance(a, ndarray):
            if a.ndim:
                dims = a.dtype if dims is None else _promote_types(dims, a.dtype)
            else:
                zeros = a.dtype if zeros is None else _promote_types(zeros, a.dtype)
        elif isinstance(a, (bool, int, float, complex)):
            scalar = max(scalar, 0 if isinstance(a, bool) else 1 if isinstance(a, int)
                         else 2 if isinstance(a, float) else 3)
    res = dims
    if zeros is not None and (res is None or _CATEGORY[zeros.kind] > _CATEGORY[res.kind]):
        res = zeros
    if res is None or scalar > _CATEGORY[res.kind]:
        res = _default["dtype"] if scalar <= 2 else xp.dtype(xp.complex128)
    if res.kind in "biu":  # a floating result of integer inputs (true division, exp)
        res = _default["dtype"]
    return out if res == out.dtype else out.astype(res)


def _as_array(data, dtype) -> ndarray:
    """numpy arrays keep their dtype; Python floats (and lists of them) take the default."""
    if isinstance(data, Tensor):
        arr = data.data.copy()
    elif isinstance(data, (ndarray, xp.generic)):
        arr = xp.array(data)
    else:
        arr = xp.array(data)
        if arr.dtype == xp.float64 and dtype is None:
            arr = arr.astype(_default["dtype"])
        elif arr.dtype.kind not in "biufc":
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} "
                            f"(numpy gives dtype {arr.dtype})")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr


def _check_grad_dtype(dtype, where: str) -> None:
    if dtype.kind != "f":
        raise RuntimeError(f"{where}: only floating point tensors can require gradients, "
                           f"got dtype {dtype}")


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    >>> import microtensor as mt
    >>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "_oi", "_version", "_hooks",
                 "_alias", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray + Tensor -> Tensor

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False) -> None:
        self.data = _as_array(data, dtype)
        self.grad = None
        self._node = None
        self._oi = 0
        self._version = 0
        self._hooks = None
        self._alias = None  # an autograd.Alias when it shares memory or history changed
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- attributes ------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made; only leaves accumulate `.grad` in backward."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node that produced this tensor (None for leaves); its `.name` is the op's."""
        return self._node

    @property
    def T(self) -> "Tensor":
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"item: a tensor with {self.data.size} elements (shape "
                               f"{self.shape}) cannot be converted to a Python scalar")
        return self.data.item()

    def numpy(self) -> ndarray:
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.data.size} "
                               f"elements is ambiguous; use .any() or .all()")
        return bool(self.data.item())

    def __index__(self) -> int:
        return self.data.__index__()

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        data = self.data
        finite = data[xp.isfinite(data)] if data.dtype.kind == "f" else data
        whole = data.dtype.kind != "f" or bool((finite == xp.round(finite)).all())
        body = xp.array2string(data, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec" if whole else "fixed")
        extra = []
        if self.dtype not in (_default["dtype"], xp.int64, xp.bool_):
            extra.append(f"dtype={self.dtype}")
        if self._node is not None:
            extra.append(f"grad_fn={self._node!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extra) + ")"

    # -- autograd ---------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self._node is not None and not requires_grad:
            raise RuntimeError("requires_grad_: a non-leaf tensor always requires grad; "
                               "use detach() to get one that does not")
        if requires_grad:
            _check_grad_dtype(self.dtype, "requires_grad_")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> "Tensor":
        """The same array, cut from the graph. As in PyTorch it shares memory and the
        version counter: changing either in place is caught where the other was saved."""
        return _autograd.share_version(self, _wrap(self.data))

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward."""
        if self._node is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: the tensor does not require grad")
            return
        slot = self._node._extra("retain", self._oi)
        if not any(ref() is self for ref in slot):
            slot.append(weakref.ref(self))

    def register_hook(self, hook: Callable) -> Callable:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a function that removes the hook."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "doesn't require gradient")
        if self._node is None:
            self._hooks = self._hooks or []
            hooks = self._hooks
        else:
            hooks = self._node._extra("hook", self._oi)
        hooks.append(hook)
        return lambda: hooks.remove(hook) if hook in hooks else None

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad`."""
        _autograd.backward(self, gradient, retain_graph, create_graph)

    def draw(self, **options):
        """Render this tensor's graph with graphviz (see microtensor.viz)."""
        from . import viz
        return viz.draw_graph(self, **options)

    # -- conversions ------------------------------------------------------------------
    def to(self, dtype) -> "Tensor":
        return _apply(O.Cast, self, dtype=xp.dtype(dtype))

    def float(self) -> "Tensor":
        return self.to(xp.float32)

    def double(self) -> "Tensor":
        return self.to(xp.float64)

    # -- reflected operators: the op functions with the operands swapped ---------------
    # (+ - * / ** @ < ... are the op functions themselves, set below: a + b is mt.add(a, b))
    def __radd__(self, other): return O.add(other, self)
    def __rsub__(self, other): return O.sub(other, self)
    def __rmul__(self, other): return O.mul(other, self)
    def __rtruediv__(self, other): return O.div(other, self)
    def __rpow__(self, other): return O.pow(other, self)
    def __rmatmul__(self, other): return O.matmul(other, self)
    def __pos__(self): return self

    # -- in place (refused on leaves that require grad, outside no_grad) ---------------
    def __iadd__(self, other): return _autograd.apply_inplace(O.Add, self, other)
    def __isub__(self, other): return _autograd.apply_inplace(O.Sub, self, other)
    def __imul__(self, other): return _autograd.apply_inplace(O.Mul, self, other)
    def __itruediv__(self, other): return _autograd.apply_inplace(O.Div, self, other)
    def add_(self, other): return _autograd.apply_inplace(O.Add, self, other)
    def sub_(self, other): return _autograd.apply_inplace(O.Sub, self, other)
    def mul_(self, other): return _autograd.apply_inplace(O.Mul, self, other)
    def div_(self, other): return _autograd.apply_inplace(O.Div, self, other)
    def clamp_(self, min=None, max=None):
        O.check_clamp_bounds(min, max, "clamp_")
        return _autograd.apply_inplace(O.Clamp, self, min=min, max=max)
    def zero_(self): return _autograd.apply_inplace(O.Fill, self, value=0)
    def fill_(self, value): return _autograd.apply_inplace(O.Fill, self, value=value)
    def copy_(self, src): return _autograd.apply_inplace(O.CopyFrom, self, src)
    def __setitem__(self, index, value): _autograd.apply_inplace(O.SetItem, self, value, index=O.normalize_index(index))

    # -- indexing (the other methods are the op functions: see the end of this file) ---
    def __getitem__(self, index): return _autograd.apply_view(O.GetItem, self, index=O.normalize_index(index))


def _wrap(data, node=None, oi: int = 0) -> Tensor:
    """A Tensor around an op's output array, without __init__'s conversions."""
    t = Tensor.__new__(Tensor)
    t.data = data if type(data) is ndarray else xp.asarray(data)
    t.grad = None
    t.requires_grad = node is not None
    t._node = node
    t._oi = oi
    t._version = 0
    t._hooks = None
    t._alias = None
    return t


def tensor(data: Any, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data`.

    Python floats and lists become the default dtype (float32), integers int64; numpy
    arrays keep their dtype.

    >>> import microtensor as mt
    >>> mt.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


from . import autograd as _autograd  # noqa: E402  (the engine needs Tensor defined first)
from . import functional as _F  # noqa: E402,F401  (its composites register methods too)
from . import ops as O  # noqa: E402
from .autograd import apply as _apply  # noqa: E402

for _name, _fn in O.METHODS.items():  # x.exp() is ops.exp(x): the same function
    setattr(Tensor, _name, _fn)
Tensor.__add__, Tensor.__sub__, Tensor.__mul__, Tensor.__truediv__ = O.add, O.sub, O.mul, O.div
Tensor.__pow__, Tensor.__matmul__, Tensor.__neg__, Tensor.__abs__ = O.pow, O.matmul, O.neg, O.abs
Tensor.__lt__, Tensor.__le__, Tensor.__gt__, Tensor.__ge__ = O.lt, O.le, O.gt, O.ge
Tensor.__eq__, Tensor.__ne__ = O.eq, O.ne
Tensor.__and__, Tensor.__or__, Tensor.__xor__ = O.logical_and, O.logical_or, O.logical_xor
Tensor.__invert__ = O.logical_not
