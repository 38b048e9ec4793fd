"""The in-place ops a program applies (add_, mul_, clamp_, copy_, fill_, setitem, +=,
...) on intermediates, on constants made inside it and on views of both, and what each
means for the generator's model of storage and for what PyTorch will do. A mixin of
`_Builder` (builder.py), whose state it uses."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .program import REFUSED
from .values import (
    _ARITHMETIC,
    _AUGMENTED,
    _INPLACE,
    _INTO_CONSTANT,
    _SAVES_TARGET,
    _SCALARS,
    _UNARY,
    _absmin,
    _fmt,
    _grid,
    _MaskMaker,
    _ok,
    _Storage,
    _Var,
)

if TYPE_CHECKING:
    from .builder import _Drawn, _Seeded


class _InPlace:
    """The in-place ops of `_Builder` (and the constants made to be changed in place)."""

    if TYPE_CHECKING:  # the state and helpers of _Builder (builder.py) and of _Ops (ops.py)
        c: _Seeded | _Drawn
        ns: dict
        vars: list
        body: list
        features: set
        expect: str

        def chance(self, percent: int) -> bool: ...
        def pick(self, items: Any) -> Any: ...
        def data(self, var: _Var) -> np.ndarray: ...
        def new_name(self) -> str: ...
        def may_raise(self) -> None: ...
        def use(self, *vars_: _Var, consume: bool = ...) -> None: ...
        def emit(
            self,
            expr: str,
            inputs: list,
            saves: str = ...,
            view: bool = ...,
            sure: bool | None = ...,
        ) -> bool: ...
        def threshold(self, a: np.ndarray) -> float | None: ...
        def permutation(self, n: int) -> tuple: ...
        def new_shape(self, shape: tuple) -> tuple: ...
        def basic_index(self, shape: tuple, nonempty: bool = ...) -> str | None: ...
        def array_index(self, shape: tuple, unique: bool = ...) -> tuple | None: ...

    def op_const(self) -> bool:
        """A tensor made inside the program, needing no grad: a target for in-place ops."""
        like = self.pick(self.vars)
        shape = self.data(like).shape
        if self.chance(25) and shape:
            shape = shape[self.c.int(0, len(shape)) :]
        n = math.prod(shape)
        form = self.c.int(0, 2)
        if form == 0 and n:
            values = np.array([_grid(k) for k in self.c.distinct(n, 301)]).reshape(shape)
            expr = f"mt.tensor({values.tolist()}, dtype=mt.float64)"
        elif form == 1:
            expr = f"mt.zeros({shape}, dtype=mt.float64)"
        else:
            expr = f"mt.full({shape}, {_fmt(_grid(self.c.int(0, 301)))}, dtype=mt.float64)"
        name = self.new_name()
        line = f"{name} = {expr}"
        exec(line, self.ns)
        self.body.append(line)
        self.vars.append(_Var(name, _Storage()))
        if self.chance(60):  # c.mul_(w), c /= w, c[0:1].copy_(h), ...
            self.op_inplace(on=self.vars[-1], ops=_INTO_CONSTANT)
        return True

    def op_read_then_change(self) -> bool:
        """z = f(y) for an f that saves its output, then y (or a view of it) changed in
        place: z keeps the y it saw, and backward needs no y."""
        ys = [v for v in self.vars if self.writeable(v)]
        y = self.pick([v for v in ys if not v.storage.consumed] or ys)
        if y is None:
            return False
        template, domain, saves = _UNARY[self.c.int(0, 5)]  # these save their output
        if not (domain(self.data(y)) and self.emit(template.format(y.name), [y], saves=saves)):
            return False
        if self.chance(60):  # a shift: the input changes, the saved output does not
            self.op_inplace(
                on=y, ops=("add_", "sub_", "+=", "-="), direct=self.chance(80), scalar=True
            )
        else:
            self.op_inplace(on=y)
        y.hidden = self.chance(60)  # only z reaches the result: backward must not need y
        return True

    def target(self, v: _Var, direct: bool):
        """An expression naming `v` (always, if `direct`) or a view of it to change in
        place, and whether that is a view and a split piece; None if it has no element
        to change."""
        a = self.data(v)
        n = a.ndim
        form = 0 if direct else self.c.int(0, 5)
        if form == 1:
            index = self.basic_index(a.shape, nonempty=True)
            expr = None if index is None else f"{v.name}[{index}]"
        elif form == 2 and n >= 2:
            expr = (
                f"{v.name}.transpose({self.c.int(-n, n - 1)}, {self.c.int(-n, n - 1)})"
                if self.chance(50)
                else f"{v.name}.permute{self.permutation(n)}"
            )
        elif form == 3 and v.sure and a.size:
            expr = f"{v.name}.view{self.new_shape(a.shape)}".replace(",)", ")")
            if not np.shares_memory(eval(expr, self.ns)._data, a):
                expr = None
        elif form == 4 and any(s >= 2 for s in a.shape):
            d = self.pick(i for i, s in enumerate(a.shape) if s >= 2)
            k = self.c.int(1, a.shape[d] - 1)
            expr = f"{v.name}.split({k}, {d})[{self.c.int(0, -(-a.shape[d] // k) - 1)}]"
        elif form == 5:
            expr = f"{v.name}.unsqueeze({self.c.int(-n - 1, n)})"
        else:
            expr = v.name
        if expr is None:
            return None
        t = eval(expr, self.ns)
        if t._data.size == 0 or not t._data.flags.writeable:
            return None
        return expr, t._data, expr != v.name, form == 4

    def operand(self, shape: tuple, avoid: _Storage, scalar_ok: bool = True, scalar: bool = False):
        """A variable whose shape broadcasts to `shape` and that shares no memory with the
        target (PyTorch refuses partial overlap), or a Python scalar (always, if
        `scalar`)."""

        def fits(o):
            try:
                return (
                    o.storage is not avoid
                    and np.broadcast_shapes(self.data(o).shape, shape) == shape
                )
            except ValueError:
                return False

        cands = [o for o in self.vars if fits(o)]
        if scalar or (scalar_ok and (not cands or self.chance(40))):
            return None, np.array(_SCALARS[self.c.int(0, len(_SCALARS) - 1)])
        o = self.pick(sorted(cands, key=lambda o: o.storage.dep))  # grad-carrying ones first
        return o, None if o is None else self.data(o)

    def writeable(self, v: _Var) -> bool:
        return not v.storage.leaf and self.data(v).size > 0 and self.data(v).flags.writeable

    def op_inplace(
        self,
        on_leaf: bool = False,
        on: _Var | None = None,
        ops: tuple = _INPLACE,
        direct: bool = False,
        scalar: bool = False,
    ) -> bool:
        """Change a variable (`on`, or one drawn: often one an op has read already) or
        a view of it (never, if `direct`) in place with one of `ops` (by a Python scalar,
        if `scalar`); with `on_leaf`, a leaf or a view of one (which PyTorch refuses)."""
        if on_leaf:
            cands = [v for v in self.vars if v.storage.leaf and self.data(v).size]
        else:
            cands = [v for v in ([on] if on else self.vars) if self.writeable(v)]
            read = self.chance(20)  # one read already (its readers may need it), or not
            cands = [v for v in cands if v.storage.consumed == read] or cands
        v = self.pick(cands)
        if v is None:
            return False
        found = self.target(v, direct)
        if found is None:
            return False
        expr, t, through_view, split_piece = found
        op = ops[self.c.int(0, len(ops) - 1)]
        if op in _AUGMENTED and not (expr == v.name or (expr.endswith("]") and not split_piece)):
            op = _AUGMENTED[op]  # `v.transpose(0, 1) += 1` is no Python
        o = None
        if op == "clamp_":
            bound = self.threshold(t)
            if bound is None:
                return False
            line = f"{expr}.clamp_({'min' if self.chance(50) else 'max'}={_fmt(bound)})"
        elif op == "zero_":
            line = f"{expr}.zero_()"
        elif op == "fill_":
            line = f"{expr}.fill_({_fmt(_grid(self.c.int(0, 301)))})"
        elif op == "copy_":
            o, _ = self.operand(t.shape, v.storage, scalar_ok=False)
            if o is None:
                return False
            line = f"{expr}.copy_({o.name})"
        elif op == "setitem":
            found = (
                (self.basic_index(t.shape), "basic")
                if self.chance(50)
                else self.array_index(t.shape, unique=True)
            )
            if found is None or found[0] is None:
                return False
            index = found[0]
            sub = t[eval(f"np.s_[{index}]", {"np": np, "mt": _MaskMaker})]
            o, od = self.operand(np.shape(sub), v.storage)
            line = f"{expr}[{index}] = {o.name if o is not None else _fmt(od)}"
        else:
            o, od = self.operand(t.shape, v.storage, scalar=scalar)
            if op in ("div_", "/=") and _absmin(od) < 0.3:
                return False
            if not _ok(_ARITHMETIC[op](t, od)):
                return False
            arg = o.name if o is not None else _fmt(od)
            line = f"{expr}.{op}({arg})" if op.endswith("_") else f"{expr} {op} {arg}"
        s = v.storage
        exec(line, self.ns)
        self.body.append(line)
        if on_leaf:
            self.expect = REFUSED
            self.features.add(
                "refused: in-place on a leaf" + (" view" if through_view or v.view else "")
            )
            return True
        if s.consumed or v.multi or split_piece:
            self.may_raise()
        self.features.add("in-place")
        if through_view or v.view:
            self.features.add("in-place on a view")
            s.via_view = True
        if v.multi or split_piece:
            self.features.add("in-place on a split piece")
        if o is not None:
            self.use(o)
            if not s.dep and o.storage.dep:
                self.features.add("in-place into a constant, grad-carrying argument")
            s.dep = s.dep or o.storage.dep
        if op == "setitem":
            self.features.add("setitem")
        if op in _SAVES_TARGET:
            s.consumed = True
        s.version += 1
        return True
