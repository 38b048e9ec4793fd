"""What a recording is made of: the values of the step (_Val), the constants an op is
handed (_Lit) and the instructions of the replay (_Instr), with the small questions the
tracer, the buffer forms and the program all ask of them (which inputs are constants,
which are values, are two arrays the same bits)."""

from __future__ import annotations

from ..backend import xp


class _Val:
    """One value of the step: an array and where a replay finds it. `kind` is "input"
    (argument `index`), "live" (an array from outside the step, read where it lies each
    call), "made" (made inside the step by mt.tensor, mt.zeros...: a constant), "const"
    (a backward seed), "derived" (computed from an argument in the guards: recipes.py)
    or "op" (computed by an instruction). An in-place write makes a new version of its
    array: a value whose `root` is the first."""

    __slots__ = ("kind", "arr", "index", "tensors", "root", "name", "init", "written", "producer")

    def __init__(self, kind: str, arr, index: int = -1, root=None) -> None:
        self.kind, self.arr, self.index = kind, arr, index
        self.tensors: list = []
        self.root = self if root is None else root
        self.name: str | None = None  # how a replay refers to it (_Program._names)
        self.init = None
        self.written = False
        self.producer = None


class _Lit:
    """A constant argument of an op (a Python number, None, a dtype)."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value


class _Instr:
    """One step of the replay. kind: "fwd" (an op's forward), "vjp", "sum_to", "cast",
    "add" (the backward's reductions, casts and sums), "seed" (a backward gradient given),
    "write" (an in-place op), "fill", "grad_none", "grad_assign", "grad_add" (.grad reset,
    set, added into), "step", "draw" (dropout's mask: recipes.py)."""

    __slots__ = ("kind", "op", "ins", "outs", "attrs", "info", "lower", "fixed")

    def __init__(self, kind, op, ins, outs, attrs=None, info=None) -> None:
        self.kind, self.op, self.ins, self.outs = kind, op, ins, outs
        self.attrs = attrs or {}
        self.info = info
        self.lower = None  # a checked buffer form (see _LOWER), else the op's own code
        self.fixed: tuple = ()  # which inputs were constants when the form was checked


def _same_bits(a, b) -> bool:
    a, b = xp.asarray(a), xp.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    size = a.dtype.itemsize
    if a.dtype.kind in "biuf" and size in (1, 2, 4, 8):  # as unsigned ints: no copy made
        bits = xp.dtype(f"u{size}")
        return bool(xp.equal(a.view(bits), b.view(bits)).all())
    return a.tobytes() == b.tobytes()


def _flat(kind: str, ins: list) -> list:
    """An instruction's inputs in one list (a VJP's are g, out, then the op's args)."""
    return [ins[0], ins[1], *ins[2]] if kind == "vjp" else list(ins)


def _fixed(x) -> bool:
    """Whether an input never changes from call to call: a literal, a backward seed, a
    constant made in the step and never written, or one folded from those."""
    if isinstance(x, _Val):
        return x.root.kind == "const" or (x.root.kind == "made" and not x.root.written)
    if isinstance(x, list):
        return all(_fixed(y) for y in x)
    return True


def _plain_data(a) -> bool:
    """A number, string, None, or a tuple of them: guarded by value (==)."""
    if isinstance(a, tuple):
        return all(_plain_data(x) for x in a)
    return isinstance(a, (bool, int, float, complex, str, bytes, type(None)))


def _values(ins):
    """The _Vals among an instruction's inputs (a VJP's g may be a list)."""
    for x in ins:
        if isinstance(x, _Val):
            yield x
        elif isinstance(x, list):
            yield from (y for y in x if isinstance(y, _Val))


def _arr_of(x):
    if x is None:
        return None
    if isinstance(x, list):
        return [_arr_of(y) for y in x]
    return x.value if isinstance(x, _Lit) else x.arr
