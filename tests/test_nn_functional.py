"""nn.functional: convolution, pooling, unfold, dropout and what activations do beyond
the op table.

Every windowed op is checked against a naive nested-loop reference in plain numpy
(tests/references.py: loops over n, c, oh, ow, kh, kw, with the window bounds tested
element by element), on shapes, strides, paddings and dilations drawn by hypothesis
(op_cases.window_configs); the number of output positions is counted by the loops, not
computed with the library's formula. Gradients go through `mt.testing.check_grads`.
The functions that are ops (unfold, fold, max_pool2d, the activations, linear,
mse_loss) also have rows in the op-case table, which checks their values and
derivatives on small inputs.
"""

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given, settings
from numpy.testing import assert_allclose
from op_cases import values, window_configs
from references import (
    avg_pool2d_reference,
    conv2d_reference,
    fold_reference,
    max_pool2d_reference,
    unfold_reference,
)

import microtensor as mt

F = mt.nn.functional


# ------------------------------------------------------------------------ references
def test_references_agree_with_a_hand_computed_example():
    """The references themselves, pinned on numbers worked out by hand."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2))
    assert_allclose(
        conv2d_reference(x, w, None, (2, 2), (0, 0), (1, 1)),
        [[[[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]]]],
    )
    assert_allclose(
        max_pool2d_reference(x, (2, 2), (2, 2), (1, 1), (1, 1)),
        [[[[0, 2, 3], [8, 10, 11], [12, 14, 15]]]],
    )
    assert_allclose(
        avg_pool2d_reference(x, (2, 2), (2, 2), (1, 1)),
        [
            [
                [
                    [0 / 4, (1 + 2) / 4, 3 / 4],
                    [(4 + 8) / 4, (5 + 6 + 9 + 10) / 4, (7 + 11) / 4],
                    [12 / 4, (13 + 14) / 4, 15 / 4],
                ]
            ]
        ],
    )
    assert_allclose(unfold_reference(x, (2, 2), (2, 2), (0, 0), (1, 1))[0, :, 0], [0, 1, 4, 5])
    assert_allclose(
        fold_reference(np.ones((1, 4, 4)), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1)),
        [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]],
    )  # how many 2x2 windows cover each


# --------------------------------------------------------------------------- conv2d
@given(window_configs(), st.integers(1, 3), st.booleans(), st.data())
def test_conv2d_matches_the_nested_loop_reference(config, out_channels, with_bias, data):
    shape, kernel, stride, padding, dilation = config
    x = data.draw(values(shape))
    w = data.draw(values((out_channels, shape[1], *kernel)))
    b = data.draw(values((out_channels,))) if with_bias else None
    out = F.conv2d(
        mt.tensor(x), mt.tensor(w), None if b is None else mt.tensor(b), stride, padding, dilation
    )
    assert_allclose(
        out.numpy(force=True),
        conv2d_reference(x, w, b, stride, padding, dilation),
        rtol=1e-12,
        atol=1e-12,
    )


@settings(max_examples=15)
@given(window_configs(max_side=2), st.integers(1, 2), st.data())
def test_conv2d_gradients_match_finite_differences(config, out_channels, data):
    shape, kernel, stride, padding, dilation = config
    x = leaf(data.draw(values(shape)))
    w = leaf(data.draw(values((out_channels, shape[1], *kernel))))
    b = leaf(data.draw(values((out_channels,))))
    mt.testing.check_grads(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation), x, w, b)


@pytest.mark.parametrize(
    "stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (1, 1, 2), ((1, 2), (0, 1), (2, 1))]
)
def test_conv2d_second_derivatives_match_finite_differences(stride, padding, dilation):
    rng = np.random.default_rng(0)
    x = leaf(rng.standard_normal((1, 2, 4, 3)))
    w = leaf(rng.standard_normal((2, 2, 2, 2)))
    b = leaf(rng.standard_normal(2))
    mt.testing.check_grads(
        lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation), x, w, b, order=2
    )


def test_conv2d_of_a_rectangular_kernel_matches_the_reference():
    rng = np.random.default_rng(1)
    x, w, b = (
        rng.standard_normal((2, 3, 7, 6)),
        rng.standard_normal((4, 3, 3, 1)),
        rng.standard_normal(4),
    )
    out = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b), stride=(2, 1), padding=(1, 0))
    assert out.shape == (2, 4, 4, 6)
    assert_allclose(
        out.numpy(force=True), conv2d_reference(x, w, b, (2, 1), (1, 0), (1, 1)), atol=1e-12
    )


def test_conv2d_layer_without_bias_has_no_bias_parameter_and_matches_the_reference():
    conv = mt.nn.Conv2d(2, 3, (2, 3), bias=False, dtype=mt.float64)
    assert conv.bias is None
    assert [name for name, _ in conv.named_parameters()] == ["weight"]
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 5))
    out = conv(mt.tensor(x))
    assert out.shape == (1, 3, 4, 3)
    assert_allclose(
        out.numpy(force=True),
        conv2d_reference(x, conv.weight.numpy(force=True), None, (1, 1), (0, 0), (1, 1)),
        atol=1e-12,
    )


def test_conv2d_layer_with_batch_of_one_matches_the_reference():
    conv = mt.nn.Conv2d(1, 2, 3, stride=2, padding=1, dilation=1, dtype=mt.float64)
    x = np.random.default_rng(3).standard_normal((1, 1, 5, 4))
    out = conv(mt.tensor(x))
    assert_allclose(
        out.numpy(force=True),
        conv2d_reference(
            x, conv.weight.numpy(force=True), conv.bias.numpy(force=True), (2, 2), (1, 1), (1, 1)
        ),
        atol=1e-12,
    )


def test_conv2d_with_a_wrong_channel_count_names_both_shapes():
    with pytest.raises(ValueError, match=r"conv2d.*\(1, 3, 4, 4\).*\(2, 2, 3, 3\)"):
        F.conv2d(mt.ones(1, 3, 4, 4), mt.ones(2, 2, 3, 3))


def test_conv2d_layer_with_a_wrong_channel_count_names_both_shapes():
    conv = mt.nn.Conv2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"\(1, 4, 5, 5\).*\(2, 3, 3, 3\)"):
        conv(mt.ones(1, 4, 5, 5))


def test_conv2d_bias_of_the_wrong_shape_names_both_shapes():
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(4,\).*\(3, 2, 2, 2\)"):
        F.conv2d(mt.ones(1, 2, 4, 4), mt.ones(3, 2, 2, 2), mt.ones(4))


def test_conv2d_of_an_unbatched_input_is_the_batched_result_of_one_sample():
    x, w = mt.randn(3, 4, 4), mt.randn(2, 3, 3, 3)
    assert_allclose(
        F.conv2d(x, w).numpy(force=True), F.conv2d(x.unsqueeze(0), w)[0].numpy(force=True)
    )


def test_conv2d_rejects_a_two_dimensional_input():
    with pytest.raises(ValueError, match=r"conv2d.*\(4, 4\)"):
        F.conv2d(mt.ones(4, 4), mt.ones(2, 3, 3, 3))


def test_conv2d_kernel_larger_than_the_padded_input_is_an_error():
    with pytest.raises(ValueError, match=r"conv2d: .*\(3, 3\).*does not fit.*\(1, 1, 2, 2\)"):
        F.conv2d(mt.ones(1, 1, 2, 2), mt.ones(1, 1, 3, 3))


# ------------------------------------------------------------------------ max_pool2d
@given(window_configs(pool=True), st.data())
def test_max_pool2d_matches_the_nested_loop_reference(config, data):
    shape, kernel, stride, padding, dilation = config
    x = data.draw(values(shape))
    out = F.max_pool2d(mt.tensor(x), kernel, stride, padding, dilation)
    assert_allclose(
        out.numpy(force=True), max_pool2d_reference(x, kernel, stride, padding, dilation)
    )


def test_max_pool2d_padding_never_wins_over_negative_inputs():
    x = mt.full((1, 1, 2, 2), -5.0)
    out = F.max_pool2d(x, 2, stride=1, padding=1)
    assert_allclose(out.numpy(force=True), np.full((1, 1, 3, 3), -5.0))


def test_max_pool2d_sends_the_gradient_only_to_the_maximum_not_to_the_padding():
    x = mt.tensor([[[[1.0, 4.0], [3.0, 2.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, stride=1, padding=1).sum().backward()
    # each of the 3x3 windows sees a subset of x; count how often each element wins
    assert_allclose(x.grad.numpy(force=True), [[[[1, 4], [3, 1]]]])


def test_max_pool2d_tied_maxima_share_the_gradient_evenly():
    x = mt.tensor([[[[2.0, 2.0, 1.0], [0.0, 2.0, 1.0]]]], requires_grad=True)
    F.max_pool2d(x, (2, 3)).sum().backward()
    assert_allclose(x.grad.numpy(force=True), [[[[1 / 3, 1 / 3, 0], [0, 1 / 3, 0]]]])


def test_max_pool2d_stride_defaults_to_the_kernel_size():
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 4))
    out = F.max_pool2d(mt.tensor(x), (3, 2))
    assert_allclose(out.numpy(force=True), max_pool2d_reference(x, (3, 2), (3, 2), (0, 0), (1, 1)))


def test_max_pool2d_padding_over_half_the_kernel_is_an_error():
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\).*kernel_size \(2, 2\)"):
        F.max_pool2d(mt.ones(1, 1, 4, 4), 2, stride=1, padding=2)


def test_max_pool2d_of_an_unbatched_input_is_the_batched_result_of_one_sample():
    x = mt.randn(2, 4, 4)
    assert_allclose(
        F.max_pool2d(x, 2).numpy(force=True), F.max_pool2d(x.unsqueeze(0), 2)[0].numpy(force=True)
    )


def test_max_pool2d_rejects_a_two_dimensional_input():
    with pytest.raises(ValueError, match=r"max_pool2d.*\(4, 4\)"):
        F.max_pool2d(mt.ones(4, 4), 2)


# ------------------------------------------------------------------------ avg_pool2d
@given(window_configs(pool=True, max_dilation=1), st.data())
def test_avg_pool2d_matches_the_nested_loop_reference_counting_padded_zeros(config, data):
    shape, kernel, stride, padding, _ = config
    x = data.draw(values(shape))
    out = F.avg_pool2d(mt.tensor(x), kernel, stride, padding)
    assert_allclose(
        out.numpy(force=True), avg_pool2d_reference(x, kernel, stride, padding), atol=1e-12
    )


@settings(max_examples=30)
@given(window_configs(pool=True, max_side=2, max_dilation=1), st.data())
def test_avg_pool2d_gradients_match_finite_differences(config, data):
    shape, kernel, stride, padding, _ = config
    x = leaf(data.draw(values(shape)))
    mt.testing.check_grads(lambda x: F.avg_pool2d(x, kernel, stride, padding), x)


def test_avg_pool2d_corner_window_with_padding_divides_by_the_full_kernel_area():
    out = F.avg_pool2d(mt.ones(1, 1, 2, 2), 2, stride=1, padding=1)
    assert_allclose(
        out.numpy(force=True), [[[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]]]
    )


def test_avg_pool2d_padding_over_half_the_kernel_is_an_error():
    with pytest.raises(ValueError, match=r"avg_pool2d: padding"):
        F.avg_pool2d(mt.ones(1, 1, 4, 4), 2, stride=1, padding=2)


def test_pool_layers_equal_their_functions():
    x = mt.tensor(np.random.default_rng(5).standard_normal((2, 2, 6, 5)))
    assert_allclose(
        mt.nn.MaxPool2d(3, 2, 1, 2)(x).numpy(force=True),
        F.max_pool2d(x, 3, 2, 1, 2).numpy(force=True),
    )
    assert_allclose(
        mt.nn.AvgPool2d((2, 3), 1, (1, 0))(x).numpy(force=True),
        F.avg_pool2d(x, (2, 3), 1, (1, 0)).numpy(force=True),
    )


# ---------------------------------------------------------------------------- unfold
@given(window_configs(), st.data())
def test_unfold_matches_the_nested_loop_reference(config, data):
    shape, kernel, stride, padding, dilation = config
    x = data.draw(values(shape))
    xt = mt.tensor(x)
    cols = F.unfold(xt, kernel, dilation=dilation, padding=padding, stride=stride)
    expected = unfold_reference(x, kernel, stride, padding, dilation)
    assert_allclose(cols.numpy(force=True), expected)
    cols.add_(1.0)  # a new tensor, as PyTorch's, even where the windows could stay a view of x
    assert_allclose(cols.numpy(force=True), expected + 1)
    assert_allclose(xt.numpy(force=True), x)


@given(window_configs(), st.data())
def test_fold_is_the_transpose_of_unfold(config, data):
    """<unfold(x), c> == <x, fold(c)> for every x and c: fold is unfold's adjoint."""
    shape, kernel, stride, padding, dilation = config
    x = data.draw(values(shape))
    cols = unfold_reference(x, kernel, stride, padding, dilation)
    c = data.draw(values(cols.shape))
    folded = F.fold(
        mt.tensor(c), shape[2:], kernel, dilation=dilation, padding=padding, stride=stride
    )
    assert_allclose((cols * c).sum(), (x * folded.numpy(force=True)).sum(), rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- dropout
def test_dropout_zeroes_about_p_of_the_elements_and_scales_the_rest():
    p, n = 0.3, 200_000
    mt.manual_seed(0)
    out = F.dropout(mt.ones(n, dtype=mt.float64), p, training=True).numpy(force=True)
    zero = out == 0
    assert abs(zero.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert_allclose(out[~zero], 1 / (1 - p))


def test_dropout_keeps_the_expected_value():
    mt.manual_seed(1)
    x = np.random.default_rng(0).standard_normal(100_000)
    out = F.dropout(mt.tensor(x), 0.5, training=True).numpy(force=True)
    kept = out != 0
    assert_allclose(out[kept], 2 * x[kept])


def test_dropout_is_the_identity_when_not_training_or_p_is_zero():
    x = mt.randn(4, 5)
    assert F.dropout(x, 0.9, training=False) is x
    assert F.dropout(x, 0.0, training=True) is x


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_dropout_keeps_the_dtype(dtype):
    assert F.dropout(mt.ones(10, dtype=dtype), 0.5).dtype == dtype


def test_dropout_with_p_one_zeroes_everything():
    assert (F.dropout(mt.randn(10), 1.0, training=True).numpy(force=True) == 0).all()


def test_dropout_gradient_is_the_mask_scaled():
    mt.manual_seed(3)
    x = mt.randn(1000, dtype=mt.float64, requires_grad=True)
    out = F.dropout(x, 0.25)
    out.sum().backward()
    kept = out.numpy(force=True) != 0
    assert_allclose(x.grad.numpy(force=True), np.where(kept, 1 / 0.75, 0.0))


def test_dropout_same_seed_gives_the_same_mask_and_another_seed_another():
    def mask(seed):
        mt.manual_seed(seed)
        return F.dropout(mt.ones(1000), 0.5).numpy(force=True) != 0

    assert (mask(7) == mask(7)).all()
    assert (mask(7) != mask(8)).any()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_zero_one_is_an_error(p):
    with pytest.raises(ValueError, match=f"dropout: probability.*{p}"):
        F.dropout(mt.ones(3), p)


# ----------------------------------------------------------------------- activations
def test_softplus_is_linear_above_the_threshold_and_finite_at_large_inputs():
    x = mt.tensor([30.0, 1e4, -1e4], dtype=mt.float64)
    assert_allclose(F.softplus(x, 1.0, 20.0).numpy(force=True), [30.0, 1e4, 0.0])


def test_one_hot_puts_a_one_at_each_class_index():
    assert F.one_hot(mt.tensor([2, 0, 1]), 4).tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]


def test_linear_matches_x_w_transposed_plus_b():
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    assert_allclose(
        F.linear(mt.tensor(x), mt.tensor(w), mt.tensor(b)).numpy(force=True),
        np.einsum("ni,oi->no", x, w) + b,
        atol=1e-12,
    )
