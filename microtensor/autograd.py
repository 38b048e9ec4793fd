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

import functools
import itertools
import os
import traceback
from heapq import heappop, heappush
from typing import Callable

from .backend import ndarray, sum_to, xp
from .tensor import Tensor, _wrap

__all__ = [
    "Node", "apply", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled", "apply_inplace",
    "Function", "FunctionCtx",
]

_state = {"grad": True, "anomaly": False}
# One clock numbers nodes as they are made (a topological order) and stamps tensors
# changed in place (their version). A saved input whose stamp is later than its node's
# number changed after being saved. `_last_change` is the latest stamp: nodes made after
# it skip the version check.
_clock = itertools.count(1)
_last_change = [0]


def is_grad_enabled() -> bool:
    """Whether ops applied now record a graph."""
    return _state["grad"]


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    def __init__(self, mode: bool) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self.prev = _state["grad"]
        _state["grad"] = self.mode

    def __exit__(self, *exc) -> None:
        _state["grad"] = self.prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Ops inside record no graph (evaluation, optimizer updates).

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
    """Grad mode on or off, for a block, a function, or (called alone) from now on."""

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))
        self.prev = _state["grad"]
        _state["grad"] = self.mode

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        _state["grad"] = self.prev
        return super().__call__(fn)


class detect_anomaly:
    """Inside, a NaN or inf produced by a VJP raises an error naming the op and the user
    line that created it in the forward pass. Costs a stack capture per op, so it is off
    by default."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self.prev = _state["anomaly"]
        _state["anomaly"] = self.check_nan

    def __exit__(self, *exc) -> None:
        _state["anomaly"] = self.prev


def is_anomaly_enabled() -> bool:
    return _state["anomaly"]


class Node:
    """One recorded op application: what backward needs, and no reference to the output.

    `args` are the op's inputs (Tensors, or constants such as Python scalars), `arrays`
    their values and `needs` which of them want a gradient, both as they were at the
    call; `out` is the output array when the op's VJP reads it (`Op.save_output`).
    `n_out` is None for an op with one output (its gradient is one array) and the count
    for an op returning a tuple (its gradient is a list, None where unused). `seq` is the
    clock at creation. `extra` is None on the fast path, else a dict of what few nodes
    need: hooks and retain_grad requests of outputs, "dirty" (the output was changed in
    place), "trace" (the user's line, in anomaly mode).
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
        self.extra = {"trace": _user_frame()} if _state["anomaly"] else None

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
        return tuple(a._node if a._node is not None else a
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
    if not (record and _state["grad"] and op.differentiable):
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
    out = op.forward(a.data)
    if a.requires_grad and _state["grad"] and op.differentiable:
        return _wrap(out, Node(op, (a,), (a.data,), (True,), _NO_ATTRS,
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
    if (ra or rb) and _state["grad"] and op.differentiable:
        # constant tuples: no allocation for the GC to count
        needs = (True, True) if ra and rb else (True, False) if ra else (False, True)
        return _wrap(out, Node(op, (a, b), (da, db), needs, _NO_ATTRS,
                               out if op.save_output else None, None))
    return _wrap(out)


def apply_inplace(op, t: Tensor, *args, **attrs) -> Tensor:
    """Apply `op` to (t, *args) and write the result into t's array: PyTorch's in-place
    semantics. Under grad mode t's history is rebased onto the new node, whose input is
    t's old value (a copy only when that op's VJP reads it); nodes made earlier that
    saved t see its version change and refuse to backward through stale data."""
    recording = _state["grad"]
    if recording and t.requires_grad and t._node is None:
        raise RuntimeError(
            f"{op.name}_: a leaf tensor of shape {t.shape} that requires grad cannot be "
            f"modified in place; do it under no_grad() (as optimizers do) or on a clone")
    keep_old = recording and t.requires_grad and 0 in op.saves
    old = _wrap(t.data.copy() if keep_old else t.data, t._node, t._oi)
    old.requires_grad = t.requires_grad
    old._version = t._version
    res = apply(op, old, *args, **attrs)
    if res.shape != t.shape:
        raise RuntimeError(
            f"{op.name}_: the result has shape {res.shape}, which cannot be written into a "
            f"tensor of shape {t.shape} in place")
    xp.copyto(t.data, res.data, casting="same_kind")
    bump_version(t)
    if t._node is not None:
        if t._node.extra is None:
            t._node.extra = {}
        t._node.extra["dirty"] = True
    if recording and res._node is not None:
        t._node, t._oi, t.requires_grad = res._node, 0, True
    return t


def bump_version(*tensors: Tensor) -> None:
    """Mark the tensors' arrays as changed in place: nodes made before now that saved
    one will refuse to use it. A version is a stamp of the clock that numbers nodes, so
    a node needs no record of its inputs' versions."""
    stamp = _last_change[0] = next(_clock)
    for t in tensors:
        t._version = stamp


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
        if isinstance(a, Tensor) and a._version > node.seq:
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
        if res is not None:  # the hook's tensor stays the user's: the engine keeps a copy
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
        node = t._node
        if node is None:
            prev = leaf_grads.get(t)
            leaf_grads[t] = s if prev is None else prev + s
            continue
        if node not in grads:
            heappush(heap, (-node.seq, node))
        _add_grad(grads, node, t._oi, s)
    captured = {}
    for t in capture or ():
        if t._node is not None:
            captured.setdefault(t._node, []).append(t)
    changed = _last_change[0]
    mode = _state["grad"]
    _state["grad"] = create_graph
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
                in_grads = op.vjp(B, g, _recompute(node) if op.save_output else None, args,
                                  needs, **node.attrs)
            elif node.attrs:
                in_grads = op.vjp(B, g, node.out, node.arrays, needs, **node.attrs)
            else:
                in_grads = op.vjp(B, g, node.out, node.arrays, needs)
            if extra is not None and "trace" in extra:
                _check_finite(node, in_grads)
            for a, need, gi in zip(args, needs, in_grads):
                if not need or gi is None:
                    continue
                shape = a.data.shape
                if gi.shape != shape:  # the one place broadcasting is undone
                    gi = B.sum_to(gi, shape)
                p = a._node
                if p is None:
                    prev = leaf_grads.get(a)
                    leaf_grads[a] = gi if prev is None else prev + gi
                elif p.n_out is None:
                    prev = grads.get(p)
                    if prev is None:
                        grads[p] = gi
                        heappush(heap, (-p.seq, p))
                    else:
                        grads[p] = prev + gi
                else:
                    if p not in grads:
                        heappush(heap, (-p.seq, p))
                    _add_grad(grads, p, a._oi, gi)
            if not retain_graph:
                node.args = node.arrays = node.out = None
                node.attrs = _NO_ATTRS  # a Function's ctx, and what it saved, go too
    finally:
        _state["grad"] = mode
    return leaf_grads


def _add_grad(grads: dict, node, oi: int, g) -> None:
    if node.n_out is None:
        prev = grads.get(node)
        grads[node] = g if prev is None else prev + g
    else:
        slot = grads.setdefault(node, [None] * node.n_out)
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


def _recompute(node):
    """The op's output as a Tensor of its inputs, for VJPs that read it under create_graph:
    recomputing keeps the node free of a reference to its output."""
    return apply(node.op, *node.args, **node.attrs)


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
            if t is not None and t._version > self._stamp:
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
        if not (any(needs) and _state["grad"]):
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
