"""Forward hooks of modules: how they are kept, removed and run (PyTorch's
register_forward_hook and register_forward_pre_hook semantics)."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["RemovableHandle"]

_hook_ids = itertools.count()


class RemovableHandle:
    """What register_forward_hook and register_forward_pre_hook return: remove() takes
    the hook out again (also on leaving a `with handle:` block)."""

    def __init__(self, hooks: dict) -> None:
        self._hooks, self.id = hooks, next(_hook_ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(
    hooks: OrderedDict, hook: Callable, prepend: bool, with_kwargs: bool
) -> RemovableHandle:
    """Keep `hook` in `hooks` (last, or first with prepend) under a new handle's id."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = (hook, with_kwargs)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def forward_with_hooks(module, *args, **kwargs):
    """module.forward between its pre-hooks, which may replace the arguments, and its
    forward hooks, which may replace the output; each set in the order kept."""
    for hook, with_kwargs in list(module._forward_pre_hooks.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"forward pre-hook must return None or a tuple of "
                        f"(new_args, new_kwargs), but got {result!r}"
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    out = module.forward(*args, **kwargs)
    for hook, with_kwargs in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, out) if with_kwargs else hook(module, args, out)
        if result is not None:
            out = result
    return out
