"""OneCycleLR: the 1cycle policy of the lr and the momentum."""

from __future__ import annotations

import math

from ..optimizer import Optimizer
from .base import LRScheduler, _check_optimizer, _per_group

__all__ = ["OneCycleLR"]


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped after every batch: the lr rises from max_lr / div_factor
    to max_lr over the first pct_start of total_steps, then anneals (cosine or linear)
    down to max_lr / (div_factor * final_div_factor). With three_phase it first comes
    back down to the starting lr as it rose, then anneals to the minimum. With
    cycle_momentum, the momentum (SGD) or beta1 (Adam) moves the other way, between
    max_momentum and base_momentum. PyTorch's defaults throughout.

    >>> import microtensor as mt
    >>> opt = mt.optim.SGD([mt.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = mt.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> round(sched.get_last_lr()[0], 6), opt.param_groups[0]["momentum"]
    (0.04, 0.95)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        _check_optimizer("OneCycleLR", optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ValueError(f"OneCycleLR: {name} must be a positive int, got {value!r}")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be a positive int, got {total_steps!r}")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be a float in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        # (last step, lr from, lr to, momentum from, momentum to), by group option names
        rise = (
            pct_start * total_steps - 1,
            "initial_lr",
            "max_lr",
            "max_momentum",
            "base_momentum",
        )
        self._schedule_phases = [
            rise,
            (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]
        if three_phase:
            self._schedule_phases[1:] = [
                (
                    2 * pct_start * total_steps - 2,
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        groups = optimizer.param_groups
        for group, top in zip(groups, _per_group("OneCycleLR", "max_lr", optimizer, max_lr)):
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"OneCycleLR: cycle_momentum needs an optimizer with momentum "
                    f"or betas, not {type(optimizer).__name__}"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            for group, top, low in zip(
                groups,
                _per_group("OneCycleLR", "max_momentum", optimizer, max_momentum),
                _per_group("OneCycleLR", "base_momentum", optimizer, base_momentum),
            ):
                self._set_momentum(group, top)
                group["max_momentum"], group["base_momentum"] = top, low
        super().__init__(optimizer)

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; the specified number "
                f"of total steps is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self._schedule_phases):
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m_from], group[m_to], pct))
                    break
                start = end
        return lrs
