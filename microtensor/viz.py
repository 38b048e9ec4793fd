"""Computation graphs a person can read: DOT text in pure Python, rendered by Graphviz.

`to_dot(*roots, **options)` walks the graph behind some tensors (or runs a module on an
example input) and returns DOT text; it needs no Graphviz program. `draw_graph` wraps the
same text in a `graphviz.Digraph`: `.render(outfile="g.svg")`, or shown inline in Jupyter.

A graph node holds its op and its input tensors but not its output, so the picture is
built from what the nodes hold:
- leaves that require grad (parameters): green boxes; leaves that do not (inputs):
  blue pages; both drawn from the tensors the ops took;
- ops: yellow ellipses labelled with the op's name and its output's shape, read from the
  tensor a later op took (or from a root); a custom `Function` is a purple hexagon under
  its class name; a module folded by `collapse="fold"` is a grey 3-D box;
- each root: an orange double octagon.
A tensor holding NaN or inf is drawn red, and the op where they first appear (finite
inputs, non-finite output) has a thick red border. Edges point the way data flows.

A network of models/ is drawn from the command line by `microtensor graph` (models.cli):
this module is the drawing API only, and the engine never imports models.
"""
from __future__ import annotations

import contextlib
import pathlib
import sys
from bisect import bisect_left
from collections import deque
from typing import Iterator, Sequence

import graphviz

from . import autograd
from .autograd import _FunctionOp, input_edge
from .backend import xp
from .nn import module as _module
from .nn.module import Module
from .random import default_generator
from .tensor import Tensor, tensor

__all__ = ["to_dot", "draw_graph", "trace_modules", "ModuleScopes", "Graph",
           "DotNotFoundError"]

