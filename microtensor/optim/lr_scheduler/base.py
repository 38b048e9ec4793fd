"""LRScheduler, the base of every scheduler: the step loop, closed forms and saving."""

from __future__ import annotations

import copy

from ..optimizer import Optimizer

__all__ = ["LRScheduler"]


def _check_optimizer(where: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: expected an Optimizer, got {type(optimizer).__name__}")


def _per_group(where: str, name: str, optimizer: Optimizer, value) -> list:
    """One value per parameter group: a list as given (of the right length), or a single
    value repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{where}: {len(value)} {name} values for {n} parameter groups")
        return list(value)
    return [value] * n


class LRScheduler:
    """Base class: records each group's starting lr as "initial_lr" (kept if already
    there) and takes the first step at construction, so last_epoch starts at 0."""

    def __init__(self, optimizer: Optimizer) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def get_lr(self) -> list[float]:
        """The lrs for epoch `last_epoch`, from the current ones (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr")

    def _get_closed_form_lr(self) -> list[float]:
        """The lrs for epoch `last_epoch` from base_lrs alone, for SequentialLR's jump to
        epoch 0 of the next scheduler (get_lr where that already is the closed form)."""
        return self.get_lr()

    def get_last_lr(self) -> list[float]:
        """The lr of each group as set by the last step()."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set each group's lr."""
        self._update_lr(None)

    def _update_lr(self, epoch: int | None) -> None:
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            lrs = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._lrs()

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # attributes state_dict leaves out or saves its own way
    _unsaved: tuple[str, ...] = ("optimizer",)

    def state_dict(self) -> dict:
        """Everything but the optimizer (which saves its own state), copied."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k not in self._unsaved})

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state_dict() of a scheduler of the same kind."""
        unsaved = set(self._unsaved)
        own = set(self.__dict__) - unsaved
        missing, unexpected = own - set(state_dict), set(state_dict) - own - unsaved
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: missing keys "
                f"{sorted(missing)}, unexpected keys {sorted(unexpected)}"
            )
        self.__dict__.update(
            copy.deepcopy({k: v for k, v in state_dict.items() if k not in unsaved})
        )
