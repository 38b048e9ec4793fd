"""The API: `mt.compile(fn)` and CompiledFunction, which keeps up to CACHE_LIMIT
recordings of fn, each a program whose guards decide whether a call replays it, and
records again, or runs fn eagerly with a CompileWarning, when none does."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

from .. import random as _random
from ..autograd.grad_mode import _anomaly_mode, _grad_on
from ..backend import ndarray, xp
from ..random import default_generator
from ..tensor import Tensor, _wrap
from .program import _EAGER, _MISS, _Program, _Unreplayable
from .record import _data, _local, _recording
from .tracer import _Tracer

CACHE_LIMIT = 8  # recordings per compiled function (torch.compile's cache_size_limit)


class CompileWarning(UserWarning):
    """mt.compile ran a step eagerly; the message says why."""


class CompiledFunction:
    """`fn`, recorded on its first call and replayed after; see microtensor.compile.
    `records`, `replays` and `eager_calls` count what the calls did; `fallbacks` says
    why calls ran eagerly (each CompileWarning's reason); `code` is the replay of the
    latest recording, as Python."""

    def __init__(self, fn: Callable) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name: str = getattr(fn, "__qualname__", type(fn).__name__)  # in messages
        self.records = self.replays = self.eager_calls = 0
        self.code: str | None = None
        self.fallbacks: list[str] = []  # why calls ran eagerly, each reason once
        self._entries: list = []  # (replay or guard function, structure of the result)

    def __get__(self, obj, objtype=None):
        """As a method: the compiled function with the instance as first argument."""
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        flat = args
        if kwargs:
            flat = args + tuple(kwargs.values()) + (tuple(kwargs),)
        if getattr(_local, "tracer", None) is not None:  # inside another recording: join it
            return self.fn(*args, **kwargs)
        if _anomaly_mode.get():
            return self._eager("anomaly mode is on", args, kwargs)
        for run, result in self._entries:
            out = run(flat)
            if out is _MISS:
                continue
            if out is _EAGER:
                return self._eager(None, args, kwargs)
            self.replays += 1
            return result(out)
        if len(self._entries) >= CACHE_LIMIT:
            return self._eager(
                f"it was recorded {CACHE_LIMIT} times (see the guards in microtensor.compile)",
                args,
                kwargs,
            )
        return self._record(flat, args, kwargs)

    def _warn(self, reason: str) -> None:
        if reason not in self.fallbacks:
            self.fallbacks.append(reason)
            warnings.warn(
                f"mt.compile({self.name}): running eagerly: {reason}",
                CompileWarning,
                stacklevel=4,
            )

    def _eager(self, reason, args, kwargs):
        if reason is not None:
            self._warn(reason)
        self.eager_calls += 1
        return self.fn(*args, **kwargs)

    def _record(self, flat, args, kwargs):
        tr = _Tracer(list(flat))
        tr.snapshots = {
            k: (_data(a) if isinstance(a, Tensor) else a).tobytes()
            for k, a in enumerate(flat)
            if isinstance(a, (Tensor, ndarray))
        }
        rng = default_generator()
        rng_state = rng.bit_generator.state
        legacy = _legacy_state()
        drawn = _random.draws[0]
        grad_mode = _grad_on()
        tr.rng_state = rng_state
        with _recording(tr):
            result = self.fn(*args, **kwargs)
        self.records += 1
        tr.settle_reads()
        if tr.pending:
            tr.unsupported("a gradient store the recorder did not see")
        if (
            default_generator() is not rng
            or rng.bit_generator.state != tr.rng_state
            or _random.draws[0] != drawn
            or _legacy_state() != legacy
        ):
            tr.unsupported(
                "it draws random numbers other than dropout's (mt.rand, a mt.Generator, "
                "numpy.random): a replay would repeat the recorded draws"
            )
        if _grad_on() is not grad_mode:
            tr.unsupported("it changes grad mode for its caller")
        program = None
        if not tr.reasons:
            try:
                program = _Program(tr, result, self.name)
            except _Unreplayable as e:
                tr.unsupported(str(e))
        if program is None:
            self._entries.insert(0, (_guard_only(tr), None))
            self._warn(tr.reasons[0])
            self.eager_calls += 1
            return result
        self._entries.insert(0, (program.run, _result(program.spec)))
        self.code = program.code
        return _detached(result)


def _legacy_state() -> tuple:
    """Where numpy.random's global stream stands (any draw moves `pos` or the key)."""
    state = xp.random.get_state(legacy=False)
    inner = state["state"]
    return inner["key"].tobytes(), inner["pos"], state["has_gauss"], state["gauss"]


def _guard_only(tr: _Tracer):
    """An entry that answers "run eagerly" to calls whose arguments look as recorded."""
    key = [
        (
            type(a),
            getattr(a, "shape", None),
            getattr(a, "dtype", None),
            getattr(a, "requires_grad", None),
        )
        for a in tr.flat
    ]
    grad_mode = _grad_on()

    def run(flat):
        if len(flat) != len(key) or _grad_on() is not grad_mode:
            return _MISS
        for (cls, shape, dtype, rg), a in zip(key, flat):
            if (
                type(a) is not cls
                or getattr(a, "shape", None) != shape
                or getattr(a, "dtype", None) != dtype
                or getattr(a, "requires_grad", None) != rg
            ):
                return _MISS
        return _EAGER

    return run


def _detached(x):
    """fn's result with each tensor replaced by a fresh tensor holding a copy of it."""
    if isinstance(x, Tensor):
        return _wrap(_data(x).copy())
    if isinstance(x, (tuple, list)):
        return type(x)(_detached(y) for y in x)
    if isinstance(x, dict):
        return {k: _detached(y) for k, y in x.items()}
    return x


def _result(spec) -> Callable:
    """What makes the step's result from a replay's output arrays (fresh tensors holding
    copies), with the common case of one tensor spelled out."""
    if spec[0] == "tensor" and spec[1] == 0:
        return lambda arrays: _wrap(arrays[0].copy())
    if spec[0] is tuple and all(s[0] == "tensor" for s in spec[1]):  # fit's (out, loss)
        picks = [s[1] for s in spec[1]]
        return lambda arrays: tuple([_wrap(arrays[i].copy()) for i in picks])
    return functools.partial(_rebuild, spec)


def _rebuild(spec, arrays):
    """The step's result from a replay's output arrays: fresh tensors holding copies."""
    kind, body = spec
    if kind == "tensor":
        return _wrap(arrays[body].copy())
    if kind == "const":
        return body
    if kind is dict:
        return {k: _rebuild(s, arrays) for k, s in body}
    return kind(_rebuild(s, arrays) for s in body)


def compile(fn: Callable) -> CompiledFunction:  # torch.compile's name
    """`fn` recorded on its first call and replayed as flat numpy calls into reused
    buffers after, bit for bit what eager mode computes (see microtensor.compile for
    what is guarded and when it runs eagerly instead).

    >>> import microtensor as mt
    >>> w = mt.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = mt.optim.SGD([w], lr=0.1)
    >>> @mt.compile
    ... def step(x):
    ...     opt.zero_grad()
    ...     loss = ((w * x).sum() - 1) ** 2
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> [round(step(mt.tensor([1.0, 1.0])).item(), 4) for _ in range(3)]
    [4.0, 1.44, 0.5184]
    """
    return CompiledFunction(fn)
