"""Random programs of ops, in-place ops and views, decided by finite differences.

An engine's rules for in-place ops and views (what a view shares, what an in-place op
rebases, what backward may still read) are proven here on programs nobody wrote by
hand. A `Program` is Python source: leaves that require grad, and a function of them
that applies 3-12 ops drawn from the op table (arithmetic, unary functions, reductions,
softmax, shape ops, cat/stack/split/chunk, matmul, basic and advanced indexing) and
in-place ops (add_, mul_, clamp_, copy_, fill_, setitem, +=, ...) on intermediates, on
constants made inside it and on views of both, then returns a weighted sum of what it
made. The same source runs in PyTorch with `mt` bound to `torch`. A program is run
as it is drawn, so its values stay away from kinks, ties and domain edges, where finite
differences would mean nothing.

`check_program` decides one: the gradients of one run through `backward()` and of one
through `grad(create_graph=True)` match finite differences (and check_grads passes,
to the second order), or a RuntimeError that names an in-place change, a view or a leaf
is raised where the program allows one.

>>> from microtensor.testing import Program, check_program
>>> p = Program({"x": [1.0, 2.0]}, ["y = x * 2", "y[0:1].mul_(3)"], "(y * y).sum()")
>>> check_program(p)
'gradients match'
"""
from __future__ import annotations

import ast
import math
import random
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from .. import autograd
from .gradcheck import GradcheckError, check_grads, numerical_jacobian

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["Program", "programs", "random_program", "check_program", "SUCCEEDS", "RAISES",
           "REFUSED", "EITHER"]

# What a program is expected to do (PyTorch's semantics):
SUCCEEDS = "succeeds"  # no error; gradients match finite differences
RAISES = "raises"      # an in-place/view error, at an in-place op or in backward
REFUSED = "refused"    # an in-place op on a leaf that requires grad (or a view of one)
EITHER = "either"      # saved values may have changed: a clear error, or right gradients

_FILENAME = "<microtensor program>"
# a split/chunk piece read after its storage changed in place: PyTorch raises where it is read
_SPLIT_READ = "split piece read after its storage changed"
_CLEAR = ("in-place", "inplace", "modified", "view", "leaf")
_FALSE = ("second time", "freed")  # errors the engine must not give for a new graph
_BOUND = 20.0  # |values| stay below this: finite differences keep their accuracy
_MARGIN = 0.05  # distance kept from kinks, clamp bounds and comparison thresholds
_WEIGHTS = ("def w(t, k):",
            "    return (mt.arange(t.numel(), dtype=mt.float64).reshape(t.shape) * 0.7 + k).sin()")


def _literal(name: str, values: np.ndarray) -> str:
    if values.size == 0:
        return f"{name} = mt.zeros({values.shape}, dtype=mt.float64, requires_grad=True)"
    return f"{name} = mt.tensor({values.tolist()}, dtype=mt.float64, requires_grad=True)"


def _inplace_lines(body: tuple) -> frozenset:
    """Lines that change a tensor in place: x.op_(...), x op= y, x[i] = y."""
    found = set()
    for i, line in enumerate(body):
        for node in ast.walk(ast.parse(line)):
            assign = isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript)
            method = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr.endswith("_") and not node.func.attr.startswith("_"))
            if isinstance(node, ast.AugAssign) or assign or method:
                found.add(i)
    return frozenset(found)


