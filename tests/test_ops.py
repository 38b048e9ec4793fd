"""The op table, case by case: every row of the op-case table (tests/op_cases/) against its numpy reference
and, where it has a gradient, against finite differences to second order; the table's
completeness; and the forward behaviours of the op functions that a reference on random
inputs does not pin (defaults, argument forms, result shapes).

Hypothesis draws each row's inputs (0-d and size-1 dims included, shapes that broadcast,
attributes such as dims, sizes and slopes) from the row's strategies, starting from its
fixed examples. Values come from domains that keep finite differences meaningful: away
from kinks, poles and ties. The kinks and ties themselves, and the gradient behaviours
finite differences cannot see, are in test_ops_gradients.py; the wrong-VJP mutants of
the same cases in test_wrong_vjps.py; the op functions' argument errors in
test_errors.py."""

import sys

import numpy as np
import pytest
from helpers import leaf
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import CASES, ROWS, OpCase, Sample

import microtensor as mt
from microtensor import ops


def samples(row: OpCase):
    """The row's drawn samples, its fixed examples first."""
    examples = [case.sample for case in CASES if case.row is row]
    return st.one_of(st.sampled_from(examples), row.strategy()) if examples else row.strategy()


def assert_value_matches(row: OpCase, sample: Sample) -> None:
    """Same shapes, dtypes and values as the numpy reference (float values to 1e-12)."""
    out = sample.bind(row.fn)(*sample.tensors)
    expected = row.reference(*(t.numpy(force=True).copy() for t in sample.tensors), **sample.attrs)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(outs) == len(expected), f"{len(outs)} outputs, expected {len(expected)}"
    for o, e in zip(outs, expected):
        e = np.asarray(e)
        assert (o.shape, o.dtype) == (e.shape, e.dtype), "the value's shape or dtype"
        # np.allclose is cheap, numpy's testing asserts (which explain) are not
        if e.dtype.kind == "f" and not np.allclose(o.numpy(force=True), e, rtol=1e-12, atol=1e-12):
            np.testing.assert_allclose(
                o.numpy(force=True),
                e,
                rtol=1e-12,
                atol=1e-12,
                err_msg="the value differs from numpy's",
            )
        if e.dtype.kind != "f" and not np.array_equal(o.numpy(force=True), e):
            np.testing.assert_array_equal(
                o.numpy(force=True), e, err_msg="the value differs from numpy's"
            )


def assert_derivatives_match(row: OpCase, sample: Sample) -> None:
    """First and second derivatives agree with finite differences."""
    fn = sample.bind(row.fn)
    assert mt.testing.gradcheck(fn, sample.tensors, **row.tolerances)
    assert mt.testing.gradgradcheck(fn, sample.tensors, **row.tolerances)


# --------------------------------------------------------------------- every case
# Examples per row, from the hypothesis profile (25 by default, 100 with CI=true). The
# draws cost more than the checks: at three quarters of the profile the table's rows
# draw fewer samples in all than the hand-written property tests they replaced did at
# the whole profile, so CI takes no longer. A row without a gradient checks a value
# only: a quarter of the profile.
PROFILE = settings().max_examples
ROW_EXAMPLES = PROFILE * 3 // 4
VALUE_EXAMPLES = PROFILE // 4


@pytest.mark.parametrize(
    "row", [row for row in ROWS if row.differentiable], ids=lambda row: row.name
)
@settings(max_examples=ROW_EXAMPLES)
@given(data=st.data())
def test_value_matches_numpy_and_derivatives_match_finite_differences(row, data):
    """One draw serves both checks: hypothesis's draws cost more than the checks."""
    sample = data.draw(samples(row), label="sample")
    assert_value_matches(row, sample)
    assert_derivatives_match(row, sample)


@pytest.mark.parametrize(
    "row", [row for row in ROWS if not row.differentiable], ids=lambda row: row.name
)
@settings(max_examples=VALUE_EXAMPLES)
@given(data=st.data())
def test_value_of_an_op_without_gradient_matches_numpy(row, data):
    assert_value_matches(row, data.draw(samples(row), label="sample"))


