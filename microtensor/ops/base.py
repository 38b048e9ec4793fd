"""The base of the op table: the Op class, the @method registry that makes op functions
Tensor methods, and the argument checks every family shares."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any, TypeVar, overload

from ..backend import xp
from ..tensor import Tensor

__all__: list = []


class Op:
    """Base of the op table; subclasses are namespaces, never instantiated.

      forward(*arrays, **attrs) -> array      numpy work, through `backend`
      vjp(B, g, out, args, needs, **attrs)    one gradient per arg (None where not needed)
      forward_(*arrays, **attrs)              optional: forward written into arrays[0]

    Class attributes: `name` (errors and graphs; the class name in lower case unless
    given), `saves` (the args whose values the VJP reads: their versions are checked),
    `save_output` (the VJP reads the output), `multi` (forward returns a tuple; the VJP
    gets a list of gradients, None where unused), `differentiable` (False: no node is
    recorded), `b_name` (VJPs compute with this op too: `B.<b_name>` is its forward on
    arrays and the op itself on Tensors; attributes are passed by keyword). `forward_`
    computes exactly what forward does into the first array's memory (numpy's `a -= b`),
    or raises TypeError or ValueError before writing anything; an in-place op that
    records nothing (an optimizer's update under no_grad) uses it instead of forward and
    a copy. An op whose forward is Python's + - or * on arrays gets it from the operator
    itself."""

    forward: Callable[..., Any]  # each op defines them (see above)
    vjp: Callable[..., Any]
    name = "op"
    multi = False
    save_output = False
    saves: tuple = ()
    differentiable = True
    b_name: str | None = None
    forward_: Callable | None = None

    def __init_subclass__(cls) -> None:
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        if "forward_" not in cls.__dict__:
            cls.forward_ = _IN_PLACE.get(cls.__dict__.get("forward"))  # type: ignore[arg-type]  # None: no in-place form


# the augmented operators of the forwards that are operators: numpy's `a -= b` computes what
# `a - b` does and casts it into a (or refuses, before writing, as `a - b` would be refused)
_IN_PLACE = {operator.add: operator.iadd, operator.sub: operator.isub, operator.mul: operator.imul}


METHODS: dict = {}  # Tensor method name -> op function, filled by @method


_F = TypeVar("_F", bound=Callable)


@overload
def method(fn: _F, /) -> _F: ...
@overload
def method(*names: str) -> Callable[[_F], _F]: ...
def method(*names):
    """Make an op function a Tensor method as well: `method(fn)` or `@method` under its
    own name, `@method("view", "reshape")` under those. `x.exp()` is `exp(x)`, the same
    function, not a copy of it."""
    if len(names) == 1 and callable(names[0]):
        fn = names[0]
        METHODS[fn.__name__] = fn
        return fn

    def register(fn: Callable) -> Callable:
        for name in names or (fn.__name__,):
            METHODS[name] = fn
        return fn

    return register


def _dim(dim: int | None, ndim: int, op: str) -> int:
    """A dim in range(ndim), from a possibly negative one; errors name the op."""
    if not isinstance(dim, (int, xp.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    span = builtins.max(ndim, 1)
    if not -span <= dim < span:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor of {ndim} "
            f"dimension{'s' if ndim != 1 else ''} (expected {-span} to "
            f"{span - 1})"
        )
    return dim % ndim if ndim else 0


def _dims(dim, ndim: int, op: str):
    """None (all dims) or a sorted tuple of distinct non-negative dims."""
    if dim is None:
        return None
    dims = (dim,) if not isinstance(dim, (tuple, list)) else dim
    if ndim == 0:
        for d in dims:
            _dim(d, 0, op)
        return None
    out = tuple(sorted({_dim(d, ndim, op) for d in dims}))
    if len(out) != len(dims):
        raise ValueError(f"{op}: dim {tuple(dims)} names a dimension twice")
    return out


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _pair(v, name: str, op: str) -> tuple:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair, got {v!r}")
    return pair


def _nondiff(name: str, fn):
    return type(name, (Op,), {"name": name, "differentiable": False, "forward": staticmethod(fn)})
