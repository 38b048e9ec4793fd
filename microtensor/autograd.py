"""The engine: graph nodes, reverse-mode backward, grad(), grad-mode switches, anomaly mode.

Forward: `apply(Op, *args)` runs `Op.forward` on arrays and, when grad mode is on and
an input requires grad, records a `Node` holding the op, its inputs and what the VJP
needs. A node never refers to its own output, so a dropped graph is freed by
reference counting.

Backward: an iterative topological sort (Kahn's algorithm over consumer counts)
from the roots, then each node's VJP once, in order. Gradients live in a local dict
keyed by node; only leaves (and tensors that asked with `retain_grad`) keep `.grad`.
Without `create_graph` the VJPs run on bare arrays (fast, no Tensor objects); with it
they run on Tensors through the same code, so the gradient is itself a graph.
"""
from __future__ import annotations

import contextvars
import functools
import itertools
import os
import traceback
import weakref
from heapq import heappop, heappush
from typing import Callable

from .backend import ndarray, sum_to, xp
from .tensor import Tensor, _wrap, promote_result

__all__ = [
    "Node", "apply", "apply_view", "backward", "grad", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled",
    "apply_inplace", "Function", "FunctionCtx",
]

# Grad and anomaly modes belong to the thread (as in PyTorch) and to the asyncio task:
# a ContextVar is as cheap to read as a dict entry, and no_grad in one thread never stops
# another thread's ops from recording. A new thread starts with grad on, anomaly off.
_grad_mode = contextvars.ContextVar("microtensor_grad_mode", default=True)
_anomaly_mode = contextvars.ContextVar("microtensor_anomaly_mode", default=False)
_grad_on = _grad_mode.get
# One clock numbers nodes as they are made (a topological order) and stamps tensors
# changed in place (their version). A saved input whose stamp is later than its node's
# number changed after being saved. `_last_change` is the latest stamp: nodes made after
# it skip the version check.
_clock = itertools.count(1)
_last_change = [0]


def is_grad_enabled() -> bool:
    """Whether ops applied now, in this thread, record a graph."""
    return _grad_on()


class _Mode:
    """Context manager and decorator that sets a mode and restores it on exit."""

    var: contextvars.ContextVar

    def __init__(self, mode: bool) -> None:
        self.mode = mode

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
    var = _grad_mode


class _scoped(_Mode):
    """A mode for one block, of any ContextVar (what decorators wrap each call in)."""

    def __init__(self, var: contextvars.ContextVar, mode: bool) -> None:
        self.var = var
        self.mode = mode