# ------------------------------------------------------------- the table is complete
def op_classes() -> set:
    """Every concrete op class of microtensor.ops (those with a forward)."""
    found, todo = set(), [ops.Op]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(ops.__name__ + ".") and hasattr(sub, "forward"):
                found.add(sub)
    return found


def differentiable_primitives() -> set:
    return {op for op in op_classes() if op.differentiable}


def test_every_row_and_every_case_has_a_name_of_its_own():
    assert len({row.name for row in ROWS}) == len(ROWS)
    assert len({case.name for case in CASES}) == len(CASES)


def test_every_differentiable_primitive_has_a_case():
    missing = differentiable_primitives() - {row.op for row in ROWS}
    assert not missing, (
        f"no case for {sorted(op.__name__ for op in missing)}: add a row "
        f"to ROWS of its family in tests/op_cases/"
    )


def test_every_op_without_a_gradient_has_a_case():
    missing = op_classes() - differentiable_primitives() - {row.op for row in ROWS}
    assert not missing, (
        f"no case for {sorted(op.__name__ for op in missing)}: add a row "
        f"to ROWS of its family in tests/op_cases/"
    )


def test_the_primitive_enumeration_finds_ops_and_skips_non_differentiable_ones():
    found = differentiable_primitives()
    assert {ops.Add, ops.Split, ops.Amax, ops.Linear, ops.IndexAdd} <= found
    assert not {ops.Less, ops.LogicalNot, ops.ArgMax, ops.Op, ops._Extremum} & found
    assert {ops.Less, ops.LogicalNot, ops.ArgMax} <= op_classes()


def methods_called(fn, sample: Sample) -> set:
    """The names of the Tensor methods (ops.METHODS) that `fn` itself calls on `sample`,
    as a method, an operator or a function of mt (not those they call in turn)."""
    names_of: dict = {}
    for name, method in ops.METHODS.items():
        names_of.setdefault(id(method), []).append(name)
    called = set()

    def spy(names, real):
        def spied(*args, **kwargs):
            if sys._getframe(1).f_code is fn.__code__:
                called.update(names)
            return real(*args, **kwargs)

        return spied

    with pytest.MonkeyPatch.context() as mp:
        for owner in (mt.Tensor, mt):
            for attr, value in list(vars(owner).items()):
                names = names_of.get(id(value))
                if names:  # x.view is x.reshape: the name used is the one called
                    mp.setattr(owner, attr, spy([attr] if attr in names else names, value))
        sample.bind(fn)(*sample.tensors)
    return called


def methods_exercised() -> set:
    """The Tensor methods that a case is, or that a case calls itself."""
    names = set()
    for case in CASES:
        names |= {name for name, method in ops.METHODS.items() if case.row.fn is method}
        names |= methods_called(case.row.fn, case.sample)
    return names


def test_every_op_function_that_is_a_tensor_method_is_called_by_a_case():
    missing = set(ops.METHODS) - methods_exercised()
    assert not missing, f"no case calls {sorted(missing)}: add a row to ROWS in tests/op_cases/"


def test_the_method_spy_sees_the_calls_a_case_makes_itself_and_no_deeper_ones():
    fn = lambda x: mt.add(mt.exp(x.var(1)), x.view(-1).sum())  # noqa: E731
    called = methods_called(fn, Sample((leaf([[1.0, 2.0], [0.5, 4.0]]),)))
    assert called == {"exp", "var", "add", "view", "sum"}  # var's own - and * are not


# -------------------------------------------------------- the function forms and defaults
@pytest.mark.parametrize(
    "fn, expected",
    [
        (mt.sub, [-2.0, 4.0]),
        (mt.div, [1 / 3, 3.0]),
        (mt.eq, [False, False]),
        (mt.ne, [True, True]),
        (mt.lt, [True, False]),
        (mt.le, [True, False]),
        (mt.gt, [False, True]),
        (mt.ge, [False, True]),
    ],
)
def test_binary_functions_compute_what_their_names_say(fn, expected):
    a, b = mt.tensor([1.0, 6.0]), mt.tensor([3.0, 2.0])
    np.testing.assert_allclose(fn(a, b).numpy(force=True), expected)


