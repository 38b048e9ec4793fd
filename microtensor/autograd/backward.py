"""Reverse mode: backward() and grad().

Nodes come off a max-heap keyed by creation number: every consumer of a node was made
after it, so when a node comes off, all the gradient it will receive has arrived; one
pass, no separate sort. Each step runs the node's VJP and accumulates each input's
gradient into the node (or leaf) of that input's history as it was when the node was
made. Without `create_graph` the VJPs run on bare arrays (fast, no Tensor objects); with
it they run on Tensors through the same code, so the gradient is itself a graph. Only
leaves (and tensors that asked with `retain_grad`) keep `.grad`.
"""

from __future__ import annotations

import contextvars
import math
import weakref
from heapq import heappop, heappush
from typing import Any

from ..backend import ndarray, xp
from ..tensor import Tensor, _wrap
from . import graph
from .grad_mode import _grad_mode, _GradMode
from .graph import _NO_ATTRS, _ArrayNS, _last_change, _TensorNS
from .views import input_edge, version

# explain()'s recorder of each step while it runs, else None: read once per backward call
_explaining: contextvars.ContextVar = contextvars.ContextVar("microtensor_explain", default=None)


def _seed(root: Tensor, gradient, name: str):
    if gradient is None:
        d = root._data
        if d.size != 1:
            raise RuntimeError(
                f"{name}: grad can be implicitly created only for scalar outputs, but the "
                f"output has shape {root.shape}; pass `gradient` (a tensor of that shape)"
            )
        return xp.array(1, d.dtype) if not d.ndim else xp.ones(d.shape, d.dtype)
    g = gradient if isinstance(gradient, Tensor) else Tensor(xp.asarray(gradient, root.dtype))
    if g.shape != root.shape:
        raise RuntimeError(
            f"{name}: gradient has shape {g.shape} but the output has shape {root.shape}"
        )
    # A seed that requires grad joins create_graph; otherwise copy it, since it may flow
    # unchanged into a leaf's .grad, which later backward calls update in place.
    return g if g.requires_grad else g._data.copy()


def _check_versions(node) -> None:
    for i in node.op.saves:
        a = node.args[i]
        if isinstance(a, Tensor) and version(a) > node.seq:
            raise RuntimeError(
                f"{node.op.name}: an input of shape {a.shape} saved for backward was modified "
                f"by an in-place operation after it was saved; clone it before changing "
                f"it, or change it after backward"
            )
    if node.extra is not None and node.extra.get("dirty") and node.op.save_output:
        raise RuntimeError(
            f"{node.op.name}: its output, saved for backward, was modified by an in-place "
            f"operation; clone it before changing it"
        )


def _run_hooks(hooks, g, create_graph):
    """Call each hook on the gradient, in backward's grad mode (on only under create_graph,
    as in PyTorch's engine); a hook's result replaces the gradient."""
    with _GradMode(create_graph):
        for hook in hooks:
            res = hook(g if create_graph else Tensor(g))
            if res is None:
                continue
            shape, dtype = getattr(res, "shape", None), getattr(res, "dtype", None)
            if shape != g.shape or dtype != g.dtype:
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                    f"{shape} and dtype {dtype} for a gradient of shape {g.shape} and dtype "
                    f"{g.dtype}; a hook may change the values, not the shape or dtype"
                )
            # the hook's tensor stays the user's: the engine keeps a copy
            g = res if create_graph else xp.array(res._data if isinstance(res, Tensor) else res)
    return g


def _check_finite(node, grads) -> None:
    for g in grads:
        if g is None:
            continue
        data = g._data if isinstance(g, Tensor) else g
        if not xp.all(xp.isfinite(data)):
            where = node.trace or "<created before anomaly mode was enabled>"
            raise RuntimeError(
                f"anomaly: the backward of {node.op.name} produced NaN or inf; the op was "
                f"created at {where}"
            )


def _freed(node) -> RuntimeError:
    return RuntimeError(
        f"backward: trying to go through the graph of {node.op.name} a second time, but "
        f"its saved values were freed after the first backward; pass retain_graph=True to "
        f"the first backward (or grad) call"
    )