@dataclass(frozen=True, eq=False)
class Program:
    """Leaves (name -> values, float64, requiring grad), a body of statements over them
    and `mt`, and the scalar `result`; `expect` is what PyTorch would do with it.

    Its repr is the source, ready to paste into a Python prompt.
    """

    leaves: dict
    body: tuple
    result: str
    expect: str = SUCCEEDS
    features: frozenset = field(default_factory=frozenset)
    inplace: frozenset = field(init=False, repr=False)  # indices of in-place statements

    def __post_init__(self) -> None:
        object.__setattr__(self, "leaves", {name: np.array(v, dtype=np.float64)
                                            for name, v in dict(self.leaves).items()})
        object.__setattr__(self, "body", tuple(self.body))
        object.__setattr__(self, "inplace", _inplace_lines(self.body))
        if self.expect not in (SUCCEEDS, RAISES, REFUSED, EITHER):
            raise ValueError(f"Program: expect must be one of {SUCCEEDS!r}, {RAISES!r}, "
                             f"{REFUSED!r}, {EITHER!r}, got {self.expect!r}")

    def _lines(self, trace: bool) -> list:
        names = ", ".join(self.leaves)
        lines = list(_WEIGHTS) + [_literal(n, v) for n, v in self.leaves.items()]
        lines.append(f"def program({names}):")
        lines += ["    " + line for line in self.body]
        lines.append(f"    return {self.result}" + (", dict(locals())" if trace else ""))
        return lines

    @property
    def first_line(self) -> int:
        """The line number of body[0] in the code that `build` compiles."""
        return len(_WEIGHTS) + len(self.leaves) + 2

    @property
    def source(self) -> str:
        names = ", ".join(self.leaves)
        return "\n".join(["import microtensor as mt", ""] + self._lines(False) + [
            f"program({names}).backward()  # expect: {self.expect}"])

    def __repr__(self) -> str:
        return self.source

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """Hypothesis (and IPython) print a program as its source, too."""
        printer.text(self.source)

    def build(self, module: ModuleType | None = None, trace: bool = False) -> tuple:
        """(function, leaves): the program as a function and fresh leaves for it, made by
        `module` (microtensor by default; torch runs it too). With `trace` the function
        returns (result, {name: tensor}) for every variable it made."""
        if module is None:
            import microtensor as module
        ns = {"mt": module}
        exec(compile("\n".join(self._lines(trace)), _FILENAME, "exec"), ns)
        return ns["program"], [ns[name] for name in self.leaves]


