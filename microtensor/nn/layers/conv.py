"""Convolution layers (Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d) and the padding
layers (ZeroPad2d, ReflectionPad2d, ...), as torch.nn's: the same arguments, parameter
shapes and initialisation; forward calls nn.functional."""

from __future__ import annotations

from collections.abc import Callable

from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from .linear import new_parameter, reset_like_pytorch

__all__ = [
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "CircularPad1d",
    "CircularPad2d",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(v, n: int, name: str, where: str) -> tuple:
    t = (v,) * n if isinstance(v, int) else tuple(v)
    if len(t) != n or not all(isinstance(i, int) for i in t):
        raise ValueError(f"{where}: {name} must be an int or {n} ints, got {v!r}")
    return t


class _ConvNd(Module):
    """What the convolutions share, with PyTorch's signature: checked settings, the
    weight (out, in/groups, *k) or, transposed, (in, out/groups, *k), PyTorch's
    initialisation, and the repr. Subclasses name their dims and function."""

    n: int = 2
    transposed = False
    function: Callable[..., Tensor] = staticmethod(F.conv2d)  # transposed ones take more

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        where, n = type(self).__name__, self.n
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{where}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{where}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{where}: padding must be 'valid', 'same' or ints, got {padding!r}")
        if padding == "same" and any(s != 1 for s in _tuple(stride, n, "stride", where)):
            raise ValueError(f"{where}: padding='same' is not supported for strided convolutions")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", where)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups, self.padding_mode = groups, padding_mode
        shape = (
            (in_channels, out_channels // groups)
            if self.transposed
            else (out_channels, in_channels // groups)
        )
        self.weight = new_parameter(
            *shape, *self.kernel_size, device=device, dtype=dtype, where=where
        )
        self.bias = new_parameter(out_channels, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_like_pytorch(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return self.function(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )

    def _padded(self, input: Tensor) -> tuple:
        """(input, padding for the functional): a padding_mode other than zeros pads the
        input here, as PyTorch does, and leaves none to the convolution."""
        if self.padding_mode == "zeros" or self.padding == "valid":
            return input, self.padding
        n = len(self.kernel_size)
        if self.padding == "same":
            total = [
                d * (k - 1)
                for d, k in zip(_tuple(self.dilation, n, "dilation", ""), self.kernel_size)
            ]
            pairs = [(t // 2, t - t // 2) for t in total]
        else:
            pairs = [(p, p) for p in _tuple(self.padding, n, "padding", "")]
        flat = tuple(v for pair in reversed(pairs) for v in pair)
        return F.pad(input, flat, mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )
        for name, default in (("dilation", 1), ("output_padding", 0), ("groups", 1)):
            value = getattr(self, name, default)
            if value != default and value != (default,) * len(self.kernel_size):
                s += f", {name}={value}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L), as torch.nn.Conv1d."""

    n, function = 1, staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W), as torch.nn.Conv2d: groups,
    padding 'same'/'valid', padding modes zeros, reflect, replicate and circular."""


class _ConvTransposeNd(_ConvNd):
    """A transposed convolution, with PyTorch's signature (output_padding after
    padding, dilation after bias); only zero padding."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(
                f"{type(self).__name__}: only padding_mode 'zeros' is supported, "
                f"got {padding_mode!r}"
            )
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be ints, got {padding!r}")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )
        self.output_padding = output_padding

    def forward(self, input: Tensor) -> Tensor:
        return self.function(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """The transpose of Conv1d (its gradient), as torch.nn.ConvTranspose1d."""

    n, function = 1, staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """The transpose of Conv2d (its gradient), as torch.nn.ConvTranspose2d: upsamples by
    the stride; output_padding settles the size when several inputs map to one output."""

    function = staticmethod(F.conv_transpose2d)


# ---------------------------------------------------------------------------- padding
def _padding_layer(name: str, n: int, mode: str, with_value: bool):
    """A padding layer class: `padding` an int (every side) or 2n ints (left, right,
    top, bottom); ConstantPad takes the fill value too (ZeroPad fills with 0)."""

    def __init__(self, padding, *value) -> None:
        if len(value) != with_value:
            raise TypeError(f"{name}() takes padding{' and value' if with_value else ''}")
        Module.__init__(self)
        self.padding = _tuple(padding, 2 * n, "padding", name)
        self.value = value[0] if value else 0.0

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, mode, self.value if mode == "constant" else None)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}" if with_value else f"{self.padding}"

    return type(
        name,
        (Module,),
        {
            "__init__": __init__,
            "forward": forward,
            "extra_repr": extra_repr,
            "__module__": __name__,
            "__doc__": f"{mode.capitalize()} padding of the last {n} "
            f"dim{'s' if n > 1 else ''}, as torch.nn.{name}.",
        },
    )


ZeroPad1d = _padding_layer("ZeroPad1d", 1, "constant", False)
ZeroPad2d = _padding_layer("ZeroPad2d", 2, "constant", False)
ConstantPad1d = _padding_layer("ConstantPad1d", 1, "constant", True)
ConstantPad2d = _padding_layer("ConstantPad2d", 2, "constant", True)
ReflectionPad1d = _padding_layer("ReflectionPad1d", 1, "reflect", False)
ReflectionPad2d = _padding_layer("ReflectionPad2d", 2, "reflect", False)
ReplicationPad1d = _padding_layer("ReplicationPad1d", 1, "replicate", False)
ReplicationPad2d = _padding_layer("ReplicationPad2d", 2, "replicate", False)
CircularPad1d = _padding_layer("CircularPad1d", 1, "circular", False)
CircularPad2d = _padding_layer("CircularPad2d", 2, "circular", False)
