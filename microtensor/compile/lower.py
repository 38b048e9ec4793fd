"""Buffer forms (lowering): how an instruction's form is written (_Emit), registered
(`_lowers`, filled in by forward.py and vjp.py) and checked (`_lower`: run on the recorded
inputs while recording, kept only if it gives the bits the op's own code gave)."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable

from .. import backend
from ..backend import xp
from .values import _fixed, _flat, _Instr, _same_bits


class _Emit:
    """Writes the lines of one instruction's buffer form: `i(k)` names input k (a VJP's
    are g, out, then the op's args), `o(k)` the buffer of output k, `tmp(shape, dtype)`
    a scratch buffer, `k(obj)` a constant; `quiet()` runs the lines with numpy's
    warnings off, as the op's own code does."""

    def __init__(
        self,
        names: list,
        outs: list,
        alloc: Callable,
        const: Callable,
        stable: Callable,
        local: Callable,
        fixed: tuple,
    ) -> None:
        self.names, self.outs, self.alloc, self.const = names, outs, alloc, const
        self.stable, self.local, self.constants = stable, local, fixed
        self.lines: list = []
        self.silent = False

    def i(self, k: int) -> str:
        return self.names[k]

    def o(self, k: int = 0) -> str:
        return self.outs[k]

    def tmp(self, shape, dtype, fill=None) -> str:
        """A buffer of its own, filled with `fill` once if given."""
        return self.alloc(tuple(shape), xp.dtype(dtype), fill)

    def k(self, obj) -> str:
        return self.const(obj)

    def fixed(self, k: int) -> bool:
        """Whether input k is the same constant on every call (a backward seed)."""
        return self.constants[k]

    def view(self, name: str, fn: Callable) -> str:
        """A name for fn(the array `name` holds): computed once when that array is one
        a replay keeps (a buffer, a parameter), else on each call."""
        arr = self.stable(name)
        if arr is not None:
            return self.const(fn(arr))
        local = self.local()
        self(f"{local} = {self.const(fn)}({name})")
        return local

    def quiet(self) -> None:
        self.silent = True

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def source(self) -> list:
        lines = [_direct(line) for line in self.lines]
        return ["_q = silence()"] + lines + ["restore(_q)"] if self.silent else lines


# numpy functions a replay calls by a name of their own with `out` as a positional
# argument: about 60 ns less per call than `xp.add(a, b, out=o)`
_DIRECT = {
    f"np_{name}": getattr(xp, name)
    for name in (
        "add",
        "subtract",
        "multiply",
        "true_divide",
        "negative",
        "exp",
        "log",
        "sqrt",
        "tanh",
        "abs",
        "square",
        "power",
        "greater",
        "equal",
        "dot",
        "matmul",
    )
}  # not maximum: deprecated
_CALL_OUT = re.compile(r"^xp\.(\w+)\((.*), out=(\w+)\)$")


def _direct(line: str) -> str:
    m = _CALL_OUT.match(line)
    if m is None or f"np_{m.group(1)}" not in _DIRECT:
        return line
    return f"np_{m.group(1)}({m.group(2)}, {m.group(3)})"


_LOWER: dict = {}  # (kind, op) -> fn(e: _Emit, instr, in_arrays, out_arrays) -> bool


def _lowers(kind: str, *ops):
    def register(fn):
        for op in ops or (None,):
            _LOWER[kind, op] = fn
        return fn

    return register


def _lower(instr: _Instr, in_arrs: list, out_arrs: list) -> None:
    """Find the instruction's buffer form, run it on the recorded inputs and keep it if
    it gives the bits the op's own code gave."""
    fn = _LOWER.get((instr.kind, instr.op))
    if fn is None:
        return
    flat = _flat(instr.kind, in_arrs)
    instr.fixed = tuple(_fixed(x) for x in _flat(instr.kind, instr.ins))
    ns = {
        "xp": xp,
        "silence": backend.silence,
        "restore": backend.restore,
        "copyto": xp.copyto,
        **_DIRECT,
    }
    names = []
    for k, a in enumerate(flat):
        names.append(f"_i{k}")
        ns[f"_i{k}"] = a

    def bind(obj) -> str:
        name = f"_k{len(ns)}"
        ns[name] = obj
        return name

    outs: list = [None if o is None else bind(xp.empty_like(o)) for o in out_arrs]
    counter = iter(range(1 << 30))
    e = _Emit(
        names,
        outs,
        lambda shape, dtype, fill: bind(_buffer(shape, dtype, fill)),
        bind,
        ns.get,
        lambda: f"_d{next(counter)}",
        instr.fixed,
    )
    try:
        if not fn(e, instr, flat, out_arrs):
            return
        source = "\n".join(e.source())
        code = _checks.get(source)
        if code is None:
            if len(_checks) > 4096:
                _checks.clear()
            code = _checks[source] = builtins.compile(source, "<mt.compile check>", "exec")
        exec(code, ns)
    except Exception:
        return
    if all(
        o is None or (_same_bits(ns[name], o) and ns[name].strides == o.strides)
        for name, o in zip(outs, out_arrs)
    ):  # a replay's buffer is laid out as the recorded array: what reads it runs as checked
        instr.lower = fn


def _buffer(shape, dtype, fill):
    return xp.empty(shape, dtype) if fill is None else xp.full(shape, fill, dtype)


_checks: dict = {}  # source -> code of buffer forms checked so far (one op, many calls)
