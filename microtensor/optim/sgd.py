"""SGD: stochastic gradient descent with optional momentum, Nesterov momentum and weight
decay (as torch.optim.SGD)."""

from __future__ import annotations

from collections.abc import Iterable

from ..backend import ndarray, xp
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's algorithm and defaults.

    Per step, with g the gradient (negated when maximize):
    g += weight_decay * p; b = g at the first step, else b = momentum * b +
    (1 - dampening) * g; g = g + momentum * b (nesterov) or b; p -= lr * g.

    >>> import microtensor as mt
    >>> w = mt.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = mt.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> w  # 1 -> 0.8 -> 0.8 - 0.1 * (0.9 * 2 + 1.6) = 0.46
    tensor([ 0.4600, -0.9200], requires_grad=True)
    """

    def _update_reads_params(self, group: dict) -> bool:
        return group["weight_decay"] != 0  # only weight decay reads the values

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def _check(self, group: dict) -> None:
        super()._check(group)
        self._require(group, "momentum", group["momentum"] >= 0)
        self._require(group, "weight_decay", group["weight_decay"] >= 0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"{self._name}: nesterov momentum needs momentum > 0 and "
                f"dampening = 0 (got momentum={group['momentum']!r}, "
                f"dampening={group['dampening']!r})"
            )

    def _state_spec(self, group: dict) -> dict:
        return {"momentum_buffer": 0.0} if group["momentum"] != 0 else {}

    def _update(
        self, group: dict, p: ndarray, g: ndarray, tmp: ndarray, st: dict, step: int
    ) -> None:
        momentum = group["momentum"]
        self._ascent_and_l2(group, p, g, tmp)
        if momentum != 0:
            buf = st["momentum_buffer"]
            if step == 1:
                xp.copyto(buf, g)
            else:
                buf *= momentum
                if group["dampening"] != 0:
                    xp.multiply(g, 1 - group["dampening"], out=tmp)
                    buf += tmp
                else:
                    buf += g
            if group["nesterov"]:
                xp.multiply(buf, momentum, out=tmp)
                g += tmp
            else:
                g = buf
        xp.multiply(g, group["lr"], out=tmp)
