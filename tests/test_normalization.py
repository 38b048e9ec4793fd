"""Normalization layers and the vector functions beside them: LayerNorm, RMSNorm,
BatchNorm1d/2d (train and eval, running statistics with momentum or a cumulative
average, buffers in state_dict), GroupNorm, F.normalize, F.cosine_similarity and
F.pairwise_distance, each against its formula written here in numpy."""

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given
from numpy.testing import assert_allclose

import microtensor as mt
from microtensor.nn import layers as L

F = mt.nn.functional


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def standardize(x, axes, eps):
    """(x - mean) / sqrt(biased variance + eps) over axes."""
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


# ------------------------------------------------------------------------- LayerNorm
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data())
def test_layer_norm_standardizes_the_trailing_dims_then_scales_and_shifts(shape, data):
    k = data.draw(st.integers(1, len(shape)))
    x, w, b = randn(*shape), randn(*shape[-k:], seed=1), randn(*shape[-k:], seed=2)
    axes = tuple(range(len(shape) - k, len(shape)))
    out = F.layer_norm(mt.tensor(x), shape[-k:], mt.tensor(w), mt.tensor(b), eps=1e-3)
    assert_allclose(out.numpy(force=True), standardize(x, axes, 1e-3) * w + b, atol=1e-12)


def test_layer_norm_gradients_match_finite_differences_to_second_order():
    x, w, b = leaf(randn(2, 3, 4)), leaf(randn(3, 4, seed=1)), leaf(randn(3, 4, seed=2))
    mt.testing.check_grads(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), x, w, b, order=2)


def test_layer_norm_module_holds_ones_and_zeros_and_its_options():
    ln = L.LayerNorm((3, 4), eps=1e-3)
    assert (ln.weight.numpy(force=True) == 1).all() and (ln.bias.numpy(force=True) == 0).all()
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in L.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    assert not list(L.LayerNorm(4, elementwise_affine=False).parameters())
    x = randn(2, 3, 4)
    assert_allclose(ln(mt.tensor(x)).numpy(force=True), standardize(x, (1, 2), 1e-3), atol=1e-6)


def test_layer_norm_of_the_wrong_trailing_shape_names_both():
    with pytest.raises(ValueError, match=r"normalized_shape=\[4\].*\[\*, 4\].*\(2, 3\)"):
        F.layer_norm(mt.ones(2, 3), (4,))


def test_layer_norm_of_a_constant_row_is_zero_not_nan():
    out = F.layer_norm(mt.full((2, 5), 1e4), (5,))
    assert_allclose(out.numpy(force=True), 0.0)


def test_rms_norm_divides_by_the_root_mean_square():
    x, w = randn(3, 4), randn(4, seed=1)
    eps = np.finfo(np.float64).eps
    expected = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w
    assert_allclose(
        F.rms_norm(mt.tensor(x), 4, mt.tensor(w)).numpy(force=True), expected, atol=1e-12
    )
    rms = L.RMSNorm(4, dtype=mt.float64)
    assert (rms.weight.numpy(force=True) == 1).all()
    assert_allclose(rms(mt.tensor(x)).numpy(force=True), expected / w, atol=1e-12)
    mt.testing.check_grads(lambda x: F.rms_norm(x, (4,), eps=1e-5), leaf(x), order=2)


# ------------------------------------------------------------------------- BatchNorm
@pytest.mark.parametrize(
    "cls, shape, axes",
    [
        (L.BatchNorm1d, (5, 3), (0,)),
        (L.BatchNorm1d, (4, 3, 2), (0, 2)),
        (L.BatchNorm2d, (2, 3, 2, 3), (0, 2, 3)),
    ],
)
def test_batch_norm_in_training_uses_the_batch_statistics(cls, shape, axes):
    bn = cls(3, eps=1e-3, dtype=mt.float64)
    bn.weight.numpy(force=True)[...] = [1.0, 2.0, -1.0]
    bn.bias.numpy(force=True)[...] = [0.5, 0.0, 1.0]
    x = randn(*shape) * 3 + 1
    view = (1, 3) + (1,) * (len(shape) - 2)
    expected = standardize(x, axes, 1e-3) * bn.weight.numpy(force=True).reshape(
        view
    ) + bn.bias.numpy(force=True).reshape(view)
    assert_allclose(bn(mt.tensor(x)).numpy(force=True), expected, atol=1e-12)


def test_running_statistics_move_by_momentum_with_the_unbiased_variance():
    bn = L.BatchNorm2d(2, momentum=0.3, dtype=mt.float64)
    mean, var = np.zeros(2), np.ones(2)
    for step in range(3):
        x = randn(4, 2, 3, 3, seed=step) * (step + 1) + step
        bn(mt.tensor(x))
        mean = 0.7 * mean + 0.3 * x.mean(axis=(0, 2, 3))
        var = 0.7 * var + 0.3 * x.var(axis=(0, 2, 3), ddof=1)
    assert_allclose(bn.running_mean.numpy(force=True), mean, atol=1e-12)
    assert_allclose(bn.running_var.numpy(force=True), var, atol=1e-12)
    assert bn.num_batches_tracked.item() == 3 and bn.num_batches_tracked.dtype == mt.int64


def test_momentum_none_keeps_a_cumulative_average():
    bn = L.BatchNorm1d(3, momentum=None, dtype=mt.float64)
    xs = [randn(5, 3, seed=s) + s for s in range(4)]
    for x in xs:
        bn(mt.tensor(x))
    assert_allclose(
        bn.running_mean.numpy(force=True), np.mean([x.mean(0) for x in xs], axis=0), atol=1e-12
    )
    assert_allclose(
        bn.running_var.numpy(force=True),
        np.mean([x.var(0, ddof=1) for x in xs], axis=0),
        atol=1e-12,
    )


