"""Factories: new leaf tensors filled with a value, a range, or another tensor's shape, and
tensors around numpy arrays; the random ones live in `random.py`. Arguments follow
PyTorch: a shape as `zeros(2, 3)`, `zeros((2, 3))` or `zeros(size=(2, 3))`, and `dtype=`,
`device=` and `requires_grad=` on every factory."""

from __future__ import annotations

import operator
from typing import Any

from .backend import ndarray, xp
from .tensor import Tensor, _check_grad_dtype, _wrap, get_default_dtype, tensor

__all__ = [
    "device",
    "memory_format",
    "contiguous_format",
    "preserve_format",
    "channels_last",
    "empty",
    "zeros",
    "ones",
    "full",
    "arange",
    "linspace",
    "logspace",
    "eye",
    "empty_like",
    "zeros_like",
    "ones_like",
    "full_like",
    "from_numpy",
    "as_tensor",
]

_DEVICE_TYPES = (
    "cpu",
    "cuda",
    "ipu",
    "xpu",
    "mkldnn",
    "opengl",
    "opencl",
    "ideep",
    "hip",
    "ve",
    "fpga",
    "maia",
    "xla",
    "lazy",
    "vulkan",
    "mps",
    "meta",
    "hpu",
    "mtia",
    "privateuseone",
)  # the names torch.device knows


class device:
    """A device named as PyTorch names one (`device("cpu")`, `device("cuda", 0)`), so code
    that passes devices around runs; factories accept the CPU only, where microtensor
    computes.

    >>> import microtensor as mt
    >>> mt.device("cpu"), mt.device("cpu:0").index
    (device(type='cpu'), 0)
    """

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: str | device, index: int | None = None) -> None:
        if isinstance(type, device):
            index = type.index if index is None else index
            type = type.type
        elif not isinstance(type, str):
            raise TypeError(
                f"device: expected a string such as 'cpu', got {type.__class__.__name__}"
            )
        elif ":" in type:
            if index is not None:
                raise RuntimeError(
                    f"device: {type!r} already has an index; pass index "
                    f"only with a bare type such as 'cpu'"
                )
            type, number = type.split(":", 1)
            if not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type + ':' + number!r}")
            index = int(number)
        if type not in _DEVICE_TYPES:
            raise RuntimeError(
                f"device: expected one of {', '.join(_DEVICE_TYPES)} as the "
                f"device type, got {type!r}"
            )
        if index is not None and (
            isinstance(index, bool) or not isinstance(index, int) or index < 0
        ):
            raise RuntimeError(f"device: the index must be a non-negative int, got {index!r}")
        self.type, self.index = type, index

    def __eq__(self, other: object) -> bool:
        """Equal to a device of the same type and index; not to a string (as in PyTorch,
        where device("cpu") == "cpu" is False: compare `.type` for that)."""
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


def _check_device(where: str, dev: Any) -> None:
    """None, 'cpu', 'cpu:0' and device('cpu') pass; any other device is refused by name."""
    if dev is None:
        return
    if isinstance(dev, (str, device)):
        try:
            dev = device(dev)
        except RuntimeError as e:
            raise RuntimeError(f"{where}: {e}") from None
        if dev.type == "cpu":
            return
    elif isinstance(dev, bool) or not isinstance(dev, int):  # an int is an accelerator's index
        raise TypeError(f"{where}: device must be a string or mt.device, got {type(dev).__name__}")
    raise RuntimeError(
        f"{where}: device {str(dev)!r} is not available: microtensor computes "
        f"on the CPU only (device='cpu', or leave device out)"
    )


