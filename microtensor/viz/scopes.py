"""Which module each op was recorded in: trace_modules() and ModuleScopes, so a
graph can group or fold the ops of each submodule."""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections.abc import Iterator

from .. import autograd
from ..nn import module as _module
from ..nn.module import Module
from ..tensor import Tensor


# ------------------------------------------------------------------- module scopes
class _Call:
    """One call of a module: the creation numbers of the ops it made lie in (start, end)."""

    __slots__ = ("module", "name", "start", "end", "parent", "inputs")

    def __init__(self, module, name, start, parent, inputs) -> None:
        self.module, self.name, self.start, self.parent = module, name, start, parent
        self.inputs = inputs  # ids of the tensors passed in: inputs, not the module's own
        self.end: int | None = None  # set when the call returns

    @property
    def label(self) -> str:
        cls = type(self.module).__name__
        return f"{self.name}: {cls}" if self.name else cls


class ModuleScopes:
    """The module calls `trace_modules` recorded, and which one each op ran inside."""

    def __init__(self, root: Module | None = None) -> None:
        self._names = {} if root is None else {id(m): n for n, m in root.named_modules()}
        self.calls: list[_Call] = []
        self._starts: list[int] = []
        self._stack: list[_Call] = []

    @contextlib.contextmanager
    def _scope(self, module: Module, args: tuple, kwargs: dict) -> Iterator[None]:
        """Around a module's forward while tracing: the ops the call makes are numbered
        (Node.seq) between two ticks of the engine's clock taken here; taking a tick is
        harmless, as the clock's numbers need only increase."""
        inputs = {id(a) for a in (*args, *kwargs.values()) if isinstance(a, Tensor)}
        call = _Call(
            module,
            self._names.get(id(module), ""),
            next(autograd._clock),
            self._stack[-1] if self._stack else None,
            inputs,
        )
        self.calls.append(call)
        self._starts.append(call.start)
        self._stack.append(call)
        try:
            yield
        finally:
            call.end = next(autograd._clock)
            self._stack.pop()

    def scope_of(self, node) -> _Call | None:
        """The innermost recorded call that made `node` (None: outside every call)."""
        i = bisect_left(self._starts, node.seq) - 1
        call = self.calls[i] if i >= 0 else None
        while call is not None and call.end is not None and node.seq > call.end:
            call = call.parent
        return call


@contextlib.contextmanager
def trace_modules(root: Module | None = None) -> Iterator[ModuleScopes]:
    """Record which module call each op runs inside, so `collapse` can group them; modules
    are named as in `root.named_modules()`. Outside this block modules pay nothing.

    >>> import microtensor as mt
    >>> from microtensor import viz
    >>> net = mt.nn.Sequential(mt.nn.Linear(2, 3), mt.nn.Tanh())
    >>> with viz.trace_modules(net) as scopes:
    ...     loss = net(mt.ones(1, 2)).sum()
    >>> dot = viz.to_dot(loss, scopes=scopes, collapse="cluster")
    >>> [c.label for c in scopes.calls]
    ['Sequential', '0: Linear', '1: Tanh']
    """
    scopes = ModuleScopes(root)
    prev = _module._call_hook
    _module._call_hook = scopes._scope
    try:
        yield scopes
    finally:
        _module._call_hook = prev
