"""`_Builder` grows one program statement by statement, from choices made by a seeded
generator (`_Seeded`) or by hypothesis (`_Drawn`); its ops come from `_Ops` (ops.py) and
its in-place ops from `_InPlace` (inplace.py)."""

from __future__ import annotations

import math
import random

import numpy as np

from .inplace import _InPlace
from .ops import _Ops
from .program import _SPLIT_READ, _WEIGHTS, EITHER, SUCCEEDS, Program
from .values import _grid, _ok, _Storage, _Var


class _Seeded:
    """Choices from a seeded generator (random_program)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def distinct(self, n: int, hi: int) -> list:
        return self.rng.sample(range(hi + 1), n)

    # last: below it, `int` in this class body would name the method, not the type
    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class _Drawn:
    """Choices drawn by hypothesis (programs), so failing programs shrink."""

    def __init__(self, draw) -> None:
        import hypothesis.strategies as st

        self.draw, self.st = draw, st

    def distinct(self, n: int, hi: int) -> list:
        if n > 4:  # one draw, not n: long lists would overrun hypothesis's buffer
            return random.Random(self.draw(self.st.integers(0, 2**16))).sample(range(hi + 1), n)
        return self.draw(
            self.st.lists(self.st.integers(0, hi), min_size=n, max_size=n, unique=True)
        )

    # last: below it, `int` in this class body would name the method, not the type
    def int(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))


class _Builder(_Ops, _InPlace):
    """Grows one program, running each statement on tensors that need no grad, so every
    choice sees the values the program will have."""

    def __init__(self, choose) -> None:
        import microtensor

        self.c = choose
        self.mt = microtensor
        self.ns: dict = {"mt": microtensor}
        exec("\n".join(_WEIGHTS), self.ns)
        self.vars: list = []
        self.body: list = []
        self.leaves: dict = {}
        self.expect = SUCCEEDS
        self.features: set = set()
        self.count = 0

    # -- choices ------------------------------------------------------------------------
    def chance(self, percent: int) -> bool:
        """True `percent` times in 100; hypothesis, which favours small numbers, favours
        and shrinks to the likelier outcome."""
        if percent >= 50:
            return self.c.int(1, 100) <= percent
        return self.c.int(1, 100) > 100 - percent

    def pick(self, items):
        """One of `items`, the last ones first (they shrink to the most recent tensor)."""
        items = list(items)
        return items[len(items) - 1 - self.c.int(0, len(items) - 1)] if items else None

    def data(self, var: _Var) -> np.ndarray:
        return self.ns[var.name]._data

    def new_name(self) -> str:
        self.count += 1
        return f"v{self.count}"

    # -- running statements -------------------------------------------------------------
    def may_raise(self) -> None:
        """PyTorch may raise in this program: a clear error is as good as right gradients."""
        if self.expect == SUCCEEDS:
            self.expect = EITHER

    def use(self, *vars_, consume: bool = True) -> None:
        """Record that an op read these variables (with `consume`, an op that may save
        them for backward; a view op saves nothing)."""
        for v in vars_:
            s = v.storage
            s.consumed = s.consumed or consume
            if s.version:
                self.features.add("used after in-place")
            if s.version > v.born:
                self.features.add(
                    "view used after its storage changed"
                    if v.view
                    else "tensor used after a view of it changed"
                    if s.via_view
                    else "used after in-place"
                )
                if v.multi:  # PyTorch refuses to read it: it can't rebuild its history
                    self.features.add(_SPLIT_READ)
                    self.may_raise()

    def emit(
        self,
        expr: str,
        inputs: list,
        saves: str = "input",
        view: bool = False,
        sure: bool | None = None,
    ) -> bool:
        """`vN = expr` if its values are finite and bounded; a view shares its input's
        storage. `saves`: what the op may save for backward, "input" (any of its
        inputs), "output" (only its output: its inputs may change) or "both"."""
        name = self.new_name()
        line = f"{name} = {expr}"
        exec(line, self.ns)
        out = self.ns[name]
        if not _ok(out._data):
            del self.ns[name]
            self.count -= 1
            return False
        self.body.append(line)
        src = inputs[0]
        if view:
            self.use(src, consume=False)
            var = _Var(
                name,
                src.storage,
                True,
                src.multi,
                src.sure if sure is None else sure,
                src.storage.version,
            )
        else:
            self.use(*inputs, consume=saves != "output")
            dep = any(v.storage.dep for v in inputs)
            contiguous = all(v.sure and self.data(v).flags.c_contiguous for v in inputs)
            var = _Var(
                name,
                _Storage(dep=dep, consumed=saves != "input"),
                sure=contiguous if sure is None else sure,
            )
        self.vars.append(var)
        if out._data.size == 0:
            self.features.add("zero-size tensor")
        if out._data.ndim == 0:
            self.features.add("0-d tensor")
        return True

    def emit_multi(self, expr: str, src: _Var) -> bool:
        """`a, b, ... = expr` for split/chunk: views of `src`, pieces PyTorch won't change
        in place."""
        pieces = eval(expr, self.ns)
        self.use(src, consume=False)
        names = [self.new_name() for _ in pieces]
        for n, p in zip(names, pieces):
            self.ns[n] = p
        self.body.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {expr}")
        for n in names:
            self.vars.append(_Var(n, src.storage, True, True, src.sure, src.storage.version))
        return True

    # -- leaves ---------------------------------------------------------------------------
    def draw_leaves(self) -> None:
        c = self.c
        ndim = (1, 2, 0, 3)[c.int(0, 3)]  # hypothesis starts from (and shrinks to) vectors
        base = [c.int(1, 4) for _ in range(ndim)]
        shapes = [tuple(base)]
        for _ in range(c.int(0, 2)):
            kind = c.int(0, 2)
            if kind == 0:
                shape = list(base)
            elif kind == 1:  # broadcasts against the first: a suffix, some dims set to 1
                shape = [1 if self.chance(40) else n for n in base[c.int(0, ndim) :]]
            else:
                shape = [c.int(1, 4) for _ in range(c.int(0, 3))]
            shapes.append(tuple(shape))
        if ndim and self.chance(8):
            zero = c.int(0, ndim - 1)
            shapes[0] = tuple(0 if i == zero else n for i, n in enumerate(base))
        total = 0
        for i, drawn in enumerate(shapes):
            shape = list(drawn)
            while math.prod(shape) > min(32, 64 - total):  # keeps finite differences cheap
                shape[shape.index(max(shape))] -= 1
            n = math.prod(shape)
            total += n
            values = np.array([_grid(k) for k in self.c.distinct(n, 301)]).reshape(shape)
            name = f"x{i}"
            self.leaves[name] = values
            self.ns[name] = self.mt.tensor(values, dtype=self.mt.float64)
            self.vars.append(_Var(name, _Storage(leaf=True, dep=True)))

    # -- the whole program ------------------------------------------------------------------
    def result(self) -> str:
        """A weighted sum of the tensors made (so a wrong permutation of a gradient shows),
        always one that depends on the leaves."""
        made = [v for v in self.vars if (not v.storage.leaf or v.view) and not v.hidden]
        terms = [v for v in made if self.chance(80)]
        if not any(v.storage.dep for v in terms):
            deps = [v for v in made if v.storage.dep] or self.vars[:1]
            terms.append(deps[-1])
        self.use(*terms)
        return " + ".join(f"({v.name} * w({v.name}, {k})).sum()" for k, v in enumerate(terms))

    def program(self, min_ops: int, max_ops: int) -> Program:
        self.draw_leaves()
        ops = [
            (self.op_unary, 10),
            (self.op_scalar, 5),
            (self.op_binary, 12),
            (self.op_reduce, 8),
            (self.op_softmax, 3),
            (self.op_shape, 12),
            (self.op_index, 12),
            (self.op_cat, 4),
            (self.op_split, 4),
            (self.op_matmul, 3),
            (self.op_const, 6),
            (self.op_inplace, 20),
            (self.op_read_then_change, 16),
        ]
        table = [fn for fn, weight in ops for _ in range(weight)]
        n_ops = self.c.int(min_ops, max_ops)
        on_leaf = self.chance(6)
        while len(self.body) < n_ops - on_leaf:
            for _ in range(20):
                if table[self.c.int(0, len(table) - 1)]():
                    break
            else:
                self.emit(f"{self.vars[-1].name}.tanh()", [self.vars[-1]], saves="output")
        if on_leaf:  # the last statement: an in-place op PyTorch refuses
            any(self.op_inplace(on_leaf=True) for _ in range(20))
        return Program(self.leaves, self.body, self.result(), self.expect, frozenset(self.features))