class no_grad(_GradMode):
    """Ops inside record no graph (evaluation, optimizer updates). Per thread.

    >>> import microtensor as mt
    >>> x = mt.tensor([1.0], requires_grad=True)
    >>> with mt.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_GradMode):
    """Ops inside record a graph even within `no_grad`."""

    def __init__(self) -> None:
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """Grad mode on or off, for a block, a function, or (called alone) from now on, in
    this thread."""

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

    var = _anomaly_mode

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__(check_nan)


def is_anomaly_enabled() -> bool:
    return _anomaly_mode.get()


class Node:
    """One recorded op application: what backward needs, and no reference to the output.

    `args` are the op's inputs (Tensors, or constants such as Python scalars), `arrays`
    their values and `needs` which of them want a gradient, both as they were at the
    call; `out` is the output array when the op's VJP reads it (`Op.save_output`).
    `n_out` is None for an op with one output (its gradient is one array) and the count
    for an op returning a tuple (its gradient is a list, None where unused). `seq` is the
    clock at creation: an input's history is taken as it was then (`input_edge`), so a
    later in-place op on that input never reroutes this node's gradient. `extra` is None
    on the fast path, else a dict of what few nodes need: hooks and retain_grad requests
    of outputs, "dirty" (the output was changed in place), "trace" (the user's line, in
    anomaly mode).
    """

    __slots__ = ("op", "args", "arrays", "needs", "attrs", "out", "n_out", "seq", "extra",
                 "__weakref__")

    def __init__(self, op, args, arrays, needs, attrs, out, n_out):
        self.op = op
        self.args = args
        self.arrays = arrays
        self.needs = needs
        self.attrs = attrs
        self.out = out
        self.n_out = n_out
        self.seq = next(_clock)
        self.extra = {"trace": _user_frame()} if _anomaly_mode.get() else None

    @property
    def name(self) -> str:
        return self.op.name

    def __repr__(self) -> str:
        return f"<{self.op.__name__}Backward>"

    @property
    def next_functions(self) -> tuple:
        """The nodes (or leaf tensors) feeding this one, as in PyTorch."""
        if self.args is None:
            return ()
        return tuple(input_edge(a, self.seq)[0] or a
                     for a, need in zip(self.args, self.needs) if need)

    def _extra(self, kind: str, oi: int):
        """The hook list or retained-tensor slot of output `oi` (created on first use)."""
        if self.extra is None:
            self.extra = {}
        return self.extra.setdefault((kind, oi), [])

    @property
    def trace(self) -> str | None:
        """Where the user created this op (anomaly mode only)."""
        return None if self.extra is None else self.extra.get("trace")


def _user_frame() -> str:
    """The innermost stack frame outside the microtensor package, as 'file:line: code'."""
    pkg = os.path.dirname(__file__)
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(pkg):
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    return "<unknown>"


_F64 = xp.dtype(xp.float64)


def apply(op, *args, **attrs):
    """Run `op` forward on `args` (Tensors or constants) and record a node if needed."""
    arrays = []
    needs = []
    record = False
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a.data)
            if a.requires_grad:
                record = True
                needs.append(True)
                continue
        else:
            arrays.append(a)
        needs.append(False)
    try:
        out = op.forward(*arrays, **attrs)
    except ValueError as e:
        if str(e).startswith(op.name + ":"):
            raise
        shapes = ", ".join(str(getattr(a, "shape", type(a).__name__)) for a in arrays)
        raise ValueError(f"{op.name}: {e} (input shapes: {shapes})") from None
    if op.n_out == 1 and getattr(out, "dtype", None) is _F64 and "dtype" not in attrs:
        out = promote_result(out, arrays)
    if not (record and op.differentiable and _grad_on()):
        if op.n_out == 1:
            return _wrap(out)
        return tuple(_wrap(o) for o in out)
    if op.n_out == 1:
        node = Node(op, args, arrays, needs, attrs, out if op.save_output else None, None)
        return _wrap(out, node, 0)
    node = Node(op, args, arrays, needs, attrs, out if op.save_output else None, len(out))
    return tuple(_wrap(o, node, i) for i, o in enumerate(out))


_NO_ATTRS: dict = {}


def apply1(op, a):
    """apply() for one input and no attributes: the hot path of elementwise ops."""
    if not isinstance(a, Tensor):
        return apply(op, a)
    da = a.data
    out = op.forward(da)
    if out.dtype is _F64 and da.dtype is not _F64:  # an integer input: PyTorch's dtype
        out = promote_result(out, (da,))
    if a.requires_grad and op.differentiable and _grad_on():
        return _wrap(out, Node(op, (a,), (da,), (True,), _NO_ATTRS,
                               out if op.save_output else None, None))
    return _wrap(out)


def apply2(op, a, b):
    """apply() for two inputs and no attributes: the hot path of arithmetic."""
    if isinstance(a, Tensor):
        da, ra = a.data, a.requires_grad
    else:
        da, ra = a, False
    if isinstance(b, Tensor):
        db, rb = b.data, b.requires_grad
    else:
        db, rb = b, False
    try:
        out = op.forward(da, db)
    except ValueError:
        return apply(op, a, b)  # again, for the error message naming the op and shapes
    if out.dtype is _F64 and not (type(da) is ndarray and da.dtype is _F64 and da.ndim):
        out = promote_result(out, (da, db))  # numpy's promotion differs from PyTorch's
    if (ra or rb) and op.differentiable and _grad_on():
        # constant tuples: no allocation for the GC to count
        needs = (True, True) if ra and rb else (True, False) if ra else (False, True)
        return _wrap(out, Node(op, (a, b), (da, db), needs, _NO_ATTRS,
                               out if op.save_output else None, None))
    return _wrap(out)


# ------------------------------------------------------------- views and in-place ops
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


def input_edge(a: Tensor, seq: int) -> tuple:
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
    ob, xd = out.data.base, x.data
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
        idx = xp.arange(base.data.size).reshape(base.shape)
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
    live = []
    for ref in base._alias.views:
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
    base._alias.views = live


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
    base = alias.base if alias is not None else None
    if not t.data.flags.writeable:
        raise RuntimeError(
            f"{op.name}_: the tensor of shape {t.shape} is a broadcast (expand) view, so "
            f"several of its elements share one memory location; clone() it before "
            f"changing it in place")
    if recording:
        _check_inplace_target(op, t, base, alias)
    grad_args = any(isinstance(a, Tensor) and a.requires_grad for a in args)
    keep_old = recording and 0 in op.saves and (t.requires_grad or grad_args)
    old = _wrap(t.data.copy() if keep_old else t.data, t._node, t._oi)
    old.requires_grad = t.requires_grad
    args = tuple(old if a is t else a for a in args)  # x.mul_(x) reads x's old value
    res = apply(op, old, *args, **attrs)
    if res.shape != t.shape:
        raise RuntimeError(
            f"{op.name}_: the result has shape {res.shape}, which cannot be written into a "
            f"tensor of shape {t.shape} in place")
    if res.dtype != t.dtype:
        if not xp.can_cast(res.dtype, t.dtype, casting="same_kind"):
            raise RuntimeError(
                f"{op.name}_: the result type {res.dtype} can't be cast to the tensor's "
                f"dtype {t.dtype} in place; use the out-of-place {op.name}")
        res = apply(_ops.Cast, res, dtype=t.dtype)
    _mark_dirty(t, _owner(t), *(() if base is None else (base,)))
    xp.copyto(t.data, res.data)
    bump_version(t)
    stamp = _last_change[0]
    if not (recording and res._node is not None):
        return t
    if base is None:
        _set_history(t, res._node, 0, stamp)
        if t._alias is not None and t._alias.views:
            _rebuild_views(t, stamp)
        return t
    base_old = _wrap(base.data, base._node, base._oi)
    base_old.requires_grad = base.requires_grad
    node = Node(_ops.CopySlices, (base_old, res), (base.data, res.data),
                (base.requires_grad, True), {"index": _view_index(base, alias)}, None, None)
    _set_history(base, node, 0, stamp)
    _rebuild_views(base, stamp)
    return t


def _check_inplace_target(op, t: Tensor, base, alias) -> None:
    """The in-place changes that PyTorch refuses under grad mode, refused the same way."""
    if t.requires_grad and t._node is None:
        raise RuntimeError(
            f"{op.name}_: a leaf tensor of shape {t.shape} that requires grad cannot be "
            f"modified in place; do it under no_grad() (as optimizers do) or on a clone")
    if base is None:
        return
    if base.requires_grad and base._node is None:
        raise RuntimeError(
            f"{op.name}_: the tensor of shape {t.shape} is a view of a leaf tensor that "
            f"requires grad, which cannot be modified in place, not even through a view; "
            f"do it under no_grad() or on a clone")
    if alias.no_grad and base.requires_grad:
        raise RuntimeError(
            f"{op.name}_: the tensor of shape {t.shape} is a view made under no_grad() of "
            f"a tensor that requires grad; changing it in place with grad mode on would "
            f"leave the base's gradient wrong. Make the view with grad mode on, or change "
            f"it under no_grad()")


def bump_version(*tensors: Tensor) -> None:
    """Mark the tensors' memory as changed in place: nodes made before now that saved one
    of them (or a view of the same memory) will refuse to use it. A version is a stamp of
    the clock that numbers nodes, so a node needs no record of its inputs' versions."""
    stamp = _last_change[0] = next(_clock)
    for t in tensors:
        a = t._alias
        (t if a is None or a.owner is None else a.owner)._version = stamp


