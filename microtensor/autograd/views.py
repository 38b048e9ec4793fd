"""Views and in-place ops, with PyTorch's semantics.

A view (reshape, permute, basic indexing, expand, a split piece, detach) shares its
base's memory and version counter. An in-place op gives its target a new history; nodes
that consumed the target before keep the history they saw (`input_edge`). Through a view
it also changes the base: the base's history gains a CopySlices node and every live view
of the base follows the new base. A node that saved memory changed since raises at
backward instead of reading the new values.
"""

from __future__ import annotations

import weakref

from ..backend import ndarray, xp
from ..tensor import Tensor, _wrap
from . import graph
from .grad_mode import _grad_on
from .graph import _last_change, apply, bump_version, record


class Alias:
    """What a tensor shares with others, kept only on tensors that share (most have none).

    `owner` is the tensor whose version counter this one shares (None: its own); a view
    and its base share one, as do `detach()` and its source, so an in-place change
    through any of them is seen by every node that saved one of them. `base` is the
    tensor whose history a view follows, through `steps` ((op, attrs) pairs replayed on
    the base); `index` caches the flat positions of the view's elements in the base.
    `views` (on a base) holds weak references to its live views, whose histories are
    rebuilt when the base's changes. `past` lists (stamp, node, oi): the history this
    tensor had until an in-place op at clock `stamp` replaced it, for the nodes that
    consumed it before. `no_grad` marks a view made with grad mode off."""

    __slots__ = ("owner", "base", "steps", "index", "views", "past", "no_grad")
    owner: Tensor | None
    base: Tensor | None
    steps: tuple
    index: ndarray | None
    views: list | None
    past: list | None
    no_grad: bool

    def __init__(self, owner=None, base=None, steps=(), no_grad=False) -> None:
        self.owner = owner
        self.base = base
        self.steps = steps
        self.index = None
        self.views = None
        self.past = None
        self.no_grad = no_grad


def _alias(t: Tensor) -> Alias:
    if t._alias is None:
        t._alias = Alias()
    return t._alias


def _owner(t: Tensor) -> Tensor:
    """The tensor holding t's version counter."""
    a = t._alias
    return t if a is None or a.owner is None else a.owner


def version(t: Tensor) -> int:
    """t's version: the clock stamp of the last in-place change to its memory."""
    return _owner(t)._version


def input_edge(a: Tensor, seq: float) -> tuple:
    """(node, output index) of `a`'s history as it was when node number `seq` was made."""
    alias = a._alias
    if alias is not None and alias.past is not None:
        for stamp, node, oi in alias.past:
            if seq < stamp:
                return node, oi
    return a._node, a._oi


def share_version(src: Tensor, t: Tensor) -> Tensor:
    """Make `t` (a tensor over src's memory, outside the graph) share src's version."""
    t._alias = Alias(owner=_owner(src))
    return t


def apply_view(op, x, **attrs):
    """apply() for an op whose output may be a view of x's memory (reshape, permute,
    basic indexing, expand): if numpy made a view, the output shares x's version and
    follows x's history, as PyTorch's views do."""
    out = apply(op, x, **attrs)
    if isinstance(x, Tensor):
        link_view(x, out, ((op, attrs),))
    return out


def link_view(x: Tensor, out: Tensor, steps: tuple) -> None:
    """Record `out` as a view of x made by `steps`, if its array shares x's memory."""
    ob, xd = out._data.base, x._data
    if ob is None or not (ob is xd or ob is xd.base):
        return  # numpy copied: not a view (reshape of a non-contiguous array, say)
    xa = x._alias
    if xa is not None and xa.base is not None:  # a view of a view: one base, steps chained
        base, steps = xa.base, xa.steps + steps
    else:
        base = x
    out._alias = Alias(owner=_owner(x), base=base, steps=steps, no_grad=not _grad_on())
    ba = _alias(base)
    if ba.views is None:
        ba.views = []
    elif len(ba.views) > 32:
        ba.views = [r for r in ba.views if r() is not None]
    ba.views.append(weakref.ref(out))


def _view_index(base: Tensor, alias: Alias) -> ndarray:
    """The flat positions in `base` of the view's elements, in the view's shape."""
    if alias.index is None:
        idx = xp.arange(base._data.size).reshape(base.shape)
        for op, attrs in alias.steps:
            idx = op.forward(idx, **attrs)
        alias.index = xp.ascontiguousarray(idx)
    return alias.index


def _set_history(t: Tensor, node, oi: int, stamp: int) -> None:
    """Give t a new history from clock `stamp` on; nodes made before keep the old one."""
    if t._node is not None:
        a = _alias(t)
        if a.past is None:
            a.past = []
        a.past.append((stamp, t._node, t._oi))
    t._node, t._oi, t.requires_grad = node, oi, node is not None or t.requires_grad


def _rebuild_views(base: Tensor, stamp: int) -> None:
    """After base's history changed, each live view of it (made with grad on) takes the
    history of the same view of the new base (PyTorch regenerates a view's grad_fn)."""
    alias = base._alias
    assert alias is not None and alias.views is not None  # the caller saw live views
    live = []
    for ref in alias.views:
        v = ref()
        if v is None:
            continue
        live.append(ref)
        if v._alias.no_grad:
            continue
        t = base
        for op, attrs in v._alias.steps:
            t = apply(op, t, **attrs)
        if t._node is not None:
            _set_history(v, t._node, t._oi, stamp)
    alias.views = live


def _mark_dirty(*tensors) -> None:
    """Their producing nodes' saved outputs (if any) have been overwritten."""
    for t in tensors:
        node = t._node
        if node is not None and node.op.save_output:
            if node.extra is None:
                node.extra = {}
            node.extra["dirty"] = True


