"""The watch kept while a step records: the engine's tracer hook (_Hooks), the array slot
Tensor._data and Tensor.grad as properties that note reads and writes, Optimizer.step and
zero_grad, module calls and the library functions of recipes.py, all installed by
`_recording` while any thread records and handed to that thread's _Tracer. Kept apart
from the tracer so that what is patched into the engine, and how it is put back, reads
in one place."""

from __future__ import annotations

import dis
import linecache
import os
import sys
import threading
from contextlib import nullcontext

from ..autograd import graph as _graph
from ..nn import module as _module
from ..optim.optimizer import Optimizer
from ..tensor import Tensor, _wrap

_DATA, _GRAD = Tensor.__dict__["_data"], Tensor.__dict__["grad"]  # the slots themselves
_data, _grad = _DATA.__get__, _GRAD.__get__
_local = threading.local()  # this thread's recorder, while it records
_install_lock = threading.Lock()
_installed: dict = {"count": 0}
# (module, name, replacement): library functions replaced while any thread records, by
# recipes.py (each runs the original when its thread does not record)
_PATCHES: list = []
_ENGINE_DIR = os.path.dirname(_graph.__file__)
_COMPILE_DIR = os.path.dirname(__file__)  # a frame in any file of this package
_METADATA = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides", "flags"})
_metadata_reads: dict = {}


def _metadata_only(frame) -> bool:
    """Whether the array just read by `frame` is used only for its shape or dtype: the
    next instruction loads one of those attributes (`x._data.shape`)."""
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


_PACKAGE_DIR = os.path.dirname(_COMPILE_DIR)  # microtensor/


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
        if not (
            os.path.dirname(file) in (_COMPILE_DIR, _ENGINE_DIR)
            or frame.f_code in (_DETACH, _DATA_VIEW)
            or _metadata_only(frame)
        ):
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
    _HOOKS and Tensor._data/.grad, Optimizer.step and Module calls are watched."""

    def __init__(self, tracer) -> None:
        self.tracer = tracer

    def __enter__(self) -> None:
        with _install_lock:
            if not _installed["count"]:
                patches = [
                    (_graph, "tracer", _HOOKS),
                    (Tensor, "_data", property(_data_get, _data_set)),
                    (Tensor, "grad", property(_grad_get, _grad_set)),
                    (Optimizer, "step", _step),
                    (Optimizer, "zero_grad", _zero_grad),
                    (_module, "_call_hook", _CallHook(_module._call_hook)),
                    *_PATCHES,
                ]
                _installed["patched"] = [
                    (obj, name, getattr(obj, name)) for obj, name, _ in patches
                ]
                for obj, name, value in patches:
                    setattr(obj, name, value)
            _installed["count"] += 1
        _local.tracer = self.tracer

    def __exit__(self, *exc) -> None:
        _local.tracer = None
        with _install_lock:
            _installed["count"] -= 1
            if not _installed["count"]:
                for obj, name, original in reversed(_installed.pop("patched")):
                    setattr(obj, name, original)


# the code whose frames set ._data and .grad of a tensor being made (not a write of the step's)
_TENSOR_INIT = Tensor.__init__.__code__
_WRAP = _wrap.__code__
_DETACH = Tensor.detach.__code__
_DATA_VIEW = Tensor.__dict__["data"].fget.__code__  # wraps the array: reads no value
_FACTORY = getattr(sys.modules["microtensor.creation"], "_leaf", _wrap).__code__  # zeros...
