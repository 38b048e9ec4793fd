"""Module: the base of every layer and network (as torch.nn.Module).

Assigning a Parameter or a Module to an attribute of any module registers it under that
name, in the order assigned, as PyTorch does (register_buffer does the same for state
that is saved but not learned). Each registered value is also kept in the instance dict,
so reading `self.weight` in forward is a plain attribute lookup, not a __getattr__ call;
__setattr__, __delattr__ and the register_* methods keep the two in step. Beyond
PyTorch, modules and parameters held in plain lists, tuples and dicts among a module's
attributes are found too (after the registered ones), so `self.layers = [nn.Linear(...)]`
trains as written.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, TypeVar

from ..autograd import bump_version
from ..backend import xp
from ..creation import _check_device, device
from ..optim.optimizer import _clear_grads
from ..tensor import Tensor
from .hooks import RemovableHandle, add_hook, forward_with_hooks
from .parameter import Parameter

__all__ = ["Module", "Parameter", "RemovableHandle"]

# Set by microtensor.viz.trace_modules() while it records which module each op ran
# inside (to draw modules as clusters): a context manager factory called with
# (module, args, kwargs) around each forward. None otherwise: a call pays one lookup.
_call_hook: Callable[[Module, tuple, dict], AbstractContextManager] | None = None

_T = TypeVar("_T", bound=Tensor)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """load_state_dict's result, printed as PyTorch prints it when all keys matched."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _found_in(value, prefix: str, kind: type):
    """(dotted name, item) for each `kind` (Module or Parameter) inside a list, tuple or
    dict held as a plain attribute, at any depth."""
    if isinstance(value, kind):
        yield prefix, value
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _found_in(v, f"{prefix}.{i}", kind)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _found_in(v, f"{prefix}.{k}", kind)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Module:
    """Base class of layers and networks: subclasses assign parameters and submodules as
    attributes and define forward(); calling the module runs its hooks and forward.

    >>> import microtensor as mt
    >>> class Affine(mt.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = mt.nn.Parameter(mt.ones(3))
    ...         self.b = mt.nn.Parameter(mt.zeros(1))
    ...     def forward(self, x):
    ...         return x * self.w + self.b
    >>> [name for name, _ in Affine().named_parameters()]
    ['w', 'b']
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]
    _forward_pre_hooks: OrderedDict[int, tuple[Callable, bool]]
    _forward_hooks: OrderedDict[int, tuple[Callable, bool]]

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}  # name -> Parameter or None, in the order registered
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = OrderedDict()  # handle id -> (hook, with_kwargs)
        d["_forward_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if "_modules" not in d:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() in __init__ "
                f"before using the module"
            )
        run = (
            partial(forward_with_hooks, self)
            if d["_forward_pre_hooks"] or d["_forward_hooks"]
            else self.forward
        )
        if _call_hook is None:
            return run(*args, **kwargs)
        with _call_hook(self, args, kwargs):  # viz.trace_modules() is recording
            return run(*args, **kwargs)

    # -- hooks -----------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """hook(module, args) runs before forward; a value it returns replaces args (a
        non-tuple is wrapped). With with_kwargs: hook(module, args, kwargs) returning
        None or (args, kwargs)."""
        return add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """hook(module, args, output) runs after forward; a value it returns replaces the
        output. With with_kwargs: hook(module, args, kwargs, output)."""
        return add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    # -- registration ----------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        if "_modules" not in d:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if isinstance(value, Parameter):
            self._forget(name, keep=d["_parameters"])
            self.register_parameter(name, value)
            return
        if isinstance(value, Module):
            self._forget(name, keep=d["_modules"])
            self.add_module(name, value)
            return
        for registry, kind, expected in (
            (d["_parameters"], "parameter", Parameter),
            (d["_modules"], "child module", Module),
            (d["_buffers"], "buffer", Tensor),
        ):
            if name in registry:
                if value is not None and not isinstance(value, expected):
                    raise TypeError(
                        f"{type(self).__name__}.{name} is a {kind}: assign a "
                        f"{expected.__name__} or None, not a "
                        f"{type(value).__name__}"
                    )
                registry[name] = d[name] = value
                return
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for registry in (d["_parameters"], d["_buffers"], d["_modules"]):
            if name in registry:
                del registry[name]
                d["_non_persistent_buffers_set"].discard(name)
                d.pop(name, None)
                return
        object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict) -> None:
        """Drop `name` from the instance dict and every registry but `keep` (whose entry
        keeps its place when reassigned)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in (d["_parameters"], d["_buffers"], d["_modules"]):
            if registry is not keep:
                registry.pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def _check_name(self, where: str, name: str, registry: dict) -> None:
        if "_modules" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before {where}")
        if not isinstance(name, str):
            raise TypeError(f"{where}: the name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{where}: the name must not be empty or contain a dot, got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"{where}: attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a slot for one) under `name`."""
        self._check_name("register_parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: cannot assign a {type(param).__name__} to "
                f"parameter {name!r} (Parameter or None required)"
            )
        self._parameters[name] = self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep `tensor` as state that is not learned (running statistics, say): moved by
        .to(dtype) and, when persistent, saved in state_dict."""
        self._check_name("register_buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: cannot assign a {type(tensor).__name__} to "
                f"buffer {name!r} (Tensor or None required)"
            )
        self._buffers[name] = self.__dict__[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module (or None) under `name`, as assigning it does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._check_name("add_module", name, self._modules)
        self._modules[name] = self.__dict__[name] = module

    register_module = add_module

    # -- what a module holds ---------------------------------------------------------
    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Registered parameters, then those held in plain lists and dicts."""
        yield from ((n, p) for n, p in self._parameters.items() if p is not None)
        yield from self._held(Parameter, self._parameters)

    def _own_children(self) -> Iterator[tuple[str, Module | None]]:
        """Registered children (None and repeats included, as PyTorch keeps them), then
        those held in plain lists and dicts."""
        yield from self._modules.items()
        yield from self._held(Module, self._modules)

    def _held(self, kind: type, registry: dict) -> Iterator[tuple[str, Any]]:
        registered = {id(v) for v in registry.values()}
        for name, value in self.__dict__.items():
            if isinstance(value, (list, tuple, dict)) and not name.startswith("_"):
                for found_name, item in _found_in(value, name, kind):
                    if id(item) not in registered:
                        yield found_name, item

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of each direct submodule, each once."""
        seen = set()
        for name, child in self._own_children():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first; a shared module once, under its
        first name (every name with remove_duplicate=False)."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._own_children():
            if child is not None:
                yield from child.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path `target` ("" is this module)."""
        for name, m in self.named_modules(remove_duplicate=False):
            if name == target:
                return m
        raise AttributeError(f"{type(self).__name__} has no submodule {target!r}")

    def _named_members(
        self,
        members: Callable[[Module], Iterable[tuple[str, _T | None]]],
        prefix: str,
        recurse: bool,
        remove_duplicate: bool,
    ) -> Iterator[tuple[str, _T]]:
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in members(module):
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield _join(module_prefix, name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for this module and, with recurse, all below it; a
        shared parameter once, under its first name."""
        return self._named_members(Module._own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- modes, gradients, dtypes ----------------------------------------------------
    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every submodule, then on this one (to initialise weights, say)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError(
                f"{type(self).__name__}.train: training mode is expected to be "
                f"boolean, got {mode!r}"
            )
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        _clear_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Convert the floating parameters and buffers to a dtype (`to(mt.float64)`,
        `to(dtype=...)`, `to(tensor)`), in place: the Parameter objects stay the same, as
        in PyTorch, so an optimizer made before still holds them. The device may be
        given but must be the CPU."""
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"Module.to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, (str, device)):
                dev = arg
            else:
                dtype = arg.dtype if isinstance(arg, Tensor) else arg
        _check_device("Module.to", dev)
        if dtype is None:
            return self
        if xp.dtype(dtype).kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")
        return self._cast(xp.dtype(dtype))

    def float(self) -> Module:
        return self._cast(xp.dtype(xp.float32))

    def double(self) -> Module:
        return self._cast(xp.dtype(xp.float64))

    def cpu(self) -> Module:
        return self

    def _cast(self, dtype) -> Module:
        """Floating parameters (and their gradients) and buffers to `dtype`; integer
        buffers (counters) keep theirs, as in PyTorch."""
        changed = []
        tensors = itertools.chain(self.parameters(), self.buffers())
        for t in tensors:
            if t.dtype.kind == "f" and t.dtype != dtype:
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(dtype)
                changed.append(t)
        bump_version(*changed)
        return self

    # -- state -----------------------------------------------------------------------
    def state_dict(
        self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Tensor]:
        """Dotted name -> tensor: each module's parameters, then its persistent buffers,
        then its children's, as PyTorch orders them (a module or parameter registered
        under two names appears under both). The tensors share memory with the model;
        keep_vars=False detaches them."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._own_parameters():
            out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._own_children():
            if child is not None:
                child.state_dict(destination=out, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> _IncompatibleKeys:
        """Copy tensors (or arrays) into the parameters and buffers of the same names,
        cast to their dtypes. Returns (missing_keys, unexpected_keys); with strict, either
        is a RuntimeError, as is a shape that differs. Everything is checked before
        anything is written, so a state dict that does not fit leaves the module as it
        was."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and missing:
            errors.append(
                "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + "."
            )
        if strict and unexpected:
            errors.append(
                "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + "."
            )
        copies = []
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            arr = value._data if isinstance(value, Tensor) else xp.asarray(value)
            if arr.dtype.kind not in "biuf":
                errors.append(
                    f"While copying the parameter named {name!r}, expected a "
                    f"tensor or an array of numbers, got {type(value).__name__}"
                )
            elif arr.shape != target.shape:
                errors.append(
                    f"size mismatch for {name}: copying a param with shape "
                    f"{arr.shape} from checkpoint, the shape in current model is "
                    f"{target.shape}."
                )
            else:
                copies.append((target, arr))
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:"
                + "".join(f"\n\t{e}" for e in errors)
            )
        for target, arr in copies:
            xp.copyto(target._data, arr, casting="unsafe")
        bump_version(*(target for target, _ in copies))
        return _IncompatibleKeys(missing, unexpected)

    # -- display ---------------------------------------------------------------------
    def extra_repr(self) -> str:
        """This module's settings, shown inside its parentheses by print(model)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._own_children()
        ]
        return _layout(type(self).__name__, extra_lines, child_lines)


def _layout(name: str, extra_lines: list[str], child_lines: list[str]) -> str:
    """PyTorch's print(model): one line when there are only settings, else one line each
    (settings first), indented, inside `name( ... )`."""
    lines = extra_lines + child_lines
    if not lines:
        return name + "()"
    if len(extra_lines) == 1 and not child_lines:
        return f"{name}({extra_lines[0]})"
    return f"{name}(\n  " + "\n  ".join(lines) + "\n)"
