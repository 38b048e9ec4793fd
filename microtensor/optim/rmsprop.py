"""RMSprop: gradients divided by a running root mean square, optionally centered and
with momentum (as torch.optim.RMSprop)."""

from __future__ import annotations

from collections.abc import Iterable

from ..backend import ndarray, xp
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, PyTorch's algorithm and defaults.

    Per step, with g the gradient (negated when maximize) plus weight_decay * p:
    v = alpha v + (1 - alpha) g²; centered: a = alpha a + (1 - alpha) g and
    d = sqrt(v - a²) + eps, else d = sqrt(v) + eps; with momentum
    b = momentum b + g / d and p -= lr b, else p -= lr g / d.
    """

    def _update_reads_params(self, group: dict) -> bool:
        return group["weight_decay"] != 0  # only weight decay reads the values

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
        )

    def _check(self, group: dict) -> None:
        super()._check(group)
        for option in ("alpha", "eps", "weight_decay", "momentum"):
            self._require(group, option, group[option] >= 0)

    def _state_spec(self, group: dict) -> dict:
        spec = {"square_avg": 0.0}
        if group["momentum"] > 0:
            spec["momentum_buffer"] = 0.0
        if group["centered"]:
            spec["grad_avg"] = 0.0
        return spec

    def _update(
        self, group: dict, p: ndarray, g: ndarray, tmp: ndarray, st: dict, step: int
    ) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        self._ascent_and_l2(group, p, g, tmp)
        v = st["square_avg"]
        v *= alpha
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - alpha
        v += tmp
        if group["centered"]:
            a = st["grad_avg"]
            xp.subtract(g, a, out=tmp)  # a.lerp_(g, 1 - alpha)
            tmp *= 1 - alpha
            a += tmp
            xp.multiply(a, a, out=tmp)
            xp.subtract(v, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(v, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)
        if momentum > 0:
            b = st["momentum_buffer"]
            b *= momentum
            b += tmp
            xp.multiply(b, group["lr"], out=tmp)
        else:
            tmp *= group["lr"]