# Node styles: role -> Graphviz attributes. Shapes differ as well as colours, so the
# roles stay apart in grey print and for colour-blind readers.
_STYLE = {
    "param": {"shape": "box", "style": "filled", "fillcolor": "#d5e8d4", "color": "#82b366"},
    "input": {"shape": "note", "style": "filled", "fillcolor": "#dae8fc", "color": "#6c8ebf"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#fff2cc", "color": "#d6b656"},
    "function": {"shape": "hexagon", "style": "filled", "fillcolor": "#e1d5e7",
                 "color": "#9673a6"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#f5f5f5", "color": "#666666"},
    "output": {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#ffe6cc",
               "color": "#d79b00"},
    "more": {"shape": "plaintext"},
}
_NONFINITE = {"fillcolor": "#f8cecc", "color": "#b85450", "fontcolor": "#990000"}
_ORIGIN = {"color": "#ff0000", "penwidth": "3"}
_REUSED = {"style": "dashed", "color": "#999999", "fontcolor": "#666666"}
_CLUSTER = {"style": "rounded,dashed", "color": "#888888", "fontcolor": "#444444",
            "labeljust": "l"}
_HEAD = ('\tgraph [fontname="Helvetica" fontsize="12" labelloc="t" rankdir={rankdir}{label}]\n'
         '\tnode [fontname="Helvetica" fontsize="10"]\n'
         '\tedge [color="#555555" arrowsize="0.7"]\n')
_INSTALL = ("install the Graphviz system package: `apt-get install graphviz` (Debian/Ubuntu), "
            "`brew install graphviz` (macOS) or `conda install graphviz`")


# ------------------------------------------------------------------- module scopes
class _Call:
    """One call of a module: the creation numbers of the ops it made lie in (start, end)."""

    __slots__ = ("module", "name", "start", "end", "parent", "inputs")

    def __init__(self, module, name, start, parent, inputs) -> None:
        self.module, self.name, self.start, self.parent = module, name, start, parent
        self.inputs = inputs  # ids of the tensors passed in: inputs, not the module's own
        self.end = None

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
        call = _Call(module, self._names.get(id(module), ""), next(autograd._clock),
                     self._stack[-1] if self._stack else None, inputs)
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


# ------------------------------------------------------------------- labels
def _shape(shape: tuple) -> str:
    return "scalar" if shape == () else str(tuple(shape))


def _num(v, digits: int = 4) -> str:
    return f"{v:.{digits}g}"


def _nonfinite(a) -> bool:
    return a.dtype.kind in "fc" and a.size > 0 and not xp.isfinite(a).all()


def _bad_counts(a) -> str:
    parts = []
    nan, inf = int(xp.isnan(a).sum()), int(xp.isinf(a).sum())
    if nan:
        parts.append(f"{nan} NaN")
    if inf:
        parts.append(f"{inf} inf")
    return ", ".join(parts)


def _summary(a) -> str:
    """The value itself for one element, else min/mean/max (of the finite elements)."""
    if a.size == 0:
        return "empty"
    if a.dtype.kind == "b":
        return f"{int(a.sum())} of {a.size} true"
    if a.size == 1:
        return "= " + _num(a.reshape(()).item())
    if a.dtype.kind in "fc" and not xp.isfinite(a).all():
        a = a[xp.isfinite(a)]
        if a.size == 0:
            return "no finite values"
    return (f"min {_num(a.min(), 3)} mean {_num(a.mean(dtype=xp.float64), 3)} "
            f"max {_num(a.max(), 3)}")


def _tensor_lines(t: Tensor | None, show_values: bool, show_grads: bool) -> list[str]:
    """Shape (always), dtype and a summary of the value and of the gradient (on request)."""
    if t is None:
        return []
    a = t.data
    lines = [_shape(a.shape) + (f" {a.dtype}" if show_values else "")]
    if show_values:
        lines.append(_summary(a))
    if _nonfinite(a):
        lines.append(_bad_counts(a))
    if show_grads and (t.grad is not None or t._node is None and t.requires_grad):
        lines.append("grad " + ("None" if t.grad is None else _summary(t.grad.data)))
    return lines


def _const(c) -> str:
    if isinstance(c, (bool, int, float, xp.generic)):
        return _num(c) if isinstance(c, (float, xp.floating)) else str(c)
    return "array" if hasattr(c, "shape") else type(c).__name__


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(a: dict) -> str:
    return " ".join(f"{k}={_q(str(v))}" for k, v in a.items())


# ------------------------------------------------------------------- the drawing
class _Walk:
    """Everything reachable from the roots, read once: ops in creation order, leaves, who
    feeds whom, and a tensor for each op output that some op took or that is a root."""

    def __init__(self, roots: Sequence[Tensor]) -> None:
        ops: dict = {}
        leaves: dict = {}
        self.tensor_of: dict = {}  # (id(node), oi) -> a Tensor holding that output
        self.inputs: dict = {}  # id(node) -> [(source key, oi)], key = id of node or leaf
        self.consts: dict = {}  # id(node) -> labels of the arguments, when some are constants
        self.freed: list = []
        stack = []
        for t in roots:
            if t._node is None:
                leaves.setdefault(id(t), t)
            else:
                self.tensor_of.setdefault((id(t._node), t._oi), t)
                stack.append(t._node)
        while stack:
            node = stack.pop()
            if id(node) in ops:
                continue
            ops[id(node)] = node
            args = node.args
            if args is None:
                self.freed.append(node)
                continue
            edges = []
            for a in args:
                if not isinstance(a, Tensor):
                    continue
                p, oi = input_edge(a, node.seq)  # as it was then, if changed in place since
                if p is None:
                    leaves.setdefault(id(a), a)
                    edges.append((id(a), None))
                else:
                    self.tensor_of.setdefault((id(p), oi), a)
                    edges.append((id(p), oi))
                    if id(p) not in ops:
                        stack.append(p)
            self.inputs[id(node)] = edges
            if len(edges) != len(args):
                self.consts[id(node)] = ", ".join(
                    "·" if isinstance(a, Tensor) else _const(a) for a in args)
        self.ops = sorted(ops.values(), key=lambda n: n.seq)
        self.by_id = ops
        order = {key: None for n in self.ops for key, oi in self.inputs.get(id(n), ())
                 if oi is None}  # leaves in the order ops took them, then leaf roots
        self.leaves = [leaves[k] for k in order] + [t for k, t in leaves.items()
                                                     if k not in order]


class _Drawing:
    """The visible graph: nodes (id -> attributes), their clusters, and edges."""

    def __init__(self) -> None:
        self.nodes: dict = {}  # id -> attributes (label included)
        self.cluster: dict = {}  # id -> _Call it is drawn inside (absent: top level)
        self.edges: list = []  # (tail, head, attributes)

    def count(self) -> int:
        return len(self.nodes)


class _Builder:
    """Turns a walk into a drawing, for a given folding depth."""

    def __init__(self, walk: _Walk, names: dict, inputs: set, outputs: list, opts: dict,
                 scopes: ModuleScopes | None, skip, reused: set) -> None:
        self.w, self.names, self.outputs, self.o = walk, names, outputs, opts
        self.inputs = inputs  # ids of leaves drawn as inputs though they require grad
        self.reused = reused  # ids of forward ops a backward graph reuses
        self.op_id = {id(n): f"n{i}" for i, n in enumerate(walk.ops)}
        self.chain: dict = {}  # id(node) -> drawn module calls around it, outermost first
        self.max_depth = 0
        if scopes is not None:
            chains: dict = {}
            for n in walk.ops:
                call = scopes.scope_of(n)
                if call is None or id(call) not in chains:
                    c, path = call, []
                    while c is not None and id(c) not in chains:
                        path.append(c)
                        c = c.parent
                    base = chains[id(c)] if c is not None else ()
                    for c in reversed(path):
                        base = base if c is skip else base + (c,)
                        chains[id(c)] = base
                chain = chains[id(call)] if call is not None else ()
                self.chain[id(n)] = chain
                self.max_depth = max(self.max_depth, len(chain))
        self.consumers: dict = {}  # id(leaf) -> [node]
        for n in walk.ops:
            for key, oi in walk.inputs.get(id(n), ()):
                if oi is None:
                    self.consumers.setdefault(key, []).append(n)
        self.bad: dict = {}  # id(node) -> 'origin' or 'nonfinite'
        for n in walk.ops:
            outs = [walk.tensor_of.get((id(n), oi)) for oi in range(n.n_out or 1)]
            if any(t is not None and _nonfinite(t.data) for t in outs):
                finite_in = n.args is not None and not any(
                    isinstance(a, Tensor) and _nonfinite(a.data) for a in n.args)
                self.bad[id(n)] = "origin" if finite_in else "nonfinite"

    # -- one op, one leaf ------------------------------------------------------------
    def _op_attrs(self, n) -> dict:
        w, o = self.w, self.o
        custom = isinstance(n.op, _FunctionOp)
        attrs = dict(_STYLE["function" if custom else "op"])
        head = n.name + (f"({w.consts[id(n)]})" if id(n) in w.consts else "")
        lines = [head]
        if n.n_out is None:
            lines += _tensor_lines(w.tensor_of.get((id(n), 0)), o["show_values"],
                                   o["show_grads"])
        else:
            lines.append(" ".join(_shape(t.shape) if t is not None else "?" for t in
                                  (w.tensor_of.get((id(n), i)) for i in range(n.n_out))))
        if n.args is None:
            lines.append("inputs freed by backward")
        bad = self.bad.get(id(n))
        if id(n) in self.reused:
            attrs.update(_REUSED)
        if bad:
            attrs.update(_NONFINITE)
        if bad == "origin":
            attrs.update(_ORIGIN)
            lines.append("NaN/inf first appears here")
        attrs["label"] = "\n".join(lines)
        return attrs

    def _leaf_attrs(self, t: Tensor) -> dict:
        role = "param" if t.requires_grad and id(t) not in self.inputs else "input"
        attrs = dict(_STYLE[role])
        name = self.names.get(id(t))
        lines = ([name] if name else []) + _tensor_lines(t, self.o["show_values"],
                                                        self.o["show_grads"])
        if _nonfinite(t.data) or (self.o["show_grads"] and t.grad is not None
                                  and _nonfinite(t.grad.data)):
            attrs.update(_NONFINITE)
        attrs["label"] = "\n".join(lines)
        return attrs

    # -- the whole drawing -----------------------------------------------------------
    def build(self, fold_depth: int | None) -> _Drawing:
        w, o = self.w, self.o
        d = _Drawing()
        clusters = o["collapse"] == "cluster"
        rep: dict = {}  # id(node) -> visible id (its own, or its folded module's)
        folds: dict = {}  # visible id of a folded call -> [call, [member nodes]]
        fold_id: dict = {}  # id(call) -> its visible id
        place: dict = {}  # visible id -> cluster chain it lies in
        for n in w.ops:
            chain = self.chain.get(id(n), ())
            if fold_depth is not None and len(chain) >= fold_depth:
                call = chain[fold_depth - 1]
                vid = fold_id.setdefault(id(call), f"m{len(fold_id)}")
                folds.setdefault(vid, [call, []])[1].append(n)
                place[vid] = chain[:fold_depth - 1] if clusters else ()
            else:
                vid = self.op_id[id(n)]
                place[vid] = chain if clusters else ()
            rep[id(n)] = vid
        absorbed: dict = {}  # visible id of a fold -> leaves it hides
        root_ids = {id(t) for t, _ in self.outputs}  # a leaf root always shows
        for t in w.leaves:  # leaves first: a graph reads from its inputs
            users = self.consumers.get(id(t), [])
            vids = {rep[id(n)] for n in users}
            if (len(vids) == 1 and next(iter(vids)) in folds and id(t) not in root_ids
                    and id(t) not in folds[next(iter(vids))][0].inputs):
                absorbed.setdefault(next(iter(vids)), []).append(t)
                continue
            vid = f"t{len(d.nodes)}"
            d.nodes[vid] = self._leaf_attrs(t)
            common = _common_prefix([place[v] for v in vids]) if vids else ()
            while common and id(t) in common[-1].inputs:
                common = common[:-1]
            if common:
                d.cluster[vid] = common
            rep[id(t)] = vid
        for n in w.ops:
            vid = rep[id(n)]
            if vid in folds:
                if vid not in d.nodes:
                    d.nodes[vid] = None  # filled below, once its edges are known
            else:
                d.nodes[vid] = self._op_attrs(n)
            if place[vid]:
                d.cluster[vid] = place[vid]
        out_shapes: dict = {}  # fold id -> shapes of what leaves it
        seen_edges = set()
        for n in w.ops:
            head = rep[id(n)]
            for key, oi in w.inputs.get(id(n), ()):
                tail = rep.get(key)
                if tail is None or tail == head:  # a hidden leaf, or inside one fold
                    continue
                if tail in folds or head in folds:
                    if tail in folds:
                        t = w.tensor_of.get((key, oi))
                        if t is not None:
                            out_shapes.setdefault(tail, []).append(t.shape)
                    if (tail, head) in seen_edges:
                        continue
                    seen_edges.add((tail, head))
                src = w.by_id[key] if oi is not None else None
                label = {"label": str(oi)} if src is not None and src.n_out is not None \
                    and tail not in folds else {}
                d.edges.append((tail, head, label))
        for i, (t, name) in enumerate(t for t in self.outputs if t[0]._node is not None):
            vid = f"out{i}"
            attrs = dict(_STYLE["output"])
            lines = [name] + _tensor_lines(t, o["show_values"], o["show_grads"])
            if _nonfinite(t.data):
                attrs.update(_NONFINITE)
            attrs["label"] = "\n".join(lines)
            d.nodes[vid] = attrs
            tail = rep[id(t._node)]
            if tail in folds:
                out_shapes.setdefault(tail, []).append(t.shape)
            d.edges.append((tail, vid, {}))
        for vid, (call, members) in folds.items():
            d.nodes[vid] = self._fold_attrs(call, members, absorbed.get(vid, ()),
                                            out_shapes.get(vid, []))
        return d

    def _fold_attrs(self, call: _Call, members: list, hidden, shapes: list) -> dict:
        attrs = dict(_STYLE["module"])
        lines = [call.label]
        distinct = list(dict.fromkeys(shapes))
        if distinct:
            lines.append(" ".join(_shape(s) for s in distinct))
        n_params = sum(t.data.size for t in hidden if t.requires_grad)
        lines.append(f"{len(members)} op{'s' * (len(members) != 1)}"
                     + (f", {n_params} parameters" if n_params else ""))
        bad = [self.bad.get(id(n)) for n in members]
        if any(bad):
            attrs.update(_NONFINITE)
        if "origin" in bad:
            attrs.update(_ORIGIN)
            origin = next(n for n, b in zip(members, bad) if b == "origin")
            lines.append(f"NaN/inf first appears in {origin.name}")
        attrs["label"] = "\n".join(lines)
        return attrs


def _common_prefix(chains: list) -> tuple:
    first = chains[0]
    k = len(first)
    for c in chains[1:]:
        k = min(k, len(c))
        for i in range(k):
            if c[i] is not first[i]:
                k = i
                break
    return first[:k]


def _truncate(d: _Drawing, max_nodes: int) -> int:
    """Keep the max_nodes - 1 nodes nearest the outputs (breadth first, against the
    edges) and one '... more' node feeding them; returns how many nodes were dropped."""
    preds: dict = {}
    for tail, head, _ in d.edges:
        preds.setdefault(head, []).append(tail)
    tails = {t for t, _, _ in d.edges}
    keep: dict = {}
    queue = deque(v for v in d.nodes if v not in tails)  # the outputs and other sinks
    while queue and len(keep) < max_nodes - 1:
        v = queue.popleft()
        if v in keep:
            continue
        keep[v] = True
        queue.extend(preds.get(v, ()))
    dropped = len(d.nodes) - len(keep)
    d.nodes = {v: a for v, a in d.nodes.items() if v in keep}
    d.cluster = {v: c for v, c in d.cluster.items() if v in keep}
    cut = {h for t, h, _ in d.edges if h in keep and t not in keep}
    d.edges = [e for e in d.edges if e[0] in keep and e[1] in keep]
    d.nodes["more"] = dict(_STYLE["more"], label=f"... {dropped} more nodes not drawn")
    d.edges += [("more", h, {"style": "dotted"}) for h in d.nodes if h in cut]
    return dropped


def _emit(d: _Drawing, direction: str, notes: list) -> str:
    label = f" label={_q(chr(10).join(notes))}" if notes else ""
    out = ["digraph microtensor {\n", _HEAD.format(rankdir=_q(direction), label=label)]
    children: dict = {}  # id(call) or None -> [calls drawn directly inside]
    content: dict = {}  # id(call) -> [node ids drawn directly inside]
    calls: dict = {}
    for vid, chain in d.cluster.items():
        content.setdefault(id(chain[-1]), []).append(vid)
        parent = None
        for c in chain:
            if id(c) not in calls:
                calls[id(c)] = c
                children.setdefault(parent, []).append(c)
            parent = id(c)
    for vid, attrs in d.nodes.items():
        if vid not in d.cluster:
            out.append(f"\t{vid} [{_attrs(attrs)}]\n")
    counter = [0]

    def cluster(c, depth):
        tab = "\t" * depth
        out.append(f"{tab}subgraph cluster_{counter[0]} {{\n")
        counter[0] += 1
        out.append(f"{tab}\tgraph [{_attrs(dict(_CLUSTER, label=c.label))}]\n")
        for vid in content.get(id(c), ()):
            out.append(f"{tab}\t{vid} [{_attrs(d.nodes[vid])}]\n")
        for child in sorted(children.get(id(c), ()), key=lambda x: x.start):
            cluster(child, depth + 1)
        out.append(f"{tab}}}\n")

    for c in sorted(children.get(None, ()), key=lambda x: x.start):
        cluster(c, 1)
    for tail, head, attrs in d.edges:
        out.append(f"\t{tail} -> {head}" + (f" [{_attrs(attrs)}]" if attrs else "") + "\n")
    out.append("}\n")
    return "".join(out)


# ------------------------------------------------------------------- public API
def _named(params) -> dict:
    if params is None:
        return {}
    items = params.named_parameters() if isinstance(params, Module) else params.items()
    names = {}
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"params: {name!r} is a {type(t).__name__}; name tensors "
                            f"(a Module, or a dict of name -> Tensor)")
        names[id(t)] = name
    return names


def _run_module(model: Module, inputs: tuple):
    """Run the model on example inputs, recording module scopes and leaving the random
    stream as it was (dropout draws from it)."""
    if not inputs:
        raise TypeError(f"to_dot: a module needs an example input: "
                        f"to_dot({type(model).__name__}(...), x)")
    xs = []
    for a in inputs:  # a copy that requires grad: the ops on the input are recorded too
        x = a.detach() if isinstance(a, Tensor) else tensor(a)
        xs.append(x.requires_grad_() if x.dtype.kind == "f" else x)
    gen = default_generator()
    state = gen.bit_generator.state
    try:
        with autograd.enable_grad(), trace_modules(model) as scopes:
            out = model(*xs)
    finally:
        gen.bit_generator.state = state
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if not all(isinstance(t, Tensor) for t in outs):
        raise TypeError(f"to_dot: {type(model).__name__} returned "
                        f"{type(out).__name__}; draw modules that return tensors")
    return xs, outs, scopes


def _check(collapse, direction, max_nodes) -> None:
    if collapse not in (None, "cluster", "fold"):
        raise ValueError(f"to_dot: collapse must be None, 'cluster' or 'fold', got "
                         f"{collapse!r}")
    if direction not in ("LR", "TB"):
        raise ValueError(f"to_dot: direction must be 'LR' or 'TB', got {direction!r}")
    if max_nodes is not None and max_nodes < 2:
        raise ValueError(f"to_dot: max_nodes must be at least 2, got {max_nodes}")


def _resolve(roots, backward: bool, scopes):
    """(tensors to draw, names, ids of model inputs, notes, scopes, the model's own call)
    from tensor roots or from a module and its example input."""
    if not roots:
        raise TypeError("to_dot: give the tensors to draw (or a module and an input)")
    if not isinstance(roots[0], Module):
        for i, t in enumerate(roots):
            if not isinstance(t, Tensor):
                raise TypeError(f"to_dot: root {i} is a {type(t).__name__}; pass tensors, "
                                f"or a module followed by an example input")
        return list(roots), {}, set(), [], scopes, None
    if backward:
        raise ValueError("to_dot: backward=True draws the gradient graph of tensors; call "
                         "loss.backward(create_graph=True) and draw the loss")
    model = roots[0]
    xs, tensors, scopes = _run_module(model, roots[1:])
    names = _named(model)
    for i, x in enumerate(xs):
        names.setdefault(id(x), "input" if len(xs) == 1 else f"input {i}")
    notes = [f"{type(model).__name__}, input " + ", ".join(_shape(x.shape) for x in xs)]
    own = scopes.calls[0] if scopes.calls and scopes.calls[0].module is model else None
    return tensors, names, {id(x) for x in xs}, notes, scopes, own


def _gradients(forward: _Walk, names: dict) -> list:
    """(gradient, name) of each leaf of the forward graph whose .grad has a graph."""
    grads = [(t.grad, "grad of " + names.get(id(t), "leaf " + _shape(t.shape)))
             for t in forward.leaves if t.grad is not None and t.grad._node is not None]
    if not grads:
        raise ValueError("to_dot(backward=True): no leaf of this graph holds a gradient with "
                         "a graph; call backward(create_graph=True) first (to draw what "
                         "autograd.grad(..., create_graph=True) returned, pass those tensors "
                         "without backward=True)")
    return grads


def _fit(builder: _Builder, fold: int | None, max_nodes: int | None, notes: list):
    """The drawing, folded from the deepest modules up and then cut until it has at most
    max_nodes nodes; what was done goes into notes."""
    drawing = builder.build(fold)
    if max_nodes is None or drawing.count() <= max_nodes:
        return drawing
    total = drawing.count()
    depth = builder.max_depth if fold is None else 0
    while depth >= 1 and drawing.count() > max_nodes:
        drawing = builder.build(depth)
        depth -= 1
    if drawing.count() < total:
        notes.append(f"{total} nodes > max_nodes={max_nodes}: modules at depth {depth + 1} "
                     f"and deeper folded into single nodes")
    if drawing.count() > max_nodes:
        dropped = _truncate(drawing, max_nodes)
        notes.append(f"{dropped} nodes farthest from the outputs not drawn "
                     f"(max_nodes={max_nodes})")
    return drawing


def to_dot(*roots, show_values: bool = False, show_grads: bool = False, params=None,
           collapse: str | None = None, direction: str = "TB", max_nodes: int | None = None,
           backward: bool = False, scopes: ModuleScopes | None = None) -> str:
    """DOT text of the graph behind `roots`, for Graphviz; pure Python, no program needed.

    roots: tensors (a loss, several outputs), or a module and an example input (its
    forward runs with module scopes recorded, on a copy of the input that requires grad
    so the ops on it show; parameters are named, the input is "input").
    show_values / show_grads: add dtype and a summary of each tensor and of its gradient
    (the value itself for one element, else min/mean/max). params: a Module or
    {name: tensor} whose tensors are labelled by name. collapse: "cluster" draws each
    module call as a box around its ops, "fold" as a single node (needs a module root or
    `scopes` from trace_modules). direction: "TB" or "LR". max_nodes: beyond it, fold
    modules from the deepest up, then keep the nodes nearest the outputs; the graph's
    label says what was left out. backward: draw, instead, the graphs of the gradients
    that backward(create_graph=True) left in the leaves' .grad.

    >>> import microtensor as mt
    >>> from microtensor import viz
    >>> x = mt.tensor(2.0, requires_grad=True)
    >>> dot = viz.to_dot(x * 3, params={"x": x})
    >>> dot.splitlines()[0], dot.count(" -> ")
    ('digraph microtensor {', 2)
    """
    _check(collapse, direction, max_nodes)
    tensors, names, inputs, notes, scopes, own = _resolve(roots, backward, scopes)
    names.update(_named(params))
    if collapse is not None and scopes is None:
        raise ValueError("to_dot: collapse needs to know which module ran each op: draw "
                         "draw_graph(model, example_input, ...), or run the model inside "
                         "`with viz.trace_modules(model) as scopes:` and pass scopes=scopes")
    if backward:
        forward = _Walk(tensors)
        outputs = _gradients(forward, names)
        reused = {id(n) for n in forward.ops}
    else:
        one = len(tensors) == 1
        outputs = [(t, names.get(id(t), "output" if one else f"output {i}"))
                   for i, t in enumerate(tensors)]
        reused = set()
    drawn, seen = [], set()  # one output per distinct tensor
    for t, name in outputs:
        key = (id(t._node), t._oi) if t._node is not None else id(t)
        if key not in seen:
            seen.add(key)
            drawn.append((t, name))
            if t._node is None:  # a leaf root is drawn as a leaf, under its output name
                names.setdefault(id(t), name)
    walk = _Walk([t for t, _ in drawn])
    if any(id(n) in reused for n in walk.ops):
        notes.append("backward graph: the ops create_graph=True recorded for the gradients "
                     "(dashed: forward ops they reuse)")
    elif backward:
        notes.append("backward graph: the ops create_graph=True recorded for the gradients")
    opts = {"show_values": show_values, "show_grads": show_grads, "collapse": collapse}
    builder = _Builder(walk, names, inputs, drawn, opts, scopes, own, reused)
    drawing = _fit(builder, 1 if collapse == "fold" else None, max_nodes, notes)
    if walk.freed:
        n = len(walk.freed)
        notes.append(f"{n} op{'s' * (n != 1)} drawn without inputs: backward() freed them; "
                     f"pass retain_graph=True to backward to draw the whole graph")
    return _emit(drawing, direction, notes)


class DotNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program and it is not on PATH; says how to install
    it and where the DOT text was written instead."""

    def __init__(self, target, source_path) -> None:
        RuntimeError.__init__(  # graphviz's own __init__ would format its terse message
            self, f"rendering {target} needs Graphviz's `dot` program, which is not on "
                  f"PATH; {_INSTALL}. The DOT text was written to {source_path}: render it "
                  f"later with `dot -T{pathlib.Path(str(target)).suffix[1:] or 'svg'} "
                  f"{source_path} -o {target}`")
        self.source_path = source_path


class Graph(graphviz.Digraph):
    """A graphviz.Digraph whose render() names the missing `dot` program's fix, keeps the
    DOT text next to the asked-for file (out.svg -> out.dot), and which shows its DOT
    text in Jupyter when it cannot render."""

    def render(self, filename=None, directory=None, **kwargs) -> str:
        outfile = kwargs.get("outfile")
        if filename is None and outfile is not None and pathlib.Path(outfile).suffix != ".dot":
            filename = pathlib.Path(outfile).with_suffix(".dot")
        try:
            return super().render(filename, directory=directory, **kwargs)
        except graphviz.ExecutableNotFound as e:
            fmt = kwargs.get("format") or self.format
            target = outfile if outfile is not None else f"{self.filepath}.{fmt}"
            raise DotNotFoundError(target, self.filepath) from e

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"(no `dot` program to draw this graph: {_INSTALL})\n"
                                  + self.source}


def draw_graph(*roots, **options) -> Graph:
    """The graph of `to_dot(*roots, **options)` as a graphviz.Digraph: `.render(outfile=
    "g.svg")` writes a picture (and g.dot), and Jupyter shows it inline.

    >>> import microtensor as mt
    >>> from microtensor import viz
    >>> x = mt.tensor([1.0, -1.0], requires_grad=True)
    >>> g = viz.draw_graph(x.exp().sum(), show_values=True)
    >>> g.source == viz.to_dot(x.exp().sum(), show_values=True)
    True
    """
    text = to_dot(*roots, **options)
    g = Graph("microtensor")
    g.body.extend(text.splitlines(keepends=True)[1:-1])
    return g


if __name__ == "__main__":  # the old `--model` command, now in the application's CLI
    sys.exit("python -m microtensor.viz: drawing a network of models/ is the `microtensor "
             "graph` command now, e.g. `microtensor graph --model MLP --input-shape 1,2 "
             "--out mlp.svg` (see `microtensor graph --help`)")
