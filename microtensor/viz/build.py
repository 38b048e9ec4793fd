"""From a recorded graph to DOT: the walk over nodes and leaves (_Walk), the drawing
it becomes (_Builder, _Drawing: clusters, folds, truncation) and its text (_emit)."""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Sequence

from ..autograd import Node, _FunctionOp, input_edge
from ..tensor import Tensor
from .labels import (
    _CLUSTER,
    _HEAD,
    _NONFINITE,
    _ORIGIN,
    _REUSED,
    _STYLE,
    _attrs,
    _const,
    _nonfinite,
    _q,
    _shape,
    _tensor_lines,
)
from .scopes import ModuleScopes, _Call


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
        self.freed: set = set()  # ids of the nodes with an input backward let go of
        stack: list = []
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
            edges, labels = [], []
            for p, oi, a in self._sources(node):
                if p is None and oi is None and a is not None:  # a leaf
                    leaves.setdefault(id(a), a)
                    edges.append((id(a), None))
                elif p is not None:
                    if a is not None:
                        self.tensor_of.setdefault((id(p), oi), a)
                    edges.append((id(p), oi))
                    if id(p) not in ops:
                        stack.append(p)
                labels.append("·" if p is not None or a is not None else oi)
            self.inputs[id(node)] = edges
            if len(edges) != len(labels):
                self.consts[id(node)] = ", ".join(labels)
        self.ops = sorted(ops.values(), key=lambda n: n.seq)
        self.by_id = ops
        order = {
            key: None for n in self.ops for key, oi in self.inputs.get(id(n), ()) if oi is None
        }  # leaves in the order ops took them, then leaf roots
        self.leaves = [leaves[k] for k in order] + [t for k, t in leaves.items() if k not in order]

    def _sources(self, node):
        """(node, output index, tensor) of each tensor input, (None, None, leaf) of a
        leaf, (None, label, None) of a constant. Once backward freed the inputs, from the
        structure it kept (Node.edges): (node, output index, None) of a tensor input, and
        a leaf or constant that is no more is drawn as freed."""
        if node.args is None:
            yield from self._edges(node)
            return
        for a in node.args:
            if not isinstance(a, Tensor):
                yield None, _const(a), None
                continue
            p, oi = input_edge(a, node.seq)  # as it was then, if changed in place since
            yield (p, oi, a) if p is not None else (None, None, a)

    def _edges(self, node):
        for e in node.edges:
            if isinstance(e, weakref.ref):  # a leaf without grad, or an array constant
                e = e()
                if e is None:
                    self.freed.add(id(node))
                    yield None, "freed", None
                    continue
            if isinstance(e, Node):
                yield e, 0, None
            elif type(e) is tuple:  # (node, output index): one of several outputs
                yield e[0], e[1], None
            elif isinstance(e, Tensor):
                yield None, None, e
            else:
                yield None, _const(e), None


class _Drawing:
    """The visible graph: nodes (id -> attributes), their clusters, and edges."""

    def __init__(self) -> None:
        self.nodes: dict = {}  # id -> attributes (label included)
        self.cluster: dict = {}  # id -> _Call it is drawn inside (absent: top level)
        self.edges: list = []  # (tail, head, attributes)
        self.rows: list = []  # the first node of each row, when wrapped (_wrap)

    def count(self) -> int:
        return len(self.nodes)