def apply_inplace(op, t: Tensor, *args, **attrs) -> Tensor:
    """Apply `op` to (t, *args) and write the result into t's memory: PyTorch's in-place
    semantics. Under grad mode t's history becomes the new node, whose input is t's old
    value (copied when the VJP reads it); nodes that used t before keep t's old history.
    On a view, the base's history gains the change too (PyTorch's CopySlices) and every
    live view of the base follows the new base. A node that saved t's memory and runs
    after the change raises instead of using the new values."""
    recording = _grad_on()
    alias = t._alias
    if graph.tracer is None and not (
        recording and (t.requires_grad or alias is not None or _any_grad(args))
    ):
        return _write(op, t, args, attrs)
    base = alias.base if alias is not None else None
    if not t._data.flags.writeable:
        raise _broadcast_view(op, t)
    if recording:
        _check_inplace_target(op, t, base, alias)
    grad_args = any(isinstance(a, Tensor) and a.requires_grad for a in args)
    keep_old = recording and 0 in op.saves and (t.requires_grad or grad_args)
    old = _wrap(t._data.copy() if keep_old else t._data, t._node, t._oi)
    old.requires_grad = t.requires_grad
    args = tuple(old if a is t else a for a in args)  # x.mul_(x) reads x's old value
    res = apply(op, old, *args, **attrs)
    _check_result(op, res._data, t._data)
    if res.dtype != t.dtype:
        res = res.to(t.dtype)
    _mark_dirty(t, _owner(t), *(() if base is None else (base,)))
    xp.copyto(t._data, res._data)
    bump_version(t)
    if graph.tracer is not None:  # microtensor.compile records the write
        graph.tracer.inplace(t, res)
    stamp = _last_change[0]
    if not (recording and res._node is not None):
        return t
    if base is None:
        _set_history(t, res._node, 0, stamp)
        if t._alias is not None and t._alias.views:
            _rebuild_views(t, stamp)
        return t
    from ..ops import CopySlices  # the op table imports the engine, so not at the top

    assert alias is not None  # t is a view: base came from its alias

    base_old = _wrap(base._data, base._node, base._oi)
    base_old.requires_grad = base.requires_grad
    node = record(
        CopySlices,
        (base_old, res),
        (base._data, res._data),
        (base.requires_grad, True),
        {"index": _view_index(base, alias)},
        base._data,
    )._node
    _set_history(base, node, 0, stamp)
    _rebuild_views(base, stamp)
    return t


def _any_grad(args: tuple) -> bool:
    for a in args:
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


def _write(op, t: Tensor, args: tuple, attrs: dict) -> Tensor:
    """apply_inplace when it records nothing (grad mode off, as in an optimizer's update,
    or nothing involved requires grad): the op's result written into t's memory, t's
    version bumped, and the nodes that saved t's memory as their output told; none of
    the history work."""
    d = t._data
    arrays = [d]
    for a in args:
        arrays.append(a._data if isinstance(a, Tensor) else a)
    written = False
    if op.forward_ is not None:
        try:  # `d -= b`: what d - b computes, cast into d
            op.forward_(*arrays, **attrs)
            written = True
        except (TypeError, ValueError):  # refused before writing: the errors below
            pass
    if not written:
        res = apply(op, t, *args, **attrs)._data
        _check_result(op, res, d)
        try:
            xp.copyto(d, res)
        except ValueError:  # numpy refuses to write a read-only array
            raise _broadcast_view(op, t) from None
    alias = t._alias
    if t._node is not None or alias is not None:
        base = alias.base if alias is not None else None
        _mark_dirty(t, _owner(t), *(() if base is None else (base,)))
    bump_version(t)
    return t


def _check_result(op, res: ndarray, d: ndarray) -> None:
    """An in-place op's result must fit the tensor's memory `d`: its shape, and a dtype
    that casts to d's within its kind."""
    if res.shape != d.shape:
        raise RuntimeError(
            f"{op.name}_: the result has shape {res.shape}, which cannot be written into a "
            f"tensor of shape {d.shape} in place"
        )
    if res.dtype is not d.dtype and not xp.can_cast(res.dtype, d.dtype, casting="same_kind"):
        raise RuntimeError(
            f"{op.name}_: the result type {res.dtype} can't be cast to the tensor's "
            f"dtype {d.dtype} in place; use the out-of-place {op.name}"
        )


def _broadcast_view(op, t: Tensor) -> RuntimeError:
    return RuntimeError(
        f"{op.name}_: the tensor of shape {t.shape} is a broadcast (expand) view, so "
        f"several of its elements share one memory location; clone() it before "
        f"changing it in place"
    )


def _check_inplace_target(op, t: Tensor, base, alias) -> None:
    """The in-place changes that PyTorch refuses under grad mode, refused the same way."""
    if t.requires_grad and t._node is None:
        raise RuntimeError(
            f"{op.name}_: a leaf tensor of shape {t.shape} that requires grad cannot be "
            f"modified in place; do it under no_grad() (as optimizers do) or on a clone"
        )
    if base is None:
        return
    if base.requires_grad and base._node is None:
        raise RuntimeError(
            f"{op.name}_: the tensor of shape {t.shape} is a view of a leaf tensor that "
            f"requires grad, which cannot be modified in place, not even through a view; "
            f"do it under no_grad() or on a clone"
        )
    if alias.no_grad and base.requires_grad:
        raise RuntimeError(
            f"{op.name}_: the tensor of shape {t.shape} is a view made under no_grad() of "
            f"a tensor that requires grad; changing it in place with grad mode on would "
            f"leave the base's gradient wrong. Make the view with grad mode on, or change "
            f"it under no_grad()"
        )
