"""Tensor.to and the methods built on it, as PyTorch has them: x.float(), x.long(), ...,
x.type(), x.type_as(), x.cpu(), x.cuda() (refused: no GPU), x.contiguous(), and the
x.new_zeros() family. Attached to Tensor at import, as its op methods are."""

from __future__ import annotations

from collections.abc import Callable

from .autograd import apply
from .backend import xp
from .creation import _check_options, empty, full, ones, zeros
from .creation import device as _Device
from .dtypes import TENSOR_TYPES, dtype_name
from .ops import Cast, clone
from .tensor import Tensor, _wrap
from .tensor import tensor as _tensor

__all__: list = []


def to(
    self: Tensor,
    *args,
    dtype=None,
    device=None,
    non_blocking: bool = False,
    copy: bool = False,
    memory_format=None,
) -> Tensor:
    """`to(dtype)`, `to(device)`, `to(device, dtype)` or `to(other)` (other's dtype). The
    tensor itself when nothing changes (unless copy=True); otherwise a copy that stays in
    the graph, except a cast to an integer or bool dtype, which has no gradient (as in
    PyTorch). non_blocking changes nothing on the CPU.

    >>> import microtensor as mt
    >>> x = mt.tensor([1.5, 2.5])
    >>> x.to("cpu") is x, x.to(mt.int64)
    (True, tensor([1, 2]))
    """
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, bool):
            raise TypeError(
                f"to: expected a dtype, a device or a tensor, got {arg!r}; pass "
                f"non_blocking and copy by keyword"
            )
        elif isinstance(arg, (str, _Device, int)):  # an int is an accelerator's index
            device = arg
        else:
            dtype = arg
    _check_options("to", device, {"memory_format": memory_format})
    dtype = self.dtype if dtype is None else xp.dtype(dtype)
    if dtype == self.dtype and not copy:
        return self
    if dtype.kind not in "fc":
        return _wrap(self._data.astype(dtype))
    return apply(Cast, self, dtype=dtype)


def tensor_type(self: Tensor, dtype=None, non_blocking: bool = False):
    """With no dtype, the type's name as PyTorch gives it ('microtensor.FloatTensor');
    with one (a dtype, or a name such as 'torch.DoubleTensor'), `to(dtype)`."""
    if dtype is None:
        name = self.dtype.name
        return f"microtensor.{TENSOR_TYPES.get(name, name)}"
    if isinstance(dtype, str):
        module, _, name = dtype.rpartition(".")
        dtypes = {v: k for k, v in TENSOR_TYPES.items()}
        if module not in ("torch", "microtensor") or name not in dtypes:
            raise RuntimeError(
                f"type: {dtype!r} is not a tensor type microtensor has (it "
                f"computes on the CPU only): expected one of "
                f"{', '.join('torch.' + n for n in dtypes)}"
            )
        dtype = xp.dtype(dtypes[name])
    return to(self, dtype)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """The tensor in other's dtype."""
    return to(self, other.dtype)


def cpu(self: Tensor, memory_format=None) -> Tensor:
    """Itself: microtensor's tensors live on the CPU."""
    _check_options("cpu", None, {"memory_format": memory_format})
    return self


def cuda(self: Tensor, device=None, non_blocking: bool = False, memory_format=None):
    """Refused: microtensor has no GPU."""
    raise RuntimeError(
        "cuda: CUDA is not available: microtensor computes on the CPU only; "
        "leave .cuda() out, or use .to(device) with device='cpu'"
    )


def contiguous(self: Tensor, memory_format=None) -> Tensor:
    """Itself if its memory is in row-major order, else a row-major copy (a clone)."""
    _check_options("contiguous", None, {"memory_format": memory_format})
    return self if self._data.flags.c_contiguous else clone(self)


def _conversion(name: str, dtype) -> Callable:
    """The method x.<name>(): x.to(dtype)."""

    def convert(self: Tensor) -> Tensor:
        return to(self, dtype)

    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = f"The tensor as {dtype_name(dtype)}: itself if it already is."
    return convert


def _new(factory: Callable, name: str) -> Callable:
    """The method x.<name>(...): factory(...) in x's dtype unless dtype is given."""

    def new(self: Tensor, *args, dtype=None, **kwargs) -> Tensor:
        return factory(*args, dtype=self.dtype if dtype is None else dtype, **kwargs)

    new.__name__ = new.__qualname__ = name
    new.__doc__ = (
        f"{factory.__name__}(...) in this tensor's dtype unless dtype says "
        f"otherwise, as torch.Tensor.{name}."
    )
    return new


# PyTorch's conversion methods and the dtypes they give
_CONVERSIONS = {
    "half": xp.float16,
    "float": xp.float32,
    "double": xp.float64,
    "byte": xp.uint8,
    "char": xp.int8,
    "short": xp.int16,
    "int": xp.int32,
    "long": xp.int64,
    "bool": xp.bool_,
}
for _name, _dtype in _CONVERSIONS.items():
    setattr(Tensor, _name, _conversion(_name, xp.dtype(_dtype)))
for _name, _factory in (
    ("new_zeros", zeros),
    ("new_ones", ones),
    ("new_empty", empty),
    ("new_full", full),
    ("new_tensor", _tensor),
):
    setattr(Tensor, _name, _new(_factory, _name))
for _name, _fn in (
    ("to", to),
    ("type", tensor_type),
    ("type_as", type_as),
    ("cpu", cpu),
    ("cuda", cuda),
    ("contiguous", contiguous),
):
    setattr(Tensor, _name, _fn)