class _ArrayNS:
    """What VJPs call on bare arrays (ordinary backward)."""

    sum_to = staticmethod(sum_to)


class _TensorNS:
    """What VJPs call on Tensors (create_graph=True): filled in by ops.py."""


def _seed(root: Tensor, gradient, name: str):
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{name}: grad can be implicitly created only for scalar outputs, but the "
                f"output has shape {root.shape}; pass `gradient` (a tensor of that shape)")
        return xp.ones(root.shape, dtype=root.dtype) if root.ndim else xp.array(1, root.dtype)
    g = gradient if isinstance(gradient, Tensor) else Tensor(xp.asarray(gradient, root.dtype))
    if g.shape != root.shape:
        raise RuntimeError(
            f"{name}: gradient has shape {g.shape} but the output has shape {root.shape}")
    # A seed that requires grad joins create_graph; otherwise copy it, since it may flow
    # unchanged into a leaf's .grad, which later backward calls update in place.
    return g if g.requires_grad else g.data.copy()


def _check_versions(node) -> None:
    for i in node.op.saves:
        a = node.args[i]
        if isinstance(a, Tensor) and version(a) > node.seq:
            raise RuntimeError(
                f"{node.op.name}: an input of shape {a.shape} saved for backward was modified "
                f"by an in-place operation after it was saved; clone it before changing "
                f"it, or change it after backward")
    if node.extra is not None and node.extra.get("dirty") and node.op.save_output:
        raise RuntimeError(
            f"{node.op.name}: its output, saved for backward, was modified by an in-place "
            f"operation; clone it before changing it")