# ---------------------------------------------------------------------------- drawing
class _Seeded:
    """Choices from a seeded generator (random_program)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def distinct(self, n: int, hi: int) -> list:
        return self.rng.sample(range(hi + 1), n)


class _Drawn:
    """Choices drawn by hypothesis (programs), so failing programs shrink."""

    def __init__(self, draw) -> None:
        import hypothesis.strategies as st
        self.draw, self.st = draw, st

    def int(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))

    def distinct(self, n: int, hi: int) -> list:
        if n > 4:  # one draw, not n: long lists would overrun hypothesis's buffer
            return random.Random(self.draw(self.st.integers(0, 2**16))).sample(range(hi + 1), n)
        return self.draw(self.st.lists(self.st.integers(0, hi), min_size=n, max_size=n,
                                       unique=True))


@dataclass
class _Storage:
    """Memory shared by a tensor and its views, as the generator models PyTorch."""

    leaf: bool = False
    dep: bool = False       # its values may depend on the leaves
    consumed: bool = False  # read by an op that may have saved it for backward
    version: int = 0
    via_view: bool = False  # changed in place through a view


@dataclass
class _Var:
    name: str
    storage: _Storage
    view: bool = False    # made by a view op from another variable
    multi: bool = False   # a piece of split/chunk (or a view of one): PyTorch refuses in-place
    sure: bool = True     # numpy and PyTorch give it the same strides (reshape is safe)
    born: int = 0         # the storage's version when this variable was made
    hidden: bool = False  # left out of the result


def _grid(k: int) -> float:
    """Value k of 302 distinct ones: magnitudes 0.50, 0.51, ..., 2.00, either sign."""
    magnitude = round(0.5 + 0.01 * (k // 2), 2)
    return magnitude if k % 2 == 0 else -magnitude


def _amin(a) -> float:
    return float(a.min()) if a.size else math.inf


def _absmin(a) -> float:
    return float(np.abs(a).min()) if a.size else math.inf


def _absmax(a) -> float:
    return float(np.abs(a).max()) if a.size else 0.0


def _ok(a) -> bool:
    return bool(np.all(np.isfinite(a))) and _absmax(a) <= _BOUND


def _fmt(v: float) -> str:
    return repr(float(v))


# unary ops: (template, domain check, what it saves for backward in PyTorch and microtensor)
_UNARY = [
    ("{}.tanh()", lambda a: True, "output"),
    ("{}.sigmoid()", lambda a: True, "output"),
    ("{}.exp()", lambda a: _absmax(a) <= 2.5, "output"),
    ("{}.sqrt()", lambda a: _amin(a) >= 0.2, "output"),
    ("{}.relu()", lambda a: _absmin(a) >= _MARGIN, "output"),
    ("{}.softmax(-1)", lambda a: a.size and a.shape[-1:] > (1,), "output"),  # else constant
    ("{}.sin()", lambda a: True, "input"),
    ("{}.log()", lambda a: _amin(a) >= 0.2, "input"),
    ("{}.abs()", lambda a: _absmin(a) >= _MARGIN, "input"),
    ("-{}", lambda a: True, "input"),
    ("{} ** 2", lambda a: True, "input"),
    ("{} ** 3", lambda a: _absmax(a) <= 2.5, "input"),
    ("{} ** 1.5", lambda a: _amin(a) >= 0.2, "input"),
    ("{} ** -1.0", lambda a: _absmin(a) >= 0.3, "input"),
]
_SCALARS = (0.5, 1.5, 2.0, -0.5, -1.5, 3.0)
_INPLACE = ("add_", "sub_", "mul_", "div_", "+=", "-=", "*=", "/=", "clamp_", "zero_",
            "fill_", "copy_", "setitem")
_SAVES_TARGET = ("mul_", "div_", "*=", "/=", "clamp_")  # may save the tensor they change
_INTO_CONSTANT = ("mul_", "div_", "*=", "/=", "copy_", "setitem", "add_")
_AUGMENTED = {"+=": "add_", "-=": "sub_", "*=": "mul_", "/=": "div_"}
_ARITHMETIC = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.divide}
_ARITHMETIC.update({aug: _ARITHMETIC[method] for aug, method in _AUGMENTED.items()})


class _Builder:
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
        return self.ns[var.name].data

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
                self.features.add("view used after its storage changed" if v.view else
                                  "tensor used after a view of it changed" if s.via_view
                                  else "used after in-place")
                if v.multi:  # PyTorch refuses to read it: it can't rebuild its history
                    self.features.add(_SPLIT_READ)
                    self.may_raise()

    def emit(self, expr: str, inputs: list, saves: str = "input", view: bool = False,
             sure: bool | None = None) -> bool:
        """`vN = expr` if its values are finite and bounded; a view shares its input's
        storage. `saves`: what the op may save for backward, "input" (any of its
        inputs), "output" (only its output: its inputs may change) or "both"."""
        name = self.new_name()
        line = f"{name} = {expr}"
        exec(line, self.ns)
        out = self.ns[name]
        if not _ok(out.data):
            del self.ns[name]
            self.count -= 1
            return False
        self.body.append(line)
        src = inputs[0]
        if view:
            self.use(src, consume=False)
            var = _Var(name, src.storage, True, src.multi, src.sure if sure is None else sure,
                       src.storage.version)
        else:
            self.use(*inputs, consume=saves != "output")
            dep = any(v.storage.dep for v in inputs)
            contiguous = all(v.sure and self.data(v).flags.c_contiguous for v in inputs)
            var = _Var(name, _Storage(dep=dep, consumed=saves != "input"),
                       sure=contiguous if sure is None else sure)
        self.vars.append(var)
        if out.data.size == 0:
            self.features.add("zero-size tensor")
        if out.data.ndim == 0:
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
                shape = [1 if self.chance(40) else n for n in base[c.int(0, ndim):]]
            else:
                shape = [c.int(1, 4) for _ in range(c.int(0, 3))]
            shapes.append(tuple(shape))
        if ndim and self.chance(8):
            zero = c.int(0, ndim - 1)
            shapes[0] = tuple(0 if i == zero else n for i, n in enumerate(base))
        total = 0
        for i, shape in enumerate(shapes):
            shape = list(shape)
            while math.prod(shape) > min(32, 64 - total):  # keeps finite differences cheap
                shape[shape.index(max(shape))] -= 1
            n = math.prod(shape)
            total += n
            values = np.array([_grid(k) for k in self.c.distinct(n, 301)]).reshape(shape)
            name = f"x{i}"
            self.leaves[name] = values
            self.ns[name] = self.mt.tensor(values, dtype=self.mt.float64)
            self.vars.append(_Var(name, _Storage(leaf=True, dep=True)))

    # -- ops -------------------------------------------------------------------------------
    def threshold(self, a: np.ndarray) -> float | None:
        """A value at least _MARGIN from every element of `a` (for clamp and masks)."""
        vals = np.unique(a)
        if vals.size == 0:
            return None
        cands = [round(float(vals[0]) - 0.5, 2), round(float(vals[-1]) + 0.5, 2)]
        cands += [round(float(lo + hi) / 2, 3) for lo, hi in zip(vals[:-1], vals[1:])
                  if hi - lo >= 3 * _MARGIN]
        t = cands[self.c.int(0, len(cands) - 1)]
        return t if np.abs(vals - t).min() >= _MARGIN else None

    def op_unary(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        template, domain, saves = _UNARY[self.c.int(0, len(_UNARY) - 1)]
        if self.chance(15):
            lo, hi = self.threshold(a), self.threshold(a)
            if lo is None or hi is None or lo == hi:
                return False
            lo, hi = min(lo, hi), max(lo, hi)
            bounds = [f"min={_fmt(lo)}", f"max={_fmt(hi)}"]
            bounds = bounds[self.c.int(0, 1):] if self.chance(50) else bounds[:1]
            return self.emit(f"{x.name}.clamp({', '.join(bounds)})", [x])
        if not domain(a):
            return False
        return self.emit(template.format(x.name), [x], saves=saves)

    def op_scalar(self) -> bool:
        x = self.pick(self.vars)
        s = _fmt(_SCALARS[self.c.int(0, len(_SCALARS) - 1)])
        forms = [f"{x.name} * {s}", f"{x.name} + {s}", f"{s} - {x.name}", f"{x.name} / {s}"]
        if _absmin(self.data(x)) >= 0.3:
            forms.append(f"{s} / {x.name}")
        return self.emit(forms[self.c.int(0, len(forms) - 1)], [x])

    def op_binary(self) -> bool:
        a = self.pick(self.vars)

        def fits(b):
            try:
                return math.prod(np.broadcast_shapes(self.data(a).shape, self.data(b).shape)) <= 64
            except ValueError:
                return False
        b = self.pick(v for v in self.vars if fits(v))
        if self.chance(50):
            a, b = b, a
        da, db = self.data(a), self.data(b)
        ops = ["+", "*"] if a is b else ["+", "-", "*"]  # x - x and x / x are constants
        if _absmin(db) >= 0.3 and a is not b:
            ops.append("/")
        if _amin(da) >= 0.2 and _absmax(db) <= 2:
            ops.append("**")
        op = ops[self.c.int(0, len(ops) - 1)]
        return self.emit(f"{a.name} {op} {b.name}", [a, b],
                         saves="both" if op == "**" else "input")

    def dims(self, ndim: int) -> tuple:
        """A dim or a tuple of dims (negative sometimes), or None for all."""
        if ndim == 0:
            return (None, 0, -1)[self.c.int(0, 2)]
        k = self.c.int(0, min(ndim, 2))
        if k == 0:
            return None
        dims = sorted(set(self.c.int(0, ndim - 1) for _ in range(k)))
        dims = [d - ndim if self.chance(30) else d for d in dims]
        return dims[0] if len(dims) == 1 else tuple(dims)

    def op_reduce(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        fn = ("sum", "mean", "amax", "logsumexp")[self.c.int(0, 3)]
        dim = self.dims(a.ndim)
        if fn == "logsumexp" and dim is None:
            dim = tuple(range(a.ndim)) if a.ndim else 0
        axes = tuple(range(a.ndim)) if dim is None or a.ndim == 0 else (
            tuple(d % a.ndim for d in dim) if isinstance(dim, tuple) else (dim % a.ndim,))
        count = math.prod(a.shape[d] for d in axes)
        if (fn != "sum" and count == 0) or (fn == "amax" and a.size == 0):  # mt.amax refuses
            return False
        if fn == "amax" and count > 1 and a.size:  # no ties: the top two stay apart
            rows = np.sort(np.moveaxis(a, axes, range(-len(axes), 0)).reshape(-1, count), 1)
            if (rows[:, -1] - rows[:, -2]).min() < 4 * _MARGIN:
                return False
        args = [] if dim is None else [f"dim={dim}"]
        if dim is not None and self.chance(50):
            args.append("keepdim=True")
        return self.emit(f"{x.name}.{fn}({', '.join(args)})", [x],
                         saves="both" if fn in ("amax", "logsumexp") else "input")

    def op_softmax(self) -> bool:
        x = self.pick(v for v in self.vars if self.data(v).size)  # numpy's max needs one
        if x is None:
            return False
        shape = self.data(x).shape
        dims = [d for d, n in enumerate(shape) if n > 1]  # over one element: a constant
        if not dims:
            return False
        d = self.pick(dims) - (len(shape) if self.chance(30) else 0)
        fn = ("softmax", "log_softmax")[self.c.int(0, 1)]
        return self.emit(f"{x.name}.{fn}({d})", [x], saves="output")

    def permutation(self, n: int) -> tuple:
        """Of n >= 2 dims: a rotation (a cycle, not its own inverse) or a shuffle."""
        if self.chance(50):
            k = self.c.int(1, n - 1)
            return tuple(range(k, n)) + tuple(range(k))
        perm = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.c.int(0, i)
            perm[i], perm[j] = perm[j], perm[i]
        return tuple(perm)

    def new_shape(self, shape: tuple) -> tuple:
        n = math.prod(shape)
        if n == 0:
            return tuple(reversed(shape)) if self.chance(50) else (0,)
        divisors = [d for d in range(1, n + 1) if n % d == 0]
        d = divisors[self.c.int(0, len(divisors) - 1)]
        forms = [(n,), (-1,), (d, n // d), (d, -1), (1, n), (n // d, 1, d)]
        return forms[self.c.int(0, len(forms) - 1)]

    def op_shape(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        n, kind = a.ndim, self.c.int(0, 6)
        if kind == 0 and x.sure:  # reshape / flatten: a view exactly when numpy's is one
            if n >= 2 and self.chance(40):
                s = self.c.int(0, n - 2)
                expr = f"{x.name}.flatten({s}, {self.c.int(s + 1, n - 1)})"
            else:
                expr = f"{x.name}.reshape{self.new_shape(a.shape)}".replace(",)", ")")
            out = eval(expr, self.ns)
            view = out.data.size == 0 or np.shares_memory(out.data, a)
            return self.emit(expr, [x], view=view, sure=True)
        if kind == 1 and n >= 2:
            d0, d1 = self.c.int(-n, n - 1), self.c.int(-n, n - 1)
            return self.emit(f"{x.name}.transpose({d0}, {d1})", [x], view=True)
        if kind == 2 and n >= 2:
            return self.emit(f"{x.name}.permute{self.permutation(n)}", [x], view=True)
        if kind == 3:
            return self.emit(f"{x.name}.unsqueeze({self.c.int(-n - 1, n)})", [x], view=True)
        if kind == 4 and 1 in a.shape:
            ones = [i for i, s in enumerate(a.shape) if s == 1]
            arg = "" if self.chance(30) else str(ones[self.c.int(0, len(ones) - 1)])
            return self.emit(f"{x.name}.squeeze({arg})", [x], view=True)
        if kind == 5:  # expand: size-1 dims grow, sometimes a new leading dim
            sizes = [self.c.int(2, 3) if s == 1 and self.chance(70) else -1 for s in a.shape]
            if self.chance(30):
                sizes.insert(0, 2)
            grown = [s if s != -1 else a.shape[i - len(sizes) + n] for i, s in enumerate(sizes)]
            if all(s == -1 for s in sizes) or math.prod(grown) > 64:
                return False
            return self.emit(f"{x.name}.expand({', '.join(map(str, sizes))})", [x], view=True)
        if kind == 6:
            return self.emit(f"{x.name}.clone()", [x],
                             sure=x.sure and a.flags.c_contiguous)
        return False

    def basic_index(self, shape: tuple, nonempty: bool = False) -> str | None:
        """ints, slices (with steps), None and ..., e.g. `0, 1:3, ::2` or `..., None, 1`."""
        if not shape:
            return ("None", "...", "None, ...")[self.c.int(0, 2)]
        k = self.c.int(1, len(shape))
        ellipsis = k < len(shape) and self.chance(30)
        dims = shape[len(shape) - k:] if ellipsis else shape[:k]
        items = []
        for n in dims:
            form = self.c.int(0, 5)
            if form == 0 and n:
                items.append(str(self.c.int(-n, n - 1)))
            elif form == 1:
                items.append(":")
            elif form == 2:
                items.append(f"{self.c.int(0, max(n - 1, 0))}:")
            elif form == 3:
                items.append(f":{self.c.int(1, max(n, 1))}")
            elif form == 4:
                items.append(f"::{self.c.int(2, 3)}")
            else:
                lo = self.c.int(0, max(n - 1, 0))
                items.append(f"{lo}:{self.c.int(lo + 1, max(n, lo + 1))}:{self.c.int(1, 2)}")
        if self.chance(20):
            items.insert(self.c.int(0, len(items)), "None")
        if ellipsis:
            items.insert(0, "...")
        index = ", ".join(items)
        if nonempty:
            probe = np.empty(shape)[eval(f"np.s_[{index}]")]
            if np.size(probe) == 0:
                return None
        return index

    def array_index(self, shape: tuple, unique: bool = False) -> tuple | None:
        """(index, kind): an integer list on one dim ("list"), a boolean mask ("mask"),
        an int, slices and a list ("mixed", e.g. `0, :, [0, 1, 2]`, where numpy and
        PyTorch disagree) or two lists ("pair"). `unique`: no element twice (setitem)."""
        dims = [i for i, n in enumerate(shape) if n > 0]
        if not dims:
            return None
        d = dims[self.c.int(0, len(dims) - 1)]
        n = shape[d]
        form = self.c.int(0, 3)
        lead = [":"] * d
        if form == 0:
            m = self.c.int(1, 4)
            ints = self.c.distinct(min(m, n), n - 1) if unique else \
                [self.c.int(-n, n - 1) for _ in range(m)]
            return ", ".join(lead + [str(ints)]), "list"
        if form == 1:
            mask = [self.chance(60) for _ in range(n)]
            return ", ".join(lead + [f"mt.tensor({mask})"]), "mask"
        if form == 2 and len(shape) >= 2:
            i, j = (0, len(shape) - 1) if self.chance(60) else \
                sorted(self.c.distinct(2, len(shape) - 1))
            if shape[i] == 0 or shape[j] == 0:
                return None
            items = [":"] * (j + 1)
            items[i] = str(self.c.int(0, shape[i] - 1))
            items[j] = str(sorted(self.c.distinct(min(shape[j], self.c.int(1, 3)), shape[j] - 1)))
            return ", ".join(items), "mixed"
        if form == 3 and len(shape) >= 2 and shape[0] and shape[1] and not unique:
            m = self.c.int(1, 3)
            rows = [self.c.int(0, shape[0] - 1) for _ in range(m)]
            cols = [self.c.int(0, shape[1] - 1) for _ in range(m)]
            return f"{rows}, {cols}", "pair"
        return None

    def op_index(self) -> bool:
        x = self.pick(self.vars)
        a = self.data(x)
        if self.chance(50):
            index = self.basic_index(a.shape)
            return index is not None and self.emit(f"{x.name}[{index}]", [x], view=True)
        if self.chance(20) and a.size:  # a mask made from the values themselves
            t = self.threshold(a)
            return t is not None and self.emit(f"{x.name}[{x.name} > {_fmt(t)}]", [x],
                                               sure=False)
        found = self.array_index(a.shape)
        if found is None or not self.emit(f"{x.name}[{found[0]}]", [x], sure=False):
            return False
        self.features.add(f"advanced index: {found[1]}")
        return True

    def op_cat(self) -> bool:
        x = self.pick(v for v in self.vars if self.data(v).ndim >= 1)
        if x is None:
            return False
        a = self.data(x)
        if self.chance(50):  # stack: the same shape
            others = [v for v in self.vars if self.data(v).shape == a.shape]
            parts = [x, self.pick(others)]
            d = self.c.int(-a.ndim - 1, a.ndim)
            fn = "stack"
        else:
            d = self.c.int(-a.ndim, a.ndim - 1)
            rest = a.shape[:d % a.ndim] + a.shape[d % a.ndim + 1:]
            others = [v for v in self.vars if self.data(v).ndim == a.ndim and
                      self.data(v).shape[:d % a.ndim] + self.data(v).shape[d % a.ndim + 1:] == rest]
            parts = [x] + [self.pick(others) for _ in range(self.c.int(1, 2))]
            fn = "cat"
        if sum(self.data(p).size for p in parts) > 64:
            return False
        return self.emit(f"mt.{fn}([{', '.join(p.name for p in parts)}], {d})", parts)

    def op_split(self) -> bool:
        x = self.pick(v for v in self.vars if any(n >= 2 for n in self.data(v).shape))
        if x is None:
            return False
        a = self.data(x)
        d = self.pick(i for i, n in enumerate(a.shape) if n >= 2)
        fn = ("split", "chunk")[self.c.int(0, 1)]
        k = self.c.int(1, a.shape[d] - 1) if fn == "split" else self.c.int(2, a.shape[d])
        if self.chance(30):
            d -= a.ndim
        return self.emit_multi(f"{x.name}.{fn}({k}, {d})", x)

    def op_matmul(self) -> bool:
        def inner(a, b):
            if a.ndim == 0 or b.ndim == 0:
                return False
            if a.shape[-1] != (b.shape[-2] if b.ndim >= 2 else b.shape[0]):
                return False
            try:
                np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                return False
            return True
        pairs = [(a, b) for a in self.vars for b in self.vars
                 if inner(self.data(a), self.data(b))]
        pair = self.pick(pairs)
        if pair is None:
            x = self.pick(v for v in self.vars if self.data(v).ndim >= 2)
            return x is not None and self.emit(f"{x.name} @ {x.name}.mT", [x], sure=True)
        return self.emit(f"{pair[0].name} @ {pair[1].name}", list(pair), sure=True)

    def op_const(self) -> bool:
        """A tensor made inside the program, needing no grad: a target for in-place ops."""
        like = self.pick(self.vars)
        shape = self.data(like).shape
        if self.chance(25) and shape:
            shape = shape[self.c.int(0, len(shape)):]
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
        if not (domain(self.data(y)) and self.emit(template.format(y.name), [y],
                                                   saves=saves)):
            return False
        if self.chance(60):  # a shift: the input changes, the saved output does not
            self.op_inplace(on=y, ops=("add_", "sub_", "+=", "-="), direct=self.chance(80),
                            scalar=True)
        else:
            self.op_inplace(on=y)
        y.hidden = self.chance(60)  # only z reaches the result: backward must not need y
        return True

    # -- in-place ---------------------------------------------------------------------------
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
            expr = f"{v.name}.transpose({self.c.int(-n, n - 1)}, {self.c.int(-n, n - 1)})" \
                if self.chance(50) else f"{v.name}.permute{self.permutation(n)}"
        elif form == 3 and v.sure and a.size:
            expr = f"{v.name}.view{self.new_shape(a.shape)}".replace(",)", ")")
            if not np.shares_memory(eval(expr, self.ns).data, a):
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
        if t.data.size == 0 or not t.data.flags.writeable:
            return None
        return expr, t.data, expr != v.name, form == 4

    def operand(self, shape: tuple, avoid: _Storage, scalar_ok: bool = True,
                scalar: bool = False):
        """A variable whose shape broadcasts to `shape` and that shares no memory with the
        target (PyTorch refuses partial overlap), or a Python scalar (always, if
        `scalar`)."""
        def fits(o):
            try:
                return (o.storage is not avoid and
                        np.broadcast_shapes(self.data(o).shape, shape) == shape)
            except ValueError:
                return False
        cands = [o for o in self.vars if fits(o)]
        if scalar or (scalar_ok and (not cands or self.chance(40))):
            return None, np.array(_SCALARS[self.c.int(0, len(_SCALARS) - 1)])
        o = self.pick(sorted(cands, key=lambda o: o.storage.dep))  # grad-carrying ones first
        return o, None if o is None else self.data(o)

    def writeable(self, v: _Var) -> bool:
        return not v.storage.leaf and self.data(v).size and self.data(v).flags.writeable

    def op_inplace(self, on_leaf: bool = False, on: _Var | None = None,
                   ops: tuple = _INPLACE, direct: bool = False, scalar: bool = False) -> bool:
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
            found = (self.basic_index(t.shape), "basic") if self.chance(50) else \
                self.array_index(t.shape, unique=True)
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
            self.features.add("refused: in-place on a leaf" + (" view" if through_view
                                                               or v.view else ""))
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
        ops = [(self.op_unary, 10), (self.op_scalar, 5), (self.op_binary, 12),
               (self.op_reduce, 8), (self.op_softmax, 3), (self.op_shape, 12),
               (self.op_index, 12), (self.op_cat, 4), (self.op_split, 4),
               (self.op_matmul, 3), (self.op_const, 6), (self.op_inplace, 20),
               (self.op_read_then_change, 16)]
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
        return Program(self.leaves, self.body, self.result(), self.expect,
                       frozenset(self.features))


class _MaskMaker:
    """`mt.tensor(mask)` inside an index, evaluated by numpy when the generator probes
    an index's shape."""

    @staticmethod
    def tensor(values):
        return np.array(values)


