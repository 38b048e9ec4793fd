"""How a graph looks: node styles by role, and the text of labels (shapes, values,
summaries of large or non-finite arrays)."""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor

# Node styles: role -> Graphviz attributes. Shapes differ as well as colours, so the
# roles stay apart in grey print and for colour-blind readers.
_STYLE = {
    "param": {"shape": "box", "style": "filled", "fillcolor": "#d5e8d4", "color": "#82b366"},
    "input": {"shape": "note", "style": "filled", "fillcolor": "#dae8fc", "color": "#6c8ebf"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#fff2cc", "color": "#d6b656"},
    "function": {"shape": "hexagon", "style": "filled", "fillcolor": "#e1d5e7", "color": "#9673a6"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#f5f5f5", "color": "#666666"},
    "output": {
        "shape": "doubleoctagon",
        "style": "filled",
        "fillcolor": "#ffe6cc",
        "color": "#d79b00",
    },
    "more": {"shape": "plaintext"},
}


_NONFINITE = {"fillcolor": "#f8cecc", "color": "#b85450", "fontcolor": "#990000"}


_ORIGIN = {"color": "#ff0000", "penwidth": "3"}


_REUSED = {"style": "dashed", "color": "#999999", "fontcolor": "#666666"}


_CLUSTER = {"style": "rounded,dashed", "color": "#888888", "fontcolor": "#444444", "labeljust": "l"}


_HEAD = (
    '\tgraph [fontname="Helvetica" fontsize="12" labelloc="t" rankdir={rankdir}{label}]\n'
    '\tnode [fontname="Helvetica" fontsize="10"]\n'
    '\tedge [color="#555555" arrowsize="0.7"]\n'
)


_INSTALL = (
    "install the Graphviz system package: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`"
)


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
    return f"min {_num(a.min(), 3)} mean {_num(a.mean(dtype=xp.float64), 3)} max {_num(a.max(), 3)}"


def _tensor_lines(t: Tensor | None, show_values: bool, show_grads: bool) -> list[str]:
    """Shape (always), dtype and a summary of the value and of the gradient (on request)."""
    if t is None:
        return []
    a = t._data
    lines = [_shape(a.shape) + (f" {a.dtype}" if show_values else "")]
    if show_values:
        lines.append(_summary(a))
    if _nonfinite(a):
        lines.append(_bad_counts(a))
    if show_grads and (t.grad is not None or t._node is None and t.requires_grad):
        lines.append("grad " + ("None" if t.grad is None else _summary(t.grad._data)))
    return lines


def _const(c) -> str:
    if isinstance(c, (bool, int, float, xp.generic)):
        return _num(c) if isinstance(c, (float, xp.floating)) else str(c)
    return "array" if hasattr(c, "shape") else type(c).__name__


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(a: dict) -> str:
    return " ".join(f"{k}={_q(str(v))}" for k, v in a.items())
