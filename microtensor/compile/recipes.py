"""Recipes: library functions whose Python side computes, from values that change from
call to call, what a plain recording would keep as constants. Each is replaced, while a
step records, by a wrapper that runs the function itself and then, if the recipe gives
the bits the function gave, records the recipe in place of those constants:

  - dropout's mask (nn.functional._drop, behind every dropout): a "draw" instruction
    that draws the mask again from the default generator on each replay, in the order
    eager mode draws it, so a replay equals eager mode bit for bit;
  - cross_entropy's and nll_loss's class targets (nn.functional._picked, without class
    weights or label smoothing): a "prep" computed from the targets argument in the
    guards of each replay (the index that picks each row's log-probability, the rows'
    weights), so that a new batch of targets replays instead of recording again.

When a check fails the recording stays as it was: the draw makes the step run eagerly,
the targets' values are guarded (a new batch records again)."""

from __future__ import annotations

import sys

from .. import ops as O
from ..backend import ndarray, xp
from ..nn import _functional_activation as _activation
from ..nn import _functional_loss as _loss
from ..random import default_generator
from .record import _PATCHES, _local
from .values import _Instr, _same_bits

_DROP, _PICKED = _activation._drop, _loss._picked
# the library functions that read class targets in Python for _picked (and _finish, which
# sums the weights _picked returns: guarded by that sum)
_TARGET_READERS = (_loss.cross_entropy.__code__, _loss.nll_loss.__code__)


def dropout_mask(rng, p: float, factor: float, draws, keep, out) -> None:
    """_drop's mask, (rng.random(shape) >= p) in out's dtype times factor, into buffers."""
    rng.random(out=draws)
    xp.greater_equal(draws, p, out=keep)
    xp.copyto(out, keep)
    xp.multiply(out, factor, out=out)


def class_targets(t, ignore_index: int, n_classes: int, dtype, arange):
    """What _picked computes from class targets t (1-D): the index that picks each row's
    target (class 0 for an ignored row), each row's weight (0 where ignored) and their
    sum; None when a target is out of range (a new recording raises _picked's error)."""
    valid = t != ignore_index
    if (valid & ((t < 0) | (t >= n_classes))).any():
        return None
    w = valid.astype(dtype)
    return (arange, xp.where(valid, t, 0)), w, float(w.sum())


class _ClassTargets:
    """class_targets with these options, remembering its last targets and result: a
    full-batch step gets the same targets on every call (the result is only read)."""

    def __init__(self, *args) -> None:
        self.args = args
        self.last: tuple = (None, None)

    def __call__(self, t):
        key = t.tobytes()
        seen, result = self.last
        if key != seen:
            result = class_targets(t, *self.args)
            self.last = (key, result)
        return result


class _Prep:
    """class_targets of argument `arg` (flattened) by `fn` (a _ClassTargets), computed in
    a replay's guards: the index attribute `index` (an object of the recording) and the
    weights value `weights` it stands for, and the guarded sum of the weights."""

    __slots__ = ("arg", "fn", "index", "weights", "total")

    def __init__(self, arg: int, fn, index, weights, total: float) -> None:
        self.arg, self.fn, self.index, self.weights, self.total = arg, fn, index, weights, total


def _drop(input, p, mask_shape, inplace):
    tr = getattr(_local, "tracer", None)
    if tr is None or tr.busy or tr.reasons:
        return _DROP(input, p, mask_shape, inplace)
    rng = default_generator()
    before = rng.bit_generator.state
    if before != tr.rng_state:
        tr.unsupported(
            "it draws random numbers other than dropout's (mt.rand, a mt.Generator, "
            "numpy.random): a replay would repeat the recorded draws"
        )
        return _DROP(input, p, mask_shape, inplace)
    made, start = len(tr.made_arrays), len(tr.instrs)
    result = _DROP(input, p, mask_shape, inplace)
    if not tr.reasons:
        _record_mask(tr, rng, before, tr.made_arrays[made:], start, p, mask_shape)
    return result


def _record_mask(tr, rng, before, made: list, start: int, p, mask_shape) -> None:
    """Turn the mask dropout made (a constant of the recording) into a draw instruction,
    after drawing it again from `before` the same way; else the step runs eagerly."""
    after = rng.bit_generator.state
    v = tr.vals.get(id(made[0])) if len(made) == 1 else None
    why = "dropout's mask could not be recorded as a draw"
    if v is None or v.kind != "made" or v.root is not v or v.written:
        return tr.unsupported(why)
    factor = 1 / (1 - p) if p < 1 else 0.0
    buffers = (xp.empty(mask_shape), xp.empty(mask_shape, bool))
    again = xp.random.Generator(xp.random.PCG64())
    again.bit_generator.state = before
    out = xp.empty_like(v.arr)
    dropout_mask(again, p, factor, *buffers, out)
    if not _same_bits(out, v.arr) or again.bit_generator.state != after:
        return tr.unsupported(why + " (it drew other numbers)")
    v.kind = "op"
    tr.made.discard(id(v.arr))
    instr = _Instr("draw", None, [], [v], {"p": p, "factor": factor, "buffers": buffers})
    v.producer = instr
    tr.instrs.insert(start, instr)
    tr.rng_state = after


def _picked(logp, t, weight, ignore_index, op):
    tr = getattr(_local, "tracer", None)
    if tr is None or tr.busy or tr.reasons:
        return _PICKED(logp, t, weight, ignore_index, op)
    start = len(tr.instrs)
    loss, w = _PICKED(logp, t, weight, ignore_index, op)
    caller = sys._getframe(1)
    if not tr.reasons and caller in tr.target_reads:
        _record_targets(tr, caller, start, logp, t, weight, ignore_index, w)
    return loss, w


def _record_targets(tr, caller, start: int, logp, t, weight, ignore_index, w) -> None:
    """Turn what _picked computed from argument targets into a _Prep, after computing it
    again with class_targets; then the reads of the targets in `caller` need no guard."""
    if weight is not None or caller.f_locals.get("label_smoothing"):
        return
    k = tr.argument_of(t)
    if k is None:
        return
    a = tr.inputs[k].arr
    picks = [i for i in tr.instrs[start:] if i.kind == "fwd" and i.op is O.GetItem]
    index = picks[0].attrs["index"] if len(picks) == 1 else None
    vw = tr.vals.get(id(w))
    if (
        t.shape != (a.size,)
        or not _same_bits(a.reshape(-1), t)
        or type(index) is not tuple
        or len(index) != 2
        or not all(type(i) is ndarray for i in index)
        or not _same_bits(index[0], xp.arange(t.shape[0]))
        or vw is None
        or vw.kind != "live"
        or vw.tensors
    ):
        return
    args = (ignore_index, logp.shape[1], logp.dtype, index[0])
    again = class_targets(t, *args)
    if again is None or not (_same_bits(again[0][1], index[1]) and _same_bits(again[1], w)):
        return
    vw.kind = "derived"
    tr.preps.append(_Prep(k, _ClassTargets(*args), index, vw, again[2]))
    tr.target_reads[caller].discard(k)


def target_reader(frame):
    """The call of cross_entropy or nll_loss a read of a tensor's values in `frame` is
    part of (their own frame, or one of the helpers they call), else None."""
    for _ in range(3):
        if frame is None:
            return None
        if frame.f_code in _TARGET_READERS:
            return frame
        frame = frame.f_back
    return None


_PATCHES.extend([(_activation, "_drop", _drop), (_loss, "_picked", _picked)])
