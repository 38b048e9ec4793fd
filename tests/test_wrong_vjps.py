"""Tests that test the tests: `check_grads` catches every wrong VJP we substitute.

For each case in CASES (at least one per differentiable primitive of microtensor.ops,
which test_every_differentiable_primitive_has_a_case enforces) a wrong VJP replaces the
op's own with monkeypatch, and check_grads (full Jacobian, float64) must raise
GradcheckError:
  - every returned gradient with its sign flipped,
  - every returned gradient scaled by 1.01,
  - for cases that broadcast an input, the engine's one broadcast reduction
    (`_ArrayNS.sum_to`, used in `autograd._run`) dropped,
  - for MatMul and Linear on square inputs, one operand left untransposed per gradient,
  - for Fill and Mask, whose right VJPs return no gradient or a zero one (so a sign flip
    or a scale of it is the same function, which no check can tell apart), a gradient
    leaked through it.
148 wrong VJPs are checked (a sign flip and a scaling for each of the 66 cases but
Fill's and Mask's: 64 + 64; 14 dropped reductions; 4 transpositions; 2 leaks);
test_every_wrong_vjp_is_caught asserts that all are caught, and test_a_correct_vjp_passes
that the unmutated cases raise no false alarm.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import microtensor as mt
from microtensor import ops
from microtensor.testing import GradcheckError, check_grads


# ------------------------------------------------------------------------------ inputs
def leaf(values) -> mt.Tensor:
    return mt.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def uniform(shape, low=-2.0, high=2.0, seed=0) -> mt.Tensor:
    return leaf(np.random.default_rng(seed).uniform(low, high, shape))


def away_from_zero(shape, seed=0) -> mt.Tensor:
    """Both signs, |x| in [0.3, 2]: smooth for relu, abs, 1/x and the like."""
    rng = np.random.default_rng(seed)
    return leaf(rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape))


def distinct(shape, seed=0) -> mt.Tensor:
    """Values at least 0.3 apart: no ties for amax/amin."""
    n = int(np.prod(shape))
    return leaf((np.random.default_rng(seed).permutation(n) * 0.3 - 1.0).reshape(shape))


COND = np.array([[True, False, True, False], [False, True, False, True],
                 [True, True, False, False]])


def set_column(x, v):
    y = x.clone()
    y[:, 1] = v
    return y


def mul_columns_in_place(x, v):
    y = x * 1.0
    y.T[1:].mul_(v)  # columns 1 and 2 of y, through a view of a view
    return y


@dataclass(frozen=True)
class Case:
    """Inputs on which `op`'s gradient is non-zero and the op is smooth."""

    name: str
    op: type
    fn: Callable
    inputs: tuple
    broadcasts: bool = False  # the engine sums a gradient down to an input's shape
    options: dict = field(default_factory=dict)  # more check_grads arguments

    def check(self) -> None:
        check_grads(self.fn, *self.inputs, modes=("full",), **self.options)