def _run_hooks(hooks, g, create_graph):
    for hook in hooks:
        res = hook(g if create_graph else Tensor(g))
        if res is None:
            continue
        shape, dtype = getattr(res, "shape", None), getattr(res, "dtype", None)
        if shape != g.shape or dtype != g.dtype:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                f"{shape} and dtype {dtype} for a gradient of shape {g.shape} and dtype "
                f"{g.dtype}; a hook may change the values, not the shape or dtype")
        # the hook's tensor stays the user's: the engine keeps a copy
        g = res if create_graph else xp.array(res.data if isinstance(res, Tensor) else res)
    return g


def _check_finite(node, grads) -> None:
    for g in grads:
        if g is None:
            continue
        data = g.data if isinstance(g, Tensor) else g
        if not xp.all(xp.isfinite(data)):
            where = node.trace or "<created before anomaly mode was enabled>"
            raise RuntimeError(
                f"anomaly: the backward of {node.op.name} produced NaN or inf; the op was "
                f"created at {where}")


def _freed(node) -> RuntimeError:
    return RuntimeError(
        f"backward: trying to go through the graph of {node.op.name} a second time, but "
        f"its saved values were freed after the first backward; pass retain_graph=True to "
        f"the first backward (or grad) call")


def _run(roots: list, seeds: list, retain_graph: bool, create_graph: bool,
         capture: list | None = None) -> dict:
    """Back-propagate `seeds` from `roots`. Returns {leaf: gradient}; with `capture`
    (autograd.grad) also the gradients of those non-leaf tensors.

    Order: a max-heap of the nodes holding a gradient, keyed by creation number. Every
    consumer of a node was made after it, so when a node comes off the heap all the
    gradient it will ever receive has arrived; one pass, no separate sort."""
    B = _TensorNS if create_graph else _ArrayNS
    grads: dict = {}
    leaf_grads: dict = {}
    heap: list = []
    for t, s in zip(roots, seeds):
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: element of shape {t.shape} does not require grad and has no "
                f"grad_fn; did you forget requires_grad=True on an input, or run it "
                f"under no_grad()?")
        if not create_graph and isinstance(s, Tensor):
            s = s.data
        elif create_graph and not isinstance(s, Tensor):
            s = _wrap(s)
        _accumulate(grads, leaf_grads, heap, t, t._node, t._oi, s)
    captured = {}
    for t in capture or ():
        if t._node is not None:
            captured.setdefault(t._node, []).append(t)
    changed = _last_change[0]
    token = _grad_mode.set(create_graph)
    try:
        while heap:
            node = heappop(heap)[1]
            g = grads.pop(node)
            args = node.args
            if args is None:
                raise _freed(node)
            extra = node.extra
            if extra is not None:
                g = _node_hooks(node, g, create_graph)
            if captured and node in captured:
                for t in captured[node]:
                    leaf_grads[t] = g if node.n_out is None else g[t._oi]
            if node.seq < changed:  # something changed in place since this node was made
                _check_versions(node)
            op, needs = node.op, node.needs
            if create_graph:
                # the saved output as a tensor made by this very node, so that second
                # derivatives flow through it (PyTorch's saved `result`)
                out = _wrap(node.out, node, 0) if op.save_output else None
                in_grads = op.vjp(B, g, out, args, needs, **node.attrs)
            elif node.attrs:
                in_grads = op.vjp(B, g, node.out, node.arrays, needs, **node.attrs)
            else:
                in_grads = op.vjp(B, g, node.out, node.arrays, needs)
            if extra is not None and "trace" in extra:
                _check_finite(node, in_grads)
            seq = node.seq
            for a, need, gi in zip(args, needs, in_grads):
                if not need or gi is None:
                    continue
                data = a.data
                if gi.shape != data.shape:  # the one place broadcasting is undone
                    gi = B.sum_to(gi, data.shape)
                if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                    gi = B.cast(gi, data.dtype)  # a gradient has its input's dtype
                if a._alias is None or a._alias.past is None:
                    _accumulate(grads, leaf_grads, heap, a, a._node, a._oi, gi)
                else:  # changed in place since: its history as this node saw it
                    _accumulate(grads, leaf_grads, heap, a, *input_edge(a, seq), gi)
            if not retain_graph:
                node.args = node.arrays = node.out = None
                node.attrs = _NO_ATTRS  # a Function's ctx, and what it saved, go too
    finally:
        _grad_mode.reset(token)
    return leaf_grads


