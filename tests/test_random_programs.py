"""Gradients stay right under in-place ops and views: random programs decided by finite
differences.

Each program (microtensor.testing.programs) mixes ops with in-place changes of
intermediates, of constants made inside it and of views of both, then reads tensors
after they changed. It either raises a RuntimeError naming an in-place change, a view
or a leaf, where PyTorch's rules allow one (at the in-place op or in backward; "a
second time" and "freed" are never right), or its gradients from one backward(), from
one grad(create_graph=True) and from check_grads (to the second order) all match
central differences. The explicit examples are the cases an engine without PyTorch's
view and in-place rules gets wrong.
"""

from collections import Counter

from hypothesis import event, example, given

from microtensor.testing import Program, check_program, programs, random_program
from microtensor.testing.programs import EITHER, RAISES, REFUSED, SUCCEEDS

X = {"x": [1.0, 2.0]}
W = {"w": [3.0]}

# PyTorch: x.grad == [8, 8]; z keeps the y it was made from, y.mul_(3) comes on top
USE_AFTER_INPLACE = Program(X, ["y = x * 2", "z = y + 1", "y.mul_(3)"], "z.sum() + y.sum()")
# a's exp saved its output, a, which fill_ changes: PyTorch raises (right gradients do too)
SAVED_OUTPUT_CHANGED = Program(
    X, ["a = x.exp()", "b = a.exp()", "a.fill_(0.75)"], "b.sum()", expect=EITHER
)
# a constant changed in place by a tensor that requires grad: w.grad == 2, then -2/9
CONSTANT_TIMES_GRAD = Program(W, ["c = mt.tensor([2.0], dtype=mt.float64)", "c.mul_(w)"], "c.sum()")
CONSTANT_OVER_GRAD = Program(W, ["c = mt.tensor([2.0], dtype=mt.float64)", "c /= w"], "c.sum()")
# exp saved its output, not y: e^x at the x it saw, to both orders (not e^(x + 1))
INPUT_CHANGED_UNDER_CREATE_GRAPH = Program(
    X, ["y = x * 1.0", "z = y.exp()", "y.add_(1)"], "z.sum()"
)
# w saved y, which changed through a view: PyTorch raises in backward
SAVED_INPUT_CHANGED_THROUGH_VIEW = Program(
    X, ["y = x * 1.0", "w = y * y", "y[0:1].mul_(10)"], "w.sum()", expect=RAISES
)
# a view's in-place change is its base's: x.grad == [10, 1]
BASE_AFTER_SLICE_CHANGED = Program(X, ["y = x * 1.0", "y[0:1].mul_(10)"], "y.sum()")
BASE_AFTER_RESHAPE_VIEW_CHANGED = Program(X, ["y = x * 1.0", "y.view(2, 1)[0].mul_(10)"], "y.sum()")
# PyTorch refuses in-place changes of split pieces; a right gradient would do too
BASE_AFTER_SPLIT_PIECE_CHANGED = Program(
    X, ["y = x * 1.0", "y.split(1)[0].mul_(10)"], "y.sum()", expect=EITHER
)
# x copied into a view of a constant: x.grad == 2x
COPY_INTO_VIEW_OF_CONSTANT = Program(
    X, ["c = mt.zeros(3, dtype=mt.float64)", "c[0:2].copy_(x)"], "(c * c).sum()"
)
# x[0] is a (0-d) view of the leaf, as every int index is in PyTorch: refused
INT_INDEX_OF_LEAF_CHANGED = Program(X, ["x[0].zero_()"], "x.sum()", expect=REFUSED)


@given(programs())
@example(USE_AFTER_INPLACE)
@example(SAVED_OUTPUT_CHANGED)
@example(CONSTANT_TIMES_GRAD)
@example(CONSTANT_OVER_GRAD)
@example(INPUT_CHANGED_UNDER_CREATE_GRAPH)
@example(SAVED_INPUT_CHANGED_THROUGH_VIEW)
@example(BASE_AFTER_SLICE_CHANGED)
@example(BASE_AFTER_RESHAPE_VIEW_CHANGED)
@example(BASE_AFTER_SPLIT_PIECE_CHANGED)
@example(COPY_INTO_VIEW_OF_CONSTANT)
@example(INT_INDEX_OF_LEAF_CHANGED)
def test_random_programs_have_right_gradients_or_raise_an_inplace_error(program):
    event(f"outcome: {check_program(program)}")
    event(f"expect: {program.expect}")
    for feature in sorted(program.features):
        event(feature)


def test_most_random_programs_reach_the_gradient_comparison():
    """Not vacuous: from fixed seeds, most programs (in-place changes of views among
    them) get their gradients compared, and each rule of the generator shows up."""
    outcomes = Counter()
    compared = Counter()
    for seed in range(100):
        program = random_program(seed)
        outcome = check_program(program)
        outcomes[outcome] += 1
        if outcome == "gradients match":
            compared.update(program.features)
            compared[program.expect] += 1
        elif program.expect == REFUSED:
            outcomes["refused"] += 1
    assert outcomes["gradients match"] >= 70, outcomes
    assert compared["in-place on a view"] >= 20, compared
    assert compared[SUCCEEDS] >= 30, compared
    for feature in (
        "in-place into a constant, grad-carrying argument",
        "setitem",
        "view used after its storage changed",
        "tensor used after a view of it changed",
        "in-place on a split piece",
    ):
        assert compared[feature] >= 2, (feature, compared)
    assert outcomes["refused"] >= 2, outcomes  # in-place ops on leaves, and their views


def test_a_program_prints_as_source_that_runs():
    program = next(
        p
        for p in map(random_program, range(100))
        if p.expect == SUCCEEDS and "in-place on a view" in p.features
    )
    namespace: dict = {}
    exec(program.source, namespace)
    assert any(namespace[name].grad is not None for name in program.leaves)


def test_the_same_seed_draws_the_same_program():
    assert random_program(7).source == random_program(7).source
    assert random_program(7).source != random_program(8).source