def _run(
    roots: list, seeds: list, retain_graph: bool, create_graph: bool, capture: list | None = None
) -> dict:
    """Back-propagate `seeds` from `roots`. Returns {leaf: gradient}; with `capture`
    (autograd.grad) also the gradients of those non-leaf tensors.

    Order: a max-heap of the nodes holding a gradient, keyed by creation number. Every
    consumer of a node was made after it, so when a node comes off the heap all the
    gradient it will ever receive has arrived; one pass, no separate sort."""
    if graph.tracer is not None and graph.tracer.wants():  # microtensor.compile records it
        return graph.tracer.backward(roots, seeds, retain_graph, create_graph, capture)
    B: Any = _TensorNS if create_graph else _ArrayNS  # namespaces ops/ fills (setattr)
    rec = _explaining.get()
    for t in roots:
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: element of shape {t.shape} does not require grad and has no "
                f"grad_fn; did you forget requires_grad=True on an input, or run it "
                f"under no_grad()?"
            )
    if create_graph:
        seeds = [s if isinstance(s, Tensor) else _wrap(s) for s in seeds]
    elif len(seeds) != 1 or type(seeds[0]) is not ndarray:  # one array: loss.backward()
        seeds = [s._data if isinstance(s, Tensor) else s for s in seeds]
    captured: dict = {}
    for t in capture or ():
        if t._node is not None:
            captured.setdefault(t._node, []).append(t)
    grads: dict = {}  # node -> the gradient it has received (a list for several outputs)
    leaf_grads: dict = {}
    heap: list = []
    changed = _last_change[0]
    # Seed: the roots are sent their seeds as if by a node made now. Then each step takes
    # the next node off the heap and runs its VJP, and the loop's head accumulates what
    # it sends each input, in the one place gradients are added.
    node, args, needs, in_grads, seq = None, roots, (True,) * len(roots), seeds, math.inf
    # Without create_graph the VJPs compute on arrays, which record nothing whatever the
    # grad mode: only hooks (user code) need it off, and they get it (_node_hooks).
    token = _grad_mode.set(True) if create_graph else None
    try:
        while True:
            # freeing the node that just ran (without retain_graph): its edges are taken
            # here, from the histories this loop looks up anyway
            edges = None if retain_graph or node is None else []
            for a, need, gi in zip(args, needs, in_grads):
                if not need or gi is None:
                    if edges is not None:  # a constant (most often a number) or an input
                        edges.append(_edge(a, seq) if isinstance(a, _HELD) else a)
                    continue
                data = a._data
                if gi.shape != data.shape:  # the one place broadcasting is undone
                    shape = gi.shape
                    gi = B.sum_to(gi, data.shape)
                    if rec is not None:
                        rec.summed(a, shape, gi)
                if gi.dtype is not data.dtype:  # a gradient has its input's dtype
                    gi = B.cast(gi, data.dtype)
                alias = a._alias
                if alias is None or alias.past is None:
                    p = a._node
                else:  # changed in place since: its history as the consumer saw it
                    p = input_edge(a, seq)[0]
                if p is None:
                    if edges is not None:
                        edges.append(a)
                    prev = leaf_grads.get(a)
                    leaf_grads[a] = gi if prev is None else prev + gi
                    continue
                prev = grads.get(p)
                if p.n_out is not None:  # one of several outputs: a slot each
                    oi = a._oi if alias is None or alias.past is None else input_edge(a, seq)[1]
                    if edges is not None:
                        edges.append((p, oi))
                    if prev is None:
                        prev = grads[p] = [None] * p.n_out
                        heappush(heap, (-p.seq, p))
                    prev[oi] = gi if prev[oi] is None else prev[oi] + gi
                    continue
                if edges is not None:
                    edges.append(p)
                if prev is None:
                    grads[p] = gi
                    heappush(heap, (-p.seq, p))
                else:
                    grads[p] = prev + gi
            if edges is not None:  # what the VJP needed goes; the structure stays
                node.edges = tuple(edges)
                node.args = node.arrays = node.out = None
                node.attrs = _NO_ATTRS  # a Function's ctx, and what it saved, go too
            if not heap:
                return leaf_grads
            node = heappop(heap)[1]  # step: one node's VJP
            g = grads.pop(node)
            args, needs, seq, extra = node.args, node.needs, node.seq, node.extra
            if args is None:
                raise _freed(node)
            if extra is not None:
                g = _node_hooks(node, g, create_graph)
            if captured and node in captured:
                for t in captured[node]:
                    leaf_grads[t] = g if node.n_out is None else g[t._oi]
            if seq < changed:  # something changed in place since this node was made
                _check_versions(node)
            op = node.op
            if create_graph:
                # the saved output as a tensor made by this very node, so that second
                # derivatives flow through it (PyTorch's saved `result`)
                out = _wrap(node.out, node, 0) if op.save_output else None
                in_grads = op.vjp(B, g, out, args, needs, **node.attrs)
            elif node.attrs:
                in_grads = op.vjp(B, g, node.out, node.arrays, needs, **node.attrs)
            else:
                in_grads = op.vjp(B, g, node.out, node.arrays, needs)
            if rec is not None:
                rec.step(node, g, in_grads)
            if extra is not None and "trace" in extra:
                _check_finite(node, in_grads)
    finally:
        if token is not None:
            _grad_mode.reset(token)


