"""`mt.compile(fn)`: record a training step (or a forward pass) once, replay it as flat numpy.

Recording. The first call runs `fn` eagerly while a recorder watches: the engine hands it
every op applied, in any grad mode (`autograd.graph.tracer`, checked by apply, apply1 and
apply2), every in-place write (views.apply_inplace) and every backward (backward._run);
for the time of the call `Tensor.data` and `Tensor.grad` become properties that note
reads and writes, and `Optimizer.step`, `Optimizer.zero_grad` and module calls are
noted too. A backward is recorded by running the engine's own loop beside it (the same
VJPs in the same order, the same sums in the same order) and is checked bit for bit
against the gradients the engine computed.

Replay. From the record, one Python function is written (`compiled.code`) that checks the
guards below and then runs each op by its own `forward` and each VJP by its own `vjp` on
bare arrays; the hot ones (linear and matmul, arithmetic, activations, the softmax
family, mse, max pooling and unfold) by a buffer form: the same numpy calls in the same
order, each writing with `out=` into a buffer allocated once (`x @ W + b` into the
product's buffer, sigmoid and its derivative in place). A buffer form is run beside the
op's own code while recording and kept only if it gave the same bits, so a replay equals
eager mode bit for bit. Views of kept arrays are made once; gradients are computed into
the tensors handed to `.grad` (reused from call to call: copy `p.grad` to keep one
step's); the optimizer's update runs its own `_update` on its own state, as its flat
path does. No Tensor or Node is made per call but the fresh tensors returned.

Guards: a call replays a recording only if all of these are as they were when it was
recorded, and records again otherwise (up to CACHE_LIMIT recordings, then it runs
eagerly):
  - each argument: a tensor's class, shape, dtype, strides and requires_grad; a numpy
    array's shape, dtype, strides and values; a number, string or tuple of them by
    value (==); anything else by identity; which arguments share one array;
  - grad mode and the default dtype (anomaly mode on runs eagerly);
  - each tensor the step reads besides its arguments (parameters, buffers): the same
    array object (`p.data is` the recorded one) and the same requires_grad;
  - each .grad the step reads, or stores without resetting it first: None as recorded
    (it will be set), or the same tensor (it will be added into); no hook on a leaf that
    gets a gradient;
  - `training` of every module called, and each tensor it holds as an attribute;
  - for an optimizer stepped: its parameter groups and plan (parameters, state), each
    group's options but the learning rate (read live, so schedulers work), and equal
    step counts in each flat chunk;
  - the values of an argument whose values the step reads in Python (cross_entropy
    reads its class targets to pick their entries: a new batch records again).
Fallbacks: `fn` runs eagerly, with a CompileWarning saying why, when a recording cannot be
replayed faithfully: it reads a tensor's values in Python (`.item()`, `bool()`,
`float()`, `.numpy()`, `.tolist()`, printing, `.data` used for more than its shape), so a
branch or a number may depend on them; it draws random numbers (dropout in training
mode, mt.rand, numpy.random); it assigns a tensor's `.data` or a tensor to a `.grad`; it
leaves grad mode changed; it uses hooks or retain_grad, create_graph, autograd.grad, an
autograd.Function, an in-place op on a tensor of the graph, or backward through a graph
made before the call; it returns a numpy array. Several backward calls, `retain_graph`
and explicit backward gradients are replayed. What no recorder sees is baked in, as with
jax.jit: other Python state the step reads (a global, a scheduler stepped inside it)
keeps its recorded value, and its Python side effects (prints, appends) happen on the
recording call only.
"""
from __future__ import annotations

import builtins
import dis
import functools
import linecache
import math
import os
import re
import sys
import threading
import warnings
from contextlib import nullcontext
from heapq import heappop, heappush
from typing import Callable

from . import backend, ops as O
from .autograd import graph as _graph
from .autograd.backward import _run as _engine_run, backward as _engine_backward
from .autograd.grad_mode import _anomaly_mode, _grad_on
from .autograd.graph import _ArrayNS
from .backend import ndarray, xp
from .nn import module as _module
from .ops import Op
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop
from .optim.optimizer import Optimizer
from . import random as _random
from .random import default_generator
from .tensor import Tensor, _wrap, get_default_dtype

__all__ = ["compile", "CompiledFunction", "CompileWarning"]

CACHE_LIMIT = 8  # recordings per compiled function (torch.compile's cache_size_limit)


class CompileWarning(UserWarning):
    """mt.compile ran a step eagerly; the message says why."""


# ------------------------------------------------------------------------------ recording
_DATA, _GRAD = Tensor.__dict__["data"], Tensor.__dict__["grad"]  # the slots themselves
_data, _grad = _DATA.__get__, _GRAD.__get__
_local = threading.local()  # this thread's recorder, while it records
_install_lock = threading.Lock()
_installed = {"count": 0}
_ENGINE_DIR = os.path.dirname(_graph.__file__)
_THIS_FILE = __file__
_METADATA = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides",
                       "flags"})
_metadata_reads: dict = {}


def _metadata_only(frame) -> bool:
    """Whether the `.data` just read by `frame` is used only for its shape or dtype: the
    next instruction loads one of those attributes (`x.data.shape`)."""
    key = (frame.f_code, frame.f_lasti)
    hit = _metadata_reads.get(key)
    if hit is None:
        instructions = list(dis.get_instructions(frame.f_code))
        hit = False
        for i, ins in enumerate(instructions[:-1]):
            if ins.offset == frame.f_lasti:
                nxt = instructions[i + 1]
                hit = nxt.opname in ("LOAD_ATTR", "LOAD_METHOD") and nxt.argval in _METADATA
                break
        _metadata_reads[key] = hit
    return hit


_PACKAGE_DIR = os.path.dirname(__file__)


def _where(frame) -> str:
    """Where a read happened: the user's line, and the microtensor function it went
    through (`item`, `nll_loss`) when there is one."""
    inner = None
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        inner = inner or frame.f_code.co_name
        frame = frame.f_back
    if frame is None:
        return inner or "?"
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    user = f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}"
    return user if inner is None else f"in {inner}, from {user}"


def _data_get(t):
    arr = _data(t)
    tr = getattr(_local, "tracer", None)
    if tr is not None and not tr.busy and not tr.reasons:
        frame = sys._getframe(1)
        file = frame.f_code.co_filename
        if not (file == _THIS_FILE or os.path.dirname(file) == _ENGINE_DIR
                or frame.f_code is _DETACH or _metadata_only(frame)):
            tr.value_read(t, arr, frame)
    return arr


def _data_set(t, value) -> None:
    _DATA.__set__(t, value)
    tr = getattr(_local, "tracer", None)
    if tr is not None and not tr.busy:
        frame = sys._getframe(1)
        if os.path.dirname(frame.f_code.co_filename) != _ENGINE_DIR:  # t.grad.data += g
            tr.data_write(t, value, frame)


def _grad_get(t):
    value = _grad(t)
    tr = getattr(_local, "tracer", None)
    if tr is not None and not tr.busy and t not in tr.grad_first:
        tr.grad_reads.setdefault(t, value)
    return value


def _grad_set(t, value) -> None:
    tr = getattr(_local, "tracer", None)
    if tr is not None and not tr.busy:
        tr.grad_write(t, value, sys._getframe(1))
    _GRAD.__set__(t, value)


_ORIGINAL_STEP, _ORIGINAL_ZERO_GRAD = Optimizer.step, Optimizer.zero_grad


def _step(opt, closure=None):
    tr = getattr(_local, "tracer", None)
    if tr is None or tr.busy:
        return _ORIGINAL_STEP(opt, closure)
    return tr.optimizer_step(opt, closure)


