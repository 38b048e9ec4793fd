"""_Tracer: records one eager call of the step as values and instructions (values.py),
from the events record.py hands it: each op applied (run again on bare arrays to check
the bits, and its buffer form tried, lower.py), each in-place write, .grad store and
optimizer step, and each backward, mirrored by the engine's own loop and checked against
the gradients the engine computed."""

from __future__ import annotations

import sys
from heapq import heappop, heappush
from typing import Any

from ..autograd import graph as _graph
from ..autograd.backward import _run as _engine_run
from ..autograd.backward import backward as _engine_backward
from ..autograd.graph import _ArrayNS
from ..backend import ndarray, xp
from ..ops import Op
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .lower import _lower
from .recipes import target_reader
from .record import (
    _FACTORY,
    _ORIGINAL_STEP,
    _ORIGINAL_ZERO_GRAD,
    _TENSOR_INIT,
    _WRAP,
    _data,
    _grad,
    _where,
)
from .values import _Instr, _Lit, _plain_data, _same_bits, _Val

_ARRAYS: Any = _ArrayNS  # the VJPs' namespace on arrays, filled in by the ops


class _Tracer:
    """Records one eager call of the step (see the module docstring)."""

    def __init__(self, flat: list) -> None:
        self.busy = 0
        self.reasons: list = []
        self.vals: dict = {}  # id(array) -> latest _Val of that array
        self.all_vals: list = []
        self.instrs: list = []
        self.flat = flat
        self.arg_of = {id(a): k for k, a in enumerate(flat) if isinstance(a, Tensor)}
        self.inputs = []
        self.value_guards: set = set()
        self.made: set = set()  # ids of arrays made inside the step (mt.tensor, zeros, ...)
        self.made_arrays: list = []  # those arrays, in the order they were made
        self.preps: list = []  # recipes._Prep: class targets computed in the guards
        self.target_reads: dict = {}  # frame of a cross_entropy call -> arguments it read
        self.rng_state = None  # the default generator's state after the draws recorded
        self.new_tensors: set = set()
        self.keep: list = []  # what the ids above refer to, alive while recording
        self.modules: dict = {}
        self.grad_first: dict = {}  # leaf tensor -> its first gradient event in the step
        self.grad_reads: dict = {}  # tensor -> the .grad the step read before any event
        self.pending: dict = {}  # leaf -> value backward() is about to store as its .grad
        self.leaves: dict = {}  # tensors that received a gradient -> target
        self.seq0 = next(_graph._clock)
        self.snapshots: dict = {}  # argument -> its bytes when recorded (function.py)
        for k, a in enumerate(flat):
            arr = _data(a) if isinstance(a, Tensor) else a if isinstance(a, ndarray) else None
            v = None
            if arr is not None:
                v = self.vals.get(id(arr))
                if v is None:
                    v = self._add(_Val("input", arr, k))
            self.inputs.append(v)

    # -- bookkeeping ------------------------------------------------------------------
    def unsupported(self, reason: str) -> None:
        if not self.reasons:
            self.reasons.append(reason)

    def _add(self, v: _Val) -> _Val:
        self.vals[id(v.arr)] = v
        self.all_vals.append(v)
        return v

    def value_of(self, arr, tensor=None) -> _Val:
        """The value an op reads: known, or one from outside the step (a parameter, a
        constant made in the step, a numpy array)."""
        v = self.vals.get(id(arr))
        if v is None:
            made = id(arr) in self.made
            v = self._add(_Val("made" if made else "live", arr))
            if made:
                v.init = arr.copy()
        if (
            tensor is not None
            and v.kind in ("live", "input")
            and id(tensor) not in self.new_tensors
            and self.arg_of.get(id(tensor)) != v.index
            and all(t is not tensor for t in v.tensors)
        ):
            v.tensors.append(tensor)
        return v

    def new(self, arr) -> _Val:
        """The value of an array an instruction made (or one it passed through)."""
        v = self.vals.get(id(arr))
        return v if v is not None else self._add(_Val("op", arr))

    def version(self, v: _Val) -> _Val:
        """A new version of v's array, about to be written in place."""
        root = v.root
        root.written = True
        return self._add(_Val("op", v.arr, root=root))

    def emit(self, kind, op, ins, outs, attrs=None, info=None) -> _Instr:
        instr = _Instr(kind, op, ins, outs, attrs, info)
        for v in outs:
            if v is not None and v.producer is None and v.kind == "op":
                v.producer = instr
        self.instrs.append(instr)
        return instr

    def target(self, t: Tensor):
        """Where a replay finds leaf t: argument k, or the tensor itself."""
        k = self.arg_of.get(id(t))
        return ("arg", k) if k is not None else ("tensor", t)

    def argument_of(self, arr) -> int | None:
        """The argument whose array `arr` is, or views whole in C order (a reshape)."""
        for v in self.inputs:
            if v is None:
                continue
            a = v.arr
            if arr is a:
                return v.index
            if (
                arr.base is not None
                and arr.base is (a if a.base is None else a.base)
                and arr.size == a.size
                and arr.dtype == a.dtype
                and arr.flags.c_contiguous
                and a.flags.c_contiguous
                and arr.ctypes.data == a.ctypes.data
            ):
                return v.index
        return None

    def settle_reads(self) -> None:
        """Guard the values of the arguments that cross_entropy or nll_loss read but
        recipes._picked did not record as a prep."""
        for ks in self.target_reads.values():
            self.value_guards |= ks
        self.target_reads.clear()

    # -- events from the engine and the watched attributes -----------------------------
    def apply(self, op, args, attrs):
        self.busy += 1
        try:
            res = _graph.apply(op, *args, **attrs)
        finally:
            self.busy -= 1
        if not self.reasons:
            self.busy += 1
            try:
                self._record_op(op, args, attrs, res)
            except Exception as e:  # never let recording break the eager call
                self.unsupported(f"could not record {op.name}: {e!r}")
            finally:
                self.busy -= 1
        return res

    def _record_op(self, op, args, attrs, res) -> None:
        ins: list = []
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                arr = _data(a)
                ins.append(self.value_of(arr, a))
            elif isinstance(a, ndarray):
                arr = a
                ins.append(self.value_of(a))
            else:
                arr = a
                ins.append(_Lit(a))
            arrays.append(arr)
        outs = res if op.multi else (res,)
        out_arrs = [_data(t) for t in outs]
        raw = op.forward(*arrays, **attrs)  # what a replay computes: the same bits?
        raws = raw if op.multi else (raw,)
        info = []
        for r, o in zip(raws, out_arrs):
            nd = type(r) is not ndarray
            r = xp.asarray(r)
            cast = None if op.multi or r.dtype == o.dtype else o.dtype
            if not _same_bits(r if cast is None else r.astype(cast), o):
                return self.unsupported(f"{op.name}'s forward gave other bits when run again")
            info.append((nd, cast))
        known = [id(o) in self.vals for o in out_arrs]
        if any(known):  # an op that returned an input unchanged (sum_to to its own shape)
            if not all(known):
                return self.unsupported(f"{op.name} returned one of its inputs")
            return
        instr = self.emit("fwd", op, ins, [self.new(o) for o in out_arrs], attrs, info)
        _lower(instr, arrays, out_arrs)

    def inplace(self, t: Tensor, res: Tensor) -> None:
        if self.reasons:
            return
        if res._node is not None:
            return self.unsupported(
                f"an in-place op on a tensor in the graph (shape {t.shape}) under grad mode"
            )
        tarr, rarr = _data(t), _data(res)
        src = self.vals.get(id(rarr))
        if src is None:
            return self.unsupported("an in-place op whose result was not recorded")
        old = self.value_of(tarr, t)
        base = tarr
        while isinstance(base.base, ndarray):
            base = base.base
        owner = self.vals.get(id(base))
        if owner is not None and owner is not old and owner.root.kind == "made":
            owner.root.written = True  # a view of a constant made in the step: restore it
        self.emit("write", None, [old, src], [self.version(old)])

    def value_read(self, t: Tensor, arr, frame) -> None:
        k = self.arg_of.get(id(t))
        v = self.vals.get(id(arr))
        if k is None and v is not None and v.kind == "input":
            k = v.index
        if k is None:
            k = self.argument_of(arr)  # a reshape of an argument: its values, in its order
        if k is not None:
            reader = target_reader(frame)
            if reader is not None:  # guarded unless recipes._picked records the targets
                self.target_reads.setdefault(reader, set()).add(k)
            else:
                self.value_guards.add(k)  # specialise on the argument's values
            return
        if id(arr) in self.made and (v is None or not v.root.written):
            return  # a constant made inside the step (mt.tensor, mt.zeros...)
        self.unsupported(f"it reads a tensor's values in Python ({_where(frame)})")

    def data_write(self, t: Tensor, value, frame) -> None:
        code = frame.f_code
        if code is _TENSOR_INIT or (code is _WRAP and frame.f_back.f_code is _FACTORY):
            self.made.add(id(value))
            self.made_arrays.append(value)
            self.new_tensors.add(id(t))
            self.keep.append(t)
        elif code is _WRAP:
            self.new_tensors.add(id(t))
            self.keep.append(t)
        else:
            self.unsupported(f"it assigns a tensor's .data ({_where(frame)})")

    def grad_write(self, t: Tensor, value, frame) -> None:
        code = frame.f_code
        if code is _TENSOR_INIT or code is _WRAP or self.reasons:
            return
        if t in self.pending and value is not None:  # backward() storing what _run gave
            target, leaf = self.pending.pop(t)
            gt = self._add(_Val("op", _data(value)))
            self.emit("grad_assign", None, [leaf], [gt], info=target)
        elif value is None:
            self.grad_first.setdefault(t, ("reset",))
            self.emit("grad_none", None, [], [], info=self.target(t))
        else:
            self.unsupported(f"it assigns a tensor's .grad ({_where(frame)})")

    def optimizer_step(self, opt, closure):
        if closure is not None:
            self.unsupported("optimizer.step(closure)")
        ins, outs = [], []
        if not self.reasons:
            for group in opt.param_groups:
                for p in group["params"]:
                    g = _grad(p)
                    if g is not None:
                        ins.append(self.value_of(_data(g)))
                    outs.append(self.version(self.value_of(_data(p), p)))
        self.busy += 1
        try:
            result = _ORIGINAL_STEP(opt, closure)
        finally:
            self.busy -= 1
        if not self.reasons:
            self.emit("step", None, ins, outs, {"groups": self._step_plan(opt)}, opt)
        return result

    def _step_plan(self, opt) -> list | None:
        """How this step went through Optimizer.step (each group's plan: its flat chunks,
        every gradient present and one step count, and its lone parameters), for a
        replay to run the same updates without step()'s checks; None when the optimizer
        steps its own way or took a path a replay should leave to step()."""
        cls = type(opt)
        if any(
            getattr(cls, name) is not getattr(Optimizer, name)
            for name in ("step", "_step_chunk", "_step_one", "_plan")
        ):
            return None
        groups = []
        for i, group in enumerate(opt.param_groups):
            plan = opt._plans[i]
            if plan is None:
                return None
            chunks, singles = [], []
            for chunk in plan.chunks:
                grads = [_grad(p) for p in chunk.params]
                if len({st["step"] for st in chunk.states}) != 1 or any(
                    g is None or id(_data(g)) not in self.vals for g in grads
                ):
                    return None
                chunks.append((chunk, [self.vals[id(_data(g))] for g in grads]))
            for p, st in plan.singles:
                g = _grad(p)
                if g is not None:
                    if id(_data(g)) not in self.vals:
                        return None
                    singles.append((p, st, self.vals[id(_data(g))]))
            options = {k: v for k, v in group.items() if k not in ("params", "lr")}
            if not all(_plain_data(v) for v in options.values()):
                return None
            groups.append(
                {
                    "group": group,
                    "plan": plan,
                    "chunks": chunks,
                    "singles": singles,
                    "reads": opt._update_reads_params(group),
                    "options": options,
                }
            )
        return groups

    def optimizer_zero_grad(self, opt, set_to_none: bool) -> None:
        """Every parameter's .grad reset (to None, or its values to 0): recorded for all
        of them, also those whose .grad is None now, so the recording is final."""
        params = [p for group in opt.param_groups for p in group["params"]]
        before = [_grad(p) for p in params]
        self.busy += 1
        try:
            _ORIGINAL_ZERO_GRAD(opt, set_to_none)
        finally:
            self.busy -= 1
        for p, g in zip(params, before):
            if self.reasons:
                return
            if set_to_none:
                self.grad_first.setdefault(p, ("reset",))
                self.emit("grad_none", None, [], [], info=self.target(p))
            elif g is not None:
                if g.requires_grad:
                    return self.unsupported("zero_grad of a .grad that requires grad")
                old = self.value_of(_data(g))
                self.emit("fill", None, [old], [self.version(old)], {"value": 0})

    # -- backward ----------------------------------------------------------------------
    def backward(self, roots, seeds, retain_graph, create_graph, capture):
        mirror = None
        if capture is not None:
            self.unsupported("autograd.grad")
        elif create_graph:
            self.unsupported("backward(create_graph=True)")
        elif not self.reasons:
            try:
                mirror = self._mirror(roots, seeds)
            except Exception as e:
                self.unsupported(f"could not record backward: {e!r}")
        self.busy += 1
        try:
            leaf_grads = _engine_run(roots, seeds, retain_graph, create_graph, capture)
        finally:
            self.busy -= 1
        if mirror is not None and not self.reasons:
            self._settle(mirror, leaf_grads)
        return leaf_grads

    def _mirror(self, roots, seeds):
        """The engine's backward loop (backward._run) on bare arrays, recording each VJP,
        reduction, cast and sum as an instruction. Returns {leaf: (value, array)}."""
        # the frame of autograd.backward(): _mirror <- backward <- _Hooks.backward <- _run
        caller = sys._getframe(4)
        given = (
            caller.f_locals.get("grad_tensors")
            if caller.f_code is _engine_backward.__code__
            else None
        )
        if given is None or len(given) != len(roots):
            return self.unsupported("backward called other than through autograd.backward")
        grads: dict = {}
        leaves: dict = {}
        heap: list = []
        for t, s, gradient in zip(roots, seeds, given):
            if not t.requires_grad:
                return None  # the engine raises
            seed = self._seed(s, gradient)
            if seed is None:
                return None
            self._accumulate(grads, leaves, heap, t, t._node, t._oi, seed, s)
        while heap:
            node = heappop(heap)[1]
            g = grads.pop(node)
            op = node.op
            if node.args is None:
                return None  # freed: the engine raises
            if node.seq < self.seq0:
                return self.unsupported("backward through a graph made before the step")
            if not (isinstance(op, type) and issubclass(op, Op)):
                return self.unsupported(f"backward through autograd.Function {op.name}")
            if node.extra is not None and set(node.extra) - {"dirty"}:
                return self.unsupported("a hook or retain_grad on a tensor of the step")
            if node.n_out is None:
                gval, garr = g
            else:
                gval = [None if x is None else x[0] for x in g]
                garr = [None if x is None else x[1] for x in g]
            out = node.out
            if out is not None and id(out) not in self.vals:
                return self.unsupported(f"{op.name}'s saved output was not recorded")
            vjp = op.vjp
            in_grads = vjp(_ArrayNS, garr, out, node.arrays, node.needs, **node.attrs)
            ins = [
                gval,
                None if out is None else self.vals.get(id(out)),
                [self.value_of(a) if isinstance(a, ndarray) else _Lit(a) for a in node.arrays],
            ]
            outs = [
                None if gi is None or not need else self.new(gi)
                for gi, need in zip(in_grads, node.needs)
            ]
            instr = self.emit("vjp", op, ins, outs, node.attrs, tuple(node.needs))
            _lower(
                instr,
                [garr, out, list(node.arrays)],
                [
                    None if v is None or v.producer is not instr else gi
                    for gi, v in zip(in_grads, outs)
                ],
            )
            for a, need, gi, gv in zip(node.args, node.needs, in_grads, outs):
                if not need or gi is None:
                    continue
                data = _data(a)
                if gi.shape != data.shape:
                    gi2 = _ArrayNS.sum_to(gi, data.shape)
                    gv = self._op_val("sum_to", [gv], gi2, [gi], shape=data.shape)
                    gi = gi2
                if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                    gi2 = _ARRAYS.cast(gi, data.dtype)
                    gv = self._op_val("cast", [gv], gi2, [gi], dtype=data.dtype)
                    gi = gi2
                if a._alias is not None and a._alias.past is not None:
                    return self.unsupported("backward through a tensor changed in place")
                self._accumulate(grads, leaves, heap, a, a._node, a._oi, gv, gi)
        return leaves

    def _seed(self, s, gradient):
        """The value backward starts from: ones (no gradient given, a constant), or a copy
        of the gradient given, in the output's dtype (backward._seed)."""
        if gradient is None or not isinstance(gradient, (Tensor, ndarray)):
            return self._add(_Val("const", s))
        if isinstance(gradient, Tensor):
            if gradient.requires_grad:
                return self.unsupported("a backward gradient that requires grad")
            src = self.value_of(_data(gradient), gradient)
        else:
            src = self.value_of(gradient)
        return self._op_val("seed", [src], s, [src.arr], dtype=s.dtype)

    def _op_val(self, kind, ins, arr, in_arrs, **attrs) -> _Val:
        v = self.new(arr)
        instr = self.emit(kind, None, ins, [v], attrs)
        _lower(instr, in_arrs, [arr])
        return v

    def _accumulate(self, grads, leaves, heap, t, node, oi, gv, g) -> None:
        """backward._accumulate, keeping each gradient's value beside its array."""
        if node is None:
            prev = leaves.get(t)
            leaves[t] = (gv, g) if prev is None else self._sum(prev, gv, g)
        elif node.n_out is None:
            prev = grads.get(node)
            if prev is None:
                grads[node] = (gv, g)
                heappush(heap, (-node.seq, node))
            else:
                grads[node] = self._sum(prev, gv, g)
        else:
            slot = grads.get(node)
            if slot is None:
                slot = grads[node] = [None] * node.n_out
                heappush(heap, (-node.seq, node))
            slot[oi] = (gv, g) if slot[oi] is None else self._sum(slot[oi], gv, g)

    def _sum(self, prev, gv, g):
        total = prev[1] + g
        return self._op_val("add", [prev[0], gv], total, [prev[1], g]), total

    def _settle(self, mirror: dict, leaf_grads: dict) -> None:
        """Check the recorded backward against the engine's, then note how backward()
        stores each gradient: set (seen as it happens) or added into the .grad there."""
        if (
            len(mirror) != len(leaf_grads)
            or any(a is not b for a, b in zip(mirror, leaf_grads))
            or not all(_same_bits(mirror[t][1], leaf_grads[t]) for t in mirror)
        ):
            return self.unsupported(
                "the recorded backward differs from the engine's (a bug in microtensor.compile)"
            )
        for t, (gv, _) in mirror.items():
            if t._hooks:
                return self.unsupported("a hook on a leaf tensor")
            target = self.target(t)
            self.leaves[t] = target
            current = _grad(t)
            if current is None:
                self.grad_first.setdefault(t, ("assign",))
                self.pending[t] = (target, gv)
            elif current.requires_grad:
                return self.unsupported("a .grad that requires grad (create_graph)")
            else:
                self.grad_first.setdefault(t, ("add", current))
                old = self.value_of(_data(current), current)
                self.emit("grad_add", None, [gv, old], [self.version(old)], info=target)