_HELD = (Tensor, ndarray)  # the inputs an edge of which is not the input itself


def _edge(a, seq: int):
    """Node.edges' entry for an input that sent no gradient: what fed it (as the loop's
    head finds it for the others), a leaf requiring grad itself, and by weak reference
    what backward must not keep alive (a leaf without grad, an array constant)."""
    if isinstance(a, Tensor):
        p, oi = input_edge(a, seq)
        if p is not None:
            return p if p.n_out is None else (p, oi)
        return a if a.requires_grad else weakref.ref(a)
    return weakref.ref(a) if isinstance(a, ndarray) else a


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
    dtype = t._data.dtype
    if g.dtype is not dtype and g.dtype != dtype:
        g = g.astype(dtype)
    if t.grad is None:
        if g.base is not None or (given is not None and id(g) in given):
            g = g.copy()
        if given is not None:
            given.add(id(g))
        t.grad = _wrap(g)
    elif t.grad.requires_grad:
        t.grad = _wrap(t.grad._data + g)
    else:
        t.grad._data += g


def _roots(
    name: str,
    noun: str,
    grads_noun: str,
    tensors,
    grads,
    retain_graph: bool | None,
    create_graph: bool,
) -> tuple:
    """(roots, gradients, seeds, retain_graph) from what backward() and grad() were
    passed: one tensor or several, and no gradient (implicit ones, for scalars), one, or
    one each (`gradients`: one per root, None where implicit); retain_graph defaults to
    create_graph, as in PyTorch."""
    retain = create_graph if retain_graph is None else retain_graph
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grads is None:
        grads = [None] * len(tensors)
    elif isinstance(grads, (Tensor, ndarray)):
        grads = [grads]
    if len(grads) != len(tensors):
        raise RuntimeError(
            f"{name}: got {len(tensors)} {noun}s but {len(grads)} {grads_noun}; "
            f"pass one gradient (or None) per {noun}"
        )
    return tensors, grads, [_seed(t, g, name) for t, g in zip(tensors, grads)], retain


def backward(
    tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (torch.autograd.backward)."""
    # mt.compile's tracer reads grad_tensors, one per tensor, from this frame
    if grad_tensors is None and isinstance(tensors, Tensor):  # loss.backward(): each step
        seeds = [_seed(tensors, None, "backward")]
        tensors, grad_tensors = [tensors], [None]
        retain = create_graph if retain_graph is None else retain_graph
    else:
        tensors, grad_tensors, seeds, retain = _roots(
            "backward", "tensor", "gradients", tensors, grad_tensors, retain_graph, create_graph
        )
    leaf_grads = _run(tensors, seeds, retain, create_graph)
    given: set = set()
    for t, g in leaf_grads.items():
        if t._hooks:
            g = _run_hooks(t._hooks, g, create_graph)
        _store_grad(t, g, create_graph, given)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned rather than stored in
    `.grad` (torch.autograd.grad). With create_graph=True they are differentiable.

    >>> import microtensor as mt
    >>> x = mt.tensor(3.0, requires_grad=True)
    >>> (dx,) = mt.autograd.grad(x ** 3, x, create_graph=True)
    >>> (d2x,) = mt.autograd.grad(dx, x)
    >>> float(dx), float(d2x)
    (27.0, 18.0)
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    outputs, _, seeds, retain = _roots(
        "grad", "output", "grad_outputs", outputs, grad_outputs, retain_graph, create_graph
    )
    leaf_grads = _run(outputs, seeds, retain, create_graph, capture=inputs)
    result: list = []
    for i, t in enumerate(inputs):
        g = leaf_grads.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    f"pass allow_unused=True to get None for it"
                )
            result.append(None)
            continue
        result.append(g if isinstance(g, Tensor) else Tensor(g))
    return tuple(result)
