"""Tensor: an array, its gradient, and the node that made it. Every method is a
one-line delegation to an op in `ops.py`; no op logic lives here."""
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

    def clone(self) -> "Tensor":
        return _apply1(O.Clone, self)

    # -- arithmetic -------------------------------------------------------------------
    def __add__(self, other): return _apply2(O.Add, self, other)
    def __radd__(self, other): return _apply2(O.Add, other, self)
    def __sub__(self, other): return _apply2(O.Sub, self, other)
    def __rsub__(self, other): return _apply2(O.Sub, other, self)
    def __mul__(self, other): return _apply2(O.Mul, self, other)
    def __rmul__(self, other): return _apply2(O.Mul, other, self)
    def __truediv__(self, other): return _apply2(O.Div, self, other)
    def __rtruediv__(self, other): return _apply2(O.Div, other, self)
    def __pow__(self, other): return _apply2(O.Pow, self, other)
    def __rpow__(self, other): return _apply2(O.Pow, other, self)
    def __matmul__(self, other): return _apply2(O.MatMul, self, other)
    def __rmatmul__(self, other): return _apply2(O.MatMul, other, self)
    def __neg__(self): return _apply1(O.Neg, self)
    def __pos__(self): return self
    def __abs__(self): return _apply1(O.Abs, self)

    # -- comparisons and logic (no gradient) ------------------------------------------
    def __lt__(self, other): return _apply2(O.Less, self, other)
    def __le__(self, other): return _apply2(O.LessEqual, self, other)
    def __gt__(self, other): return _apply2(O.Greater, self, other)
    def __ge__(self, other): return _apply2(O.GreaterEqual, self, other)
    def __eq__(self, other): return _apply2(O.Equal, self, other)
    def __ne__(self, other): return _apply2(O.NotEqual, self, other)
    def __and__(self, other): return _apply2(O.LogicalAnd, self, other)
    def __or__(self, other): return _apply2(O.LogicalOr, self, other)
    def __xor__(self, other): return _apply2(O.LogicalXor, self, other)
    def __invert__(self): return _apply1(O.LogicalNot, self)

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

    # -- elementwise ------------------------------------------------------------------
    def exp(self): return _apply1(O.Exp, self)
    def log(self): return _apply1(O.Log, self)
    def log1p(self): return _apply1(O.Log1p, self)
    def sqrt(self): return _apply1(O.Sqrt, self)
    def abs(self): return _apply1(O.Abs, self)
    def sin(self): return _apply1(O.Sin, self)
    def cos(self): return _apply1(O.Cos, self)
    def tanh(self): return _apply1(O.Tanh, self)
    def sigmoid(self): return _apply1(O.Sigmoid, self)
    def relu(self): return _apply1(O.Relu, self)
    def pow(self, exponent): return _apply2(O.Pow, self, exponent)
    def clamp(self, min=None, max=None): return O.clamp(self, min, max)
    def maximum(self, other): return _apply2(O.Maximum, self, other)
    def minimum(self, other): return _apply2(O.Minimum, self, other)

    # -- reductions -------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False): return O.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim: bool = False): return O.mean(self, dim, keepdim)
    def max(self, dim=None, keepdim: bool = False): return O.max(self, dim, keepdim)
    def min(self, dim=None, keepdim: bool = False): return O.min(self, dim, keepdim)
    def amax(self, dim=None, keepdim: bool = False): return O.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim: bool = False): return O.amin(self, dim, keepdim)
    def var(self, dim=None, *, correction=1, keepdim: bool = False): return _F.var(self, dim, correction=correction, keepdim=keepdim)
    def std(self, dim=None, *, correction=1, keepdim: bool = False): return _F.std(self, dim, correction=correction, keepdim=keepdim)
    def logsumexp(self, dim, keepdim: bool = False): return O.logsumexp(self, dim, keepdim)
    def argmax(self, dim=None, keepdim: bool = False): return O.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim: bool = False): return O.argmin(self, dim, keepdim)
    def all(self, dim=None, keepdim: bool = False): return O.all(self, dim, keepdim)
    def any(self, dim=None, keepdim: bool = False): return O.any(self, dim, keepdim)
    def softmax(self, dim: int): return O.softmax(self, dim)
    def log_softmax(self, dim: int): return O.log_softmax(self, dim)

    # -- shape ------------------------------------------------------------------------
    def reshape(self, *shape): return O.reshape(self, *shape)
    def view(self, *shape): return O.reshape(self, *shape)
    def flatten(self, start_dim: int = 0, end_dim: int = -1): return O.flatten(self, start_dim, end_dim)
    def transpose(self, dim0: int, dim1: int): return O.transpose(self, dim0, dim1)
    def permute(self, *dims): return O.permute(self, *dims)
    def squeeze(self, dim=None): return O.squeeze(self, dim)
    def unsqueeze(self, dim: int): return O.unsqueeze(self, dim)
    def expand(self, *sizes): return O.expand(self, *sizes)
    def broadcast_to(self, shape): return O.broadcast_to(self, shape)
    def split(self, split_size_or_sections, dim: int = 0): return O.split(self, split_size_or_sections, dim)
    def chunk(self, chunks: int, dim: int = 0): return O.chunk(self, chunks, dim)
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
from . import functional as _F  # noqa: E402
from . import ops as O  # noqa: E402
from .autograd import apply as _apply, apply1 as _apply1, apply2 as _apply2  # noqa: E402
