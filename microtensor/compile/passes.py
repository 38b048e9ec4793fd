"""What a program does to a recording before writing it (folding constants, dropping
.grad resets a store overwrites, the last read of each array, a long body cut into
parts), and what it asks about an optimizer step (may the update read the .grad itself,
may a gradient's buffer be the .grad)."""

from __future__ import annotations

import re

from ..backend import xp
from ..optim import SGD, Adagrad, Adam, AdamW, RMSprop
from .values import _fixed, _flat, _Val, _values


def _fold(instrs: list, dynamic: set) -> list:
    """The instructions left when those that compute from constants only are done once:
    their recorded results become constants (the backward of a mean or a sum, say); not
    those with an attribute a replay computes (ids in `dynamic`)."""
    kept = []
    for ins in instrs:
        made = [v for v in ins.outs if v is not None and v.producer is ins]
        if (
            ins.kind in ("fwd", "vjp", "sum_to", "cast", "add", "seed")
            and made
            and all(_fixed(x) for x in _flat(ins.kind, ins.ins))
            and not any(id(a) in dynamic for a in ins.attrs.values())
            and not any(v.root.written for v in made)
        ):
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
    names = sorted(
        {
            name.strip()
            for line in guard + body
            for m in [_ASSIGNED.match(line)]
            if m
            for name in m.group(1).split(",")
        }
    )
    shared = f"global {', '.join(names)}"
    guard.insert(0, shared)
    parts, calls = [], []
    for k in range(0, len(body), PART_LINES):
        parts.append(
            [f"def part{k}():", f"    {shared}"] + [f"    {x}" for x in body[k : k + PART_LINES]]
        )
        calls.append(f"part{k}()")
    return parts, calls


def _drop_overwritten_resets(instrs: list) -> list:
    """Without the `.grad = None` resets that a store of the same .grad follows before
    anything reads it (an optimizer step): the store sets it anyway."""
    keep = []
    for k, ins in enumerate(instrs):
        if ins.kind == "grad_none":
            for later in instrs[k + 1 :]:
                if later.kind in ("step", "fill"):
                    break
                if later.kind in ("grad_none", "grad_assign", "grad_add") and _same_target(
                    later.info, ins.info
                ):
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
        read = (
            ins.ins
            if ins.kind != "vjp"
            else [  # a VJP reads only the args it saves
                ins.ins[0],
                ins.ins[1],
                *(ins.ins[2][k] for k in ins.op.saves),
            ]
        )
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
    if (
        leaf is leaf.root
        and leaf.producer is not None
        and leaf.producer.lower is not None
        and stores.get(id(leaf)) == 1
        and leaf.arr.flags.c_contiguous
    ):
        return leaf
    return None