def _accumulate(grads: dict, leaf_grads: dict, heap: list, t: Tensor, node, oi: int,
                g) -> None:
    """Add gradient `g` of tensor `t`, whose history is output `oi` of `node` (None for a
    leaf), to what its node (or leaf) has received; a node enters the heap on its first."""
    if node is None:
        prev = leaf_grads.get(t)
        leaf_grads[t] = g if prev is None else prev + g
    elif node.n_out is None:
        prev = grads.get(node)
        if prev is None:
            grads[node] = g
            heappush(heap, (-node.seq, node))
        else:
            grads[node] = prev + g
    else:
        slot = grads.get(node)
        if slot is None:
            slot = grads[node] = [None] * node.n_out
            heappush(heap, (-node.seq, node))
        slot[oi] = g if slot[oi] is None else slot[oi] + g


def _node_hooks(node, g, create_graph):
    """Run hooks and retain_grad of a non-leaf output once its gradient is complete."""
    multi = node.n_out is not None
    for oi in range(node.n_out or 1):
        gi = g[oi] if multi else g
        if gi is None:
            continue
        hooks = node.extra.get(("hook", oi))
        if hooks:
            gi = _run_hooks(hooks, gi, create_graph)
        for ref in node.extra.get(("retain", oi), ()):
            t = ref()
            if t is not None:
                _store_grad(t, gi if create_graph else gi.copy(), create_graph)
        if multi:
            g[oi] = gi
        else:
            g = gi
    return g


