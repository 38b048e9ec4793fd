"""Gradient behaviours that the op table's property test (test_ops.py: every case's
first and second derivatives against finite differences) cannot see: the kink and tie
rules stated in microtensor/ops, exact zeros where a piece is unused, gradients that
reach one input when the other is a constant, and the edge cases (0-d tensors, single
pieces) that once broke."""

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import grad_of, leaf
from hypothesis import given
from op_cases import split_sections, splittable

import microtensor as mt


def assert_gradients_match(fn, *inputs, **tolerances):
    """First and second derivatives of `fn` at `inputs` agree with finite differences."""
    assert mt.testing.gradcheck(fn, inputs, **tolerances)
    assert mt.testing.gradgradcheck(fn, inputs, **tolerances)


# ------------------------------------------------------------------------- unused pieces
@given(shapes=splittable(), data=st.data())
def test_split_gives_exactly_zero_gradient_to_the_pieces_that_are_not_used(shapes, data):
    x = leaf(np.ones(shapes[0]))
    attrs = data.draw(split_sections(shapes, one_piece=True), label="attrs")
    sections, dim, k = attrs["split_size_or_sections"], attrs["dim"], attrs["piece"]
    pieces = mt.split(x, sections, dim)
    start = sum(p.shape[dim] for p in pieces[:k])
    expected = np.zeros(x.shape)
    np.moveaxis(expected, dim, 0)[start : start + pieces[k].shape[dim]] = 1.0
    (g,) = mt.autograd.grad(pieces[k].sum(), x)
    np.testing.assert_array_equal(g.numpy(force=True), expected)


# --------------------------------------------------------- gradients of constants' partners
def test_linear_gives_the_input_its_gradient_when_the_weight_is_frozen():
    x = leaf([[1.0, 2.0]])
    w = mt.tensor([[3.0, 4.0]], dtype=mt.float64)
    mt.ops.linear(x, w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [[3.0, 4.0]])


def test_linear_weight_gradient_sums_over_every_batch_dim_of_a_3d_input():
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4))
    w = leaf(wv)
    mt.ops.linear(mt.tensor(xv), w).sum().backward()
    np.testing.assert_allclose(
        w.grad.numpy(force=True), np.ones((2, 3, 5)).reshape(-1, 5).T @ xv.reshape(-1, 4)
    )


@pytest.mark.parametrize("fn", [mt.maximum, mt.minimum])
def test_maximum_and_minimum_with_a_constant_give_the_tensor_its_gradient(fn):
    x = leaf([1.0, 5.0])
    fn(x, mt.tensor([3.0, 3.0], dtype=mt.float64)).sum().backward()
    expected = [0.0, 1.0] if fn is mt.maximum else [1.0, 0.0]
    np.testing.assert_array_equal(x.grad.numpy(force=True), expected)


# ------------------------------------------------------------- kinks and ties (golden)
def test_relu_gradient_at_zero_is_zero():
    (g,) = grad_of(mt.relu, leaf([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_abs_gradient_at_zero_is_zero():
    (g,) = grad_of(mt.abs, leaf([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


def test_leaky_relu_gradient_at_zero_is_the_negative_slope():
    (g,) = grad_of(lambda a: mt.leaky_relu(a, negative_slope=0.2), leaf([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.2, 0.2, 1.0])


def test_elu_gradient_at_zero_is_alpha():
    (g,) = grad_of(lambda a: mt.elu(a, alpha=0.5), leaf([0.0, 1.0]))
    np.testing.assert_array_equal(g, [0.5, 1.0])


def test_maximum_of_equal_values_gives_half_the_gradient_to_each_side():
    ga, gb = grad_of(mt.maximum, leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 3.0]))
    np.testing.assert_array_equal(ga, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.5])


def test_minimum_of_equal_values_gives_half_the_gradient_to_each_side():
    ga, gb = grad_of(mt.minimum, leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 3.0]))
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 0.5])


def test_maximum_of_a_tensor_with_itself_has_gradient_one():
    (g,) = grad_of(lambda a: mt.maximum(a, a), leaf([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_amax_splits_the_gradient_evenly_between_tied_maxima():
    (g,) = grad_of(mt.amax, leaf([1.0, 3.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


def test_max_along_a_dim_splits_the_gradient_evenly_between_tied_maxima():
    (g,) = grad_of(lambda a: mt.max(a, 1).values, leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]))
    np.testing.assert_allclose(g, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


def test_amin_splits_the_gradient_evenly_between_tied_minima():
    (g,) = grad_of(mt.amin, leaf([1.0, 1.0, 3.0]))
    np.testing.assert_array_equal(g, [0.5, 0.5, 0.0])


def test_clamp_passes_the_gradient_at_exactly_the_boundaries():
    x = leaf([-1.0, -0.5, 0.0, 0.5, 1.0])
    (g,) = grad_of(lambda a: mt.clamp(a, -0.5, 0.5), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
    (g,) = grad_of(lambda a: mt.clamp(a, min=-0.5), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 1.0])
    (g,) = grad_of(lambda a: mt.clamp(a, max=0.5), x)
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0, 1.0, 0.0])


def test_getitem_with_a_repeated_index_accumulates_the_gradient():
    (g,) = grad_of(lambda a: a[[0, 0, 1]], leaf([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(g, [2.0, 1.0, 0.0])


# ------------------------------------------- edge cases that once broke (0-d, single pieces)
def test_var_and_std_methods_have_the_gradient_of_the_functions():
    x = leaf([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    assert_gradients_match(lambda a: a.var(1, correction=0), x)
    assert_gradients_match(lambda a: a.std(), x)


@pytest.mark.parametrize("fn", [mt.softmax, mt.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_of_a_0d_tensor_has_zero_gradient(fn):
    (g,) = grad_of(lambda a: fn(a, 0), leaf(1.5))
    assert g == 0.0


def test_transpose_of_a_0d_tensor_is_the_identity():
    assert_gradients_match(lambda a: a.transpose(0, -1), leaf(1.5))


@pytest.mark.parametrize(
    "fn",
    [lambda a: mt.split(a, 2, 0)[0], lambda a: mt.split(a, [2], 0)[0], lambda a: mt.chunk(a, 1)[0]],
    ids=["split_size_covering_the_dim", "one_section", "one_chunk"],
)
def test_split_into_a_single_piece_passes_the_gradient_through(fn):
    (g,) = grad_of(fn, leaf([[1.0], [2.0]]))
    np.testing.assert_array_equal(g, [[1.0], [1.0]])


def test_cat_of_a_single_tensor_has_a_correct_second_derivative():
    assert mt.testing.gradgradcheck(lambda a: mt.cat([a], 0), (leaf([[1.0], [2.0]]),))