def _zero_grad(opt, set_to_none: bool = True) -> None:
    tr = getattr(_local, "tracer", None)
    if tr is None or tr.busy:
        return _ORIGINAL_ZERO_GRAD(opt, set_to_none)
    return tr.optimizer_zero_grad(opt, set_to_none)


class _CallHook:
    """module._call_hook while recording: notes each module called, for its `training`."""

    def __init__(self, previous) -> None:
        self.previous = previous

    def __call__(self, module, args, kwargs):
        tr = getattr(_local, "tracer", None)
        if tr is not None:
            tr.modules[id(module)] = module
        return self.previous(module, args, kwargs) if self.previous else nullcontext()


class _Hooks:
    """autograd.graph.tracer while some thread records: hands the engine's events to
    that thread's recorder; other threads' ops run as usual."""

    def wants(self) -> bool:
        tr = getattr(_local, "tracer", None)
        return tr is not None and not tr.busy

    def apply(self, op, args, attrs):
        return _local.tracer.apply(op, args, attrs)

    def backward(self, roots, seeds, retain_graph, create_graph, capture):
        return _local.tracer.backward(roots, seeds, retain_graph, create_graph, capture)

    def inplace(self, t, res) -> None:
        tr = getattr(_local, "tracer", None)
        if tr is not None and not tr.busy:
            tr.inplace(t, res)


_HOOKS = _Hooks()


class _recording:
    """Attach `tracer` to this thread; while any thread records, the engine reports to
    _HOOKS and Tensor.data/.grad, Optimizer.step and Module calls are watched."""

    def __init__(self, tracer) -> None:
        self.tracer = tracer

    def __enter__(self) -> None:
        with _install_lock:
            if not _installed["count"]:
                _graph.tracer = _HOOKS
                Tensor.data = property(_data_get, _data_set)
                Tensor.grad = property(_grad_get, _grad_set)
                Optimizer.step, Optimizer.zero_grad = _step, _zero_grad
                _installed["call_hook"] = _module._call_hook
                _module._call_hook = _CallHook(_module._call_hook)
            _installed["count"] += 1
        _local.tracer = self.tracer

    def __exit__(self, *exc) -> None:
        _local.tracer = None
        with _install_lock:
            _installed["count"] -= 1
            if not _installed["count"]:
                _module._call_hook = _installed.pop("call_hook")
                Optimizer.step, Optimizer.zero_grad = _ORIGINAL_STEP, _ORIGINAL_ZERO_GRAD
                Tensor.grad = _GRAD
                Tensor.data = _DATA
                _graph.tracer = None


class _Val:
    """One value of the step: an array and where a replay finds it. `kind` is "input"
    (argument `index`), "live" (an array from outside the step, read where it lies each
    call), "made" (made inside the step by mt.tensor, mt.zeros...: a constant), "const"
    (a backward seed) or "op" (computed by an instruction). An in-place write makes a
    new version of its array: a value whose `root` is the first."""

    __slots__ = ("kind", "arr", "index", "tensors", "root", "name", "init", "written",
                 "producer")

    def __init__(self, kind: str, arr, index: int = -1, root=None) -> None:
        self.kind, self.arr, self.index = kind, arr, index
        self.tensors: list = []
        self.root = self if root is None else root
        self.name = None
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
    "write" (an in-place op), "fill",
    "grad_none", "grad_assign", "grad_add" (.grad reset, set, added into), "step"."""

    __slots__ = ("kind", "op", "ins", "outs", "attrs", "info", "lower", "fixed")

    def __init__(self, kind, op, ins, outs, attrs=None, info=None) -> None:
        self.kind, self.op, self.ins, self.outs = kind, op, ins, outs
        self.attrs = attrs or {}
        self.info = info
        self.lower = None  # a checked buffer form (see _LOWER), else the op's own code
        self.fixed = ()  # which inputs were constants when the form was checked


def _same_bits(a, b) -> bool:
    a, b = xp.asarray(a), xp.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


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
        self.new_tensors: set = set()
        self.keep: list = []  # what the ids above refer to, alive while recording
        self.modules: dict = {}
        self.grad_first: dict = {}  # leaf tensor -> its first gradient event in the step
        self.grad_reads: dict = {}  # tensor -> the .grad the step read before any event
        self.pending: dict = {}  # leaf -> value backward() is about to store as its .grad
        self.leaves: dict = {}  # tensors that received a gradient -> target
        self.seq0 = next(_graph._clock)
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
        if (tensor is not None and v.kind in ("live", "input") and id(tensor) not in
                self.new_tensors and self.arg_of.get(id(tensor)) != v.index
                and all(t is not tensor for t in v.tensors)):
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
        ins, arrays = [], []
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
            return self.unsupported(f"an in-place op on a tensor in the graph (shape "
                                    f"{t.shape}) under grad mode")
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
        if k is not None:
            self.value_guards.add(k)  # specialise on the argument's values
            return
        if id(arr) in self.made and (v is None or not v.root.written):
            return  # a constant made inside the step (mt.tensor, mt.zeros...)
        self.unsupported(f"it reads a tensor's values in Python ({_where(frame)})")

    def data_write(self, t: Tensor, value, frame) -> None:
        code = frame.f_code
        if code is _TENSOR_INIT or (code is _WRAP and frame.f_back.f_code is _FACTORY):
            self.made.add(id(value))
            self.keep.append(value)
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
        if any(getattr(cls, name) is not getattr(Optimizer, name)
               for name in ("step", "_step_chunk", "_step_one", "_plan")):
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
                        g is None or id(_data(g)) not in self.vals for g in grads):
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
            groups.append({"group": group, "plan": plan, "chunks": chunks, "singles": singles,
                           "reads": opt._update_reads_params(group), "options": options})
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
        given = caller.f_locals.get("grad_tensors") if \
            caller.f_code is _engine_backward.__code__ else None
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
            in_grads = op.vjp(_ArrayNS, garr, out, node.arrays, node.needs, **node.attrs)
            ins = [gval, None if out is None else self.vals.get(id(out)),
                   [self.value_of(a) if isinstance(a, ndarray) else _Lit(a)
                    for a in node.arrays]]
            outs = [None if gi is None or not need else self.new(gi)
                    for gi, need in zip(in_grads, node.needs)]
            instr = self.emit("vjp", op, ins, outs, node.attrs, tuple(node.needs))
            _lower(instr, [garr, out, list(node.arrays)],
                   [None if v is None or v.producer is not instr else gi
                    for gi, v in zip(in_grads, outs)])
            for a, need, gi, gv in zip(node.args, node.needs, in_grads, outs):
                if not need or gi is None:
                    continue
                data = _data(a)
                if gi.shape != data.shape:
                    gi2 = _ArrayNS.sum_to(gi, data.shape)
                    gv = self._op_val("sum_to", [gv], gi2, [gi], shape=data.shape)
                    gi = gi2
                if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                    gi2 = _ArrayNS.cast(gi, data.dtype)
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
        if len(mirror) != len(leaf_grads) or any(
                a is not b for a, b in zip(mirror, leaf_grads)) or not all(
                _same_bits(mirror[t][1], leaf_grads[t]) for t in mirror):
            return self.unsupported("the recorded backward differs from the engine's (a "
                                    "bug in microtensor.compile)")
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


# --------------------------------------------------------------- buffer forms (lowering)
class _Emit:
    """Writes the lines of one instruction's buffer form: `i(k)` names input k (a VJP's
    are g, out, then the op's args), `o(k)` the buffer of output k, `tmp(shape, dtype)`
    a scratch buffer, `k(obj)` a constant; `quiet()` runs the lines with numpy's
    warnings off, as the op's own code does."""

    def __init__(self, names: list, outs: list, alloc: Callable, const: Callable,
                 stable: Callable, local: Callable, fixed: tuple) -> None:
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
_DIRECT = {f"np_{name}": getattr(xp, name) for name in (
    "add", "subtract", "multiply", "true_divide", "negative", "exp", "log", "sqrt", "tanh",
    "abs", "square", "power", "greater", "equal", "dot", "matmul")}  # not maximum: deprecated
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
    ns = {"xp": xp, "silence": backend.silence, "restore": backend.restore,
          "copyto": xp.copyto, **_DIRECT}
    names = []
    for k, a in enumerate(flat):
        names.append(f"_i{k}")
        ns[f"_i{k}"] = a

    def bind(obj) -> str:
        name = f"_k{len(ns)}"
        ns[name] = obj
        return name

    outs = [None if o is None else bind(xp.empty_like(o)) for o in out_arrs]
    counter = iter(range(1 << 30))
    e = _Emit(names, outs, lambda shape, dtype, fill: bind(_buffer(shape, dtype, fill)), bind,
              ns.get, lambda: f"_d{next(counter)}", instr.fixed)
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
    if all(o is None or _same_bits(ns[name], o) for name, o in zip(outs, out_arrs)):
        instr.lower = fn


