"""Module and Parameter: the containers networks are built from (as torch.nn.Module).

A Module finds its parameters, buffers and submodules by looking at its attributes,
including lists, tuples and dicts of them, so a network is just a class that assigns
its layers; there is no registration call to forget.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

from ..backend import xp
from ..tensor import Tensor, _check_grad_dtype

__all__ = ["Module", "Parameter", "Sequential", "ModuleList"]

# Set by microtensor.viz.trace_modules() while it records which module each op ran
# inside (to draw modules as clusters): a context manager factory called with
# (module, args, kwargs) around each forward. None otherwise: a call pays one lookup.
_call_hook = None


class Parameter(Tensor):
    """A Tensor that a Module treats as a learnable parameter (requires grad).

    >>> import microtensor as mt
    >>> p = mt.nn.Parameter(mt.zeros(2))
    >>> p.requires_grad, isinstance(p, mt.Tensor)
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        data = xp.zeros(0, dtype=xp.float32) if data is None else data
        super().__init__(data.data if isinstance(data, Tensor) else data)
        if requires_grad:
            _check_grad_dtype(self.dtype, "Parameter")
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _found_in(value, prefix: str, kind: type):
    """(dotted name, item) for `value` if it is a `kind` (Module or Parameter), or for
    each one inside a list, tuple or dict held as an attribute."""
    if isinstance(value, kind):
        yield prefix, value
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _found_in(v, f"{prefix}.{i}", kind)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _found_in(v, f"{prefix}.{k}", kind)


class Module:
    """Base class of layers and networks: subclasses assign parameters and submodules as
    attributes and define forward(); calling the module calls forward.

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

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_buffers", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                                 f"before using the module")
        if _call_hook is None:
            return self.forward(*args, **kwargs)
        with _call_hook(self, args, kwargs):  # viz.trace_modules() is recording
            return self.forward(*args, **kwargs)

    # -- buffers: state that is saved but not learned (e.g. running statistics) ------
    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Keep `tensor` in state_dict without treating it as a parameter."""
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def __setattr__(self, name: str, value) -> None:
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes")
        if name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a Tensor")
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    # -- introspection -------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in vars(self).items():
            if not name.startswith("_"):
                yield from _found_in(value, name, Module)

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "", _seen: set | None = None
                      ) -> Iterator[tuple[str, "Module"]]:
        """This module and all below it, each once (a shared module under its first name)."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, seen)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for this module and all below it, each once."""
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for name, value in vars(module).items():
                if name.startswith("_"):
                    continue
                for pname, p in _found_in(value, name, Parameter):
                    if id(p) not in seen:
                        seen.add(id(p))
                        yield (f"{mod_name}.{pname}" if mod_name else pname), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        for mod_name, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    # -- modes and gradients ---------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- state ---------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Dotted name -> tensor (parameters, then buffers), sharing memory with them."""
        state = OrderedDict((name, p.detach()) for name, p in self.named_parameters())
        state.update((name, b.detach()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy tensors into the parameters and buffers of the same names. Every key,
        shape and dtype is checked before anything is written, so a bad state dict
        leaves the module as it was. Returns (missing_keys, unexpected_keys)."""
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected}")
        for name, value in state_dict.items():
            if name not in own:
                continue
            arr = value.data if isinstance(value, Tensor) else xp.asarray(value)
            target = own[name]
            if arr.shape != target.shape:
                raise ValueError(f"load_state_dict: {name} has shape {arr.shape} in the state "
                                 f"dict but {target.shape} in the model")
            if arr.dtype != target.dtype:
                raise TypeError(f"load_state_dict: {name} has dtype {arr.dtype} in the state "
                                f"dict but {target.dtype} in the model")
        from ..autograd import bump_version
        for name, value in state_dict.items():
            if name in own:
                own[name].data[...] = value.data if isinstance(value, Tensor) else value
                bump_version(own[name])
        return missing, unexpected

    # -- display -------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order; indexable and iterable like a list."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        self.layers = list(modules)

    def named_children(self):
        for i, m in enumerate(self.layers):
            yield str(i), m

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def __getitem__(self, i):
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def append(self, module: Module) -> "Sequential":
        self.layers.append(module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent module finds."""

    def __init__(self, modules=()) -> None:
        super().__init__()
        self.items = list(modules)

    def named_children(self):
        for i, m in enumerate(self.items):
            yield str(i), m

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def append(self, module: Module) -> "ModuleList":
        self.items.append(module)
        return self