class memory_format:
    """PyTorch's memory formats, by name. microtensor's arrays are row-major, which
    contiguous_format asks for and preserve_format keeps: both are accepted wherever
    PyTorch takes memory_format=; channels_last is refused."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"microtensor.{self.name}"


contiguous_format, preserve_format, channels_last = (
    memory_format(name) for name in ("contiguous_format", "preserve_format", "channels_last")
)

_UNSUPPORTED = {  # PyTorch's argument: (the values we accept, why any other is refused)
    "layout": ((None,), "microtensor tensors are dense (strided) only"),
    "pin_memory": (
        (False,),
        "pinned memory serves copies to an accelerator; microtensor " + "runs on the CPU only",
    ),
    "memory_format": (
        (None, contiguous_format, preserve_format),
        "microtensor keeps numpy's row-major order",
    ),
    "out": ((None,), "assign the result instead"),
}


def _check_options(where: str, dev: Any, options: dict) -> None:
    """The device, and PyTorch's arguments microtensor lacks: accepted at their defaults,
    refused by name otherwise, never ignored."""
    _check_device(where, dev)
    for name, value in options.items():
        if name not in _UNSUPPORTED:
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")
        accepted, why = _UNSUPPORTED[name]
        if not any(value is a for a in accepted):
            raise TypeError(f"{where}: {name}={value!r} is not supported ({why}); leave {name} out")


def _shape(where: str, dims: tuple, size: Any = None) -> tuple:
    """A shape as PyTorch takes one: ints, one tuple or list of them, or size=."""
    if size is not None:
        if dims:
            raise TypeError(f"{where}() got multiple values for argument 'size'")
        dims = (size,)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    shape = []
    for i, d in enumerate(dims):
        if isinstance(d, bool):
            raise TypeError(f"{where}: size must be a tuple of ints, got bool at position {i}")
        try:
            shape.append(operator.index(d))
        except TypeError:
            raise TypeError(
                f"{where}: size must be a tuple of ints, got {type(d).__name__} at position {i}"
            ) from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{where}: negative dimension in shape {tuple(shape)}")
    return tuple(shape)


def _count(where: str, name: str, n: Any) -> int:
    """A non-negative int argument (steps, n)."""
    if isinstance(n, bool):
        raise TypeError(f"{where}: {name} must be an int, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{where}: {name} must be an int, got {type(n).__name__}") from None
    if n < 0:
        raise RuntimeError(f"{where}: {name} must be non-negative, got {n}")
    return n


def _scalar(where: str, name: str, value: Any):
    """A Python number from a number or a 0-d tensor (PyTorch's Scalar arguments)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                f"{where}: {name} must be a number or a 0-d tensor, got a "
                f"tensor of shape {value.shape}"
            )
        return value.item()
    if isinstance(value, (bool, int, float, complex, xp.number, xp.bool_)):
        return value.item() if isinstance(value, (xp.number, xp.bool_)) else value
    raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__}")


def _scalar_dtype(value) -> Any:
    """The dtype PyTorch gives a Python scalar: bool, int64, the default float, complex."""
    if isinstance(value, bool):
        return xp.dtype(xp.bool_)
    if isinstance(value, int):
        return xp.dtype(xp.int64)
    if isinstance(value, complex):
        return xp.dtype(xp.complex64 if get_default_dtype().itemsize <= 4 else xp.complex128)
    return get_default_dtype()


def _leaf(where: str, data: ndarray, requires_grad: bool) -> Tensor:
    """A leaf around a freshly made array (no copy)."""
    t = _wrap(data)
    if requires_grad:
        _check_grad_dtype(t.dtype, where)
        t.requires_grad = True
    return t


