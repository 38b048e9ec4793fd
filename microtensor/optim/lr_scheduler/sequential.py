"""SequentialLR: schedulers run one after another."""

from __future__ import annotations

from bisect import bisect_right

from ..optimizer import Optimizer
from .base import LRScheduler, _check_optimizer
from .plateau import ReduceLROnPlateau

__all__ = ["SequentialLR"]


class SequentialLR(LRScheduler):
    """Run `schedulers` one after another, switching at each of the `milestones` epochs;
    each one after the first starts from its epoch 0 (base_lr in closed form).

    >>> import microtensor as mt
    >>> opt = mt.optim.SGD([mt.zeros(1, requires_grad=True)], lr=1.0)
    >>> warmup = mt.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = mt.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched = mt.optim.lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[2])
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     sched.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    _unsaved = ("optimizer", "_schedulers")

    def __init__(
        self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int]
    ) -> None:
        _check_optimizer("SequentialLR", optimizer)
        if not schedulers:
            raise ValueError("SequentialLR: expects at least one scheduler, got none")
        for i, sched in enumerate(schedulers):
            if not isinstance(sched, LRScheduler):
                raise TypeError(
                    f"SequentialLR: scheduler {i} is a {type(sched).__name__}, not an LRScheduler"
                )
            if isinstance(sched, ReduceLROnPlateau):
                raise ValueError(
                    f"SequentialLR: scheduler {i} is a ReduceLROnPlateau, which "
                    f"needs a metric at each step and cannot be chained"
                )
            if sched.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR: scheduler {i} ({type(sched).__name__}) "
                    f"belongs to another optimizer"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: {len(schedulers)} schedulers need "
                f"{len(schedulers) - 1} milestones, got {len(milestones)}"
            )
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.optimizer = optimizer
        self.last_epoch = 0
        for group in optimizer.param_groups:  # undo the steps the schedulers took when made
            group["lr"] = group["initial_lr"]
        _undo_step(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first.step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for sched, saved in zip(self._schedulers, state_dict.get("_schedulers", ())):
            sched.load_state_dict(saved)


def _undo_step(sched: LRScheduler) -> None:
    """Take back the step each scheduler in a SequentialLR (at any depth) took."""
    if isinstance(sched, SequentialLR):
        for inner in sched._schedulers:
            _undo_step(inner)
    else:
        sched.last_epoch -= 1
