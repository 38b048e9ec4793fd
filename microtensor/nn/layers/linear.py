"""Layers that hold a weight matrix or reshape: Identity, Linear, Bilinear, Flatten,
Unflatten; and the helpers every layer with parameters shares (PyTorch's factory
arguments and default initialisation)."""

from __future__ import annotations

import math

from ...creation import _check_device, empty
from ...tensor import Tensor, get_default_dtype
from .. import functional as F
from .. import init
from ..module import Module, Parameter

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


def new_parameter(*shape, device=None, dtype=None, where: str = "") -> Parameter:
    """An uninitialised Parameter of `shape` (filled by the layer's reset_parameters),
    of `dtype` or the default dtype; the device may be given but must be the CPU."""
    _check_device(where, device)
    return Parameter(empty(*shape, dtype=dtype or get_default_dtype()))


def uniform_bound(tensor: Tensor, fan_in: int) -> Tensor:
    """Fill with U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nothing to draw when fan_in is 0)."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    return init.uniform_(tensor, -bound, bound)


def reset_like_pytorch(weight: Parameter, bias: Parameter | None) -> None:
    """Kaiming-uniform weights with a = sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)):
    what torch.nn.Linear and the convolutions do."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        uniform_bound(bias, math.prod(weight.shape[1:]))


class Identity(Module):
    """Returns its input; takes (and ignores) any arguments, as torch.nn.Identity."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features), as torch.nn.Linear."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = new_parameter(
            out_features, in_features, device=device, dtype=dtype, where="Linear"
        )
        self.bias = new_parameter(out_features, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_like_pytorch(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """y = x1ᵀ W x2 + b with W of shape (out, in1, in2); weight and bias drawn from
    U(-1/sqrt(in1), 1/sqrt(in1)), as torch.nn.Bilinear."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = new_parameter(
            out_features, in1_features, in2_features, device=device, dtype=dtype, where="Bilinear"
        )
        self.bias = new_parameter(out_features, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        uniform_bound(self.weight, self.in1_features)
        if self.bias is not None:
            uniform_bound(self.bias, self.in1_features)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)


class Unflatten(Module):
    """Expand dim into unflattened_size (a view), as torch.nn.Unflatten."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
