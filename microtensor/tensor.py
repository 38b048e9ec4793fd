"""Tensor: an array, its gradient, and the node that made it. Its op methods are the
op functions of `ops/` themselves (registered there with @method); no op logic lives
here."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from .backend import ndarray, xp
from .dtypes import get_default_dtype, promote_result, set_default_dtype
from .printing import tensor_repr

if TYPE_CHECKING:
    from .autograd.graph import Node
    from .autograd.views import Alias

__all__ = [
    "Tensor",
    "tensor",
    "Size",
    "is_tensor",
    "is_floating_point",
    "numel",
    "set_default_dtype",
    "get_default_dtype",
    "promote_result",
]


class Size(tuple):
    """A tensor's shape (`x.shape`, `x.size()`): a tuple of ints that prints (str, repr)
    as torch.Size does. In an f-string it reads as the plain tuple, the form every error
    message of the package gives shapes in ("a tensor of shape (2, 3)").

    >>> import microtensor as mt
    >>> mt.zeros(3, 4).shape
    microtensor.Size([3, 4])
    >>> f"{mt.zeros(3, 4).shape}"
    '(3, 4)'
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"microtensor.Size({list(self)})"

    def __format__(self, format_spec: str) -> str:
        return format(tuple(self), format_spec)

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)


def _as_array(data, dtype) -> ndarray:
    """numpy arrays keep their dtype; Python floats (and lists of them) take the default."""
    if isinstance(data, Tensor):
        arr = data._data.copy()
    elif isinstance(data, (ndarray, xp.generic)):
        arr = xp.array(data)
    else:
        arr = xp.array(data)
        if arr.dtype == xp.float64 and dtype is None:
            arr = arr.astype(get_default_dtype())
        elif arr.dtype.kind not in "biufc":
            raise TypeError(
                f"tensor: cannot make a tensor from {type(data).__name__} "
                f"(numpy gives dtype {arr.dtype})"
            )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr


def _check_grad_dtype(dtype, where: str) -> None:
    if dtype.kind != "f":
        raise RuntimeError(
            f"{where}: only floating point tensors can require gradients, got dtype {dtype}"
        )


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    >>> import microtensor as mt
    >>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = (
        "_data",
        "grad",
        "requires_grad",
        "_node",
        "_oi",
        "_version",
        "_hooks",
        "_alias",
        "__weakref__",
    )
    _data: ndarray
    grad: Tensor | None
    requires_grad: bool
    _node: Node | None  # None for a leaf
    _oi: int
    _version: int
    _hooks: list[Callable] | None
    _alias: Alias | None
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray + Tensor -> Tensor
    is_cuda, is_cpu = False, True
    if TYPE_CHECKING:  # the op methods and operators are set on the class after it (setattr)

        def __getattr__(self, name: str) -> Callable[..., Any]: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: object) -> Any: ...  # elementwise: a Tensor, not a bool
        def __neg__(self) -> Tensor: ...

        __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __add__
        __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __mod__ = __rmod__ = __add__
        __floordiv__ = __rfloordiv__ = __and__ = __rand__ = __or__ = __ror__ = __add__
        __xor__ = __rxor__ = __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = __add__
        __lt__ = __le__ = __gt__ = __ge__ = __add__
        __ne__ = __eq__
        __abs__ = __invert__ = __neg__

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False) -> None:
        self._data = _as_array(data, dtype)
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
    def data(self) -> Tensor:
        """PyTorch's `.data`: the same memory as a tensor outside the graph, with a version
        counter of its own, so that a change through it (`p.data -= lr * p.grad`) is not
        seen by autograd. Prefer no_grad() updates and detach(), which autograd checks."""
        return _wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        """`p.data = t`: p takes t's memory (any shape or dtype); p's history is not told."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data: the new data must be a Tensor, got {type(value).__name__}")
        if self.requires_grad and value._data.dtype.kind != "f":
            raise RuntimeError(
                f"data: a tensor that requires grad must stay floating, "
                f"got dtype {value._data.dtype}"
            )
        self._data = value._data

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        """Always the CPU: microtensor computes there only."""
        return _CPU

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made; only leaves accumulate `.grad` in backward."""
        return self._node is None

    grad_fn = property(
        attrgetter("_node"),
        doc="The node that produced this tensor (None for leaves); its `.name` is the op's.",
    )

    @property
    def T(self) -> Tensor:
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None):
        """The shape as a Size, or the length of dimension `dim` (negative counts back)."""
        shape = self._data.shape
        return Size(shape) if dim is None else shape[O._dim(dim, len(shape), "size")]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        """The tensor's slices along dim 0 (views, as x[i])."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __contains__(self, element) -> bool:
        """Whether any element equals `element` (a number or a tensor)."""
        if not isinstance(element, (Tensor, bool, int, float, complex, xp.generic)):
            raise RuntimeError(
                f"Tensor.__contains__ only supports Tensor or scalar, but you "
                f"passed in a {type(element)}."
            )
        return bool((self == element).any())

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a tensor with {self._data.size} elements (shape "
                f"{self._data.shape}) cannot be converted to a Python scalar"
            )
        return self._data.item()

    def numpy(self, *, force: bool = False) -> ndarray:
        """The array itself (shared memory); refused on a tensor that requires grad
        unless force=True, as in PyTorch."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use "
                "tensor.detach().numpy() instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None) -> ndarray:
        """np.asarray(t): numpy() (so refused if t requires grad), cast to dtype if given."""
        arr = self.numpy()
        if copy:
            arr = arr.copy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def tolist(self):
        return self._data.tolist()

    def _scalar(self, kind: str):
        if self._data.size != 1:
            raise ValueError(
                f"{kind}: only one element tensors can be converted to Python "
                f"scalars, got {self._data.size} elements (shape "
                f"{self._data.shape})"
            )
        return self._data.item()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is "
                f"ambiguous ({self._data.size} elements); use .any() or "
                f".all()"
            )
        return bool(self._data.item())

    def __index__(self) -> int:
        if self._data.size != 1 or self._data.dtype.kind not in "biu":
            raise TypeError(
                f"only integer tensors of a single element can be converted to "
                f"an index, got a {self._data.dtype} tensor of shape "
                f"{self._data.shape}"
            )
        return self._data.item().__index__()

    def __format__(self, format_spec: str) -> str:
        """f"{loss:.4f}" formats a 0-d tensor's value, as in PyTorch."""
        if self._data.ndim == 0:
            return format(self._data.item(), format_spec)
        return object.__format__(self, format_spec)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        node = self._node
        return tensor_repr(
            self._data, None if node is None else node.backward_name, self.requires_grad
        )

    # -- autograd ---------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._node is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: a non-leaf tensor always requires grad; "
                "use detach() to get one that does not"
            )
        if requires_grad:
            _check_grad_dtype(self.dtype, "requires_grad_")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same array, cut from the graph. As in PyTorch it shares memory and the
        version counter: changing either in place is caught where the other was saved."""
        return _autograd.share_version(self, _wrap(self._data))

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place: it becomes a leaf without grad."""
        if self._alias is not None and self._alias.base is not None:
            raise RuntimeError("detach_: can't detach views in-place; use detach() instead")
        self._node, self._oi, self.requires_grad = None, 0, False
        return self

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
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        if self._node is None:
            self._hooks = self._hooks or []
            hooks = self._hooks
        else:
            hooks = self._node._extra("hook", self._oi)
        hooks.append(hook)
        return lambda: hooks.remove(hook) if hook in hooks else None

    def backward(
        self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad`."""
        _autograd.backward(self, gradient, retain_graph, create_graph)

    def draw(self, **options):
        """Render this tensor's graph with graphviz (see microtensor.viz)."""
        from . import viz

        return viz.draw_graph(self, **options)

    # -- operators: + - * / ** @ % // & | ^ << >> < ... and their reflected forms are the
    # op functions themselves, set at the end of this file
    def __pos__(self):
        return self

    # -- in place (refused on leaves that require grad, outside no_grad) ---------------
    def __iadd__(self, other):
        return _autograd.apply_inplace(O.Add, self, other)

    def __isub__(self, other):
        return _autograd.apply_inplace(O.Sub, self, other)

    def __imul__(self, other):
        return _autograd.apply_inplace(O.Mul, self, other)

    def __itruediv__(self, other):
        return _autograd.apply_inplace(O.Div, self, other)

    def add_(self, other, *, alpha=1):
        return _autograd.apply_inplace(O.Add, self, other if alpha == 1 else other * alpha)

    def sub_(self, other, *, alpha=1):
        return _autograd.apply_inplace(O.Sub, self, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return _autograd.apply_inplace(O.Mul, self, other)

    def div_(self, other):
        return _autograd.apply_inplace(O.Div, self, other)

    def clamp_(self, min=None, max=None):
        O.check_clamp_bounds(min, max, "clamp_")
        return _autograd.apply_inplace(O.Clamp, self, min=min, max=max)

    def zero_(self):
        return _autograd.apply_inplace(O.Fill, self, value=0)

    def fill_(self, value):
        return _autograd.apply_inplace(O.Fill, self, value=value)

    def copy_(self, src, non_blocking: bool = False):
        return _autograd.apply_inplace(O.CopyFrom, self, src)

    def __setitem__(self, index, value):
        _autograd.apply_inplace(O.SetItem, self, value, index=O.normalize_index(index))

    # -- indexing (the other methods are the op functions: see the end of this file) ---
    def __getitem__(self, index):
        return _autograd.apply_view(O.GetItem, self, index=O.normalize_index(index))


def _wrap(data, node=None, oi: int = 0) -> Tensor:
    """A Tensor around an op's output array, without __init__'s conversions."""
    t = _new(Tensor)
    t._data = data if type(data) is ndarray else xp.asarray(data)
    t.grad = None
    t.requires_grad = node is not None
    t._node = node
    t._oi = oi
    t._version = 0
    t._hooks = None
    t._alias = None
    return t


_new = object.__new__


def tensor(
    data: Any, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False
) -> Tensor:
    """A new leaf tensor holding a copy of `data`.

    Python floats and lists become the default dtype (float32), integers int64; numpy
    arrays keep their dtype.

    >>> import microtensor as mt
    >>> mt.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    _check_options("tensor", device, {"pin_memory": pin_memory})
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def is_tensor(obj: Any) -> bool:
    """Whether obj is a Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """Whether input's dtype is a floating one (float16, float32, float64)."""
    return _check_tensor(input, "is_floating_point").is_floating_point()


def numel(input: Tensor) -> int:
    """The number of elements of input."""
    return _check_tensor(input, "numel").numel()


def _check_tensor(input: Any, where: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(input).__name__}")
    return input


from . import autograd as _autograd  # noqa: E402  (the engine needs Tensor defined first)
from . import conversions as _conversions  # noqa: E402,F401  (x.to(), x.float(), ...)
from . import functional as _F  # noqa: E402,F401  (its composites register methods too)
from . import ops as O  # noqa: E402
from .creation import _check_options  # noqa: E402
from .creation import device as _device  # noqa: E402

_CPU = _device("cpu")

for _name, _fn in O.METHODS.items():  # x.exp() is ops.exp(x): the same function
    setattr(Tensor, _name, _fn)
# `a + b`, `a - b`, `a / b` are the Add, Sub and Div functions without keywords (mt.add
# takes alpha=, mt.div rounding_mode=): nothing stands between the operator and the op
_A = O.arithmetic
Tensor.__add__, Tensor.__sub__, Tensor.__truediv__ = _A._add, _A._sub, _A._div
Tensor.__mul__, Tensor.__pow__, Tensor.__matmul__, Tensor.__neg__ = O.mul, O.pow, O.matmul, O.neg
Tensor.__abs__, Tensor.__mod__, Tensor.__floordiv__ = O.abs, O.remainder, O.floor_divide
Tensor.__lt__, Tensor.__le__, Tensor.__gt__, Tensor.__ge__ = O.lt, O.le, O.gt, O.ge
Tensor.__eq__, Tensor.__ne__ = O.eq, O.ne
Tensor.__and__, Tensor.__or__, Tensor.__xor__ = O.bitwise_and, O.bitwise_or, O.bitwise_xor
Tensor.__lshift__, Tensor.__rshift__ = O.bitwise_left_shift, O.bitwise_right_shift
Tensor.__invert__ = O.bitwise_not


def _reflected(fn: Callable) -> Callable:
    """The reflected operator of an op function: `2 - x` is fn(2, x)."""

    def reflected(self, other):
        return fn(other, self)

    return reflected


for _name, _fn in (
    ("__radd__", _A._add),
    ("__rsub__", _A._sub),
    ("__rmul__", O.mul),
    ("__rtruediv__", _A._div),
    ("__rpow__", O.pow),
    ("__rmatmul__", O.matmul),
    ("__rmod__", O.remainder),
    ("__rfloordiv__", O.floor_divide),
    ("__rand__", O.bitwise_and),
    ("__ror__", O.bitwise_or),
    ("__rxor__", O.bitwise_xor),
    ("__rlshift__", O.bitwise_left_shift),
    ("__rrshift__", O.bitwise_right_shift),
):
    setattr(Tensor, _name, _reflected(_fn))
