"""_Program: the replay of one recording, written as one Python function: the guards,
then each instruction by its buffer form (lower.py) or its op's own code, and the
optimizer's update on its own state."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable

from .. import backend
from ..autograd import graph as _graph
from ..autograd.grad_mode import _grad_on
from ..autograd.graph import _ArrayNS
from ..backend import ndarray, xp
from ..random import default_generator
from ..tensor import Tensor, _wrap, get_default_dtype
from .lower import _DIRECT, _buffer, _Emit
from .passes import _drop_overwritten_resets, _fold, _last_uses, _own_leaf, _parts, _reads_grad_only
from .recipes import dropout_mask
from .record import _data
from .tracer import _Tracer
from .values import _arr_of, _flat, _Instr, _plain_data, _Val, _values
from .vjp import _IN_PLACE


class _Program:
    """The replay of one recording: a generated function that checks the guards, runs
    the instructions and returns the step's output arrays (or _MISS, or _EAGER)."""

    def __init__(self, tr: _Tracer, result, name: str) -> None:
        self.ns: dict = {
            "MISS": _MISS,
            "EAGER": _EAGER,
            "xp": xp,
            "B": _ArrayNS,
            "silence": backend.silence,
            "restore": backend.restore,
            "grad_on": _grad_on,
            "default_dtype": get_default_dtype,
            "asarray": xp.asarray,
            "copyto": xp.copyto,
            "default_generator": default_generator,
            **_DIRECT,
        }
        self.count = 0
        self.bound: dict = {}
        self.tr = tr
        self.spec, out_vals = self._outputs(result)
        self.out_vals = out_vals
        self.dynamic = {id(prep.index) for prep in tr.preps}  # attributes a replay computes
        instrs = _drop_overwritten_resets(self._live(_fold(tr.instrs, self.dynamic), out_vals))
        self.guard: list = []
        self.body: list = []
        self._guards(tr)
        self._names(instrs)
        for v in tr.all_vals:
            if v is v.root and v.kind == "made" and v.written:
                self.body.append(f"copyto({v.name}, {self._k(v.init)})")
        for ins in instrs:
            self._emit(ins)
        outs = ", ".join(v.name for v in out_vals)
        lock = threading.Lock()
        self.ns["lock"], self.ns["unlock"] = lock.acquire, lock.release
        parts, body = _parts(self.guard, self.body)
        for part in parts:  # compiled one by one: the compiler's memory grows with a source
            exec(builtins.compile("\n".join(part), f"<mt.compile {name}>", "exec"), self.ns)
        lines = ["def replay(args):"] + [f"    {x}" for x in self.guard]
        lines += ["    if not lock(False):", "        return EAGER", "    try:"]
        lines += [f"        {x}" for x in body]
        lines += [
            f"        return ({outs}{',' if len(out_vals) == 1 else ''})",
            "    finally:",
            "        unlock()",
        ]
        self.code = "\n".join([*(line for part in parts for line in part), *lines]) + "\n"
        exec(builtins.compile("\n".join(lines), f"<mt.compile {name}>", "exec"), self.ns)
        self.run = self.ns["replay"]
        del self.tr  # the recording is no longer needed

    def _k(self, obj, prefix: str = "c") -> str:
        """A name in the replay's namespace bound to obj (one name per object)."""
        name = self.bound.get((id(obj), prefix))
        if name is None:
            self.count += 1
            name = self.bound[id(obj), prefix] = f"{prefix}{self.count}"
            self.ns[name] = obj
        return name

    def _local(self) -> str:
        self.count += 1
        return f"d{self.count}"

    def _stable(self, name: str | None):
        """The array a name always refers to, if it is one (not a local or an argument)."""
        arr = self.ns.get(name)
        return arr if isinstance(arr, ndarray) else None

    def _outputs(self, result):
        """The structure of fn's result, each tensor replaced by the index of its value."""
        vals: list = []

        def walk(x):
            if isinstance(x, Tensor):
                vals.append(self.tr.value_of(_data(x)))
                return ("tensor", len(vals) - 1)
            if isinstance(x, (tuple, list)):
                return (type(x), [walk(y) for y in x])
            if isinstance(x, dict):
                return (dict, [(k, walk(y)) for k, y in x.items()])
            if isinstance(x, ndarray):
                raise _Unreplayable("it returns a numpy array (return a tensor instead)")
            return ("const", x)

        return walk(result), vals

    def _live(self, instrs: list, out_vals: list) -> list:
        """The instructions the outputs and the side effects need, in order."""
        needed = {id(v) for v in out_vals}
        keep = []
        for ins in reversed(instrs):
            effect = ins.kind in (
                "grad_none",
                "grad_assign",
                "grad_add",
                "step",
                "write",
                "fill",
                "draw",  # kept: a replay draws what eager mode draws, in its order
            )
            if effect or any(
                v is not None and v.producer is ins and id(v) in needed for v in ins.outs
            ):
                keep.append(ins)
                for v in _values(ins.ins):
                    needed.add(id(v))
                    needed.add(id(v.root))
        return keep[::-1]

    def _names(self, instrs: list) -> None:
        """Give each value the name a replay finds it by: a{k} for argument k, a bound
        constant for arrays from outside, a buffer for an op's output that has a buffer
        form, a local variable otherwise; a version has its first version's name. A
        gradient stored as a .grad is the buffer its last instruction writes when it is
        one, so the store is no copy."""
        stores: dict = {}
        for ins in instrs:
            if ins.kind == "grad_assign":
                stores[id(ins.ins[0])] = stores.get(id(ins.ins[0]), 0) + 1
        flat_views = self._flat_grads(instrs, stores)
        last = _last_uses(instrs, self.out_vals)
        for v in self.tr.all_vals:
            if v is not v.root:
                continue
            if v.kind == "input":
                v.name = f"a{v.index}"
            elif v.kind not in ("op", "derived"):  # a derived value is named by its prep
                v.name = self._k(v.arr)
        for i, ins in enumerate(instrs):
            for v in ins.outs:
                if v is None or v.producer is not ins:
                    continue
                if v is not v.root:
                    continue
                if ins.kind == "grad_assign":
                    leaf = ins.ins[0]
                    own = (
                        leaf is leaf.root
                        and leaf.producer is not None
                        and leaf.producer.lower is not None
                        and stores[id(leaf)] == 1
                    )
                    ins.attrs["copy"] = not own
                    tensor = _wrap(self.ns[leaf.name] if own else xp.empty_like(v.arr))
                    ins.attrs["tensor"] = self._k(tensor, "G")
                    v.name = leaf.name if own else self._k(_data(tensor), "g")
                elif ins.kind == "draw":
                    v.name = self._k(xp.empty_like(v.arr), "b")
                elif ins.lower is not None:
                    v.name = self._shared(ins, v, last, i) if id(v) not in flat_views else None
                    v.name = v.name or self._k(
                        flat_views.get(id(v)) if id(v) in flat_views else xp.empty_like(v.arr), "b"
                    )
                else:
                    self.count += 1
                    v.name = f"v{self.count}"
        for v in self.tr.all_vals:
            if v is not v.root:
                v.name = v.root.name

    def _shared(self, ins: _Instr, v: _Val, last: dict, i: int) -> str | None:
        """The buffer of an input the instruction may write its output over (_IN_PLACE):
        one nothing reads after it, of the output's shape, dtype and strides."""
        made = [x for x in ins.outs if x is not None and x.producer is ins]
        if len(made) != 1:
            return None
        flat = _flat(ins.kind, ins.ins)
        for out, k in _IN_PLACE.get((ins.kind, ins.op), ()):
            x = flat[k] if k < len(flat) else None
            if (
                ins.outs[out] is v
                and isinstance(x, _Val)
                and x is x.root
                and x.kind == "op"
                and not x.written
                and last.get(id(x)) == i
                and x.producer is not None
                and x.producer.lower is not None
                and x.arr.shape == v.arr.shape
                and x.arr.dtype == v.arr.dtype
                and x.arr.strides == v.arr.strides
            ):
                buffer = self._stable(x.name)
                if buffer is not None and buffer.base is None:
                    return x.name
        return None

    def _flat_grads(self, instrs: list, stores: dict) -> dict:
        """For each optimizer chunk whose gradients are all computed here into buffers of
        their own: one flat array, each gradient's buffer a view of it in the chunk's
        order, so the step copies them in with one call. {id(value): view}."""
        views: dict = {}
        self.flat_grads: dict = {}
        for ins in instrs:
            if ins.kind != "step" or not ins.attrs["groups"]:
                continue
            for entry in ins.attrs["groups"]:
                for chunk, grads in entry["chunks"]:
                    leaves = [_own_leaf(g, stores) for g in grads]
                    if (
                        any(v is None or id(v) in views for v in leaves)
                        or len({id(v) for v in leaves}) < len(leaves)
                        or len({v.arr.dtype for v in leaves}) != 1
                    ):
                        continue
                    flat = xp.empty(sum(v.arr.size for v in leaves), leaves[0].arr.dtype)
                    at = 0
                    for v in leaves:
                        views[id(v)] = flat[at : at + v.arr.size].reshape(v.arr.shape)
                        at += v.arr.size
                    self.flat_grads[id(chunk)] = self._k(flat, "f")
        return views

    # -- guards -------------------------------------------------------------------------
    def _guards(self, tr: _Tracer) -> None:
        g = self.guard
        g.append(f"if len(args) != {len(tr.flat)}: return MISS")
        for k, a in enumerate(tr.flat):
            if isinstance(a, (Tensor, ndarray)):
                arr = _data(a) if isinstance(a, Tensor) else a
                g.append(f"A{k} = args[{k}]")
                g.append(f"if A{k}.__class__ is not {self._k(type(a))}: return MISS")
                g.append(f"a{k} = A{k}._data" if isinstance(a, Tensor) else f"a{k} = A{k}")
                cond = (
                    f"a{k}.shape != {arr.shape!r} or a{k}.strides != {arr.strides!r} "
                    f"or a{k}.dtype is not {self._k(arr.dtype)}"
                )
                if isinstance(a, Tensor):
                    cond += f" or A{k}.requires_grad is not {a.requires_grad}"
                g.append(f"if {cond}: return MISS")
                if k in tr.value_guards or not isinstance(a, Tensor):
                    g.append(f"if a{k}.tobytes() != {self._k(tr.snapshots[k])}: return MISS")
                first = tr.inputs[k]
                if first is not None and first.index != k:
                    g.append(f"if a{k} is not a{first.index}: return MISS")
            elif _plain_data(a):
                g.append(
                    f"if args[{k}].__class__ is not {self._k(type(a))} or "
                    f"args[{k}] != {self._k(a)}: return MISS"
                )
            else:
                g.append(f"if args[{k}] is not {self._k(a)}: return MISS")
        for n, prep in enumerate(tr.preps):  # recipes.class_targets of an argument
            g.append(f"P{n} = {self._k(prep.fn)}(a{prep.arg}.reshape(-1))")
            g.append(f"if P{n} is None: return MISS")
            g.append(f"I{n}, W{n}, S{n} = P{n}")
            g.append(f"if S{n} != {self._k(prep.total)}: return MISS")
            self.bound[id(prep.index), "c"] = f"I{n}"
            prep.weights.name = f"W{n}"
        g.append(f"if grad_on() is not {_grad_on()}: return MISS")
        g.append(f"if default_dtype() is not {self._k(get_default_dtype())}: return MISS")
        for v in tr.all_vals:
            for t in v.tensors:
                name = self._k(t, "T")
                arr = f"a{v.index}" if v.kind == "input" else self._k(v.arr)
                g.append(
                    f"if {name}._data is not {arr} or {name}.requires_grad is not "
                    f"{t.requires_grad}: return MISS"
                )
        for t, first in tr.grad_first.items():
            target = self._target(tr.target(t))
            if first[0] == "assign":
                g.append(f"if {target}.grad is not None: return MISS")
            elif first[0] == "add":
                g.append(f"if {target}.grad is not {self._k(first[1], 'T')}: return MISS")
        for t, grad in tr.grad_reads.items():
            g.append(
                f"if {self._target(tr.target(t))}.grad is not "
                f"{'None' if grad is None else self._k(grad, 'T')}: return MISS"
            )
        for target in tr.leaves.values():
            g.append(f"if {self._target(target)}._hooks: return MISS")
        for m in tr.modules.values():
            name = self._k(m, "M")
            g.append(f"if {name}.training is not {m.training}: return MISS")
            for attr, value in vars(m).items():
                if isinstance(value, Tensor) and attr.isidentifier():
                    g.append(f"if {name}.{attr} is not {self._k(value, 'T')}: return MISS")

    def _target(self, target) -> str:
        kind, t = target
        return f"A{t}" if kind == "arg" else self._k(t, "T")

    # -- instructions -------------------------------------------------------------------
    def _emit(self, ins: _Instr) -> None:
        b = self.body
        kind = ins.kind
        if ins.lower is not None:
            vals = _flat(kind, ins.ins)
            names = [self._ref(x) for x in vals]
            arrs = [_arr_of(x) for x in vals]
            e = _Emit(
                names,
                [None if v is None or v.producer is not ins else v.name for v in ins.outs],
                lambda shape, dtype, fill: self._k(_buffer(shape, dtype, fill), "s"),
                self._k,
                self._stable,
                self._local,
                ins.fixed,
            )
            ins.lower(
                e,
                ins,
                arrs,
                [None if v is None or v.producer is not ins else v.arr for v in ins.outs],
            )
            b.extend(e.source())
        elif kind == "fwd":
            self._fwd(ins)
        elif kind == "vjp":
            self._vjp(ins)
        elif kind == "sum_to":
            b.append(f"{ins.outs[0].name} = B.sum_to({ins.ins[0].name}, {ins.attrs['shape']!r})")
        elif kind == "cast":
            b.append(
                f"{ins.outs[0].name} = B.cast({ins.ins[0].name}, {self._k(ins.attrs['dtype'])})"
            )
        elif kind == "seed":
            b.append(
                f"{ins.outs[0].name} = xp.array({ins.ins[0].name}, "
                f"dtype={self._k(ins.attrs['dtype'])})"
            )
        elif kind == "add":
            b.append(f"{ins.outs[0].name} = {ins.ins[0].name} + {ins.ins[1].name}")
        elif kind == "write":
            b.append(f"copyto({ins.ins[0].name}, {ins.ins[1].name})")
        elif kind == "fill":
            b.append(f"{ins.ins[0].name}.fill({ins.attrs['value']!r})")
        elif kind == "grad_none":
            b.append(f"{self._target(ins.info)}.grad = None")
        elif kind == "grad_assign":
            if ins.attrs["copy"]:
                b.append(f"copyto({ins.outs[0].name}, {ins.ins[0].name})")
            b.append(f"{self._target(ins.info)}.grad = {ins.attrs['tensor']}")
        elif kind == "grad_add":
            b.append(f"np_add({ins.ins[1].name}, {ins.ins[0].name}, {ins.ins[1].name})")
        elif kind == "step":
            self._step(ins)
        elif kind == "draw":
            k, a = self._k, ins.attrs
            draws, keep = a["buffers"]
            b.append(
                f"{k(dropout_mask)}(default_generator(), {k(a['p'])}, {k(a['factor'])}, "
                f"{k(draws)}, {k(keep)}, {ins.outs[0].name})"
            )

    def _step(self, ins: _Instr) -> None:
        """The optimizer's step: Optimizer._step_chunk and _step_one as the recording
        went (the optimizer's own _update on its own state), guarded by the plan they
        used; or step() itself."""
        opt, groups = ins.info, ins.attrs["groups"]
        b, g, k = self.body, self.guard, self._k
        name = k(opt, "O")
        if groups is None:
            b.append(f"{name}.step()")
            return
        update, bump = k(opt._update), k(_graph.bump_version)
        read_only = all(_reads_grad_only(opt, entry["group"]) for entry in groups)
        g.append(f"if len({name}.param_groups) != {len(groups)}: return MISS")
        for i, entry in enumerate(groups):
            group, plan = k(entry["group"]), entry["plan"]
            g.append(
                f"if {name}.param_groups[{i}] is not {group} or "
                f"{name}._plans[{i}] is not {k(plan)}: return MISS"
            )
            for key, value in entry["options"].items():
                g.append(f"if {group}[{key!r}] != {k(value)}: return MISS")
            for p, st in zip(plan.params, plan.states):
                g.append(f"if {name}.state.get({k(p, 'T')}) is not {k(st)}: return MISS")
            for chunk, grads in entry["chunks"]:
                states = [k(st) for st in chunk.states]
                steps = " == ".join(f"{st}['step']" for st in states)
                g.append(f"if not ({steps}): return MISS")
                flat = self.flat_grads.get(id(chunk))
                gflat = flat if flat is not None and read_only else k(chunk.g)
                if flat is not None and not read_only:
                    b.append(f"copyto({gflat}, {flat})")
                elif flat is None:
                    for gv, grad in zip(chunk.gviews, grads):
                        b.append(f"copyto({k(gv)}, {grad.name})")
                params = [k(_data(p)) for p in chunk.params]
                if entry["reads"]:
                    for pv, p in zip(chunk.pviews, params):
                        b.append(f"copyto({k(pv)}, {p})")
                b.append(f"step = {states[0]}['step'] + 1")
                b.append(
                    f"{update}({group}, {k(chunk.p) if entry['reads'] else None}, "
                    f"{gflat}, {k(chunk.tmp)}, {k(chunk.st)}, step)"
                )
                if entry["reads"]:
                    b.append(f"np_subtract({k(chunk.p)}, {k(chunk.tmp)}, {k(chunk.p)})")
                for p, pv, tv, st in zip(params, chunk.pviews, chunk.tviews, states):
                    b.append(
                        f"copyto({p}, {k(pv)})"
                        if entry["reads"]
                        else f"np_subtract({p}, {k(tv)}, {p})"
                    )
                    b.append(f"{st}['step'] = step")
                b.append(f"{bump}({', '.join(k(p, 'T') for p in chunk.params)})")
            for p, st, grad in entry["singles"]:
                data, st = _data(p), k(st)
                tmp, arr = k(xp.empty_like(data)), k(data)
                b.append(f"step = {st}['step'] = {st}['step'] + 1")
                gcopy = grad.name
                if not (read_only and grad.arr.dtype == data.dtype):
                    gcopy = k(xp.empty_like(data))
                    b.append(f"copyto({gcopy}, {grad.name})")
                b.append(f"{update}({group}, {arr}, {gcopy}, {tmp}, {st}, step)")
                b.append(f"np_subtract({arr}, {tmp}, {arr})")
                b.append(f"{bump}({k(p, 'T')})")

    def _ref(self, x) -> str:
        """How the replay's code refers to an input (a value, a literal, a list, None)."""
        if x is None:
            return "None"
        if isinstance(x, _Val):
            assert x.name is not None  # every value is named before any is referred to
            return x.name
        if isinstance(x, list):
            return "[" + ", ".join(self._ref(y) for y in x) + "]"
        return self._k(x.value)

    def _kwargs(self, attrs: dict) -> str:
        return "".join(f", {k}={self._k(v)}" for k, v in attrs.items())

    def _baked(self, ins: _Instr, run: Callable) -> bool:
        """Whether the instruction's outputs are views of arrays a replay keeps (a reshape
        of a parameter or of a buffer): then they are made once, here, and bound. Only an
        op whose recorded outputs were views of its recorded inputs is run here: the
        buffers hold no values yet, and arithmetic on their garbage would warn (a
        signaling NaN in it) or cost time for nothing."""
        if any(id(a) in self.dynamic for a in ins.attrs.values()):
            return False
        flat = _flat(ins.kind, ins.ins) if ins.kind == "vjp" else ins.ins
        arrays, recorded = [], []
        for x in _values(flat):
            arr = self._stable(x.name)
            if arr is None:
                return False
            arrays.append(arr)
            recorded.append(x.arr)
        made = [v for v in ins.outs if v is not None and v.producer is ins]
        if (
            not made
            or any(v.root.written for v in made)
            or not all(any(xp.may_share_memory(v.arr, a) for a in recorded) for v in made)
        ):
            return False
        try:
            results = run(
                lambda x: (
                    self._stable(x.name)
                    if isinstance(x, _Val)
                    else [None if y is None else self._stable(y.name) for y in x]
                    if isinstance(x, list)
                    else None
                    if x is None
                    else x.value
                )
            )
        except Exception:
            return False
        results = [r for r, v in zip(results, ins.outs) if v is not None and v.producer is ins]
        if not all(
            isinstance(r, ndarray) and any(xp.may_share_memory(r, a) for a in arrays)
            for r in results
        ):
            return False
        for v, r in zip(made, results):
            v.name = self._k(r, "w")
        return True

    def _fwd(self, ins: _Instr) -> None:
        if ins.info == [(False, None)] * len(ins.outs) and self._baked(
            ins,
            lambda get: _as_tuple(
                ins.op.forward(*[get(x) for x in ins.ins], **ins.attrs), ins.op.multi
            ),
        ):
            return
        call = (
            f"{self._k(ins.op.forward, 'F')}({', '.join(self._ref(x) for x in ins.ins)}"
            f"{self._kwargs(ins.attrs)})"
        )
        if ins.op.multi:
            names = ", ".join(v.name for v in ins.outs)
            self.body.append(f"{names}{',' if len(ins.outs) == 1 else ''} = {call}")
            return
        ((nd, cast),) = ins.info
        if nd:
            call = f"asarray({call})"
        if cast is not None:
            call = f"{call}.astype({self._k(cast)})"
        self.body.append(f"{ins.outs[0].name} = {call}")

    def _vjp(self, ins: _Instr) -> None:
        g, out, args = ins.ins
        if self._baked(
            ins,
            lambda get: ins.op.vjp(
                _ArrayNS, get(g), get(out), [get(x) for x in args], ins.info, **ins.attrs
            ),
        ):
            return
        call = (
            f"{self._k(ins.op.vjp, 'V')}(B, {self._ref(g)}, {self._ref(out)}, "
            f"({', '.join(self._ref(x) for x in args)}{',' if len(args) == 1 else ''}), "
            f"{ins.info!r}{self._kwargs(ins.attrs)})"
        )
        names = ["_" if v is None or v.producer is not ins else v.name for v in ins.outs]
        self.body.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {call}")


def _as_tuple(result, multi: bool) -> tuple:
    return tuple(result) if multi else (result,)


class _Unreplayable(Exception):
    pass


_MISS, _EAGER = object(), object()
