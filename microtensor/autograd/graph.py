"""Recording: the clock, graph nodes, and apply(), which runs an op and records a node.

`apply(Op, *args, **attrs)` runs `Op.forward` on arrays and, when grad mode is on and an
input requires grad, records a `Node` holding the op, its inputs and what the VJP needs.
A node never refers to its own output, so a dropped graph is freed by reference
counting. `unary(op)` and `binary(op)` make the function of an op of one or two inputs
without attributes: the same work in one frame, for the hot paths (elementwise ops,
arithmetic).
"""

from __future__ import annotations

import itertools
import os
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..backend import ndarray, sum_to, xp
from ..tensor import Tensor, _wrap, promote_result
from .grad_mode import _anomaly_mode, _grad_on

if TYPE_CHECKING:
    from ..ops.base import Op
    from .function import _FunctionOp

_anomaly_on = _anomaly_mode.get

# One clock numbers nodes as they are made (a topological order) and stamps tensors
# changed in place (their version). A saved input whose stamp is later than its node's
# number changed after being saved. `_last_change` is the latest stamp: nodes made after
# it skip the version check.
_clock = itertools.count(1)
_last_change = [0]
# microtensor.compile's recorder while it records a step, else None: apply hands it every
# op (apply1 and apply2 defer to apply while it is set).
tracer: Any = None


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
    anomaly mode). Backward without retain_graph frees args, arrays and out once the
    VJP ran, and keeps in `edges` (None until then) the graph's structure, one entry per
    input (backward._run, backward._edge), so that the graph can still be drawn.
    """

    __slots__ = (
        "op",
        "args",
        "arrays",
        "needs",
        "attrs",
        "out",
        "n_out",
        "seq",
        "extra",
        "edges",
        "__weakref__",
    )
    op: type[Op] | _FunctionOp
    args: tuple | None  # None (with arrays and out) once backward has freed the graph
    arrays: Sequence | None
    needs: Sequence
    attrs: dict
    out: Any
    n_out: int | None
    seq: int
    extra: dict | None
    edges: tuple | None

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def backward_name(self) -> str:
        """PyTorch's name for the node (its class name there): `AddBackward0`, and for an
        autograd.Function its class name and `Backward`."""
        op = self.op
        if not isinstance(op, type):  # an autograd.Function
            return f"{op.__name__}Backward"
        name = _TORCH_NAMES.get(op.__name__)
        arrays = self.arrays  # None once backward freed them: the dims and index are gone
        if op.__name__ == "MatMul" and arrays is not None:
            name = _MATMUL_NAMES.get(tuple(a.ndim for a in arrays), "UnsafeViewBackward0")
        elif op.__name__ == "GetItem" and arrays is not None:
            name = _getitem_name(self.attrs["index"])
        elif name is None:
            name = "".join(w.capitalize() for w in op.name.split("_")) + "Backward0"
        if op.__name__ in ("Sum", "Mean") and self.attrs.get("dim") is not None:
            name = name[:-1] + "1"  # PyTorch's overload over dims
        return name

    def __repr__(self) -> str:
        module = "" if isinstance(self.op, type) else "microtensor.autograd.function."
        return f"<{module}{self.backward_name} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        """The nodes (or leaf tensors) feeding this one, as in PyTorch: before backward and
        after it (from `edges`)."""
        if self.args is None:
            return tuple(
                e[0] if type(e) is tuple else e
                for e, need in zip(self.edges or (), self.needs)
                if need
            )
        from .views import input_edge  # the history each input had when this node was made

        return tuple(
            input_edge(a, self.seq)[0] or a for a, need in zip(self.args, self.needs) if need
        )

    def _extra(self, kind: str, oi: int):
        """The hook list or retained-tensor slot of output `oi` (created on first use)."""
        if self.extra is None:
            self.extra = {}
        return self.extra.setdefault((kind, oi), [])

    @property
    def trace(self) -> str | None:
        """Where the user created this op (anomaly mode only)."""
        return None if self.extra is None else self.extra.get("trace")


# op class -> PyTorch's node name, where it is not the op's name in CamelCase + Backward0
_TORCH_NAMES = {
    "BroadcastTo": "ExpandBackward0",
    "Cast": "ToCopyBackward0",
    "Clamp": "ClampBackward1",
    "CopyFrom": "CopyBackwards",
    "CopySlices": "CopySlices",
    "SetItem": "CopySlices",
    "Fill": "FillBackward0",
    "Fold": "Col2ImBackward0",
    "Linear": "AddmmBackward0",
    "Log1p": "Log1PBackward0",
    "Pad": "ConstantPadNdBackward0",
    "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "Reshape": "ViewBackward0",
    "SumTo": "SumBackward1",
    "Unfold": "Im2ColBackward0",
}
_MATMUL_NAMES = {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0"}


def _getitem_name(index) -> str:
    """PyTorch's node for x[index]: that of the last step it applies (x[1:2, 0] selects
    last, x[0, 1:2] slices last; `:` and `...` are no steps unless alone)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not all(
        p is None or p is Ellipsis or isinstance(p, (int, xp.integer, slice)) for p in parts
    ):  # an array or a mix of both: advanced indexing
        return "IndexBackward0"
    steps = [p for p in parts if p is not Ellipsis]
    steps = [p for p in steps if p != slice(None)] or steps
    last = steps[-1] if steps else Ellipsis
    return (
        "AliasBackward0"
        if last is Ellipsis
        else "UnsqueezeBackward0"
        if last is None
        else "SliceBackward0"
        if isinstance(last, slice)
        else "SelectBackward0"
    )


