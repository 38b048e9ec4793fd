"""Backpropagation step by step: explain() records each VJP the engine runs, so that the
deltas and weight gradients people derive by hand can be read off, in order.

A function, not `loss.backward(explain=True)`: the lines that made each op are known
only if they were recorded during the forward pass, which backward() cannot reach back
to. So `explain()` is a block around both passes, and `explain(loss)` is backward of a
graph already built (its lines then show as '?'):

    with mt.autograd.explain() as trace:
        loss = model(x)
        loss.backward()
    print(trace)

Recording costs nothing outside: backward() reads one context variable per call. Inside
the block ops run as under detect_anomaly (a stack capture per op, to know its line), so,
as there, a NaN or inf gradient raises naming the op; the steps up to it stay recorded.
"""

from __future__ import annotations

import html
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from ..backend import ndarray, xp
from ..tensor import Tensor
from .backward import _explaining, backward
from .grad_mode import _anomaly_mode
from .naming import tensor_names
from .views import input_edge

__all__ = ["BackwardTrace", "Grad", "Step", "explain"]

SMALL = 12  # arrays of at most this many elements are shown in full
_LINE = re.compile(r"^(?P<file>.*):(?P<lineno>\d+): (?P<code>.*)$")


def _array(g) -> ndarray:
    """A copy of a gradient (array or, under create_graph, Tensor): the engine later
    adds to the arrays it hands to leaves in place."""
    return xp.array(g._data if isinstance(g, Tensor) else g)


def _shape(shape) -> str:
    return "()" if shape == () else str(tuple(shape))


def show(a: ndarray | None, small: int = SMALL) -> str:
    """Every value of a small array (4 significant digits), else its shape and
    min/mean/max/norm."""
    if a is None:
        return "None"
    if a.size <= small:
        if a.ndim == 0:
            return f"{a.item():.4g}"
        text = xp.array2string(
            a, separator=", ", max_line_width=10**6, formatter={"float_kind": lambda v: f"{v:.4g}"}
        )
        return re.sub(r"\s*\n\s*", " ", text)
    f = a.astype(xp.float64)
    return (
        f"{_shape(a.shape)} min {f.min():.4g} mean {f.mean():.4g} max {f.max():.4g} "
        f"norm {xp.linalg.norm(f.ravel()):.4g}"
    )


@dataclass
class Grad:
    """The gradient one step sent to one of its inputs. `value` is what reached the input:
    where the VJP's gradient had the broadcast shape `summed_from`, the engine summed it
    to the input's shape."""

    to: str  # the input's name in the caller's locals, else the op that made it, or "leaf"
    shape: tuple
    value: ndarray
    summed_from: tuple | None = None
    _input: Tensor | None = field(default=None, repr=False)
    _tail: object = field(default=None, repr=False)  # the input's node, or the leaf


@dataclass
class Step:
    """One VJP of the backward pass: the node's op (PyTorch's name), the user's line that
    made it ('file:line: code', None if not recorded), the shapes of its tensor inputs
    and of its output(s), the gradient it received and the ones it sent."""

    index: int
    op: str
    line: str | None
    input_shapes: list
    output_shape: tuple | list | None  # a list for an op with several outputs
    grad_output: ndarray | list | None
    grads: list
    outputs: list = field(default_factory=list)  # their names in the caller's locals
    node: Any = field(default=None, repr=False)  # the graph's Node

    def source(self) -> str:
        """'file.py:12  code' of the line that made the op, or '?'."""
        m = _LINE.match(self.line or "")
        if m is None:
            return self.line or "?"
        code = m["code"] if len(m["code"]) <= 48 else m["code"][:47] + "…"
        return f"{os.path.basename(m['file'])}:{m['lineno']}  {code}"

    def cells(self) -> list:
        """The step as table cells (each a list of lines)."""
        outs = self.grad_output if isinstance(self.grad_output, list) else [self.grad_output]
        names = self.outputs or [None] * len(outs)
        received = [("" if name is None else name + ": ") + show(g) for name, g in zip(names, outs)]
        sent = []
        for g in self.grads:
            note = (
                ""
                if g.summed_from is None
                else f"  (broadcast summed {_shape(g.summed_from)} -> {_shape(g.shape)})"
            )
            sent.append(f"{g.to}: {show(g.value)}{note}")
        shapes = (
            " ".join(_shape(s) for s in self.input_shapes)
            + " -> "
            + " ".join(
                _shape(s)
                for s in (
                    self.output_shape
                    if isinstance(self.output_shape, list)
                    else [self.output_shape]
                )
            )
        )
        return [
            [str(self.index)],
            [self.op],
            [self.source()],
            [shapes],
            received,
            sent or ["(no input needs a gradient)"],
        ]


_HEADER = ["#", "op", "line", "shapes in -> out", "grad_output", "gradients sent"]