def test_neg_and_the_logical_functions_compute_what_their_names_say():
    a, b = mt.tensor([True, False]), mt.tensor([True, True])
    np.testing.assert_array_equal(mt.logical_and(a, b).numpy(force=True), [True, False])
    np.testing.assert_array_equal(
        mt.logical_or(a, mt.tensor([False, False])).numpy(force=True), [True, False]
    )
    np.testing.assert_array_equal(mt.logical_not(a).numpy(force=True), [False, True])
    np.testing.assert_array_equal(mt.neg(mt.tensor([1.0, -2.0])).numpy(force=True), [-1.0, 2.0])


def test_where_picks_from_x_where_the_condition_holds_else_from_y():
    out = mt.where(mt.tensor([True, False]), mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(out.numpy(force=True), [1.0, 4.0])


def test_linear_adds_its_bias():
    x = mt.tensor([[1.0, 2.0]])
    w = mt.tensor([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(
        mt.ops.linear(x, w, mt.tensor([10.0, 20.0])).numpy(force=True), [[11.0, 22.0]]
    )


def test_activation_defaults_match_pytorch():
    x = mt.tensor([-1.0, 2.0], dtype=mt.float64)
    np.testing.assert_allclose(mt.leaky_relu(x).numpy(force=True), [-0.01, 2.0])
    np.testing.assert_allclose(mt.elu(x).numpy(force=True), [np.expm1(-1.0), 2.0])
    assert mt.softplus(mt.tensor([20.5], dtype=mt.float64)).item() == 20.5  # linear above 20


def test_softplus_is_linear_only_strictly_above_its_threshold():
    x = leaf([20.0])
    y = mt.softplus(x)
    assert y.item() == 20.0 + np.log1p(np.exp(-20.0))
    y.sum().backward()
    assert x.grad.item() < 1.0  # sigmoid(20), not the linear part's 1


def test_pad_fills_with_the_value_given():
    np.testing.assert_array_equal(
        mt.pad(mt.ones(1), (1, 1), value=5.0).numpy(force=True), [5.0, 1.0, 5.0]
    )


def test_fold_defaults_to_stride_1_no_padding_no_dilation():
    out = mt.fold(mt.ones(1, 4, 4), (3, 3), 2)  # every 2x2 window of a 3x3 image
    np.testing.assert_array_equal(out.numpy(force=True)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ----------------------------------------------------------------- reductions with a dim
def test_max_and_min_along_a_dim_with_keepdim_give_values_and_indices():
    x = mt.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    values, indices = mt.max(x, 1, keepdim=True)
    np.testing.assert_array_equal(values.numpy(force=True), [[5.0], [6.0]])
    np.testing.assert_array_equal(indices.numpy(force=True), [[1], [2]])
    values, indices = mt.min(x, 0, keepdim=True)
    np.testing.assert_array_equal(values.numpy(force=True), [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(indices.numpy(force=True), [[0, 1, 0]])
    assert mt.max(x, 1).values.shape == (2,)
    values, indices = mt.min(x, 1)
    np.testing.assert_array_equal(values.numpy(force=True), [1.0, 2.0])
    np.testing.assert_array_equal(indices.numpy(force=True), [0, 1])


def test_argmax_and_argmin_along_a_dim_with_and_without_keepdim():
    x = mt.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    np.testing.assert_array_equal(mt.argmax(x, 1, keepdim=True).numpy(force=True), [[1], [2]])
    np.testing.assert_array_equal(mt.argmin(x, 1).numpy(force=True), [0, 1])
    np.testing.assert_array_equal(mt.argmin(x, 0, keepdim=True).numpy(force=True), [[0, 1, 0]])
    assert mt.argmax(x).shape == ()  # over all elements: a flat index
    # keepdim without a dim keeps every dim, as size 1 (PyTorch 2.13: tensor([[5]]))
    np.testing.assert_array_equal(mt.argmax(x, keepdim=True).numpy(force=True), [[5]])
    assert mt.argmin(x).item() == 0


def test_amax_amin_and_mean_reduce_only_the_dim_asked_and_drop_it_by_default():
    x = mt.tensor([[1.0, 5.0], [4.0, 2.0]])
    np.testing.assert_array_equal(mt.amax(x, 0).numpy(force=True), [4.0, 5.0])
    np.testing.assert_array_equal(mt.amin(x, 1).numpy(force=True), [1.0, 2.0])
    np.testing.assert_array_equal(mt.mean(x, 1).numpy(force=True), [3.0, 3.0])
    assert mt.amax(x).shape == mt.amin(x).shape == mt.mean(x).shape == ()


def test_all_and_any_along_a_dim_with_keepdim():
    x = mt.tensor([[True, False], [True, True]])
    np.testing.assert_array_equal(mt.all(x, 1).numpy(force=True), [False, True])
    np.testing.assert_array_equal(mt.any(x, 0, keepdim=True).numpy(force=True), [[True, True]])
    np.testing.assert_array_equal(mt.all(x, 0, keepdim=True).numpy(force=True), [[True, False]])
    np.testing.assert_array_equal(
        mt.any(mt.tensor([[False, False], [False, True]]), 1).numpy(force=True), [False, True]
    )


# ------------------------------------------------------------------------- shape functions
def test_squeeze_drops_only_the_size_1_dims_asked_for():
    x = mt.zeros(1, 2, 1)
    assert mt.squeeze(x).shape == (2,)
    assert mt.squeeze(x, 0).shape == (2, 1)
    assert mt.squeeze(x, (0, 2)).shape == (2,)
    assert mt.squeeze(x, 1).shape == (1, 2, 1)


def test_flatten_of_a_0d_tensor_and_of_a_range_of_dims():
    assert mt.flatten(mt.tensor(3.0)).shape == (1,)
    assert mt.flatten(mt.zeros(2, 3, 4)).shape == (24,)
    assert mt.flatten(mt.zeros(2, 3, 4), 1).shape == (2, 12)
    assert mt.flatten(mt.zeros(2, 3, 4), 0, 1).shape == (6, 4)


def test_expand_keeps_a_dim_given_as_minus_1_and_adds_leading_dims():
    x = mt.tensor([[1.0], [2.0]])
    assert mt.expand(x, 3, -1, 4).shape == (3, 2, 4)


def test_chunk_and_split_along_a_later_dim_and_split_defaults_to_dim_0():
    x = mt.zeros(4, 6)
    assert [p.shape for p in mt.chunk(x, 3, 1)] == [(4, 2)] * 3
    assert [p.shape for p in mt.chunk(x, 4)] == [(1, 6)] * 4
    assert [p.shape for p in mt.split(x, 3)] == [(3, 6), (1, 6)]
    assert [p.shape for p in mt.split(mt.zeros(0, 2), 2)] == [(0, 2)]


def test_cat_defaults_to_dim_0():
    assert mt.cat([mt.zeros(1, 2), mt.zeros(3, 2)]).shape == (4, 2)


def test_pad_pads_the_last_dims_first_with_the_before_and_after_widths_given():
    x = mt.ones(1, 2)
    out = mt.pad(x, (1, 2))
    np.testing.assert_array_equal(out.numpy(force=True), [[0.0, 1.0, 1.0, 0.0, 0.0]])
    assert mt.pad(x, (0, 0, 1, 0)).shape == (2, 2)
    assert mt.pad(mt.ones(2, 2, 2), (1, 1, 1, 1)).shape == (2, 4, 4)
    assert mt.pad(mt.ones(1, 1), (1, 2, 3, 4)).shape == (8, 4)


def test_reshape_infers_one_minus_1_dim():
    x = mt.zeros(2, 6)
    assert mt.reshape(x, -1, 3).shape == (4, 3)
    assert mt.reshape(x, 1, -1).shape == (1, 12)
    assert mt.reshape(x, (3, 4)).shape == (3, 4)
