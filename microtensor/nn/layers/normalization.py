"""Normalization layers: LayerNorm, RMSNorm, BatchNorm1d/2d/3d and GroupNorm, as
torch.nn's (the same arguments, parameters, buffers and defaults)."""

from __future__ import annotations

from ...creation import ones, tensor, zeros
from ...tensor import Tensor, get_default_dtype
from .. import functional as F
from .. import init
from ..module import Module
from .linear import new_parameter

__all__ = ["LayerNorm", "RMSNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm"]


class _Affine(Module):
    """A weight of ones and a bias of zeros of `shape` (or None, without `affine`)."""

    def _affine(self, shape: tuple, affine: bool, bias: bool, device, dtype) -> None:
        where = type(self).__name__
        self.weight = (
            new_parameter(*shape, device=device, dtype=dtype, where=where) if affine else None
        )
        self.bias = new_parameter(*shape, dtype=dtype) if affine and bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class _TrailingNorm(_Affine):
    """A normalization over the trailing normalized_shape dims."""

    def __init__(
        self, normalized_shape, eps, elementwise_affine: bool, bias: bool, device, dtype
    ) -> None:
        super().__init__()
        self.normalized_shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._affine(self.normalized_shape, elementwise_affine, bias, device, dtype)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LayerNorm(_TrailingNorm):
    """Standardize over the trailing normalized_shape dims, then scale and shift
    elementwise, as torch.nn.LayerNorm."""

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", bias={self.bias is not None}"


class RMSNorm(_TrailingNorm):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times a weight, as
    torch.nn.RMSNorm (eps None: the dtype's machine epsilon)."""

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, False, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)


class _BatchNorm(_Affine):
    """Batch normalization over channel dim 1. In training it uses the batch's
    statistics and, with track_running_stats, moves running_mean and running_var (the
    unbiased variance) toward them by momentum, or by 1 / num_batches_tracked (a
    cumulative average) when momentum is None; in eval it uses the running ones."""

    dims: tuple = ()
    # buffers (register_buffer), None without track_running_stats
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._affine((num_features,), affine, bias, device, dtype)
        if track_running_stats:
            dtype = dtype or get_default_dtype()
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:  # then __init__ registered the three buffers
            assert self.running_mean is not None and self.running_var is not None
            assert self.num_batches_tracked is not None
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self.dims:
            raise ValueError(
                f"{type(self).__name__}: expected "
                f"{' or '.join(f'{d}D' for d in self.dims)} input (got "
                f"{input.ndim}D input of shape {tuple(input.shape)})"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            assert self.num_batches_tracked is not None  # registered with the statistics
            batches = int(self.num_batches_tracked.item()) + 1
            init.constant_(self.num_batches_tracked, batches)
            if self.momentum is None:
                factor = 1.0 / batches
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L), as torch.nn.BatchNorm1d."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W), as torch.nn.BatchNorm2d."""

    dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W), as torch.nn.BatchNorm3d."""

    dims = (5,)


class GroupNorm(_Affine):
    """Standardize each group of channels of each sample, then scale and shift per
    channel, as torch.nn.GroupNorm."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible "
                f"by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.affine = affine
        self._affine((num_channels,), affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
            f"affine={self.affine}, bias={self.bias is not None}"
        )