def _store_grad(t: Tensor, g, create_graph: bool, given: set | None = None) -> None:
    """Accumulate `g` into `t.grad` as PyTorch does: in place normally, out of place
    (keeping the graph) under create_graph. A first gradient is kept without a copy
    unless it is a view or an array already handed to another tensor (`given`: their
    ids; a VJP may return one array for several inputs), since later backward calls
    update .grad in place."""
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
        return
    if g.dtype != t.dtype:
        g = g.astype(t.dtype)
    if t.grad is None:
        if g.base is not None or (given is not None and id(g) in given):
            g = g.copy()
        if given is not None:
            given.add(id(g))
        t.grad = _wrap(g)
    elif t.grad.requires_grad:
        t.grad = _wrap(t.grad.data + g)
    else:
        t.grad.data += g


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (torch.autograd.backward)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, (Tensor, ndarray)):
        grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"backward: got {len(tensors)} tensors but {len(grad_tensors)} "
                           f"gradients; pass one gradient (or None) per tensor")
    seeds = [_seed(t, g, "backward") for t, g in zip(tensors, grad_tensors)]
    retain = create_graph if retain_graph is None else retain_graph
    leaf_grads = _run(tensors, seeds, retain, create_graph)
    given: set = set()
    for t, g in leaf_grads.items():
        if t._hooks:
            g = _run_hooks(t._hooks, g, create_graph)
        _store_grad(t, g, create_graph, given)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned rather than stored in
    `.grad` (torch.autograd.grad). With create_graph=True they are differentiable.

    >>> import microtensor as mt
    >>> x = mt.tensor(3.0, requires_grad=True)
    >>> (dx,) = mt.autograd.grad(x ** 3, x, create_graph=True)
    >>> (d2x,) = mt.autograd.grad(dx, x)
    >>> float(dx), float(d2x)
    (27.0, 18.0)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad: got {len(outputs)} outputs but {len(grad_outputs)} "
                           f"grad_outputs; pass one gradient (or None) per output")
    seeds = [_seed(t, g, "grad") for t, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    leaf_grads = _run(outputs, seeds, retain, create_graph, capture=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = leaf_grads.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    f"pass allow_unused=True to get None for it")
            result.append(None)
            continue
        result.append(g if isinstance(g, Tensor) else Tensor(g))
    return tuple(result)


# ------------------------------------------------------------------ user-defined ops
class FunctionCtx:
    """What a Function's forward leaves for its backward (PyTorch's ctx)."""

    def __init__(self, fn_name: str, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self._name = fn_name
        self._saved: tuple = ()
        self._stamp = 0
        self._outputs_saved = False

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; a later in-place change to one is caught there."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{self._name}.save_for_backward: argument {i} is a "
                                f"{type(t).__name__}; save tensors here and other values "
                                f"as attributes of ctx")
        self._saved = tensors
        self._stamp = next(_clock)

    @property
    def saved_tensors(self) -> tuple:
        for i, t in enumerate(self._saved):
            if t is not None and version(t) > self._stamp:
                raise RuntimeError(
                    f"{self._name}: saved tensor {i} (shape {t.shape}) was modified by an "
                    f"in-place operation after save_for_backward; clone it first")
        return self._saved


class _FunctionOp:
    """Adapts a Function subclass to the engine's op interface (name, vjp, flags)."""

    save_output = False
    saves = ()
    differentiable = True

    def __init__(self, fn) -> None:
        self.fn = fn
        self.name = self.__name__ = fn.__name__

    def vjp(self, B, g, out, args, needs, ctx):
        create_graph = B is _TensorNS
        grads_out = g if isinstance(g, list) else [g]
        if ctx._outputs_saved and create_graph:
            raise RuntimeError(
                f"{self.name}: it saved one of its outputs for backward, which a second "
                f"derivative would see as a constant; save the inputs and recompute the "
                f"output in backward to use create_graph=True")
        wrapped = []
        for gi, (shape, dtype) in zip(grads_out, ctx._out_meta):
            if gi is None:
                gi = xp.zeros(shape, dtype)
            wrapped.append(gi if isinstance(gi, Tensor) else _wrap(gi))
        with _GradMode(create_graph):
            result = self.fn.backward(ctx, *wrapped)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(needs):
            raise RuntimeError(
                f"{self.name}.backward returned {len(result)} gradient"
                f"{'s' if len(result) != 1 else ''}, but forward took {len(needs)} input"
                f"{'s' if len(needs) != 1 else ''}; return one per input (None for inputs "
                f"that need none)")
        checked = []
        for i, (gi, a, need) in enumerate(zip(result, args, needs)):
            if gi is None or not need:
                checked.append(None)
                continue
            if not isinstance(gi, Tensor):
                raise TypeError(f"{self.name}.backward: gradient {i} is a "
                                f"{type(gi).__name__}, not a Tensor")
            if gi.shape != a.shape:
                raise RuntimeError(
                    f"{self.name}.backward returned a gradient of shape {gi.shape} for "
                    f"input {i}, which has shape {a.shape}; they must match (sum over "
                    f"broadcast dimensions in backward)")
            checked.append(gi if create_graph else gi.data)
        return tuple(checked)


class Function:
    """Base class of a user-defined differentiable op, as torch.autograd.Function.

    >>> import microtensor as mt
    >>> class Cube(mt.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = mt.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad
    tensor([ 3., 12.])
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args):
        raise NotImplementedError("a Function subclass defines forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs):
        raise NotImplementedError("a Function subclass defines backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args):
        """Run forward without recording, then record one node whose VJP is backward."""
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(cls.__name__, needs)
        with _GradMode(False):
            result = cls.forward(ctx, *args)
        outs = result if isinstance(result, tuple) else (result,)
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                raise TypeError(f"{cls.__name__}.forward: output {i} is a "
                                f"{type(o).__name__}; return Tensors")
        if not (any(needs) and _grad_on()):
            return result
        if "_op" not in cls.__dict__:
            cls._op = _FunctionOp(cls)
        ctx._out_meta = [(o.shape, o.dtype) for o in outs]
        ctx._outputs_saved = any(s is o for s in ctx._saved for o in outs)
        multi = isinstance(result, tuple)
        node = Node(cls._op, args, tuple(a.data if isinstance(a, Tensor) else a for a in args),
                    needs, {"ctx": ctx}, None, len(outs) if multi else None)
        wrapped = tuple(_wrap(o.data, node, i) for i, o in enumerate(outs))
        return wrapped if multi else wrapped[0]


from . import ops as _ops  # noqa: E402  (the op table records through this module)
