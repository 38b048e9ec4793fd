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
Tensors are labelled with the caller's variable names (`names=`). After a plain
backward() the graph is still drawn whole: backward frees what nodes saved but keeps
their edges and shapes (autograd.backward._keep_edges).

A network of models/ is drawn from the command line by `microtensor graph` (models.cli):
this module is the drawing API only, and the engine never imports models.
"""

from __future__ import annotations

import pathlib

import graphviz

from .. import autograd
from ..autograd.naming import caller_variables, tensor_names
from ..nn.module import Module
from ..random import default_generator
from ..tensor import Tensor, tensor
from .build import _Builder, _emit, _truncate, _Walk, _wrap
from .labels import _INSTALL, _shape
from .scopes import ModuleScopes, trace_modules

__all__ = ["to_dot", "draw_graph", "trace_modules", "ModuleScopes", "Graph", "DotNotFoundError"]


# ------------------------------------------------------------------- public API
def _named(params) -> dict:
    if params is None:
        return {}
    items = params.named_parameters() if isinstance(params, Module) else params.items()
    names = {}
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"params: {name!r} is a {type(t).__name__}; name tensors "
                f"(a Module, or a dict of name -> Tensor)"
            )
        names[id(t)] = name
    return names


def _run_module(model: Module, inputs: tuple):
    """Run the model on example inputs, recording module scopes and leaving the random
    stream as it was (dropout draws from it)."""
    if not inputs:
        raise TypeError(
            f"to_dot: a module needs an example input: to_dot({type(model).__name__}(...), x)"
        )
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
        raise TypeError(
            f"to_dot: {type(model).__name__} returned "
            f"{type(out).__name__}; draw modules that return tensors"
        )
    return xs, outs, scopes


def _check(collapse, direction, max_nodes) -> None:
    if collapse not in (None, "cluster", "fold"):
        raise ValueError(f"to_dot: collapse must be None, 'cluster' or 'fold', got {collapse!r}")
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
                raise TypeError(
                    f"to_dot: root {i} is a {type(t).__name__}; pass tensors, "
                    f"or a module followed by an example input"
                )
        return list(roots), {}, set(), [], scopes, None
    if backward:
        raise ValueError(
            "to_dot: backward=True draws the gradient graph of tensors; call "
            "loss.backward(create_graph=True) and draw the loss"
        )
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
    grads = [
        (t.grad, "grad of " + names.get(id(t), "leaf " + _shape(t.shape)))
        for t in forward.leaves
        if t.grad is not None and t.grad._node is not None
    ]
    if not grads:
        raise ValueError(
            "to_dot(backward=True): no leaf of this graph holds a gradient with "
            "a graph; call backward(create_graph=True) first (to draw what "
            "autograd.grad(..., create_graph=True) returned, pass those tensors "
            "without backward=True)"
        )
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
        notes.append(
            f"{total} nodes > max_nodes={max_nodes}: modules at depth {depth + 1} "
            f"and deeper folded into single nodes"
        )
    if drawing.count() > max_nodes:
        dropped = _truncate(drawing, max_nodes)
        notes.append(f"{dropped} nodes farthest from the outputs not drawn (max_nodes={max_nodes})")
    return drawing


def _caller_names(names) -> dict:
    """{id: (name, tensor)} for names=: the caller's variables (None), nothing (False), or
    a dict of name -> Tensor or Module (whose parameters get dotted names)."""
    if names is False:
        return {}
    if names is None:
        return tensor_names(caller_variables())
    if not isinstance(names, dict):
        raise TypeError(
            f"to_dot: names must be None (the caller's variables), False or a "
            f"dict of name -> Tensor or Module, got {type(names).__name__}"
        )
    for name, v in names.items():
        if not isinstance(v, (Tensor, Module)):
            raise TypeError(
                f"to_dot: names[{name!r}] is a {type(v).__name__}; name tensors "
                f"or modules: names={{'x': x, 'net': net}}"
            )
    return tensor_names(names)


def _op_names(named: dict, drawn: list) -> dict:
    """{id(node): 'h' or 'a, _'}: the names of op outputs other than the drawn roots."""
    roots = {(id(t._node), t._oi) for t, _ in drawn}
    outs: dict = {}
    for name, t in named.values():
        if t._node is not None and (id(t._node), t._oi) not in roots:
            outs.setdefault(t._node, {}).setdefault(t._oi, name)
    return {id(n): ", ".join(o.get(i, "_") for i in range(n.n_out or 1)) for n, o in outs.items()}


def _unnamed(t: Tensor, by_op: bool, fallback: str) -> str:
    """The label of a root the caller did not name: its grad_fn's name, as PyTorch
    prints it, else `fallback`."""
    if by_op and t._node is not None:
        return t._node.backward_name
    return fallback


def to_dot(
    *roots,
    show_values: bool = False,
    show_grads: bool = False,
    params=None,
    collapse: str | None = None,
    direction: str = "TB",
    max_nodes: int | None = None,
    backward: bool = False,
    scopes: ModuleScopes | None = None,
    trace=None,
    names: dict | bool | None = None,
    wrap: int | None = 8,
) -> str:
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
    that backward(create_graph=True) left in the leaves' .grad. trace: an
    autograd.explain() trace of this graph's backward (run with retain_graph=True, so the
    graph is still whole): each edge is labelled with the gradient it carried.
    names: None (the default) labels tensors with the caller's variable names (the
    locals of the first frame outside microtensor, then its module's globals): leaves,
    op outputs ("h = tanh"), roots (an unnamed root shows its grad_fn's name), and the
    parameters of modules among them ("net.0.weight"); a dict of name -> Tensor or
    Module names only those; False names nothing (roots are "output"). params win over
    names. wrap: with direction="LR", a graph more than `wrap` ops long is folded into
    rows of that many, as text wraps (None: one long row).

    >>> import microtensor as mt
    >>> from microtensor import viz
    >>> x = mt.tensor(2.0, requires_grad=True)
    >>> dot = viz.to_dot(x * 3, params={"x": x})
    >>> dot.splitlines()[0], dot.count(" -> ")
    ('digraph microtensor {', 2)
    """
    _check(collapse, direction, max_nodes)
    named = _caller_names(names)
    tensors, given, inputs, notes, scopes, own = _resolve(roots, backward, scopes)
    by_op = names is not False and not given  # an unnamed tensor root: its grad_fn name
    names = {i: name for i, (name, _) in named.items()}
    names.update(given)
    names.update(_named(params))
    if collapse is not None and scopes is None:
        raise ValueError(
            "to_dot: collapse needs to know which module ran each op: draw "
            "draw_graph(model, example_input, ...), or run the model inside "
            "`with viz.trace_modules(model) as scopes:` and pass scopes=scopes"
        )
    if backward:
        forward = _Walk(tensors)
        outputs = _gradients(forward, names)
        reused = {id(n) for n in forward.ops}
    else:
        one = len(tensors) == 1
        outputs = [
            (t, names.get(id(t)) or _unnamed(t, by_op, "output" if one else f"output {i}"))
            for i, t in enumerate(tensors)
        ]
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
    for _, t in named.values():  # op outputs the caller holds: after backward, their only
        if t._node is not None and id(t._node) in walk.by_id:  # tensors left to show
            walk.tensor_of.setdefault((id(t._node), t._oi), t)
    if any(id(n) in reused for n in walk.ops):
        notes.append(
            "backward graph: the ops create_graph=True recorded for the gradients "
            "(dashed: forward ops they reuse)"
        )
    elif backward:
        notes.append("backward graph: the ops create_graph=True recorded for the gradients")
    opts = {
        "show_values": show_values,
        "show_grads": show_grads,
        "collapse": collapse,
        "edge_grads": {} if trace is None else trace._edge_labels(),
        "op_names": _op_names(named, drawn),
    }
    builder = _Builder(walk, names, inputs, drawn, opts, scopes, own, reused)
    drawing = _fit(builder, 1 if collapse == "fold" else None, max_nodes, notes)
    if walk.freed:
        n = len(walk.freed)
        notes.append(
            f"{n} op{'s' * (n != 1)} drawn with an input that no longer exists: backward() "
            f"let go of it; pass retain_graph=True to backward to keep it"
        )
    if direction == "LR" and wrap is not None:
        _wrap(drawing, wrap)
    return _emit(drawing, direction, notes)


class DotNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program and it is not on PATH; says how to install
    it and where the DOT text was written instead."""

    def __init__(self, target, source_path) -> None:
        RuntimeError.__init__(  # graphviz's own __init__ would format its terse message
            self,
            f"rendering {target} needs Graphviz's `dot` program, which is not on "
            f"PATH; {_INSTALL}. The DOT text was written to {source_path}: render it "
            f"later with `dot -T{pathlib.Path(str(target)).suffix[1:] or 'svg'} "
            f"{source_path} -o {target}`",
        )
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
            return {
                "text/plain": f"(no `dot` program to draw this graph: {_INSTALL})\n" + self.source
            }


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