def random_program(seed: int, min_ops: int = 3, max_ops: int = 12) -> Program:
    """The program drawn from a seeded generator: reproducible without hypothesis, for
    fuzzing loops and comparisons with other engines.

    >>> random_program(7).source == random_program(7).source
    True
    """
    return _Builder(_Seeded(seed)).program(min_ops, max_ops)


def programs(min_ops: int = 3, max_ops: int = 12) -> SearchStrategy[Program]:
    """A hypothesis strategy of Programs (failing ones shrink to few, simple ops).

    >>> from hypothesis import given, settings
    >>> from microtensor.testing import programs
    >>> @settings(max_examples=3)
    ... @given(programs())
    ... def test_a_program_is_source(program):
    ...     assert program.source.startswith("import microtensor as mt")
    >>> test_a_program_is_source()
    """
    import hypothesis.strategies as st

    @st.composite
    def draw_program(draw):
        return _Builder(_Drawn(draw)).program(min_ops, max_ops)
    return draw_program()


# ----------------------------------------------------------------------------- deciding
def _is_inplace_error(error: BaseException) -> bool:
    msg = str(error).lower()
    return any(k in msg for k in _CLEAR) and not any(k in msg for k in _FALSE)


def _line_of(program: Program, error: BaseException) -> int | None:
    """The index of the body statement that raised, if one did."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == _FILENAME]
    if not frames:
        return None
    i = frames[-1].lineno - program.first_line
    return i if 0 <= i < len(program.body) else None


def _describe(program: Program, what: str) -> str:
    return f"{what}\n--- the program (expect: {program.expect}) ---\n{program.source}"


def _leaf_grads(leaves: list) -> list:
    return [np.zeros(x.shape) if x.grad is None else np.array(x.grad.data) for x in leaves]


def _mismatch(program: Program, path: str, grads: list, numeric: list) -> str | None:
    """None when every gradient is within check_grads' float64 tolerances of finite
    differences, else what differs, worst entry first."""
    for (name, values), g, n in zip(program.leaves.items(), grads, numeric):
        n = n[0].reshape(values.shape)
        if g.shape != values.shape:
            return f"{path}: gradient of {name} has shape {g.shape}, not {values.shape}"
        excess = np.abs(g - n) - (1e-5 + 1e-3 * np.abs(n))
        excess = np.where(np.isfinite(excess), excess, np.inf)
        if excess.size and (excess > 0).any():
            k = np.unravel_index(np.argmax(excess), excess.shape)
            return (f"{path}: wrong gradient of {name} (shape {values.shape})\n"
                    f"  worst entry {list(map(int, k))}: analytic {g[k]!r}, numeric {n[k]!r}\n"
                    f"  analytic: {g.tolist()}\n  numeric:  {n.tolist()}")
    return None


def check_program(program: Program, order: int = 2) -> str:
    """Run `program` and decide it; return which way it went, or raise AssertionError
    saying what is wrong, with the program.

    Allowed: a RuntimeError naming an in-place change, a view or a leaf (never "a second
    time" or "freed"), raised by an in-place statement or by backward, as `expect`
    allows; otherwise the gradients of one run through backward() and of one through
    grad(create_graph=True) must match central differences, and check_grads must pass
    to `order` (2: the gradient function, made with create_graph, is checked too).
    """
    fn, leaves = program.build()
    try:
        out = fn(*leaves)
    except RuntimeError as error:
        line = _line_of(program, error)
        if program.expect != SUCCEEDS and _is_inplace_error(error) and (
                line in program.inplace or _SPLIT_READ in program.features):
            return "raised at an in-place op" if line in program.inplace else \
                "raised reading a split piece"
        where = "the result" if line is None else f"body line {line}: {program.body[line]}"
        raise AssertionError(_describe(program, f"unexpected error at {where}: "
                                       f"{type(error).__name__}: {error}")) from error
    if program.expect == REFUSED:
        raise AssertionError(_describe(program, "the in-place op on a leaf that requires "
                                                "grad (or a view of one) was not refused"))
    try:
        out.backward()
    except RuntimeError as error:
        if program.expect in (RAISES, EITHER) and _is_inplace_error(error):
            return "raised in backward"
        raise AssertionError(_describe(program, f"backward() raised {type(error).__name__}: "
                                                f"{error}")) from error
    if program.expect == RAISES:
        raise AssertionError(_describe(program, "backward() ran, but the program reads a "
                                                "saved value changed in place: it must raise"))
    plain = _leaf_grads(leaves)
    fn, leaves = program.build()
    numeric = numerical_jacobian(fn, leaves)
    wrong = _mismatch(program, "backward()", plain, numeric)
    if wrong:
        raise AssertionError(_describe(program, wrong))
    out = fn(*leaves)
    try:
        cg = autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    except RuntimeError as error:
        if program.expect == EITHER and _is_inplace_error(error):
            return "raised in backward under create_graph"
        raise AssertionError(_describe(program, f"grad(create_graph=True) raised "
                                                f"{type(error).__name__}: {error}")) from error
    cg = [np.zeros(x.shape) if g is None else np.array(g.data) for x, g in zip(leaves, cg)]
    wrong = _mismatch(program, "grad(create_graph=True)", cg, numeric)
    if wrong:
        raise AssertionError(_describe(program, wrong))
    try:
        check_grads(fn, *leaves, order=order, full_limit=16)  # the full Jacobian when small
    except GradcheckError as error:
        raise AssertionError(_describe(program, f"check_grads: {error}")) from error
    return "gradients match"

