"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay (as
torch.optim.Adam and torch.optim.AdamW)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..backend import ndarray, xp
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, PyTorch's algorithm and defaults.

    Per step t, with g the gradient (negated when maximize) plus weight_decay * p:
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; with amsgrad v_max = max(v_max, v)
    replaces v below (the maximum of the raw averages, as PyTorch's code does);
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).

    >>> import microtensor as mt
    >>> w = mt.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = mt.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()  # the first step moves each weight by lr against its gradient's sign
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _decoupled = False

    def _update_reads_params(self, group: dict) -> bool:
        return group["weight_decay"] != 0  # only weight decay reads the values

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    def _check(self, group: dict) -> None:
        super()._check(group)
        betas = group["betas"]
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{self._name}: invalid betas {betas!r} (two numbers, each in [0, 1))")
        self._require(group, "eps", group["eps"] >= 0)
        self._require(group, "weight_decay", group["weight_decay"] >= 0)

    def _state_spec(self, group: dict) -> dict:
        if group["amsgrad"]:
            return {"exp_avg": 0.0, "exp_avg_sq": 0.0, "max_exp_avg_sq": 0.0}
        return {"exp_avg": 0.0, "exp_avg_sq": 0.0}

    def _update(
        self, group: dict, p: ndarray, g: ndarray, tmp: ndarray, st: dict, step: int
    ) -> None:
        lr, weight_decay = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            xp.negative(g, out=g)
        if weight_decay != 0:
            if self._decoupled:
                p *= 1 - lr * weight_decay
            else:
                xp.multiply(p, weight_decay, out=tmp)
                g += tmp
        m, v = st["exp_avg"], st["exp_avg_sq"]
        xp.subtract(g, m, out=tmp)  # m.lerp_(g, 1 - beta1)
        tmp *= 1 - beta1
        m += tmp
        v *= beta2
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        if group["amsgrad"]:
            v = xp.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
        xp.sqrt(v, out=tmp)
        tmp /= math.sqrt(1 - beta2**step)
        tmp += group["eps"]
        xp.divide(m, tmp, out=tmp)
        tmp *= lr / (1 - beta1**step)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step,
    instead of adding weight_decay * p to the gradient (PyTorch's AdamW, default 1e-2)."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
