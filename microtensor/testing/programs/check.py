"""Deciding a program: `check_program` runs it and checks the gradients of backward()
and of grad(create_graph=True) against finite differences, or that an error it raises
names an in-place change, a view or a leaf where the program allows one."""

from __future__ import annotations

import traceback

import numpy as np

from ... import autograd
from ..gradcheck import GradcheckError, check_grads, numerical_jacobian
from .program import _FILENAME, _SPLIT_READ, EITHER, RAISES, REFUSED, SUCCEEDS, Program

_CLEAR = ("in-place", "inplace", "modified", "view", "leaf")
_FALSE = ("second time", "freed")  # errors the engine must not give for a new graph


def _is_inplace_error(error: BaseException) -> bool:
    msg = str(error).lower()
    return any(k in msg for k in _CLEAR) and not any(k in msg for k in _FALSE)


def _line_of(program: Program, error: BaseException) -> int | None:
    """The index of the body statement that raised, if one did."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == _FILENAME]
    if not frames:
        return None
    lineno = frames[-1].lineno
    if lineno is None:
        return None
    i = lineno - program.first_line
    return i if 0 <= i < len(program.body) else None


def _describe(program: Program, what: str) -> str:
    return f"{what}\n--- the program (expect: {program.expect}) ---\n{program.source}"


def _leaf_grads(leaves: list) -> list:
    return [np.zeros(x.shape) if x.grad is None else np.array(x.grad._data) for x in leaves]


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
            return (
                f"{path}: wrong gradient of {name} (shape {values.shape})\n"
                f"  worst entry {list(map(int, k))}: analytic {g[k]!r}, numeric {n[k]!r}\n"
                f"  analytic: {g.tolist()}\n  numeric:  {n.tolist()}"
            )
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
        if (
            program.expect != SUCCEEDS
            and _is_inplace_error(error)
            and (line in program.inplace or _SPLIT_READ in program.features)
        ):
            return (
                "raised at an in-place op"
                if line in program.inplace
                else "raised reading a split piece"
            )
        where = "the result" if line is None else f"body line {line}: {program.body[line]}"
        raise AssertionError(
            _describe(program, f"unexpected error at {where}: {type(error).__name__}: {error}")
        ) from error
    if program.expect == REFUSED:
        raise AssertionError(
            _describe(
                program,
                "the in-place op on a leaf that requires grad (or a view of one) was not refused",
            )
        )
    try:
        out.backward()
    except RuntimeError as error:
        if program.expect in (RAISES, EITHER) and _is_inplace_error(error):
            return "raised in backward"
        raise AssertionError(
            _describe(program, f"backward() raised {type(error).__name__}: {error}")
        ) from error
    if program.expect == RAISES:
        raise AssertionError(
            _describe(
                program,
                "backward() ran, but the program reads a "
                "saved value changed in place: it must raise",
            )
        )
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
        raise AssertionError(
            _describe(program, f"grad(create_graph=True) raised {type(error).__name__}: {error}")
        ) from error
    cg_grads = [np.zeros(x.shape) if g is None else np.array(g._data) for x, g in zip(leaves, cg)]
    wrong = _mismatch(program, "grad(create_graph=True)", cg_grads, numeric)
    if wrong:
        raise AssertionError(_describe(program, wrong))
    try:
        check_grads(fn, *leaves, order=order, full_limit=16)  # the full Jacobian when small
    except GradcheckError as error:
        raise AssertionError(_describe(program, f"check_grads: {error}")) from error
    return "gradients match"