def test_batch_norm_in_eval_uses_the_running_statistics_and_leaves_them():
    bn = L.BatchNorm2d(2, dtype=mt.float64)
    bn(mt.tensor(randn(3, 2, 2, 2) * 2 + 1))
    rm, rv = bn.running_mean.numpy(force=True).copy(), bn.running_var.numpy(force=True).copy()
    bn.eval()
    x = randn(1, 2, 3, 3, seed=5)
    expected = (x - rm.reshape(1, 2, 1, 1)) / np.sqrt(rv.reshape(1, 2, 1, 1) + 1e-5)
    assert_allclose(bn(mt.tensor(x)).numpy(force=True), expected, atol=1e-12)
    assert_allclose(bn.running_mean.numpy(force=True), rm)
    assert bn.num_batches_tracked.item() == 1
    assert_allclose(
        bn(mt.tensor(x[:, :, :1, :1])).numpy(force=True), expected[:, :, :1, :1], atol=1e-12
    )


def test_batch_norm_without_running_stats_uses_batch_statistics_even_in_eval():
    bn = L.BatchNorm1d(3, affine=False, track_running_stats=False).eval()
    assert bn.running_mean is None and not list(bn.parameters()) and not bn.state_dict()
    x = randn(4, 3)
    assert_allclose(bn(mt.tensor(x)).numpy(force=True), standardize(x, (0,), 1e-5), atol=1e-6)


def test_batch_norm_buffers_are_in_the_state_dict_and_load_back():
    bn = L.BatchNorm2d(2)
    bn(mt.tensor(randn(2, 2, 2, 2).astype(np.float32)))
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    fresh = L.BatchNorm2d(2)
    fresh.load_state_dict(state)
    assert_allclose(fresh.running_var.numpy(force=True), bn.running_var.numpy(force=True))
    assert fresh.num_batches_tracked.item() == 1
    assert L.BatchNorm2d(2).double().running_mean.dtype == mt.float64


def test_batch_norm_gradients_match_finite_differences():
    x, w, b = leaf(randn(3, 2, 2)), leaf(randn(2, seed=1)), leaf(randn(2, seed=2))
    mt.testing.check_grads(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, True), x, w, b, order=2
    )


def test_batch_norm_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D"):
        L.BatchNorm2d(2)(mt.ones(2, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        L.BatchNorm1d(2)(mt.ones(1, 2))


# ------------------------------------------------------------------------- GroupNorm
@given(st.sampled_from([(1, 4), (2, 4), (4, 4), (3, 6)]), st.integers(1, 3), st.integers(0, 2))
def test_group_norm_standardizes_each_group_of_each_sample(groups_channels, n, spatial):
    g, c = groups_channels
    shape = (n, c) + (3,) * spatial
    x, w, b = randn(*shape), randn(c, seed=1), randn(c, seed=2)
    grouped = standardize(x.reshape(n, g, -1), (2,), 1e-5).reshape(shape)
    view = (1, c) + (1,) * spatial
    out = L.GroupNorm(g, c, dtype=mt.float64)
    out.weight.numpy(force=True)[...], out.bias.numpy(force=True)[...] = w, b
    assert_allclose(
        out(mt.tensor(x)).numpy(force=True), grouped * w.reshape(view) + b.reshape(view), atol=1e-12
    )


def test_group_norm_gradients_and_errors():
    x, w = leaf(randn(2, 4, 3)), leaf(randn(4, seed=1))
    mt.testing.check_grads(lambda x, w: F.group_norm(x, 2, w), x, w, order=2)
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups"):
        L.GroupNorm(4, 6)


# -------------------------------------------------------------- vectors and distances
@given(st.sampled_from([1.0, 2.0, 3.0]), st.integers(0, 1))
def test_normalize_divides_by_the_norm_clamped_at_eps(p, dim):
    x = randn(3, 4)
    x[1] = 0.0
    norm = np.maximum((np.abs(x) ** p).sum(dim, keepdims=True) ** (1 / p), 1e-12)
    assert_allclose(F.normalize(mt.tensor(x), p, dim).numpy(force=True), x / norm, atol=1e-12)


def test_normalize_of_a_zero_vector_has_finite_gradients():
    x = leaf(np.zeros((1, 3)))
    F.normalize(x).sum().backward()
    assert np.isfinite(x.grad.numpy(force=True)).all()


def test_cosine_similarity_follows_pytorchs_formula_and_broadcasts():
    x1, x2 = randn(4, 3), randn(3, seed=1)
    n1 = np.maximum(np.linalg.norm(x1, axis=1), 1e-8)
    n2 = np.maximum(np.linalg.norm(x2), 1e-8)
    assert_allclose(
        F.cosine_similarity(mt.tensor(x1), mt.tensor(x2[None]), dim=1).numpy(force=True),
        (x1 @ x2) / (n1 * n2),
        atol=1e-12,
    )
    zero = F.cosine_similarity(mt.zeros(2, 3), mt.tensor(x1[:2]))
    assert_allclose(zero.numpy(force=True), 0.0)
    mt.testing.check_grads(lambda a, b: F.cosine_similarity(a, b, 0), leaf(x1), leaf(x1[::-1]))


def test_pairwise_distance_is_the_norm_of_the_difference_plus_eps():
    x1, x2 = randn(4, 3), randn(4, 3, seed=1)
    expected = (np.abs(x1 - x2 + 1e-6) ** 3).sum(-1) ** (1 / 3)
    assert_allclose(
        F.pairwise_distance(mt.tensor(x1), mt.tensor(x2), 3).numpy(force=True), expected
    )
