"""Containers, as in torch.nn: Sequential, ModuleList and ModuleDict hold modules,
ParameterList and ParameterDict hold parameters, all registered under their index or
key, so a parent finds them and a module assigned onto one (`seq.fc = nn.Linear(...)`)
is registered like any other."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from ..tensor import Tensor
from .module import Module, Parameter, _layout

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _position(where: str, idx, n: int) -> int:
    """idx as a position in 0..n-1 (negative counts from the end), or IndexError."""
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexError(f"{where}: index {i} is out of range for {n} items")
    return i % n


class _Indexed(Module):
    """What Sequential and ModuleList share: modules under "0", "1", ..., indexable,
    iterable, and renumbered when one is inserted or deleted."""

    # narrower than Module's: append, insert and [i] = take modules, never None
    _modules: dict[str, Module]  # type: ignore[assignment]

    def _key(self, idx) -> str:
        """The registry key at position idx (negative counts from the end)."""
        keys = list(self._modules)
        return keys[_position(type(self).__name__, idx, len(keys))]

    def _renumber(self, modules: list) -> None:
        """Re-register `modules` under "0", "1", ...; other names are dropped, as PyTorch
        renumbers after a deletion."""
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __getitem__(self, idx):
        return self._modules[self._key(idx)]

    def __setitem__(self, idx, module: Module) -> None:
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx) -> None:
        modules = list(self._modules.values())
        if not isinstance(idx, slice):
            self._key(idx)  # raises for an index out of range
        del modules[idx]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]):
        if not isinstance(modules, Iterable):
            raise TypeError(
                f"{type(self).__name__}.extend should be called with an "
                f"iterable, but got {type(modules).__name__}"
            )
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        if not -len(modules) <= operator.index(index) <= len(modules):
            raise IndexError(
                f"{type(self).__name__}.insert: index {index} is out of range "
                f"for {len(modules)} modules"
            )
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, idx: int = -1) -> Module:
        module = self[idx]
        del self[idx]
        return module

    __iadd__ = extend


class Sequential(_Indexed):
    """Modules applied in order, given as arguments or as an OrderedDict of names; a
    module assigned onto it later (`seq.fc = ...`) runs last, as in PyTorch.

    >>> import microtensor as mt
    >>> net = mt.nn.Sequential(mt.nn.Linear(2, 3), mt.nn.ReLU())
    >>> net.head = mt.nn.Linear(3, 1)
    >>> [name for name, _ in net.named_children()], tuple(net(mt.zeros(4, 2)).shape)
    (['0', '1', 'head'], (4, 1))
    """

    @overload
    def __init__(self, *args: Module) -> None: ...
    @overload
    def __init__(self, arg: dict[str, Module], /) -> None: ...
    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], dict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # keeps the names, as PyTorch does
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_Indexed):
    """A list of modules that the parent module registers (a plain list works too in
    microtensor, but PyTorch code uses this)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return super().__getitem__(idx)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def __repr__(self) -> str:
        """Runs of identical modules are printed once, as "(0-2): 3 x Linear(...)"."""
        runs: list[list] = []
        for i, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [
            (f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + text.replace("\n", "\n  ")
            for a, b, text in runs
        ]
        return _layout(type(self).__name__, [], lines)


class _Keyed:
    """dict methods over one registry of a module (ModuleDict's modules,
    ParameterDict's parameters)."""

    def _store(self) -> dict:
        raise NotImplementedError

    def __setitem__(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def __getitem__(self, key: str):
        return self._store()[key]

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._store())

    def __iter__(self) -> Iterator[str]:
        return iter(self._store())

    def __contains__(self, key) -> bool:
        return key in self._store()

    def keys(self):
        return self._store().keys()

    def values(self):
        return self._store().values()

    def items(self):
        return self._store().items()

    def get(self, key: str, default: Any = None):
        return self._store().get(key, default)

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in list(self._store()):
            del self[key]

    def update(self, values: Mapping | Iterable) -> None:
        pairs = values.items() if isinstance(values, Mapping) else values
        for i, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(
                    f"{type(self).__name__}.update: element {i} has length "
                    f"{len(pair)}; 2 is required (key, value)"
                )
            self[pair[0]] = pair[1]


class ModuleDict(_Keyed, Module):
    """Modules under string keys, registered (a plain dict works too in microtensor)."""

    def __init__(self, modules: Mapping | Iterable | None = None) -> None:
        Module.__init__(self)
        if modules is not None:
            self.update(modules)

    def _store(self) -> dict:
        return self._modules

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)


class ParameterList(Module):
    """Parameters under "0", "1", ...; a plain tensor added is made a Parameter."""

    # narrower than Module's: every value added is made a Parameter, never None
    _parameters: dict[str, Parameter]  # type: ignore[assignment]

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        params = list(self._parameters.values())
        if isinstance(idx, slice):
            return ParameterList(params[idx])
        return params[_position("ParameterList", idx, len(params))]

    def __setitem__(self, idx: int, param: Tensor) -> None:
        self.register_parameter(
            str(_position("ParameterList", idx, len(self))), _as_parameter("ParameterList", param)
        )

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def append(self, value: Tensor) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values: Iterable[Tensor]) -> ParameterList:
        for v in list(values):
            self.append(v)
        return self

    __iadd__ = extend

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self._parameters.items())


class ParameterDict(_Keyed, Module):
    """Parameters under string keys; a plain tensor stored is made a Parameter."""

    # narrower than Module's: every value stored is made a Parameter, never None
    _parameters: dict[str, Parameter]  # type: ignore[assignment]

    def __init__(self, parameters: Mapping | Iterable | None = None) -> None:
        Module.__init__(self)
        if parameters is not None:
            self.update(parameters)

    def _store(self) -> dict:
        return self._parameters

    def __setitem__(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self._parameters.items())


def _as_parameter(where: str, value) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{where}: expected a Tensor or Parameter, got {type(value).__name__}")


def _describe(p: Parameter) -> str:
    return f"Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