def _buffer(shape, dtype, fill):
    return xp.empty(shape, dtype) if fill is None else xp.full(shape, fill, dtype)


_checks: dict = {}  # source -> code of buffer forms checked so far (one op, many calls)


def _flat(kind: str, ins: list) -> list:
    """An instruction's inputs in one list (a VJP's are g, out, then the op's args)."""
    return [ins[0], ins[1], *ins[2]] if kind == "vjp" else list(ins)


# The buffer forms of the hot ops: the same numpy calls, in the same order, as the op's
# forward or VJP (and the engine's sum_to, cast and sum), each result written with out=
# into a buffer the replay keeps. A form is used only where _lower saw it give the op's
# own bits on the recorded values.
def _plain(instr: _Instr, outs: list) -> bool:
    """A forward whose result needs no dtype promotion after it, one array out."""
    return not instr.op.multi and instr.info[0][1] is None and isinstance(outs[0], ndarray)


_BINARY = {O.Add: "add", O.Sub: "subtract", O.Mul: "multiply", O.Maximum: "maximum",
           O.Minimum: "minimum"}
_UNARY = {O.Neg: ("negative", False), O.Exp: ("exp", True), O.Log: ("log", True),
          O.Sqrt: ("sqrt", True), O.Tanh: ("tanh", False), O.Abs: ("abs", False)}