CASES = [
    # arithmetic: the binary ops take a (3, 1) and a (4,) input, broadcast to (3, 4)
    Case("add", ops.Add, lambda a, b: a + b, (uniform((3, 1), seed=1), uniform(4, seed=2)),
         broadcasts=True),
    Case("sub", ops.Sub, lambda a, b: a - b, (uniform((3, 1), seed=3), uniform(4, seed=4)),
         broadcasts=True),
    Case("mul", ops.Mul, lambda a, b: a * b, (uniform((3, 1), seed=5), uniform(4, seed=6)),
         broadcasts=True),
    Case("div", ops.Div, lambda a, b: a / b, (uniform((3, 1), seed=7), away_from_zero(4)),
         broadcasts=True),
    Case("neg", ops.Neg, lambda x: -x, (uniform((2, 3)),)),
    Case("pow", ops.Pow, lambda a, b: a ** b,
         (uniform((3, 1), 0.5, 2.0, seed=8), uniform(4, -1.5, 1.5, seed=9)), broadcasts=True),
    Case("pow-constant-exponent", ops.Pow, lambda x: x ** 3, (uniform((2, 3)),)),
    Case("pow-constant-base", ops.Pow, lambda x: 2.0 ** x, (uniform((2, 3)),)),
    Case("matmul", ops.MatMul, lambda a, b: a @ b, (uniform((3, 3), seed=10),
                                                    uniform((3, 3), seed=11))),
    Case("matmul-batched", ops.MatMul, lambda a, b: a @ b,
         (uniform((2, 3, 4), seed=12), uniform((4, 2), seed=13)), broadcasts=True),
    Case("matmul-vector", ops.MatMul, lambda a, b: a @ b, (uniform(3, seed=14),
                                                           uniform((3, 4), seed=15))),
    Case("linear", ops.Linear, ops.linear,
         (uniform((4, 3), seed=16), uniform((3, 3), seed=17), uniform(3, seed=18)),
         broadcasts=True),
    Case("linear-3d-input", ops.Linear, ops.linear,
         (uniform((2, 2, 3), seed=19), uniform((4, 3), seed=20))),
    # elementwise
    Case("exp", ops.Exp, mt.exp, (uniform((2, 3), -1.0, 1.0),)),
    Case("log", ops.Log, mt.log, (uniform((2, 3), 0.5, 2.0),)),
    Case("log1p", ops.Log1p, mt.log1p, (uniform((2, 3), -0.5, 2.0),)),
    Case("sqrt", ops.Sqrt, mt.sqrt, (uniform((2, 3), 0.5, 2.0),)),
    Case("abs", ops.Abs, mt.abs, (away_from_zero((2, 3)),)),
    Case("sin", ops.Sin, mt.sin, (uniform((2, 3)),)),
    Case("cos", ops.Cos, mt.cos, (uniform((2, 3)),)),
    Case("tanh", ops.Tanh, mt.tanh, (uniform((2, 3)),)),
    Case("sigmoid", ops.Sigmoid, mt.sigmoid, (uniform((2, 3)),)),
    Case("relu", ops.Relu, mt.relu, (leaf([[-1.5, 0.4, 2.0], [0.7, -0.3, -2.2]]),)),
    Case("leaky_relu", ops.LeakyRelu, lambda x: mt.leaky_relu(x, 0.1),
         (away_from_zero((2, 3)),)),
    Case("elu", ops.Elu, lambda x: mt.elu(x, 0.7), (away_from_zero((2, 3)),)),
    Case("softplus", ops.Softplus, mt.softplus, (uniform((2, 3), -3.0, 3.0),)),
    Case("softplus-above-threshold", ops.Softplus,
         lambda x: mt.softplus(x, beta=2.0, threshold=1.0), (leaf([-1.0, 0.2, 0.9, 1.5]),)),
    Case("clamp", ops.Clamp, lambda x: mt.clamp(x, -1.0, 1.0),
         (leaf([[-0.5, 0.3, 0.8], [-1.7, 1.6, 0.1]]),)),
    Case("maximum", ops.Maximum, mt.maximum,
         (leaf([[-1.5], [0.25], [1.3]]), leaf([-0.7, 0.6, 1.9, -2.1])), broadcasts=True),
    Case("minimum", ops.Minimum, mt.minimum,
         (leaf([[-1.5], [0.25], [1.3]]), leaf([-0.7, 0.6, 1.9, -2.1])), broadcasts=True),
    Case("where", ops.Where, lambda a, b: mt.where(COND, a, b),
         (uniform((3, 1), seed=21), uniform(4, seed=22)), broadcasts=True),
    # float32 output: a step of 1e-3 keeps its rounding out of the finite difference
    Case("cast", ops.Cast, lambda x: x.to(mt.float32), (uniform((2, 3)),),
         options={"eps": 1e-3}),
    Case("clone", ops.Clone, lambda x: x.clone(), (uniform((2, 3)),)),
    Case("fill", ops.Fill, lambda x: x * x.clone().fill_(2.0), (uniform((2, 3)),)),
    Case("mask", ops.Mask, lambda x: x * ops.apply(ops.Mask, x, 0.0, fn=np.greater),
         (away_from_zero((2, 3)),)),
    Case("copy", ops.CopyFrom, lambda a, src: a.clone().copy_(src),
         (uniform((2, 3)), uniform(3, seed=23)), broadcasts=True),
    # reductions
    Case("sum", ops.Sum, lambda x: x.sum(1), (uniform((2, 3)),)),
    Case("sum-keepdim", ops.Sum, lambda x: x.sum((0, 2), keepdim=True), (uniform((2, 3, 2)),)),
    Case("mean", ops.Mean, lambda x: x.mean(0), (uniform((2, 3)),)),
    Case("amax", ops.Amax, lambda x: x.amax(1), (distinct((2, 3)),)),
    Case("amin", ops.Amin, lambda x: x.amin(0), (distinct((2, 3), seed=1),)),
    Case("logsumexp", ops.LogSumExp, lambda x: x.logsumexp(1), (uniform((2, 3)),)),
    Case("softmax", ops.Softmax, lambda x: x.softmax(1), (uniform((2, 3)),)),
    Case("log_softmax", ops.LogSoftmax, lambda x: x.log_softmax(0), (uniform((2, 3)),)),
    # shape
    Case("reshape", ops.Reshape, lambda x: x.reshape(3, 2), (uniform((2, 3)),)),
    Case("permute", ops.Permute, lambda x: x.permute(2, 0, 1), (uniform((2, 3, 2)),)),
    Case("broadcast_to", ops.BroadcastTo, lambda x: x.broadcast_to((2, 3, 4)),
         (uniform((3, 1)),), broadcasts=True),
    Case("sum_to", ops.SumTo, lambda x: mt.sum_to(x, (3, 1)), (uniform((2, 3, 4)),)),
    Case("cat", ops.Cat, lambda a, b: mt.cat([a, b], dim=1),
         (uniform((2, 2), seed=24), uniform((2, 3), seed=25))),
    Case("split", ops.Split, lambda x: x.split([2, 3]), (uniform((5, 2)),)),
    Case("split-one-piece-used", ops.Split, lambda x: x.split([2, 3])[1] * 2,
         (uniform((5, 2)),)),
    Case("pad", ops.Pad, lambda x: mt.pad(x, (1, 2)), (uniform((2, 3)),)),
    Case("getitem-repeated-index", ops.GetItem, lambda x: x[[0, 2, 2]], (uniform((4, 2)),)),
    Case("getitem-slices", ops.GetItem, lambda x: x[1:, ::2], (uniform((3, 4)),)),
    Case("index_add", ops.IndexAdd,
         lambda v: ops.apply(ops.IndexAdd, v, shape=(4, 2), index=np.array([0, 2, 2]),
                             dtype=np.float64), (uniform((3, 2)),)),
    Case("setitem", ops.SetItem, set_column, (uniform((2, 3)), leaf(0.7)), broadcasts=True),
    Case("copy_slices", ops.CopySlices,
         lambda base, v: ops.apply(ops.CopySlices, base, v, index=np.array([[4, 0], [2, 5]])),
         (uniform((2, 3)), uniform((2, 2), seed=1))),
    Case("copy_slices-in-place-on-a-view", ops.CopySlices, mul_columns_in_place,
         (uniform((2, 3)), uniform((2, 1), seed=1)), broadcasts=True),
    Case("unfold", ops.Unfold, lambda x: mt.unfold(x, 2), (uniform((1, 2, 3, 3)),)),
    Case("unfold-strided-padded", ops.Unfold, lambda x: mt.unfold(x, 2, padding=1, stride=2),
         (uniform((1, 1, 4, 4)),)),
    Case("fold", ops.Fold, lambda cols: mt.fold(cols, (3, 3), 2), (uniform((1, 8, 4)),)),
    Case("max_pool2d", ops.MaxPool2d, lambda x: mt.nn.functional.max_pool2d(x, 2),
         (distinct((2, 2, 4, 4)),)),
    Case("max_pool2d-overlapping-padded", ops.MaxPool2d,
         lambda x: mt.nn.functional.max_pool2d(x, 3, stride=2, padding=1),
         (distinct((1, 2, 5, 5)),)),
    Case("mse_loss", ops.MseLoss, lambda x, t: mt.nn.functional.mse_loss(x, t),
         (uniform((3, 2)), uniform((3, 2), seed=1))),
    Case("mse_loss-sum", ops.MseLoss,
         lambda x, t: mt.nn.functional.mse_loss(x, t, reduction="sum"),
         (uniform((4,)), uniform((4,), seed=1))),
    Case("mse_loss-none", ops.MseLoss,
         lambda x, t: mt.nn.functional.mse_loss(x, t, reduction="none"),
         (uniform((2, 3)), uniform((2, 3), seed=1))),
]
CASE = {c.name: c for c in CASES}
NO_GRADIENT = {ops.Fill, ops.Mask}  # outputs constant, or piecewise so, in the input