def _like(where: str, input: Any, dtype) -> tuple:
    """The shape and dtype of a *_like result: input's, unless dtype says otherwise."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
    return input.shape, input.dtype if dtype is None else xp.dtype(dtype)


def empty(
    *dims, size=None, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """Uninitialised memory of the given shape (filled by nn.init right after)."""
    _check_options("empty", device, options)
    return _leaf(
        "empty", xp.empty(_shape("empty", dims, size), dtype or get_default_dtype()), requires_grad
    )


def zeros(
    *dims, size=None, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """Zeros of the given shape, in the default dtype unless dtype says otherwise.

    >>> import microtensor as mt
    >>> mt.zeros(2, 3).shape == mt.zeros((2, 3)).shape == mt.zeros(size=[2, 3]).shape
    True
    """
    _check_options("zeros", device, options)
    return _leaf(
        "zeros", xp.zeros(_shape("zeros", dims, size), dtype or get_default_dtype()), requires_grad
    )


def ones(
    *dims, size=None, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """Ones of the given shape, in the default dtype unless dtype says otherwise."""
    _check_options("ones", device, options)
    return _leaf(
        "ones", xp.ones(_shape("ones", dims, size), dtype or get_default_dtype()), requires_grad
    )


def full(
    size, fill_value, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """`fill_value` everywhere; its type picks the dtype as in PyTorch (a bool gives bool,
    an int int64, a float the default dtype)."""
    _check_options("full", device, options)
    fill_value = _scalar("full", "fill_value", fill_value)
    dtype = _scalar_dtype(fill_value) if dtype is None else dtype
    return _leaf("full", xp.full(_shape("full", (size,)), fill_value, dtype), requires_grad)


def arange(
    start=0, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """start, start + step, ... up to end (excluded): int64 for integer arguments, the
    default dtype if any is a float. Values are computed in float64 and then rounded, as
    PyTorch does."""
    _check_options("arange", device, options)
    if end is None:
        start, end = 0, start
    start, end, step = (
        _scalar("arange", name, v) for name, v in (("start", start), ("end", end), ("step", step))
    )
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: the range from {start} to {end} runs against the sign of step {step}"
        )
    if dtype is None:
        dtype = (
            get_default_dtype()
            if any(isinstance(v, float) for v in (start, end, step))
            else xp.int64
        )
    dtype = xp.dtype(dtype)
    calc = xp.float64 if dtype.kind == "f" else dtype
    return _leaf(
        "arange", xp.arange(start, end, step, dtype=calc).astype(dtype, copy=False), requires_grad
    )


def _line(where: str, start, end, steps, dtype) -> tuple:
    """linspace's and logspace's checked arguments: start, end (in dtype's kind), steps."""
    steps = _count(where, "steps", steps)
    start, end = _scalar(where, "start", start), _scalar(where, "end", end)
    if dtype.kind == "b":
        raise TypeError(f"{where}: dtype bool is not supported; use an integer or floating dtype")
    if dtype.kind in "iu":
        start, end = int(start), int(end)  # PyTorch converts them to the dtype first
    return start, end, steps


def linspace(
    start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included. As in PyTorch, a
    floating result is computed in its own dtype, the first half forward from start and
    the second backward from end (so both ends are exact); an integer one in float64,
    then truncated.

    >>> import microtensor as mt
    >>> mt.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    _check_options("linspace", device, options)
    dtype = xp.dtype(dtype or get_default_dtype())
    start, end, steps = _line("linspace", start, end, steps, dtype)
    calc = dtype if dtype.kind in "fc" else xp.dtype(xp.float64)
    if steps == 1:
        return _leaf("linspace", xp.full(1, start, dtype), requires_grad)
    i = xp.arange(steps)
    first, last = calc.type(start), calc.type(end)
    step = (last - first) / calc.type(steps - 1)
    data = xp.where(
        i < steps // 2, first + step * i.astype(calc), last - step * (steps - 1 - i).astype(calc)
    )
    return _leaf("linspace", data.astype(dtype, copy=False), requires_grad)


def logspace(
    start,
    end,
    steps: int,
    base: float = 10.0,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """base ** linspace(start, end, steps): `steps` values evenly spaced on a log scale.
    The exponents and powers are computed in float64 from start and end in the result's
    dtype, as PyTorch does.

    >>> import microtensor as mt
    >>> mt.logspace(0, 3, 4, base=2)
    tensor([1., 2., 4., 8.])
    """
    _check_options("logspace", device, options)
    dtype = xp.dtype(dtype or get_default_dtype())
    start, end, steps = _line("logspace", start, end, steps, dtype)
    base = float(_scalar("logspace", "base", base))
    if steps == 1:
        return _leaf("logspace", xp.full(1, base ** float(start)).astype(dtype), requires_grad)
    first, last = (float(dtype.type(v)) for v in (start, end))
    step = (last - first) / (steps - 1)
    i = xp.arange(steps)
    exponent = xp.where(i < steps // 2, first + step * i, last - step * (steps - 1 - i))
    return _leaf("logspace", xp.power(base, exponent).astype(dtype), requires_grad)


def eye(
    n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """The n x m identity matrix (m = n unless given)."""
    _check_options("eye", device, options)
    n = _count("eye", "n", n)
    m = n if m is None else _count("eye", "m", m)
    return _leaf("eye", xp.eye(n, m, dtype=dtype or get_default_dtype()), requires_grad)


def empty_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """Uninitialised memory of input's shape and dtype."""
    _check_options("empty_like", device, options)
    shape, dtype = _like("empty_like", input, dtype)
    return _leaf("empty_like", xp.empty(shape, dtype), requires_grad)


def zeros_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """Zeros of input's shape and dtype."""
    _check_options("zeros_like", device, options)
    shape, dtype = _like("zeros_like", input, dtype)
    return _leaf("zeros_like", xp.zeros(shape, dtype), requires_grad)


def ones_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """Ones of input's shape and dtype."""
    _check_options("ones_like", device, options)
    shape, dtype = _like("ones_like", input, dtype)
    return _leaf("ones_like", xp.ones(shape, dtype), requires_grad)


def full_like(
    input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False, **options
) -> Tensor:
    """`fill_value` in input's shape and dtype (2.7 into an int64 tensor gives 2, as in
    PyTorch)."""
    _check_options("full_like", device, options)
    shape, dtype = _like("full_like", input, dtype)
    fill_value = _scalar("full_like", "fill_value", fill_value)
    return _leaf("full_like", xp.full(shape, fill_value, dtype), requires_grad)


def from_numpy(ndarray: ndarray) -> Tensor:
    """A tensor sharing the array's memory, as torch.from_numpy: a change to either shows in
    the other.

    >>> import numpy as np, microtensor as mt
    >>> a = np.zeros(2)
    >>> t = mt.from_numpy(a)
    >>> a[0] = 5.0
    >>> t
    tensor([5., 0.], dtype=microtensor.float64)
    """
    if not isinstance(ndarray, xp.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biufc":
        raise TypeError(
            f"from_numpy: numpy dtype {ndarray.dtype} is not supported; use a "
            f"bool, integer, floating or complex array"
        )
    return _wrap(ndarray)


def as_tensor(data: Any, dtype=None, device=None) -> Tensor:
    """`data` as a tensor without a copy where one can be avoided, as torch.as_tensor: a
    tensor of the right dtype is returned itself, a numpy array of the right dtype shares
    its memory (from_numpy); anything else is converted (a copy, `tensor(data)`)."""
    _check_device("as_tensor", device)
    dtype = None if dtype is None else xp.dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or dtype == data.dtype else data.to(dtype)
    if isinstance(data, xp.ndarray) and (dtype is None or dtype == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype)
