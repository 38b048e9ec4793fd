"""Adagrad: per-coordinate step sizes from the sum of squared gradients (as
torch.optim.Adagrad)."""

from __future__ import annotations

from collections.abc import Iterable

from ..backend import ndarray, xp
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, PyTorch's algorithm and defaults.

    Per step t, with g the gradient (negated when maximize) plus weight_decay * p: s += g²;
    p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps), s starting at
    initial_accumulator_value.
    """

    def _update_reads_params(self, group: dict) -> bool:
        return group["weight_decay"] != 0  # only weight decay reads the values

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
                maximize=maximize,
            ),
        )

    def _check(self, group: dict) -> None:
        super()._check(group)
        for option in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._require(group, option, group[option] >= 0)

    def _state_spec(self, group: dict) -> dict:
        return {"sum": group["initial_accumulator_value"]}

    def _update(
        self, group: dict, p: ndarray, g: ndarray, tmp: ndarray, st: dict, step: int
    ) -> None:
        self._ascent_and_l2(group, p, g, tmp)
        s = st["sum"]
        xp.multiply(g, g, out=tmp)
        s += tmp
        xp.sqrt(s, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)
        tmp *= group["lr"] / (1 + (step - 1) * group["lr_decay"])