def differentiable_primitives() -> set:
    """Every concrete op class of microtensor.ops marked differentiable."""
    found, todo = set(), [ops.Op]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            in_table = sub.__module__.startswith(ops.__name__ + ".")
            if in_table and sub.differentiable and hasattr(sub, "forward"):
                found.add(sub)
    return found


# ----------------------------------------------------------------------- wrong VJPs
def each_gradient(transform: Callable) -> Callable:
    """A VJP wrapper applying `transform` to every gradient the VJP returns. Arrays in an
    ordinary backward, Tensors under create_graph; None (no gradient) stays None."""
    def mutate(vjp):
        def wrong(B, g, out, args, needs, **attrs):
            return tuple(None if gi is None else transform(gi)
                         for gi in vjp(B, g, out, args, needs, **attrs))
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


SIGN_FLIPS = [Mutant("sign-flip", c, _wrap_vjp(c, flip_sign), "flipped sign")
              for c in CASES if c.op not in NO_GRADIENT]
SCALINGS = [Mutant("scale-1.01", c, _wrap_vjp(c, scale_by_1_01), r"ratio = 1\.0")
            for c in CASES if c.op not in NO_GRADIENT]
DROPPED_REDUCTIONS = [Mutant("dropped-reduction", c, _drop_reduction,
                             "missing broadcast reduction") for c in CASES if c.broadcasts]