class _Builder:
    """Turns a walk into a drawing, for a given folding depth."""

    def __init__(
        self,
        walk: _Walk,
        names: dict,
        inputs: set,
        outputs: list,
        opts: dict,
        scopes: ModuleScopes | None,
        skip,
        reused: set,
    ) -> None:
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
            if any(t is not None and _nonfinite(t._data) for t in outs):
                finite_in = n.args is not None and not any(
                    isinstance(a, Tensor) and _nonfinite(a._data) for a in n.args
                )
                self.bad[id(n)] = "origin" if finite_in else "nonfinite"

    # -- one op, one leaf ------------------------------------------------------------
    def _op_attrs(self, n) -> dict:
        w, o = self.w, self.o
        custom = isinstance(n.op, _FunctionOp)
        attrs = dict(_STYLE["function" if custom else "op"])
        head = n.name + (f"({w.consts[id(n)]})" if id(n) in w.consts else "")
        named = o["op_names"].get(id(n))  # the caller's names of its outputs
        lines = [f"{named} = {head}" if named else head]
        t = w.tensor_of.get((id(n), 0))
        if n.n_out is None and t is not None:
            lines += _tensor_lines(t, o["show_values"], o["show_grads"])
        else:  # several outputs (or the root's own, unknown): shapes only
            lines.append(
                " ".join(
                    _shape(t.shape) if t is not None else "?"
                    for t in (w.tensor_of.get((id(n), i)) for i in range(n.n_out or 1))
                )
            )
        if id(n) in w.freed:
            lines.append("an input freed by backward")
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
        lines = ([name] if name else []) + _tensor_lines(
            t, self.o["show_values"], self.o["show_grads"]
        )
        if _nonfinite(t._data) or (
            self.o["show_grads"] and t.grad is not None and _nonfinite(t.grad._data)
        ):
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
                place[vid] = chain[: fold_depth - 1] if clusters else ()
            else:
                vid = self.op_id[id(n)]
                place[vid] = chain if clusters else ()
            rep[id(n)] = vid
        absorbed: dict = {}  # visible id of a fold -> leaves it hides
        root_ids = {id(t) for t, _ in self.outputs}  # a leaf root always shows
        for t in w.leaves:  # leaves first: a graph reads from its inputs
            users = self.consumers.get(id(t), [])
            vids = {rep[id(n)] for n in users}
            if (
                len(vids) == 1
                and next(iter(vids)) in folds
                and id(t) not in root_ids
                and id(t) not in folds[next(iter(vids))][0].inputs
            ):
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
                text = (
                    [str(oi)]
                    if src is not None and src.n_out is not None and tail not in folds
                    else []
                )
                if tail not in folds and head not in folds:  # the gradient it carried
                    text += o["edge_grads"].get((key, id(n)), [])
                d.edges.append((tail, head, {"label": "\n".join(text)} if text else {}))
        for i, (t, name) in enumerate(t for t in self.outputs if t[0]._node is not None):
            vid = f"out{i}"
            attrs = dict(_STYLE["output"])
            lines = [name] + _tensor_lines(t, o["show_values"], o["show_grads"])
            if _nonfinite(t._data):
                attrs.update(_NONFINITE)
            attrs["label"] = "\n".join(lines)
            d.nodes[vid] = attrs
            tail = rep[id(t._node)]
            if tail in folds:
                out_shapes.setdefault(tail, []).append(t.shape)
            d.edges.append((tail, vid, {}))
        for vid, (call, members) in folds.items():
            d.nodes[vid] = self._fold_attrs(
                call, members, absorbed.get(vid, ()), out_shapes.get(vid, [])
            )
        return d

    def _fold_attrs(self, call: _Call, members: list, hidden, shapes: list) -> dict:
        attrs = dict(_STYLE["module"])
        lines = [call.label]
        distinct = list(dict.fromkeys(shapes))
        if distinct:
            lines.append(" ".join(_shape(s) for s in distinct))
        n_params = sum(t._data.size for t in hidden if t.requires_grad)
        lines.append(
            f"{len(members)} op{'s' * (len(members) != 1)}"
            + (f", {n_params} parameters" if n_params else "")
        )
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


def _wrap(d: _Drawing, every: int) -> None:
    """Fold a long left-to-right drawing into rows, as text wraps. An op's row is its
    longest path from a source, divided by `every`; a leaf sits in the first row that
    uses it. Edges into a later row stop constraining the layout (constraint=false), so
    each row starts again at the left; invisible edges between the rows' first ops (all
    in the first rank) stack the rows in order (d.rows)."""
    preds: dict = {}
    for tail, head, _ in d.edges:
        preds.setdefault(head, []).append(tail)
    depth: dict = {}
    for v in d.nodes:  # iteratively: a chain of hundreds of ops would overflow recursion
        stack = [v]
        while stack:
            u = stack[-1]
            todo = [p for p in preds.get(u, ()) if p not in depth]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            depth[u] = max((depth[p] + 1 for p in preds.get(u, ())), default=0)
    if max(depth.values(), default=0) < every:
        return
    row = {v: k // every for v, k in depth.items() if v in preds}
    for tail, head, _ in d.edges:
        if tail not in preds:  # a source: in the row of its first consumer
            row[tail] = min(row.get(tail, row[head]), row[head])
    for i, (tail, head, attrs) in enumerate(d.edges):
        if row[head] > row[tail]:
            d.edges[i] = (tail, head, dict(attrs, constraint="false"))
    firsts: dict = {}
    for v in sorted(preds, key=lambda v: depth[v]):
        firsts.setdefault(row[v], v)
    d.rows = [firsts[r] for r in sorted(firsts)]


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
    for tail, head in zip(d.rows, d.rows[1:]):  # the rows' first ops: one rank, in order
        out.append(f'\t{tail} -> {head} [style="invis" minlen="0"]\n')
    out.append("}\n")
    return "".join(out)