def _user_frame() -> str:
    """The innermost stack frame outside the microtensor package, as 'file:line: code'."""
    pkg = os.path.dirname(os.path.dirname(__file__))  # microtensor/, not autograd/
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(pkg):
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    return "<unknown>"


def record(op, args: tuple, arrays: Sequence, needs: Sequence, attrs: dict, out):
    """Make the node of one application of `op` and wrap its output(s) as tensors of that
    node: the one place a node is made (apply, apply1, apply2, in-place ops and
    Functions all come here). Runs once per recorded op, so it makes the node without an
    __init__ frame and the output tensor without _wrap's (unless mt.compile records)."""
    node = Node()
    node.op = op
    node.args = args
    node.arrays = arrays
    node.needs = needs
    node.attrs = attrs
    node.out = out if op.save_output else None
    node.seq = next(_clock)
    node.extra = {"trace": _user_frame()} if _anomaly_on() else None
    node.edges = None
    if op.multi:
        node.n_out = len(out)
        return tuple(_wrap(o, node, i) for i, o in enumerate(out))
    node.n_out = None
    if tracer is not None:  # mt.compile's watch knows tensors made in _wrap's frame
        return _wrap(out, node, 0)
    t = _new(Tensor)  # _wrap(out, node)
    t._data = out if type(out) is ndarray else xp.asarray(out)
    t.grad = None
    t.requires_grad = True
    t._node = node
    t._oi = 0
    t._version = 0
    t._hooks = None
    t._alias = None
    return t


_new = object.__new__
_F64 = xp.dtype(xp.float64)
_F32, _F16 = xp.dtype(xp.float32), xp.dtype(xp.float16)


def _promoted(out, arrays):
    """`out` in PyTorch's result dtype where numpy's promotion made it float64 and no input
    asked for float64 (an integer with a Python float, integers divided, float32 with an
    integer or a 0-d float64 tensor)."""
    if getattr(out, "dtype", None) is not _F64:  # an array or a numpy scalar
        return out
    for a in arrays:
        if type(a) is ndarray and a.dtype is _F64 and a.ndim:
            return out  # a dimensioned float64 input: float64 in PyTorch too
    return promote_result(out, arrays)