TRANSPOSITIONS = [
    Mutant("matmul-b-untransposed", CASE["matmul"],
           _replace_vjp(CASE["matmul"], matmul_b_untransposed), "input 0"),
    Mutant("matmul-a-untransposed", CASE["matmul"],
           _replace_vjp(CASE["matmul"], matmul_a_untransposed), "input 1"),
    Mutant("linear-weight-transposed", CASE["linear"],
           _replace_vjp(CASE["linear"], linear_weight_transposed), "input 0"),
    Mutant("linear-weight-gradient-transposed", CASE["linear"],
           _replace_vjp(CASE["linear"], linear_weight_gradient_transposed), "input 1"),
]
LEAKS = [Mutant("gradient-leak", CASE["fill"],
                _replace_vjp(CASE["fill"], fill_leaks_the_gradient), "input 0"),
         Mutant("gradient-leak", CASE["mask"],
                _replace_vjp(CASE["mask"], mask_leaks_the_gradient), "input 0")]
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
def test_every_differentiable_primitive_has_a_case():
    missing = differentiable_primitives() - {c.op for c in CASES}
    assert not missing, (f"no wrong-VJP case for {sorted(op.__name__ for op in missing)}: "
                         f"add one to CASES in {__name__}")


def test_the_primitive_enumeration_finds_ops_and_skips_non_differentiable_ones():
    found = differentiable_primitives()
    assert {ops.Add, ops.Split, ops.Amax, ops.Linear, ops.IndexAdd} <= found
    assert not {ops.Less, ops.LogicalNot, ops.ArgMax, ops.Op, ops._Extremum} & found


def test_every_op_that_broadcasts_its_inputs_has_a_broadcasting_case():
    broadcasting = {c.op for c in CASES if c.broadcasts}
    assert {ops.Add, ops.Sub, ops.Mul, ops.Div, ops.Pow, ops.Maximum, ops.Minimum, ops.Where,
            ops.MatMul, ops.Linear} <= broadcasting


def test_fill_returns_no_gradient_so_its_sign_and_scale_mutants_would_be_the_same_op():
    g = np.ones((2, 3))
    assert ops.Fill.vjp(mt.autograd._ArrayNS, g, None, (g,), (True,), value=2.0) == (None,)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_correct_vjp_passes(case):
    case.check()


@pytest.mark.parametrize("case", [c for c in CASES if not c.broadcasts], ids=lambda c: c.name)
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


def test_the_docstring_states_how_many_wrong_vjps_are_checked():
    assert f"{len(MUTANTS)} wrong VJPs are checked" in __doc__


def test_every_wrong_vjp_is_caught():
    escaped = [m.id for m in MUTANTS if not caught(m)]
    total = len(MUTANTS)
    assert total - len(escaped) == total, f"caught {total - len(escaped)} of {total}; " \
                                          f"escaped: {escaped}"
