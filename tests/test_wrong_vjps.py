"""Tests that test the tests: `check_grads` catches every wrong VJP we substitute.

For each case of the op-case table (tests/op_cases/: every row's fixed examples; every
differentiable primitive has one, which test_ops.py enforces) a wrong VJP replaces the
op's own with monkeypatch, and check_grads (full Jacobian, float64) must raise
GradcheckError:
  - every returned gradient with its sign flipped,
  - every returned gradient scaled by 1.01,
  - for cases that broadcast an input, the engine's one broadcast reduction
    (`_ArrayNS.sum_to`, used by the backward loop) dropped,
  - for MatMul and Linear on square inputs, one operand left untransposed per gradient,
  - for Fill and Mask, whose right VJPs return no gradient or a zero one (so a sign flip
    or a scale of it is the same function, which no check can tell apart), a gradient
    leaked through it.
Every case whose op returns a gradient gets a sign flip and a scaling, every
broadcasting case a dropped reduction: a new row of the table gets its mutants with no
edit here (test_every_case_gets_its_mutants keeps that true). test_a_correct_vjp_passes
checks that the unmutated cases raise no false alarm.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from op_cases import CASE, CASES, Case

import microtensor as mt
from microtensor import ops
from microtensor.testing import GradcheckError

MUTABLE = [c for c in CASES if c.op is not None and c.op.differentiable]  # a VJP to replace
NO_GRADIENT = {ops.Fill, ops.Mask}  # outputs constant, or piecewise so, in the input


# ----------------------------------------------------------------------- wrong VJPs
def each_gradient(transform: Callable) -> Callable:
    """A VJP wrapper applying `transform` to every gradient the VJP returns. Arrays in an
    ordinary backward, Tensors under create_graph; None (no gradient) stays None."""

    def mutate(vjp):
        def wrong(B, g, out, args, needs, **attrs):
            return tuple(
                None if gi is None else transform(gi) for gi in vjp(B, g, out, args, needs, **attrs)
            )

        return wrong

    return mutate


flip_sign = each_gradient(lambda gi: -gi)
scale_by_1_01 = each_gradient(lambda gi: gi * 1.01)


def no_reduction(g, shape):
    return g


def matmul_b_untransposed(B, g, out, args, needs):
    a, b = args
    return g @ b, B.mT(a) @ g  # right: g @ bᵀ


def matmul_a_untransposed(B, g, out, args, needs):
    a, b = args
    return g @ B.mT(b), a @ g  # right: aᵀ @ g


def linear_weight_transposed(B, g, out, args, needs):
    x, w = args[:2]
    return g @ B.mT(w), B.mT(g) @ x, g  # right: g @ w


def linear_weight_gradient_transposed(B, g, out, args, needs):
    x, w = args[:2]
    return g @ w, B.mT(x) @ g, g  # right: gᵀ @ x


def fill_leaks_the_gradient(B, g, out, args, needs, value):
    return (g,)  # right: (None,)


def mask_leaks_the_gradient(B, g, out, args, needs, fn):
    return g, None  # right: zeros


@dataclass(frozen=True)
class Mutant:
    """A wrong VJP for `case`, installed by `install(monkeypatch)`; check_grads must
    raise GradcheckError with `expect` (a regex) in its message."""

    kind: str
    case: Case
    install: Callable
    expect: str

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.case.name}"


def _wrap_vjp(case: Case, mutate: Callable) -> Callable:
    return lambda mp: mp.setattr(case.op, "vjp", mutate(case.op.vjp))


def _replace_vjp(case: Case, wrong: Callable) -> Callable:
    return lambda mp: mp.setattr(case.op, "vjp", wrong)


def _drop_reduction(mp) -> None:
    mp.setattr(mt.autograd._ArrayNS, "sum_to", staticmethod(no_reduction))


SIGN_FLIPS = [
    Mutant("sign-flip", c, _wrap_vjp(c, flip_sign), "flipped sign")
    for c in MUTABLE
    if c.op not in NO_GRADIENT
]
SCALINGS = [
    Mutant("scale-1.01", c, _wrap_vjp(c, scale_by_1_01), r"ratio = 1\.0")
    for c in MUTABLE
    if c.op not in NO_GRADIENT
]
DROPPED_REDUCTIONS = [
    Mutant("dropped-reduction", c, _drop_reduction, "missing broadcast reduction")
    for c in MUTABLE
    if c.broadcasts
]
TRANSPOSITIONS = [
    Mutant(
        "matmul-b-untransposed",
        CASE["matmul"],
        _replace_vjp(CASE["matmul"], matmul_b_untransposed),
        "input 0",
    ),
    Mutant(
        "matmul-a-untransposed",
        CASE["matmul"],
        _replace_vjp(CASE["matmul"], matmul_a_untransposed),
        "input 1",
    ),
    Mutant(
        "linear-weight-transposed",
        CASE["linear"],
        _replace_vjp(CASE["linear"], linear_weight_transposed),
        "input 0",
    ),
    Mutant(
        "linear-weight-gradient-transposed",
        CASE["linear"],
        _replace_vjp(CASE["linear"], linear_weight_gradient_transposed),
        "input 1",
    ),
]
LEAKS = [
    Mutant(
        "gradient-leak",
        CASE["fill"],
        _replace_vjp(CASE["fill"], fill_leaks_the_gradient),
        "input 0",
    ),
    Mutant(
        "gradient-leak",
        CASE["mask"],
        _replace_vjp(CASE["mask"], mask_leaks_the_gradient),
        "input 0",
    ),
]
MUTANTS = SIGN_FLIPS + SCALINGS + DROPPED_REDUCTIONS + TRANSPOSITIONS + LEAKS


def caught(mutant: Mutant) -> bool:
    """Whether check_grads raises GradcheckError, with the expected text, on the mutant."""
    with pytest.MonkeyPatch.context() as mp:
        mutant.install(mp)
        try:
            mutant.case.check()
        except GradcheckError as err:
            return re.search(mutant.expect, str(err)) is not None
    return False


# ---------------------------------------------------------------------------- tests
def test_every_op_that_broadcasts_its_inputs_has_a_broadcasting_case():
    broadcasting = {c.op for c in MUTABLE if c.broadcasts}
    assert {
        ops.Add,
        ops.Sub,
        ops.Mul,
        ops.Div,
        ops.Pow,
        ops.Maximum,
        ops.Minimum,
        ops.Where,
        ops.MatMul,
        ops.Linear,
    } <= broadcasting


def test_fill_returns_no_gradient_so_its_sign_and_scale_mutants_would_be_the_same_op():
    g = np.ones((2, 3))
    assert ops.Fill.vjp(mt.autograd._ArrayNS, g, None, (g,), (True,), value=2.0) == (None,)


@pytest.mark.parametrize("case", MUTABLE, ids=lambda c: c.name)
def test_a_correct_vjp_passes(case):
    case.check()


@pytest.mark.parametrize("case", [c for c in MUTABLE if not c.broadcasts], ids=lambda c: c.name)
def test_without_the_reduction_cases_that_do_not_broadcast_still_pass(case, monkeypatch):
    """The reduction runs only where a gradient's shape differs from its input's: this
    keeps the `broadcasts` flags of CASES honest."""
    _drop_reduction(monkeypatch)
    case.check()


@pytest.mark.parametrize("mutant", SIGN_FLIPS, ids=lambda m: m.id)
def test_a_sign_flipped_vjp_is_caught(mutant):
    assert caught(mutant)


@pytest.mark.parametrize("mutant", SCALINGS, ids=lambda m: m.id)
def test_a_vjp_scaled_by_1_01_is_caught(mutant):
    assert caught(mutant)


@pytest.mark.parametrize("mutant", DROPPED_REDUCTIONS, ids=lambda m: m.id)
def test_a_dropped_broadcast_reduction_is_caught_and_named(mutant):
    assert caught(mutant)


@pytest.mark.parametrize("mutant", TRANSPOSITIONS + LEAKS, ids=lambda m: m.id)
def test_a_transposed_matmul_gradient_or_a_leaked_gradient_is_caught(mutant):
    assert caught(mutant)


def test_every_case_gets_its_mutants():
    returning = [c for c in MUTABLE if c.op not in NO_GRADIENT]
    assert [m.case for m in SIGN_FLIPS] == [m.case for m in SCALINGS] == returning
    assert [m.case for m in DROPPED_REDUCTIONS] == [c for c in MUTABLE if c.broadcasts]
    assert len(TRANSPOSITIONS) == 4 and {m.case.op for m in LEAKS} == NO_GRADIENT