class BackwardTrace:
    """The steps of one or more backward passes, in the order the engine ran them.
    `print(trace)` shows a table; Jupyter shows it as HTML; `trace.steps` holds `Step`s.
    Used as a block (`with explain() as trace:`), it records the lines of the ops made
    inside and the steps of every backward() (and autograd.grad) run inside."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._tokens: tuple = ()

    # -- what the engine calls, while explaining ------------------------------------
    def step(self, node, g, in_grads) -> None:
        """Record node's VJP: it received `g` and returned `in_grads`, one per input."""
        multi = node.n_out is not None
        outs = list(g) if multi else [g]
        grads = []
        for a, need, gi in zip(node.args, node.needs, in_grads):
            if need and gi is not None:
                p = input_edge(a, node.seq)[0]
                grads.append(
                    Grad(
                        "leaf" if p is None else p.backward_name,
                        a.shape,
                        _array(gi),
                        _input=a,
                        _tail=a if p is None else p,
                    )
                )
        shapes = [None if o is None else tuple(o.shape) for o in outs]
        received = [None if o is None else _array(o) for o in outs]
        self.steps.append(
            Step(
                len(self.steps) + 1,
                node.backward_name,
                node.trace,
                [a.shape for a in node.args if isinstance(a, Tensor)],
                shapes if multi else shapes[0],
                received if multi else received[0],
                grads,
                node=node,
            )
        )

    def summed(self, a: Tensor, shape: tuple, gi) -> None:
        """The engine summed the last step's gradient for `a`, of shape `shape`, to `gi`."""
        for g in self.steps[-1].grads:
            if g._input is a and g.summed_from is None and g.value.shape == shape:
                g.value, g.summed_from = _array(gi), tuple(shape)
                return

    # -- names ------------------------------------------------------------------------
    def _name(self, local_vars: dict) -> None:
        """Name inputs and outputs after the caller's variables (and the parameters of
        the modules among them: `net.layers.0.weight`)."""
        tensors = tensor_names(local_vars)
        outputs = {
            (id(t._node), t._oi): name for name, t in tensors.values() if t._node is not None
        }
        for s in self.steps:
            s.outputs = [outputs.get((id(s.node), oi)) for oi in range(s.node.n_out or 1)]
            for g in s.grads:
                hit = tensors.get(id(g._input))
                if hit is not None and hit[1] is g._input:
                    g.to = hit[0]

    # -- a block around forward and backward -------------------------------------------
    def __enter__(self) -> BackwardTrace:
        self._tokens = (_explaining.set(self), _anomaly_mode.set(True))
        return self

    def __exit__(self, *exc) -> None:
        explaining, anomaly = self._tokens
        _anomaly_mode.reset(anomaly)
        _explaining.reset(explaining)
        self._name(sys._getframe(1).f_locals)

    # -- showing it -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.steps)

    def __str__(self) -> str:
        rows = [[[h] for h in _HEADER]] + [s.cells() for s in self.steps]
        widths = [max(len(line) for row in rows for line in row[c]) for c in range(len(_HEADER))]
        out = []
        for row in rows:
            for i in range(max(len(cell) for cell in row)):
                out.append(
                    "  ".join(
                        (cell[i] if i < len(cell) else "").ljust(w) for cell, w in zip(row, widths)
                    ).rstrip()
                )
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADER)
        body = "".join(
            "<tr>"
            + "".join(
                "<td style='text-align:left; vertical-align:top'><code>"
                + "<br>".join(html.escape(line) for line in cell)
                + "</code></td>"
                for cell in s.cells()
            )
            + "</tr>"
            for s in self.steps
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def _edge_labels(self) -> dict:
        """{(id of the input's node or leaf, id of the consuming node): [summaries]}: the
        gradient each edge of the graph carried (for viz.to_dot(trace=...))."""
        labels: dict = {}
        for s in self.steps:
            for g in s.grads:
                labels.setdefault((id(g._tail), id(s.node)), []).append(
                    "grad " + show(g.value, small=4)
                )
        return labels


def explain(loss: Tensor | None = None, *, retain_graph: bool | None = None) -> BackwardTrace:
    """Backward with each step recorded. `explain(loss)` runs loss.backward() (gradients
    accumulate into the leaves' .grad, as there) on a graph already built and returns
    the trace; `with explain() as trace:` around the forward pass and backward() also
    records the line that made each op. Steps show the gradient each VJP received and
    sent, and where the engine summed a broadcast gradient down to an input's shape.
    Inputs and outputs are named after the caller's variables. To draw the gradients on
    the graph (viz.draw_graph(loss, trace=trace)), keep it with retain_graph=True.

    >>> import microtensor as mt
    >>> w = mt.tensor([2.0, 3.0], requires_grad=True)
    >>> trace = mt.autograd.explain((w * w).sum())
    >>> [s.op for s in trace.steps], trace.steps[-1].grads[0].value.tolist()
    (['SumBackward0', 'MulBackward0'], [2.0, 3.0])
    """
    trace = BackwardTrace()
    if loss is None:
        if retain_graph is not None:
            raise TypeError(
                "explain: retain_graph goes to backward() inside the block; "
                "pass it with a loss: explain(loss, retain_graph=True)"
            )
        return trace
    token = _explaining.set(trace)
    try:
        backward(loss, retain_graph=retain_graph)
    finally:
        _explaining.reset(token)
    trace._name(sys._getframe(1).f_locals)
    return trace
