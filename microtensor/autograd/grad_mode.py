"""Grad mode and anomaly mode: switches that belong to the thread (and asyncio task).

PyTorch's grad mode is thread-local; a ContextVar gives the same isolation and is as
cheap to read as a dict entry, which matters because every recorded op reads it. No
no_grad in one thread stops another thread's ops from recording, and backward turns
grad mode off only where it runs. A new thread starts with grad on, anomaly off.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
]

_grad_mode = contextvars.ContextVar("microtensor_grad_mode", default=True)
_anomaly_mode = contextvars.ContextVar("microtensor_anomaly_mode", default=False)
_grad_on = _grad_mode.get


def is_grad_enabled() -> bool:
    """Whether ops applied now, in this thread, record a graph."""
    return _grad_on()


class _Mode:
    """Context manager and decorator that sets a mode and restores it on exit."""

    __slots__ = ("prev",)
    var: contextvars.ContextVar
    mode: bool

    def __enter__(self) -> None:
        self.prev = self.var.get()
        self.var.set(self.mode)

    def __exit__(self, *exc) -> None:
        self.var.set(self.prev)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _scoped(self.var, self.mode):  # a fresh one per call: reentrant, thread-safe
                return fn(*args, **kwargs)

        return wrapper


class _GradMode(_Mode):
    """Grad mode on or off for a block (the engine's own switch)."""

    __slots__ = ("mode",)
    var = _grad_mode

    def __init__(self, mode: bool) -> None:
        self.mode = mode


class _scoped(_Mode):
    """A mode for one block, of any ContextVar (what decorators wrap each call in)."""

    __slots__ = ("var", "mode")

    def __init__(self, var: contextvars.ContextVar, mode: bool) -> None:
        self.var = var
        self.mode = mode


class no_grad(_Mode):
    """Ops inside record no graph (evaluation, optimizer updates). Per thread.

    >>> import microtensor as mt
    >>> x = mt.tensor([1.0], requires_grad=True)
    >>> with mt.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    # no __init__ of its own, no __dict__: `with no_grad():` in a training loop makes it
    # without a Python frame
    __slots__ = ()
    var = _grad_mode
    mode = False


class enable_grad(_Mode):
    """Ops inside record a graph even within `no_grad`."""

    __slots__ = ()
    var = _grad_mode
    mode = True


class set_grad_enabled(_GradMode):
    """Grad mode on or off, for a block, a function, or (called alone) from now on, in
    this thread."""

    __slots__ = ()

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))
        self.prev = _grad_mode.get()
        _grad_mode.set(self.mode)

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        _grad_mode.set(self.prev)
        return super().__call__(fn)


class detect_anomaly(_Mode):
    """Inside, a NaN or inf produced by a VJP raises an error naming the op and the user
    line that created it in the forward pass. Costs a stack capture per op, so it is off
    by default."""

    __slots__ = ("mode",)
    var = _anomaly_mode

    def __init__(self, check_nan: bool = True) -> None:
        self.mode = check_nan


def is_anomaly_enabled() -> bool:
    return _anomaly_mode.get()