@_lowers("fwd", *_BINARY)
def _binary(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.{_BINARY[instr.op]}({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Div)
def _div(e: _Emit, instr, ins, outs) -> bool:
    b = ins[1]
    if not ((type(b) is float or type(b) is int) and b):
        e.quiet()
    e(f"xp.true_divide({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Pow)
def _pow(e: _Emit, instr, ins, outs) -> bool:
    if ins[1] == 2 and type(ins[1]) is int:
        e(f"xp.square({e.i(0)}, out={e.o()})")
    else:
        e.quiet()
        e(f"xp.power({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", *_UNARY)
def _unary(e: _Emit, instr, ins, outs) -> bool:
    name, quiet = _UNARY[instr.op]
    if quiet:
        e.quiet()
    e(f"xp.{name}({e.i(0)}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Relu)
def _relu(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.maximum({e.i(0)}, 0, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Sigmoid)
def _sigmoid(e: _Emit, instr, ins, outs) -> bool:
    """ops._sigmoid: (tanh(a / 2) + 1) / 2, in the output buffer."""
    o = e.o()
    e(f"xp.multiply({e.i(0)}, 0.5, out={o})")
    e(f"xp.tanh({o}, out={o})")
    e(f"xp.add({o}, 1, out={o})")
    e(f"xp.multiply({o}, 0.5, out={o})")
    return _plain(instr, outs)


@_lowers("fwd", O.MatMul)
def _matmul(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.matmul({e.i(0)}, {e.i(1)}, out={e.o()})")
    return _plain(instr, outs) and outs[0].ndim >= 2


@_lowers("fwd", O.Linear)
def _linear(e: _Emit, instr, ins, outs) -> bool:
    """x @ weight.T into the GEMM's output buffer, the bias added there."""
    e(f"xp.dot({e.i(0)}, {e.view(e.i(1), _transpose)}, out={e.o()})")
    if ins[2] is not None:
        e(f"xp.add({e.o()}, {e.i(2)}, out={e.o()})")
    return _plain(instr, outs)


def _transpose(a):
    return a.swapaxes(-1, -2)


@_lowers("fwd", O.Sum)
def _sum(e: _Emit, instr, ins, outs) -> bool:
    dim, keepdim = instr.attrs["dim"], instr.attrs["keepdim"]
    e(f"{e.i(0)}.sum(axis={dim!r}, keepdims={keepdim!r}, out={e.o()})")
    return _plain(instr, outs)


@_lowers("fwd", O.Mean)
def _mean(e: _Emit, instr, ins, outs) -> bool:
    a, dim, keepdim = ins[0], instr.attrs["dim"], instr.attrs["keepdim"]
    n = a.size if dim is None else math.prod(a.shape[d] for d in dim)
    e(f"{e.i(0)}.sum(axis={dim!r}, keepdims={keepdim!r}, out={e.o()})")
    e(f"xp.true_divide({e.o()}, {n}, out={e.o()})")
    return _plain(instr, outs) and n > 0


@_lowers("fwd", O.MseLoss)
def _mse(e: _Emit, instr, ins, outs) -> bool:
    a, t = ins
    reduction = instr.attrs["reduction"]
    if reduction == "none":
        e(f"xp.subtract({e.i(0)}, {e.i(1)}, out={e.o()})")
        e(f"xp.multiply({e.o()}, {e.o()}, out={e.o()})")
        return _plain(instr, outs)
    d = e.tmp(xp.broadcast_shapes(a.shape, t.shape), xp.result_type(a, t))
    flat = e.view(d, _flatten)
    e(f"xp.subtract({e.i(0)}, {e.i(1)}, out={d})")
    total = f"xp.dot({flat}, {flat})"
    e(f"{e.o()}[()] = {total}" if reduction == "sum" else f"{e.o()}[()] = {total} / {a.size}")
    return _plain(instr, outs) and a.size > 0


def _flatten(a):
    return a.reshape(-1)


def _reshaper(shape):
    def reshape(a):
        return a.reshape(shape)
    return reshape


def _kept(shape, dims) -> tuple:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


@_lowers("fwd", O.LogSoftmax, O.Softmax)
def _softmax(e: _Emit, instr, ins, outs) -> bool:
    a, dim, o = ins[0], instr.attrs["dim"], e.o()
    m = e.tmp(_kept(a.shape, (dim,)), a.dtype)
    total = e.tmp(_kept(a.shape, (dim,)), a.dtype)
    e.quiet()
    e(f"{e.i(0)}.max(axis={dim}, keepdims=True, initial=-xp.inf, out={m})")
    e(f"xp.subtract({e.i(0)}, {m}, out={o})")
    if instr.op is O.Softmax:
        e(f"xp.exp({o}, out={o})")
        e(f"{o}.sum(axis={dim}, keepdims=True, out={total})")
        e(f"xp.true_divide({o}, {total}, out={o})")
    else:
        t = e.tmp(a.shape, a.dtype)
        e(f"xp.exp({o}, out={t})")
        e(f"{t}.sum(axis={dim}, keepdims=True, out={total})")
        e(f"xp.log({total}, out={total})")
        e(f"xp.subtract({o}, {total}, out={o})")
    return _plain(instr, outs)


def _window_args(instr: _Instr) -> tuple:
    a = instr.attrs
    return a["kernel"], a["stride"], a["padding"], a["dilation"]


@_lowers("fwd", O.Unfold)
def _unfold(e: _Emit, instr, ins, outs) -> bool:
    """im2col: one copy of the strided windows into the output buffer."""
    kernel, stride, padding, dilation = _window_args(instr)
    n, c = ins[0].shape[:2]
    src = _padded(e, e.i(0), ins[0], padding, 0.0)
    windows = e.view(src, functools.partial(backend.windows, kernel=kernel, stride=stride,
                                            padding=(0, 0), dilation=dilation))
    out_hw = backend.windows(ins[0], kernel, stride, padding, dilation).shape[4:]
    shape = (n, c, *kernel, *out_hw)
    e(f"copyto({e.view(e.o(), _reshaper(shape))}, {windows})")
    return _plain(instr, outs)


def _padded(e: _Emit, name: str, a, padding, fill) -> str:
    """`name`'s array, or a copy of it inside a border of `fill` kept from call to call."""
    if not (padding[0] or padding[1]):
        return name
    n, c, h, w = a.shape
    buf = e.tmp((n, c, h + 2 * padding[0], w + 2 * padding[1]), a.dtype, fill)
    e(f"{e.view(buf, _interior(padding, h, w))}[...] = {name}")
    return buf


def _interior(padding, h, w):
    def view(a):
        return a[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]
    return view


@_lowers("fwd", O.MaxPool2d)
def _max_pool(e: _Emit, instr, ins, outs) -> bool:
    """The elementwise maximum of the window's strided views, in the output buffer."""
    kernel, stride, padding, dilation = _window_args(instr)
    src = _padded(e, e.i(0), ins[0], padding, -xp.inf)
    windows = e.view(src, functools.partial(backend.windows, kernel=kernel, stride=stride,
                                            padding=(0, 0), dilation=dilation))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            view = e.view(windows, _offset(i, j))
            e(f"copyto({e.o()}, {view})" if not (i or j) else
              f"xp.maximum({e.o()}, {view}, out={e.o()})")
    return _plain(instr, outs)


def _offset(i: int, j: int):
    def view(w):
        return w[:, :, i, j]
    return view


# -- VJPs: inputs are g, out, then the op's arguments; outputs one per argument -----------
@_lowers("vjp", O.Linear)
def _linear_vjp(e: _Emit, instr, ins, outs) -> bool:
    x = ins[2]
    if outs[0] is not None:
        e(f"xp.dot({e.i(0)}, {e.i(3)}, out={e.o(0)})")
    if outs[1] is not None:
        if x.ndim != 2:
            return False
        e(f"xp.dot({e.view(e.i(0), _transpose)}, {e.i(2)}, out={e.o(1)})")
    return True


@_lowers("vjp", O.MatMul)
def _matmul_vjp(e: _Emit, instr, ins, outs) -> bool:
    a, b = ins[2], ins[3]
    if a.ndim < 2 or b.ndim < 2:
        return False
    if outs[0] is not None:
        e(f"xp.matmul({e.i(0)}, {e.view(e.i(3), _transpose)}, out={e.o(0)})")
    if outs[1] is not None:
        e(f"xp.matmul({e.view(e.i(2), _transpose)}, {e.i(0)}, out={e.o(1)})")
    return True


@_lowers("vjp", O.Sigmoid)
def _sigmoid_vjp(e: _Emit, instr, ins, outs) -> bool:
    """g * out * (1 - out), in the gradient's buffer."""
    out, o = ins[1], e.o(0)
    t = e.tmp(out.shape, out.dtype)
    e(f"xp.multiply({e.i(0)}, {e.i(1)}, out={o})")
    e(f"xp.subtract(1, {e.i(1)}, out={t})")
    e(f"xp.multiply({o}, {t}, out={o})")
    return True


@_lowers("vjp", O.Tanh)
def _tanh_vjp(e: _Emit, instr, ins, outs) -> bool:
    out = ins[1]
    t = e.tmp(out.shape, out.dtype)
    e(f"xp.multiply({e.i(1)}, {e.i(1)}, out={t})")
    e(f"xp.subtract(1, {t}, out={t})")
    e(f"xp.multiply({e.i(0)}, {t}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Relu)
def _relu_vjp(e: _Emit, instr, ins, outs) -> bool:
    """g * (out > 0), the mask a bool buffer."""
    mask = e.tmp(ins[1].shape, bool)
    e(f"xp.greater({e.i(1)}, 0, out={mask})")
    e(f"xp.multiply({e.i(0)}, {mask}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Exp)
def _exp_vjp(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.multiply({e.i(0)}, {e.i(1)}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Neg, O.Sub)
def _negate_vjp(e: _Emit, instr, ins, outs) -> bool:
    k = len(outs) - 1  # Neg's only gradient, Sub's second
    if outs[k] is not None:
        e(f"xp.negative({e.i(0)}, out={e.o(k)})")
    return k == 1 or outs[0] is not None


@_lowers("vjp", O.Mul)
def _mul_vjp(e: _Emit, instr, ins, outs) -> bool:
    if outs[0] is not None:
        e(f"xp.multiply({e.i(0)}, {e.i(3)}, out={e.o(0)})")
    if outs[1] is not None:
        e(f"xp.multiply({e.i(0)}, {e.i(2)}, out={e.o(1)})")
    return True


@_lowers("vjp", O.Div)
def _div_vjp(e: _Emit, instr, ins, outs) -> bool:
    g, b = ins[0], ins[3]
    ga = e.o(0) if outs[0] is not None else e.tmp(
        xp.broadcast_shapes(xp.shape(g), xp.shape(b)), xp.result_type(g, b))
    e.quiet()
    e(f"xp.true_divide({e.i(0)}, {e.i(3)}, out={ga})")
    if outs[1] is not None:
        o = e.o(1)
        e(f"xp.negative({ga}, out={o})")
        e(f"xp.multiply({o}, {e.i(2)}, out={o})")
        e(f"xp.true_divide({o}, {e.i(3)}, out={o})")
    return True


@_lowers("vjp", O.MseLoss)
def _mse_vjp(e: _Emit, instr, ins, outs) -> bool:
    a, t = ins[2], ins[3]
    n = math.prod(xp.broadcast_shapes(a.shape, t.shape))
    scale = 2 / n if instr.attrs["reduction"] == "mean" and n else 2
    if outs[0] is None:
        return False
    gd = e.o(0)
    g = ins[0]
    e(f"xp.subtract({e.i(2)}, {e.i(3)}, out={gd})")
    if not (e.fixed(0) and isinstance(g, ndarray) and g.ndim == 0 and g == 1 and
            g.dtype == outs[0].dtype):  # times a seed of exactly 1: the same bits
        e(f"xp.multiply({e.i(0)}, {gd}, out={gd})")
    e(f"xp.multiply({gd}, {e.k(scale)}, out={gd})")
    if outs[1] is not None:
        e(f"xp.negative({gd}, out={e.o(1)})")
    return True


def _unreduced(e: _Emit, g: str, garr, shape, dim, keepdim) -> str:
    """ops.reductions._unreduce: g with the reduced dims put back as size-1 dims."""
    if keepdim or dim is None:
        return g
    return e.view(g, _reshaper(_kept(shape, dim)))


@_lowers("vjp", O.Sum)
def _sum_vjp(e: _Emit, instr, ins, outs) -> bool:
    a, dim, keepdim = ins[2], instr.attrs["dim"], instr.attrs["keepdim"]
    e(f"{e.o(0)}[...] = {_unreduced(e, e.i(0), ins[0], a.shape, dim, keepdim)}")
    return True


@_lowers("vjp", O.Mean)
def _mean_vjp(e: _Emit, instr, ins, outs) -> bool:
    g, a, dim, keepdim = ins[0], ins[2], instr.attrs["dim"], instr.attrs["keepdim"]
    n = a.size if dim is None else math.prod(a.shape[d] for d in dim)
    src = _unreduced(e, e.i(0), g, a.shape, dim, keepdim)
    shape = xp.shape(g) if keepdim or dim is None else _kept(a.shape, dim)
    q = e.tmp(shape, xp.result_type(g, 1.0) if not isinstance(g, ndarray) else g.dtype)
    e(f"xp.true_divide({src}, {n}, out={q})")
    e(f"{e.o(0)}[...] = {q}")
    return n > 0


@_lowers("vjp", O.LogSoftmax)
def _log_softmax_vjp(e: _Emit, instr, ins, outs) -> bool:
    """g - exp(out) * sum(g) along dim."""
    g, out, dim = ins[0], ins[1], instr.attrs["dim"]
    t = e.tmp(out.shape, out.dtype)
    total = e.tmp(_kept(g.shape, (dim,)), g.dtype)
    e.quiet()
    e(f"xp.exp({e.i(1)}, out={t})")
    e(f"{e.i(0)}.sum(axis={(dim,)!r}, keepdims=True, out={total})")
    e(f"xp.multiply({t}, {total}, out={t})")
    e(f"xp.subtract({e.i(0)}, {t}, out={e.o(0)})")
    return True


@_lowers("vjp", O.Softmax)
def _softmax_vjp(e: _Emit, instr, ins, outs) -> bool:
    """out * (g - sum(g * out) along dim)."""
    g, out, dim = ins[0], ins[1], instr.attrs["dim"]
    t = e.tmp(xp.broadcast_shapes(g.shape, out.shape), xp.result_type(g, out))
    total = e.tmp(_kept(g.shape, (dim,)), xp.result_type(g, out))
    e(f"xp.multiply({e.i(0)}, {e.i(1)}, out={t})")
    e(f"{t}.sum(axis={(dim,)!r}, keepdims=True, out={total})")
    e(f"xp.subtract({e.i(0)}, {total}, out={t})")
    e(f"xp.multiply({e.i(1)}, {t}, out={e.o(0)})")
    return True


@_lowers("vjp", O.GetItem)
def _getitem_vjp(e: _Emit, instr, ins, outs) -> bool:
    """backend.index_add: zeros with g added (or, for slices, set) at the index."""
    index = instr.attrs["index"]
    if type(index) is backend.TwoStepIndex:
        return False
    e(f"{e.o(0)}.fill(0)")
    if backend._is_basic(index):
        e(f"{e.o(0)}[{e.k(index)}] = {e.i(0)}")
    else:
        e(f"xp.add.at({e.o(0)}, {e.k(index)}, {e.i(0)})")
    return True


@_lowers("vjp", O.Unfold)
def _unfold_vjp(e: _Emit, instr, ins, outs) -> bool:
    """backend.col2im: zeros, and each kernel offset's columns added at their places."""
    kernel, stride, padding, dilation = _window_args(instr)
    g, a = ins[0], ins[2]
    n, c, h, w = a.shape
    oh, ow = backend.windows(a, kernel, stride, padding, dilation).shape[4:]
    full = e.o(0) if not (padding[0] or padding[1]) else e.tmp(
        (n, c, h + 2 * padding[0], w + 2 * padding[1]), g.dtype)
    cols = e.view(e.i(0), _reshaper((n, c, *kernel, oh, ow)))
    e(f"{full}.fill(0)")
    for k, (i, j) in enumerate(_offsets(kernel)):
        dst = e.view(full, _offset_view(k, kernel, stride, dilation, (oh, ow)))
        e(f"xp.add({dst}, {e.view(cols, _offset(i, j))}, out={dst})")
    if full != e.o(0):
        e(f"copyto({e.o(0)}, {e.view(full, _interior(padding, h, w))})")
    return True


def _offsets(kernel):
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _offset_view(k: int, kernel, stride, dilation, out_hw):
    def view(a):
        return list(backend._offset_views(a, kernel, stride, dilation, out_hw))[k][2]
    return view


@_lowers("vjp", O.MaxPool2d)
def _max_pool_vjp(e: _Emit, instr, ins, outs) -> bool:
    """backend.pool_hits and unpool: where each window holds its maximum, the count of
    such places, and g shared among them, into zeros."""
    kernel, stride, padding, dilation = _window_args(instr)
    g, m = ins[0], ins[1]
    if padding[0] or padding[1]:
        return False
    windows = e.view(e.i(2), functools.partial(
        backend.windows, kernel=kernel, stride=stride, padding=(0, 0), dilation=dilation,
        fill=-xp.inf))
    hits = []
    for i, j in _offsets(kernel):
        hit = e.tmp(m.shape, bool)
        e(f"xp.equal({e.view(windows, _offset(i, j))}, {e.i(1)}, out={hit})")
        hits.append(hit)
    count = e.tmp(m.shape, m.dtype)
    e(f"copyto({count}, {hits[0]}, casting='unsafe')")
    for hit in hits[1:]:
        e(f"xp.add({count}, {hit}, out={count})")
    share = e.tmp(g.shape, xp.result_type(g, m))
    e.quiet()
    e(f"xp.true_divide({e.i(0)}, {count}, out={share})")
    o = e.o(0)
    overlap = any(s < (k - 1) * d + 1 for k, s, d in zip(kernel, stride, dilation))
    e(f"{o}.fill(0)")
    for k, hit in enumerate(hits):
        dst = e.view(o, _offset_view(k, kernel, stride, dilation, m.shape[2:]))
        if overlap:
            t = e.tmp(m.shape, xp.result_type(g, m))
            e(f"xp.multiply({share}, {hit}, out={t})")
            e(f"xp.add({dst}, {t}, out={dst})")
        else:
            e(f"xp.multiply({share}, {hit}, out={dst})")
    return True


# Buffer forms that may write their output (index 0 here, `k` for a VJP's) over one of
# their inputs (flat index) once nothing reads that input after them: each line of the form
# reads the input elementwise before (or as) it writes the same element.
_IN_PLACE: dict = {
    **{("fwd", op): [(0, 0), (0, 1)] for op in (*_BINARY, O.Div)},
    **{("fwd", op): [(0, 0)] for op in (*_UNARY, O.Pow, O.Relu, O.Sigmoid, O.Softmax,
                                        O.LogSoftmax)},
    **{("vjp", op): [(0, 0)] for op in (O.Sigmoid, O.Tanh, O.Relu, O.Exp, O.Neg,
                                         O.LogSoftmax, O.Softmax)},
    ("vjp", O.Sub): [(1, 0)], ("vjp", O.Mul): [(0, 0), (1, 0)],
    ("vjp", O.MseLoss): [(0, 2)], ("add", None): [(0, 0), (0, 1)],
}


# -- the engine's own steps between VJPs ---------------------------------------------------
@_lowers("sum_to")
def _sum_to(e: _Emit, instr, ins, outs) -> bool:
    """backend.sum_to into a buffer: the bias case as one BLAS call, else one sum."""
    a, shape = ins[0], instr.attrs["shape"]
    lead = a.ndim - len(shape)
    if lead == 1 and a.shape[1:] == shape:
        if a.ndim == 2 and a.dtype in (xp.dtype(xp.float32), xp.dtype(xp.float64)):
            e(f"xp.dot({e.k(xp.ones(a.shape[0], a.dtype))}, {e.i(0)}, out={e.o(0)})")
        else:
            e(f"xp.add.reduce({e.i(0)}, axis=0, out={e.o(0)})")
        return True
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and a.shape[i + lead] != 1)
    kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    e(f"{e.i(0)}.sum(axis={axes!r}, keepdims=True, "
      f"out={e.view(e.o(0), _reshaper(kept))})")
    return bool(axes)


@_lowers("cast")
def _cast(e: _Emit, instr, ins, outs) -> bool:
    e(f"copyto({e.o(0)}, {e.i(0)}, casting='unsafe')")
    return True


@_lowers("add")
def _add(e: _Emit, instr, ins, outs) -> bool:
    e(f"xp.add({e.i(0)}, {e.i(1)}, out={e.o(0)})")
    return True


# ------------------------------------------------------------------------------ the program
class _Program:
    """The replay of one recording: a generated function that checks the guards, runs
    the instructions and returns the step's output arrays (or _MISS, or _EAGER)."""

    def __init__(self, tr: _Tracer, result, name: str) -> None:
        self.ns: dict = {"MISS": _MISS, "EAGER": _EAGER, "xp": xp, "B": _ArrayNS,
                         "silence": backend.silence, "restore": backend.restore,
                         "grad_on": _grad_on, "default_dtype": get_default_dtype,
                         "asarray": xp.asarray, "copyto": xp.copyto, **_DIRECT}
        self.count = 0
        self.bound: dict = {}
        self.tr = tr
        self.spec, out_vals = self._outputs(result)
        self.out_vals = out_vals
        instrs = _drop_overwritten_resets(self._live(_fold(tr.instrs), out_vals))
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
        lines += [f"        return ({outs}{',' if len(out_vals) == 1 else ''})",
                  "    finally:", "        unlock()"]
        self.code = "\n".join([*(line for part in parts for line in part), *lines]) + "\n"
        exec(builtins.compile("\n".join(lines), f"<mt.compile {name}>", "exec"), self.ns)
        self.run = self.ns["replay"]
        self.tr = None  # the recording is no longer needed

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

    def _stable(self, name: str):
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
            effect = ins.kind in ("grad_none", "grad_assign", "grad_add", "step", "write",
                                  "fill")
            if effect or any(v is not None and v.producer is ins and id(v) in needed
                             for v in ins.outs):
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
            elif v.kind != "op":
                v.name = self._k(v.arr)
        for i, ins in enumerate(instrs):
            for v in ins.outs:
                if v is None or v.producer is not ins:
                    continue
                if v is not v.root:
                    continue
                if ins.kind == "grad_assign":
                    leaf = ins.ins[0]
                    own = (leaf is leaf.root and leaf.producer is not None and
                           leaf.producer.lower is not None and stores[id(leaf)] == 1)
                    ins.attrs["copy"] = not own
                    tensor = _wrap(self.ns[leaf.name] if own else xp.empty_like(v.arr))
                    ins.attrs["tensor"] = self._k(tensor, "G")
                    v.name = leaf.name if own else self._k(_data(tensor), "g")
                elif ins.lower is not None:
                    v.name = self._shared(ins, v, last, i) if id(v) not in flat_views \
                        else None
                    v.name = v.name or self._k(flat_views.get(id(v)) if id(v) in flat_views
                                               else xp.empty_like(v.arr), "b")
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
            if (ins.outs[out] is v and isinstance(x, _Val) and x is x.root and x.kind == "op"
                    and not x.written and last.get(id(x)) == i and x.producer is not None
                    and x.producer.lower is not None and x.arr.shape == v.arr.shape
                    and x.arr.dtype == v.arr.dtype and x.arr.strides == v.arr.strides):
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
                    if any(v is None or id(v) in views for v in leaves) or len(
                            {id(v) for v in leaves}) < len(leaves) or len(
                            {v.arr.dtype for v in leaves}) != 1:
                        continue
                    flat = xp.empty(sum(v.arr.size for v in leaves), leaves[0].arr.dtype)
                    at = 0
                    for v in leaves:
                        views[id(v)] = flat[at:at + v.arr.size].reshape(v.arr.shape)
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
                g.append(f"a{k} = A{k}.data" if isinstance(a, Tensor) else f"a{k} = A{k}")
                cond = (f"a{k}.shape != {arr.shape!r} or a{k}.strides != {arr.strides!r} "
                        f"or a{k}.dtype is not {self._k(arr.dtype)}")
                if isinstance(a, Tensor):
                    cond += f" or A{k}.requires_grad is not {a.requires_grad}"
                g.append(f"if {cond}: return MISS")
                if k in tr.value_guards or not isinstance(a, Tensor):
                    g.append(f"if a{k}.tobytes() != {self._k(tr.snapshots[k])}: return MISS")
                first = tr.inputs[k]
                if first is not None and first.index != k:
                    g.append(f"if a{k} is not a{first.index}: return MISS")
            elif _plain_data(a):
                g.append(f"if args[{k}].__class__ is not {self._k(type(a))} or "
                         f"args[{k}] != {self._k(a)}: return MISS")
            else:
                g.append(f"if args[{k}] is not {self._k(a)}: return MISS")
        g.append(f"if grad_on() is not {_grad_on()}: return MISS")
        g.append(f"if default_dtype() is not {self._k(get_default_dtype())}: return MISS")
        for v in tr.all_vals:
            for t in v.tensors:
                name = self._k(t, "T")
                arr = f"a{v.index}" if v.kind == "input" else self._k(v.arr)
                g.append(f"if {name}.data is not {arr} or {name}.requires_grad is not "
                         f"{t.requires_grad}: return MISS")
        for t, first in tr.grad_first.items():
            target = self._target(tr.target(t))
            if first[0] == "assign":
                g.append(f"if {target}.grad is not None: return MISS")
            elif first[0] == "add":
                g.append(f"if {target}.grad is not {self._k(first[1], 'T')}: return MISS")
        for t, grad in tr.grad_reads.items():
            g.append(f"if {self._target(tr.target(t))}.grad is not "
                     f"{'None' if grad is None else self._k(grad, 'T')}: return MISS")
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
            e = _Emit(names, [None if v is None or v.producer is not ins else v.name
                              for v in ins.outs],
                      lambda shape, dtype, fill: self._k(_buffer(shape, dtype, fill), "s"),
                      self._k,
                      self._stable, self._local, ins.fixed)
            ins.lower(e, ins, arrs, [None if v is None or v.producer is not ins else v.arr
                                     for v in ins.outs])
            b.extend(e.source())
        elif kind == "fwd":
            self._fwd(ins)
        elif kind == "vjp":
            self._vjp(ins)
        elif kind == "sum_to":
            b.append(f"{ins.outs[0].name} = B.sum_to({ins.ins[0].name}, "
                     f"{ins.attrs['shape']!r})")
        elif kind == "cast":
            b.append(f"{ins.outs[0].name} = B.cast({ins.ins[0].name}, "
                     f"{self._k(ins.attrs['dtype'])})")
        elif kind == "seed":
            b.append(f"{ins.outs[0].name} = xp.array({ins.ins[0].name}, "
                     f"dtype={self._k(ins.attrs['dtype'])})")
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
            g.append(f"if {name}.param_groups[{i}] is not {group} or "
                     f"{name}._plans[{i}] is not {k(plan)}: return MISS")
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
                b.append(f"{update}({group}, {k(chunk.p) if entry['reads'] else None}, "
                         f"{gflat}, {k(chunk.tmp)}, {k(chunk.st)}, step)")
                if entry["reads"]:
                    b.append(f"np_subtract({k(chunk.p)}, {k(chunk.tmp)}, {k(chunk.p)})")
                for p, pv, tv, st in zip(params, chunk.pviews, chunk.tviews, states):
                    b.append(f"copyto({p}, {k(pv)})" if entry["reads"] else
                             f"np_subtract({p}, {k(tv)}, {p})")
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
            return x.name
        if isinstance(x, list):
            return "[" + ", ".join(self._ref(y) for y in x) + "]"
        return self._k(x.value)

    def _kwargs(self, attrs: dict) -> str:
        return "".join(f", {k}={self._k(v)}" for k, v in attrs.items())

    def _baked(self, ins: _Instr, run: Callable) -> bool:
        """Whether the instruction's outputs are views of arrays a replay keeps (a reshape
        of a parameter or of a buffer): then they are made once, here, and bound."""
        flat = _flat(ins.kind, ins.ins) if ins.kind == "vjp" else ins.ins
        arrays = []
        for x in _values(flat):
            arr = self._stable(x.name)
            if arr is None:
                return False
            arrays.append(arr)
        made = [v for v in ins.outs if v is not None and v.producer is ins]
        if not made or any(v.root.written for v in made):
            return False
        try:
            results = run(lambda x: self._stable(x.name) if isinstance(x, _Val) else
                          [None if y is None else self._stable(y.name) for y in x]
                          if isinstance(x, list) else None if x is None else x.value)
        except Exception:
            return False
        results = [r for r, v in zip(results, ins.outs) if v is not None and v.producer is ins]
        if not all(isinstance(r, ndarray) and any(xp.may_share_memory(r, a) for a in arrays)
                   for r in results):
            return False
        for v, r in zip(made, results):
            v.name = self._k(r, "w")
        return True

    def _fwd(self, ins: _Instr) -> None:
        if ins.info == [(False, None)] * len(ins.outs) and self._baked(
                ins, lambda get: _as_tuple(ins.op.forward(*[get(x) for x in ins.ins],
                                                          **ins.attrs), ins.op.multi)):
            return
        call = (f"{self._k(ins.op.forward, 'F')}({', '.join(self._ref(x) for x in ins.ins)}"
                f"{self._kwargs(ins.attrs)})")
        if ins.op.multi:
            names = ", ".join(v.name for v in ins.outs)
            self.body.append(f"{names}{',' if len(ins.outs) == 1 else ''} = {call}")
            return
        (nd, cast), = ins.info
        if nd:
            call = f"asarray({call})"
        if cast is not None:
            call = f"{call}.astype({self._k(cast)})"
        self.body.append(f"{ins.outs[0].name} = {call}")

    def _vjp(self, ins: _Instr) -> None:
        g, out, args = ins.ins
        if self._baked(ins, lambda get: ins.op.vjp(_ArrayNS, get(g), get(out),
                                                    [get(x) for x in args], ins.info,
                                                    **ins.attrs)):
            return
        call = (f"{self._k(ins.op.vjp, 'V')}(B, {self._ref(g)}, {self._ref(out)}, "
                f"({', '.join(self._ref(x) for x in args)}{',' if len(args) == 1 else ''}), "
                f"{ins.info!r}{self._kwargs(ins.attrs)})")
        names = ["_" if v is None or v.producer is not ins else v.name for v in ins.outs]
        self.body.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {call}")


def _fixed(x) -> bool:
    """Whether an input never changes from call to call: a literal, a backward seed, a
    constant made in the step and never written, or one folded from those."""
    if isinstance(x, _Val):
        return x.root.kind == "const" or (x.root.kind == "made" and not x.root.written)
    if isinstance(x, list):
        return all(_fixed(y) for y in x)
    return True


def _fold(instrs: list) -> list:
    """The instructions left when those that compute from constants only are done once:
    their recorded results become constants (the backward of a mean or a sum, say)."""
    kept = []
    for ins in instrs:
        made = [v for v in ins.outs if v is not None and v.producer is ins]
        if (ins.kind in ("fwd", "vjp", "sum_to", "cast", "add", "seed") and made
                and all(_fixed(x) for x in _flat(ins.kind, ins.ins))
                and not any(v.root.written for v in made)):
            for v in made:
                v.kind, v.producer = "const", None
            continue
        kept.append(ins)
    return kept


PART_LINES = 2000  # a replay longer than this runs as functions of this many lines
_ASSIGNED = re.compile(r"^(\w+(?:, *\w+)*),? *=(?!=)")


def _parts(guard: list, body: list) -> tuple:
    """A long replay's body as functions of PART_LINES lines each (CPython's compiler
    needs about 5 kB per line of a source: 1 GB for the 200,000 of a 1e5-op chain),
    sharing what they compute through the replay's namespace: their sources (lists of
    lines), and the calls to them."""
    if len(body) <= PART_LINES:
        return [], body
    names = sorted({name.strip() for line in guard + body
                    for m in [_ASSIGNED.match(line)] if m for name in m.group(1).split(",")})
    shared = f"global {', '.join(names)}"
    guard.insert(0, shared)
    parts, calls = [], []
    for k in range(0, len(body), PART_LINES):
        parts.append([f"def part{k}():", f"    {shared}"] + [f"    {x}" for x in
                                                            body[k:k + PART_LINES]])
        calls.append(f"part{k}()")
    return parts, calls


def _drop_overwritten_resets(instrs: list) -> list:
    """Without the `.grad = None` resets that a store of the same .grad follows before
    anything reads it (an optimizer step): the store sets it anyway."""
    keep = []
    for k, ins in enumerate(instrs):
        if ins.kind == "grad_none":
            for later in instrs[k + 1:]:
                if later.kind in ("step", "fill"):
                    break
                if later.kind in ("grad_none", "grad_assign", "grad_add") and \
                        _same_target(later.info, ins.info):
                    if later.kind == "grad_assign":
                        ins = None
                    break
        if ins is not None:
            keep.append(ins)
    return keep


def _same_target(a, b) -> bool:
    return a[0] == b[0] and (a[1] == b[1] if a[0] == "arg" else a[1] is b[1])


def _last_uses(instrs: list, out_vals: list) -> dict:
    """{id(first version): index of the last instruction that reads the array}, counting a
    read of anything an instruction without a buffer form made (possibly a view) as a read
    of its inputs too; the step's outputs and .grad stores are read after the end."""
    bases: dict = {}
    last: dict = {}
    end = len(instrs)
    for i, ins in enumerate(instrs):
        reads = set()
        read = ins.ins if ins.kind != "vjp" else [  # a VJP reads only the args it saves
            ins.ins[0], ins.ins[1], *(ins.ins[2][k] for k in ins.op.saves)]
        for x in _values(read):
            reads |= bases.get(id(x.root), {id(x.root)})
        for r in reads:
            last[r] = end if ins.kind == "grad_assign" else i
        for v in ins.outs:
            if v is not None and v.producer is ins:
                bases[id(v.root)] = {id(v.root)} | (reads if ins.lower is None else set())
    for v in out_vals:
        for r in bases.get(id(v.root), {id(v.root)}):
            last[r] = end
    return last


def _reads_grad_only(opt, group: dict) -> bool:
    """Whether the optimizer's update, with this group's options, only reads the gradient
    it is handed (the optimizer copies it in case it writes): then a replay hands it the
    .grad itself. Asked only of the built-in optimizers, whose updates write the gradient
    only under an option (maximize, weight decay), by a probe that fails on a write."""
    if type(opt) not in (SGD, Adam, AdamW, Adagrad, RMSprop):
        return False
    g = xp.ones(2)
    g.flags.writeable = False
    state = {name: xp.full(2, init, float) for name, init in opt._state_spec(group).items()}
    try:
        opt._update(group, xp.zeros(2), g, xp.empty(2), state, 1)
    except ValueError:
        return False
    return True


def _own_leaf(grad: _Val, stores: dict):
    """The gradient a .grad store hands over, when its buffer can be that .grad's (made
    by a buffer form, stored once): the value, else None."""
    assign = grad.root.producer
    if assign is None or assign.kind != "grad_assign":
        return None
    leaf = assign.ins[0]
    if (leaf is leaf.root and leaf.producer is not None and leaf.producer.lower is not None
            and stores.get(id(leaf)) == 1 and leaf.arr.flags.c_contiguous):
        return leaf
    return None


def _plain_data(a) -> bool:
    """A number, string, None, or a tuple of them: guarded by value (==)."""
    if isinstance(a, tuple):
        return all(_plain_data(x) for x in a)
    return isinstance(a, (bool, int, float, complex, str, bytes, type(None)))


def _as_tuple(result, multi: bool) -> tuple:
    return tuple(result) if multi else (result,)


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


class _Unreplayable(Exception):
    pass


_MISS, _EAGER = object(), object()
_TENSOR_INIT = Tensor.__init__.__code__
_WRAP = _wrap.__code__
_DETACH = Tensor.detach.__code__
_FACTORY = getattr(sys.modules["microtensor.creation"], "_leaf", _wrap).__code__  # zeros...


# ------------------------------------------------------------------------------- the API
class CompiledFunction:
    """`fn`, recorded on its first call and replayed after; see microtensor.compile.
    `records`, `replays` and `eager_calls` count what the calls did; `code` is the
    replay of the latest recording, as Python."""

    def __init__(self, fn: Callable) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.records = self.replays = self.eager_calls = 0
        self.code: str | None = None
        self._entries: list = []  # (replay or guard function, structure of the result)
        self._warned: set = set()

    def __get__(self, obj, objtype=None):
        """As a method: the compiled function with the instance as first argument."""
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        flat = args
        if kwargs:
            flat = args + tuple(kwargs.values()) + (tuple(kwargs),)
        if getattr(_local, "tracer", None) is not None:  # inside another recording: join it
            return self.fn(*args, **kwargs)
        if _anomaly_mode.get():
            return self._eager("anomaly mode is on", args, kwargs)
        for run, result in self._entries:
            out = run(flat)
            if out is _MISS:
                continue
            if out is _EAGER:
                return self._eager(None, args, kwargs)
            self.replays += 1
            return result(out)
        if len(self._entries) >= CACHE_LIMIT:
            return self._eager(f"it was recorded {CACHE_LIMIT} times (see the guards in "
                               f"microtensor.compile)", args, kwargs)
        return self._record(flat, args, kwargs)

    def _warn(self, reason: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"mt.compile({self.__qualname__}): running eagerly: {reason}",
                          CompileWarning, stacklevel=4)

    def _eager(self, reason, args, kwargs):
        if reason is not None:
            self._warn(reason)
        self.eager_calls += 1
        return self.fn(*args, **kwargs)

    def _record(self, flat, args, kwargs):
        tr = _Tracer(list(flat))
        tr.snapshots = {k: (_data(a) if isinstance(a, Tensor) else a).tobytes()
                        for k, a in enumerate(flat) if isinstance(a, (Tensor, ndarray))}
        rng = default_generator()
        rng_state = rng.bit_generator.state
        legacy = xp.random.get_state()[1].copy()
        drawn = _random.draws[0]
        grad_mode = _grad_on()
        with _recording(tr):
            result = self.fn(*args, **kwargs)
        self.records += 1
        if tr.pending:
            tr.unsupported("a gradient store the recorder did not see")
        if default_generator() is not rng or rng.bit_generator.state != rng_state or \
                _random.draws[0] != drawn or not (xp.random.get_state()[1] == legacy).all():
            tr.unsupported("it draws random numbers (dropout in training mode, mt.rand, "
                           "a mt.Generator, numpy.random): a replay would repeat the "
                           "recorded draws")
        if _grad_on() is not grad_mode:
            tr.unsupported("it changes grad mode for its caller")
        program = None
        if not tr.reasons:
            try:
                program = _Program(tr, result, self.__qualname__)
            except _Unreplayable as e:
                tr.unsupported(str(e))
        if program is None:
            self._entries.insert(0, (_guard_only(tr), None))
            self._warn(tr.reasons[0])
            self.eager_calls += 1
            return result
        self._entries.insert(0, (program.run, _result(program.spec)))
        self.code = program.code
        return _detached(result)


def _guard_only(tr: _Tracer):
    """An entry that answers "run eagerly" to calls whose arguments look as recorded."""
    key = [(type(a), getattr(a, "shape", None), getattr(a, "dtype", None),
            getattr(a, "requires_grad", None)) for a in tr.flat]
    grad_mode = _grad_on()

    def run(flat):
        if len(flat) != len(key) or _grad_on() is not grad_mode:
            return _MISS
        for (cls, shape, dtype, rg), a in zip(key, flat):
            if type(a) is not cls or getattr(a, "shape", None) != shape or getattr(
                    a, "dtype", None) != dtype or getattr(a, "requires_grad", None) != rg:
                return _MISS
        return _EAGER
    return run


def _detached(x):
    """fn's result with each tensor replaced by a fresh tensor holding a copy of it."""
    if isinstance(x, Tensor):
        return _wrap(_data(x).copy())
    if isinstance(x, (tuple, list)):
        return type(x)(_detached(y) for y in x)
    if isinstance(x, dict):
        return {k: _detached(y) for k, y in x.items()}
    return x


def _result(spec) -> Callable:
    """What makes the step's result from a replay's output arrays (fresh tensors holding
    copies), with the common case of one tensor spelled out."""
    if spec[0] == "tensor" and spec[1] == 0:
        return lambda arrays: _wrap(arrays[0].copy())
    return functools.partial(_rebuild, spec)


def _rebuild(spec, arrays):
    """The step's result from a replay's output arrays: fresh tensors holding copies."""
    kind, body = spec
    if kind == "tensor":
        return _wrap(arrays[body].copy())
    if kind == "const":
        return body
    if kind is dict:
        return {k: _rebuild(s, arrays) for k, s in body}
    return kind(_rebuild(s, arrays) for s in body)


def compile(fn: Callable) -> CompiledFunction:  # torch.compile's name
    """`fn` recorded on its first call and replayed as flat numpy calls into reused
    buffers after, bit for bit what eager mode computes (see microtensor.compile for
    what is guarded and when it runs eagerly instead).

    >>> import microtensor as mt
    >>> w = mt.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = mt.optim.SGD([w], lr=0.1)
    >>> @mt.compile
    ... def step(x):
    ...     opt.zero_grad()
    ...     loss = ((w * x).sum() - 1) ** 2
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> [round(step(mt.tensor([1.0, 1.0])).item(), 4) for _ in range(3)]
    [4.0, 1.44, 0.5184]
    """
    return CompiledFunction(fn)