def apply(op, *args, **attrs):
    """Run `op` forward on `args` (Tensors or constants) and record a node if needed."""
    if tracer is not None and tracer.wants():
        return tracer.apply(op, args, attrs)
    arrays = []
    needs = []
    wants = False
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a._data)
            if a.requires_grad:
                wants = True
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
    first = arrays[0] if arrays else None
    if (
        not (type(first) is ndarray and first.dtype is _F64 and first.ndim)
        and "dtype" not in attrs
        and not op.multi
    ):
        out = _promoted(out, arrays)  # unless a float64 array came first: float64 anyway
    if not (wants and op.differentiable and _grad_on()):
        if not op.multi:
            return _wrap(out)
        return tuple(_wrap(o) for o in out)
    # tuples, which the cyclic collector stops tracking (arrays and flags only), not lists
    return record(op, args, tuple(arrays), tuple(needs), attrs, out)


_NO_ATTRS: dict = {}


def unary(op) -> Callable:
    """The function of a one-input op without attributes (exp, relu, ...): apply()'s work
    with `op` bound, in a single frame, since elementwise ops are the hot path. The op's
    class attributes are read once, here (a class attribute read costs a type lookup)."""
    forward, differentiable = op.forward, op.differentiable

    def run(a):
        if tracer is not None or not isinstance(a, Tensor):
            return apply(op, a)
        da = a._data
        out = forward(da)
        dt = da.dtype
        if dt is not _F32 and dt is not _F64 and dt is not _F16:  # PyTorch's dtype, not numpy's
            out = _promoted(out, (da,))
        if a.requires_grad and differentiable and _grad_on():
            return record(op, (a,), (da,), (True,), _NO_ATTRS, out)
        return _wrap(out)

    run.__name__ = run.__qualname__ = op.name
    run.__doc__ = op.__doc__
    return run


def binary(op) -> Callable:
    """The function of a two-input op without attributes (+, *, <, ...): apply()'s work
    with `op` bound, in a single frame, since arithmetic is the hot path (`a * b` is this
    function, and so is mt.mul). The op's class attributes are read once, here."""
    forward, differentiable = op.forward, op.differentiable

    def run(a, b):
        if tracer is not None:
            return apply(op, a, b)
        if isinstance(a, Tensor):
            da, ra = a._data, a.requires_grad
        else:
            da, ra = a, False
        if isinstance(b, Tensor):
            db, rb = b._data, b.requires_grad
        else:
            db, rb = b, False
        try:
            out = forward(da, db)
        except ValueError:
            return apply(op, a, b)  # again, for the error message naming the op and shapes
        # numpy's promotion differs from PyTorch's only where an input is not floating, or
        # the two arrays' dtypes differ: the common cases cost one dtype lookup
        # (identity tests against the float dtypes: `in` would call dtype.__eq__)
        tb = type(db)
        if tb is float or tb is int:  # x * 0.5: the same unless x holds integers
            dt = da.dtype
            if dt is not _F32 and dt is not _F64 and dt is not _F16:
                out = _promoted(out, (da, db))
        else:
            ta = type(da)
            if ta is float or ta is int:  # 1 - x
                dt = db.dtype
                if dt is not _F32 and dt is not _F64 and dt is not _F16:
                    out = _promoted(out, (da, db))
            elif ta is not ndarray or tb is not ndarray:
                out = _promoted(out, (da, db))
            else:  # two tensors: the same if they have one float dtype
                dt = da.dtype
                if dt is not db.dtype or (dt is not _F32 and dt is not _F64 and dt is not _F16):
                    out = _promoted(out, (da, db))
        if (ra or rb) and differentiable and _grad_on():
            # constant tuples: no allocation for the GC to count
            needs = (True, True) if ra and rb else (True, False) if ra else (False, True)
            return record(op, (a, b), (da, db), needs, _NO_ATTRS, out)
        return _wrap(out)

    run.__name__ = run.__qualname__ = op.name
    run.__doc__ = op.__doc__
    return run


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
