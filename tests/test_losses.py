"""Losses: each one against its formula written out here in numpy, values and gradients.

Gradients are compared with the analytic derivative written in the test (d/dx mse =
2 (x - y) / n, d/dlogits cross-entropy = (softmax - onehot) / N, ...), for every
reduction: 'mean' scales each element's derivative by 1/n, 'sum' by 1, and 'none' by
the upstream gradient, which these tests draw at random. mse_loss, an op of its own,
also has a row in the op-case table (tests/op_cases/), which checks its value against
numpy and its derivatives against finite differences.
"""

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given, settings
from numpy.testing import assert_allclose

import microtensor as mt
from microtensor.testing import strategies as mst

F = mt.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


# --------------------------------------------------------------------- numpy formulas
def log_softmax_np(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_np(z):
    return np.exp(log_softmax_np(z))


def sigmoid_np(x):
    return 1 / (1 + np.exp(-x))


def onehot_np(t, c):
    out = np.zeros((len(t), c))
    out[np.arange(len(t)), t] = 1
    return out


def reduce_np(per_element, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](per_element)


def backprop(loss, reduction, n):
    """Backpropagate from `loss`; return what each of the `n` terms' derivative is
    multiplied by: 1/n for 'mean', 1 for 'sum', a random upstream gradient for 'none'."""
    if reduction == "none":
        upstream = np.random.default_rng(0).standard_normal(loss.shape)
        loss.backward(mt.tensor(upstream))
        return upstream
    loss.backward()
    return 1 / n if reduction == "mean" else 1.0


# ---------------------------------------------------------------------- strategies
def pairs(domain_x="real", domain_y="real"):
    """Two float64 arrays of one shape."""
    return mst.shapes(min_dims=1).flatmap(
        lambda s: st.tuples(mst.arrays(st.just(s), domain_x), mst.arrays(st.just(s), domain_y))
    )


@st.composite
def logits_and_classes(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    z = draw(mst.arrays(st.just((n, c))))
    t = np.asarray(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return z, t


@st.composite
def logits_and_probabilities(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    return draw(mst.arrays(st.just((n, c)))), draw(mst.simplex((n, c)))


# ------------------------------------------------------------------------ mse, l2
@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(xy=pairs())
def test_mse_loss_gradient_is_twice_the_difference(reduction, xy):
    x, y = xy
    xt = leaf(x)
    scale = backprop(F.mse_loss(xt, mt.tensor(y), reduction=reduction), reduction, x.size)
    assert_allclose(xt.grad.numpy(force=True), 2 * (x - y) * scale, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(xy=pairs())
def test_l2_loss_is_half_the_squared_difference(reduction, xy):
    p, y = xy
    assert_allclose(
        F.l2_loss(mt.tensor(p), mt.tensor(y), reduction=reduction).numpy(force=True),
        reduce_np(0.5 * (y - p) ** 2, reduction),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(xy=pairs())
def test_l2_loss_gradient_is_the_difference(reduction, xy):
    p, y = xy
    pt = leaf(p)
    scale = backprop(F.l2_loss(pt, mt.tensor(y), reduction=reduction), reduction, p.size)
    assert_allclose(pt.grad.numpy(force=True), (p - y) * scale, rtol=1e-12, atol=1e-12)


def test_mse_loss_gradient_reaches_the_target_with_the_opposite_sign():
    x, y = leaf([1.0, 2.0]), leaf([0.5, 4.0])
    F.mse_loss(x, y).backward()
    assert_allclose(y.grad.numpy(force=True), -2 * (np.array([1.0, 2.0]) - [0.5, 4.0]) / 2)


# ------------------------------------------------------------- binary cross-entropy
def bce_np(p, t):
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(pt=pairs(), data=st.data())
def test_binary_cross_entropy_matches_its_formula(reduction, pt, data):
    shape = pt[0].shape
    p = data.draw(mst.arrays(st.just(shape), bounds=(0.05, 0.95)))
    t = data.draw(mst.arrays(st.just(shape), bounds=(0.0, 1.0)))
    assert_allclose(
        F.binary_cross_entropy(mt.tensor(p), mt.tensor(t), reduction=reduction).numpy(force=True),
        reduce_np(bce_np(p, t), reduction),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(shape=mst.shapes(min_dims=1), data=st.data())
def test_binary_cross_entropy_gradient_is_p_minus_t_over_p_one_minus_p(reduction, shape, data):
    p = data.draw(mst.arrays(st.just(shape), bounds=(0.05, 0.95)))
    t = data.draw(mst.arrays(st.just(shape), bounds=(0.0, 1.0)))
    w = data.draw(mst.arrays(st.just(shape), bounds=(0.1, 2.0)))
    pt = leaf(p)
    scale = backprop(
        F.binary_cross_entropy(pt, mt.tensor(t), mt.tensor(w), reduction=reduction),
        reduction,
        p.size,
    )
    assert_allclose(
        pt.grad.numpy(force=True), w * (p - t) / (p * (1 - p)) * scale, rtol=1e-10, atol=1e-12
    )


def test_binary_cross_entropy_weight_scales_each_element():
    p, t, w = np.array([0.2, 0.7]), np.array([1.0, 0.0]), np.array([3.0, 0.5])
    out = F.binary_cross_entropy(mt.tensor(p), mt.tensor(t), weight=mt.tensor(w), reduction="none")
    assert_allclose(out.numpy(force=True), w * bce_np(p, t))


def test_binary_cross_entropy_at_probabilities_0_and_1_is_finite_and_clamped_at_100():
    p = leaf([0.0, 1.0, 0.0, 1.0, 0.0, 1e-50])
    t = mt.tensor(np.array([1.0, 0.0, 0.0, 1.0, 0.5, 1.0]))
    loss = F.binary_cross_entropy(p, t, reduction="none")
    # log 0 and log 1e-50 (= -115) are clamped at -100, as PyTorch
    assert_allclose(loss.numpy(force=True), [100.0, 100.0, 0.0, 0.0, 50.0, 100.0])
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy(force=True)).all()
    # where the clamp does not hold the gradient is the formula's: d/dp -log(1-p) = 1
    # at p = 0, t = 0, and d/dp -log(p) = -1 at p = 1, t = 1
    assert_allclose(p.grad.numpy(force=True)[[2, 3]], [1.0, -1.0])


def test_binary_cross_entropy_of_a_value_outside_zero_one_is_an_error():
    with pytest.raises(ValueError, match="binary_cross_entropy: input must hold probabilities"):
        F.binary_cross_entropy(mt.tensor([0.5, 1.5]), mt.tensor([1.0, 0.0]))


# ------------------------------------------------- binary cross-entropy with logits
def bce_logits_np(x, t, pos_weight=1.0):
    return -(pos_weight * t * np.log(sigmoid_np(x)) + (1 - t) * np.log(1 - sigmoid_np(x)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(shape=mst.shapes(min_dims=1), data=st.data())
def test_binary_cross_entropy_with_logits_matches_its_formula(reduction, shape, data):
    x = data.draw(mst.arrays(st.just(shape)))
    t = data.draw(mst.arrays(st.just(shape), bounds=(0.0, 1.0)))
    out = F.binary_cross_entropy_with_logits(mt.tensor(x), mt.tensor(t), reduction=reduction)
    assert_allclose(
        out.numpy(force=True), reduce_np(bce_logits_np(x, t), reduction), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(shape=mst.shapes(min_dims=1), data=st.data())
def test_binary_cross_entropy_with_logits_with_pos_weight_matches_its_formula(
    reduction, shape, data
):
    x = data.draw(mst.arrays(st.just(shape)))
    t = data.draw(mst.arrays(st.just(shape), bounds=(0.0, 1.0)))
    pw = data.draw(mst.arrays(st.just(shape[-1:]), bounds=(0.2, 5.0)))  # one per class
    out = F.binary_cross_entropy_with_logits(
        mt.tensor(x), mt.tensor(t), reduction=reduction, pos_weight=mt.tensor(pw)
    )
    assert_allclose(
        out.numpy(force=True), reduce_np(bce_logits_np(x, t, pw), reduction), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(shape=mst.shapes(min_dims=1), data=st.data())
def test_binary_cross_entropy_with_logits_gradient_is_sigmoid_minus_target(reduction, shape, data):
    x = data.draw(mst.arrays(st.just(shape)))
    t = data.draw(mst.arrays(st.just(shape), bounds=(0.0, 1.0)))
    xt = leaf(x)
    scale = backprop(
        F.binary_cross_entropy_with_logits(xt, mt.tensor(t), reduction=reduction), reduction, x.size
    )
    assert_allclose(xt.grad.numpy(force=True), (sigmoid_np(x) - t) * scale, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(shape=mst.shapes(min_dims=1), data=st.data())
def test_binary_cross_entropy_with_logits_pos_weight_gradient(reduction, shape, data):
    """d/dx = (1 - t) sigmoid(x) - w t (1 - sigmoid(x))."""
    x = data.draw(mst.arrays(st.just(shape)))
    t = data.draw(mst.arrays(st.just(shape), bounds=(0.0, 1.0)))
    pw = data.draw(mst.arrays(st.just(shape[-1:]), bounds=(0.2, 5.0)))
    xt = leaf(x)
    scale = backprop(
        F.binary_cross_entropy_with_logits(
            xt, mt.tensor(t), reduction=reduction, pos_weight=mt.tensor(pw)
        ),
        reduction,
        x.size,
    )
    s = sigmoid_np(x)
    assert_allclose(
        xt.grad.numpy(force=True), ((1 - t) * s - pw * t * (1 - s)) * scale, rtol=1e-10, atol=1e-12
    )


def test_binary_cross_entropy_with_logits_equals_bce_of_the_sigmoid():
    x = np.linspace(-4, 4, 9)
    t = np.linspace(0, 1, 9)
    assert_allclose(
        F.binary_cross_entropy_with_logits(mt.tensor(x), mt.tensor(t)).numpy(force=True),
        F.binary_cross_entropy(mt.tensor(sigmoid_np(x)), mt.tensor(t)).numpy(force=True),
        rtol=1e-12,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_with_logits_is_stable_at_logits_of_1e4(dtype):
    x = leaf([1e4, -1e4, 1e4, -1e4], dtype)
    t = mt.tensor(np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert_allclose(loss.numpy(force=True), [1e4, 1e4, 0.0, 0.0])
    loss.sum().backward()
    assert_allclose(x.grad.numpy(force=True), [1.0, -1.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_with_logits_and_pos_weight_is_stable_at_logits_of_1e4(dtype):
    x = leaf([1e4, -1e4, 1e4], dtype)
    t = mt.tensor(np.array([0.0, 1.0, 1.0], dtype=dtype))
    loss = F.binary_cross_entropy_with_logits(
        x, t, reduction="none", pos_weight=mt.tensor(np.array(3.0, dtype=dtype))
    )
    assert_allclose(loss.numpy(force=True), [1e4, 3e4, 0.0])
    loss.sum().backward()
    assert_allclose(x.grad.numpy(force=True), [1.0, -3.0, 0.0])


# ------------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zt=logits_and_classes())
def test_cross_entropy_with_class_indices_is_minus_log_softmax_of_the_target(reduction, zt):
    z, t = zt
    expected = -log_softmax_np(z)[np.arange(len(t)), t]
    assert_allclose(
        F.cross_entropy(mt.tensor(z), mt.tensor(t), reduction=reduction).numpy(force=True),
        reduce_np(expected, reduction),
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zt=logits_and_classes())
def test_cross_entropy_gradient_is_softmax_minus_onehot(reduction, zt):
    z, t = zt
    zt_ = leaf(z)
    scale = backprop(F.cross_entropy(zt_, mt.tensor(t), reduction=reduction), reduction, len(t))
    scale = scale[:, None] if reduction == "none" else scale
    assert_allclose(
        zt_.grad.numpy(force=True),
        (softmax_np(z) - onehot_np(t, z.shape[1])) * scale,
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zp=logits_and_probabilities())
def test_cross_entropy_with_probabilities_is_minus_the_expected_log_softmax(reduction, zp):
    z, p = zp
    expected = -(p * log_softmax_np(z)).sum(axis=1)
    assert_allclose(
        F.cross_entropy(mt.tensor(z), mt.tensor(p), reduction=reduction).numpy(force=True),
        reduce_np(expected, reduction),
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zp=logits_and_probabilities())
def test_cross_entropy_with_probabilities_gradient_is_softmax_minus_target(reduction, zp):
    z, p = zp
    zt = leaf(z)
    scale = backprop(F.cross_entropy(zt, mt.tensor(p), reduction=reduction), reduction, len(z))
    scale = scale[:, None] if reduction == "none" else scale
    assert_allclose(zt.grad.numpy(force=True), (softmax_np(z) - p) * scale, rtol=1e-10, atol=1e-12)


@given(zt=logits_and_classes())
def test_cross_entropy_with_one_hot_probabilities_equals_class_indices(zt):
    z, t = zt
    assert_allclose(
        F.cross_entropy(mt.tensor(z), mt.tensor(onehot_np(t, z.shape[1]))).numpy(force=True),
        F.cross_entropy(mt.tensor(z), mt.tensor(t)).numpy(force=True),
        rtol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zt=logits_and_classes(), eps=st.floats(0.0, 1.0))
def test_cross_entropy_label_smoothing_follows_pytorchs_formula(reduction, zt, eps):
    """(1 - eps) * nll + eps * mean over classes of -log p_c."""
    z, t = zt
    logp = log_softmax_np(z)
    expected = (1 - eps) * -logp[np.arange(len(t)), t] + eps * (-logp).mean(axis=1)
    out = F.cross_entropy(mt.tensor(z), mt.tensor(t), reduction=reduction, label_smoothing=eps)
    assert_allclose(out.numpy(force=True), reduce_np(expected, reduction), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zt=logits_and_classes(), eps=st.floats(0.0, 1.0))
def test_cross_entropy_label_smoothing_gradient_is_softmax_minus_smoothed_target(
    reduction, zt, eps
):
    z, t = zt
    c = z.shape[1]
    zt_ = leaf(z)
    scale = backprop(
        F.cross_entropy(zt_, mt.tensor(t), reduction=reduction, label_smoothing=eps),
        reduction,
        len(t),
    )
    scale = scale[:, None] if reduction == "none" else scale
    smoothed = (1 - eps) * onehot_np(t, c) + eps / c
    assert_allclose(
        zt_.grad.numpy(force=True), (softmax_np(z) - smoothed) * scale, rtol=1e-10, atol=1e-12
    )


@given(zp=logits_and_probabilities(), eps=st.floats(0.0, 1.0))
def test_cross_entropy_label_smoothing_of_probabilities_mixes_in_the_uniform(zp, eps):
    z, p = zp
    q = (1 - eps) * p + eps / z.shape[1]
    assert_allclose(
        F.cross_entropy(mt.tensor(z), mt.tensor(p), label_smoothing=eps).numpy(force=True),
        -(q * log_softmax_np(z)).sum(axis=1).mean(),
        rtol=1e-10,
        atol=1e-12,
    )


@st.composite
def weighted_targets_with_ignored(draw):
    """Logits, class indices with some set to ignore_index (at least one kept), weights."""
    z, t = draw(logits_and_classes())
    ignored = np.asarray(draw(st.lists(st.booleans(), min_size=len(t), max_size=len(t))))
    ignored[draw(st.integers(0, len(t) - 1))] = False
    w = draw(mst.arrays(st.just((z.shape[1],)), bounds=(0.1, 3.0)))
    return z, np.where(ignored, -1, t), t, w


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(case=weighted_targets_with_ignored())
def test_cross_entropy_with_weight_and_ignore_index_matches_its_formula(reduction, case):
    """'mean' divides by the summed weights of the targets that count, as PyTorch."""
    z, t_ignored, t, w = case
    valid = t_ignored != -1
    per_sample = np.where(valid, w[t] * -log_softmax_np(z)[np.arange(len(t)), t], 0.0)
    expected = {
        "mean": per_sample.sum() / w[t][valid].sum(),
        "sum": per_sample.sum(),
        "none": per_sample,
    }[reduction]
    out = F.cross_entropy(
        mt.tensor(z),
        mt.tensor(t_ignored),
        weight=mt.tensor(w),
        reduction=reduction,
        ignore_index=-1,
    )
    assert_allclose(out.numpy(force=True), expected, rtol=1e-10, atol=1e-12)


@given(case=weighted_targets_with_ignored())
def test_cross_entropy_with_weight_and_ignore_index_gradient(case):
    """d/dz_i = w[t_i] (softmax_i - onehot_i) / sum of the counted weights; 0 if ignored."""
    z, t_ignored, t, w = case
    valid = t_ignored != -1
    zt = leaf(z)
    F.cross_entropy(zt, mt.tensor(t_ignored), weight=mt.tensor(w), ignore_index=-1).backward()
    expected = np.where(valid, w[t], 0.0)[:, None] * (softmax_np(z) - onehot_np(t, z.shape[1]))
    assert_allclose(zt.grad.numpy(force=True), expected / w[t][valid].sum(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(case=weighted_targets_with_ignored(), eps=st.floats(0.0, 1.0))
def test_cross_entropy_with_weight_ignore_index_and_label_smoothing_follows_pytorch(
    reduction, case, eps
):
    """nll: w[t] (-log p_t); smoothing: sum_c w_c (-log p_c) / C; both zero where ignored,
    'mean' divides both by the summed weights of the counted targets."""
    z, t_ignored, t, w = case
    valid = t_ignored != -1
    logp = log_softmax_np(z)
    nll = np.where(valid, w[t] * -logp[np.arange(len(t)), t], 0.0)
    smooth = np.where(valid, (w * -logp).sum(axis=1) / z.shape[1], 0.0)
    per_sample = (1 - eps) * nll + eps * smooth
    expected = {
        "mean": per_sample.sum() / w[t][valid].sum(),
        "sum": per_sample.sum(),
        "none": per_sample,
    }[reduction]
    out = F.cross_entropy(
        mt.tensor(z),
        mt.tensor(t_ignored),
        weight=mt.tensor(w),
        reduction=reduction,
        label_smoothing=eps,
        ignore_index=-1,
    )
    assert_allclose(out.numpy(force=True), expected, rtol=1e-10, atol=1e-12)


@given(zp=logits_and_probabilities(), data=st.data())
def test_cross_entropy_of_probabilities_with_weight_weighs_each_class(zp, data):
    z, p = zp
    w = data.draw(mst.arrays(st.just((z.shape[1],)), bounds=(0.1, 3.0)))
    out = F.cross_entropy(mt.tensor(z), mt.tensor(p), weight=mt.tensor(w))
    assert_allclose(
        out.numpy(force=True), -(w * p * log_softmax_np(z)).sum(axis=1).mean(), rtol=1e-10
    )


@settings(max_examples=20)
@given(case=weighted_targets_with_ignored(), eps=st.floats(0.0, 1.0))
def test_cross_entropy_with_every_option_has_gradients_matching_finite_differences(case, eps):
    z, t_ignored, _, w = case
    mt.testing.check_grads(
        lambda z: F.cross_entropy(
            z, mt.tensor(t_ignored), weight=mt.tensor(w), label_smoothing=eps, ignore_index=-1
        ),
        leaf(z),
        order=2,
    )


@given(zt=logits_and_classes())
def test_cross_entropy_equals_nll_loss_of_log_softmax(zt):
    z, t = zt
    z = mt.tensor(z)
    assert_allclose(
        F.cross_entropy(z, mt.tensor(t)).numpy(force=True),
        F.nll_loss(F.log_softmax(z, 1), mt.tensor(t)).numpy(force=True),
        rtol=1e-12,
    )


# ---------------------------------------------------------------------------- nll
@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zt=logits_and_classes())
def test_nll_loss_picks_minus_the_input_at_the_target(reduction, zt):
    x, t = zt
    assert_allclose(
        F.nll_loss(mt.tensor(x), mt.tensor(t), reduction=reduction).numpy(force=True),
        reduce_np(-x[np.arange(len(t)), t], reduction),
        rtol=1e-12,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=50)  # x3 reductions
@given(zt=logits_and_classes())
def test_nll_loss_gradient_is_minus_onehot(reduction, zt):
    x, t = zt
    xt = leaf(x)
    scale = backprop(F.nll_loss(xt, mt.tensor(t), reduction=reduction), reduction, len(t))
    scale = scale[:, None] if reduction == "none" else scale
    assert_allclose(xt.grad.numpy(force=True), -onehot_np(t, x.shape[1]) * scale, rtol=1e-12)


@given(case=weighted_targets_with_ignored())
def test_nll_loss_with_weight_and_ignore_index_divides_by_the_counted_weights(case):
    x, t_ignored, t, w = case
    valid = t_ignored != -1
    expected = np.where(valid, -w[t] * x[np.arange(len(t)), t], 0.0).sum() / w[t][valid].sum()
    out = F.nll_loss(mt.tensor(x), mt.tensor(t_ignored), weight=mt.tensor(w), ignore_index=-1)
    assert_allclose(out.numpy(force=True), expected, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------- stability at 1e4
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_exact_at_logits_of_1e4(dtype):
    z = leaf([[1e4, 0.0], [1e4, 0.0]], dtype)
    loss = F.cross_entropy(z, mt.tensor([0, 1]), reduction="none")
    assert loss.dtype == dtype
    assert_allclose(loss.numpy(force=True), [0.0, 1e4])
    loss.sum().backward()
    assert_allclose(z.grad.numpy(force=True), [[0.0, 0.0], [1.0, -1.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_with_label_smoothing_is_exact_at_logits_of_1e4(dtype):
    z = leaf([[1e4, -1e4]], dtype)
    loss = F.cross_entropy(z, mt.tensor([1]), label_smoothing=0.1)
    # 0.9 * 2e4 + 0.1 * (0 + 2e4) / 2
    assert_allclose(loss.numpy(force=True), 19000.0)
    loss.backward()
    assert_allclose(z.grad.numpy(force=True), [[1.0 - 0.05, -0.95]], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_with_probabilities_is_exact_at_logits_of_1e4(dtype):
    z = leaf([[1e4, 0.0]], dtype)
    loss = F.cross_entropy(z, mt.tensor(np.array([[0.5, 0.5]], dtype=dtype)))
    assert_allclose(loss.numpy(force=True), 5000.0)
    loss.backward()
    assert_allclose(z.grad.numpy(force=True), [[0.5, -0.5]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nll_loss_of_log_softmax_is_exact_at_logits_of_1e4(dtype):
    z = leaf([[-1e4, 1e4, 0.0]], dtype)
    loss = F.nll_loss(F.log_softmax(z, 1), mt.tensor([0]))
    assert_allclose(loss.numpy(force=True), 2e4)
    loss.backward()
    assert_allclose(z.grad.numpy(force=True), [[-1.0, 1.0, 0.0]])


# --------------------------------------------------------------------------- errors
LOSSES = {
    "mse_loss": lambda r: F.mse_loss(mt.ones(3), mt.ones(3), reduction=r),
    "l2_loss": lambda r: F.l2_loss(mt.ones(3), mt.ones(3), reduction=r),
    "binary_cross_entropy": lambda r: F.binary_cross_entropy(
        mt.full((3,), 0.5), mt.ones(3), reduction=r
    ),
    "binary_cross_entropy_with_logits": lambda r: F.binary_cross_entropy_with_logits(
        mt.ones(3), mt.ones(3), reduction=r
    ),
    "cross_entropy": lambda r: F.cross_entropy(mt.ones(2, 3), mt.tensor([0, 1]), reduction=r),
    "nll_loss": lambda r: F.nll_loss(mt.ones(2, 3), mt.tensor([0, 1]), reduction=r),
}


@pytest.mark.parametrize("name", LOSSES)
def test_an_unknown_reduction_is_an_error_naming_it(name):
    with pytest.raises(ValueError, match=r"reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        LOSSES[name]("avg")


@pytest.mark.parametrize(
    "loss", [F.mse_loss, F.l2_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits]
)
def test_input_and_target_of_different_shapes_are_an_error_naming_both(loss):
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        loss(mt.full((3,), 0.5), mt.full((4,), 0.5))


def test_cross_entropy_with_probabilities_of_the_wrong_shape_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        F.cross_entropy(mt.ones(2, 3), mt.full((2, 4), 0.25))


def test_cross_entropy_with_too_many_targets_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        F.cross_entropy(mt.ones(2, 3), mt.tensor([0, 1, 2]))


@pytest.mark.parametrize("bad", [3, -1])
def test_cross_entropy_with_a_class_index_out_of_range_names_it(bad):
    with pytest.raises(IndexError, match=f"target {bad} is out of bounds for 3 classes"):
        F.cross_entropy(mt.ones(2, 3), mt.tensor([0, bad]))


def test_cross_entropy_of_unbatched_logits_needs_a_zero_dimensional_target():
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: expected input .*got input \(3,\) "
        r"and target \(1,\)",
    ):
        F.cross_entropy(mt.ones(3), mt.tensor([0]))


@pytest.mark.parametrize("eps", [-0.1, 1.1])
def test_cross_entropy_label_smoothing_outside_zero_one_is_an_error(eps):
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(mt.ones(2, 3), mt.tensor([0, 1]), label_smoothing=eps)


# ---------------------------------------------------------------- loss modules
def _case():
    rng = np.random.default_rng(0)
    z = mt.tensor(rng.standard_normal((4, 3)))
    return rng, z


MODULE_CASES = {
    "MSELoss": lambda rng, z: (
        mt.nn.MSELoss(reduction="sum"),
        lambda x, y: F.mse_loss(x, y, reduction="sum"),
        z,
        mt.tensor(rng.standard_normal((4, 3))),
    ),
    "L2Loss": lambda rng, z: (mt.nn.L2Loss(), F.l2_loss, z, mt.tensor(rng.standard_normal((4, 3)))),
    "BCELoss": lambda rng, z: (
        mt.nn.BCELoss(weight=mt.tensor([1.0, 2.0, 3.0]), reduction="none"),
        lambda x, y: F.binary_cross_entropy(x, y, mt.tensor([1.0, 2.0, 3.0]), reduction="none"),
        F.sigmoid(z),
        mt.tensor(rng.uniform(size=(4, 3))),
    ),
    "BCEWithLogitsLoss": lambda rng, z: (
        mt.nn.BCEWithLogitsLoss(pos_weight=mt.tensor([1.0, 2.0, 3.0])),
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, pos_weight=mt.tensor([1.0, 2.0, 3.0])
        ),
        z,
        mt.tensor(rng.uniform(size=(4, 3))),
    ),
    "CrossEntropyLoss": lambda rng, z: (
        mt.nn.CrossEntropyLoss(
            weight=mt.tensor([1.0, 2.0, 3.0]), label_smoothing=0.2, ignore_index=1
        ),
        lambda x, y: F.cross_entropy(
            x, y, mt.tensor([1.0, 2.0, 3.0]), ignore_index=1, label_smoothing=0.2
        ),
        z,
        mt.tensor([0, 1, 2, 2]),
    ),
    "NLLLoss": lambda rng, z: (
        mt.nn.NLLLoss(weight=mt.tensor([1.0, 2.0, 3.0]), reduction="sum", ignore_index=0),
        lambda x, y: F.nll_loss(x, y, mt.tensor([1.0, 2.0, 3.0]), ignore_index=0, reduction="sum"),
        F.log_softmax(z, 1),
        mt.tensor([0, 1, 2, 2]),
    ),
}


@pytest.mark.parametrize("name", MODULE_CASES)
def test_loss_module_equals_its_function(name):
    module, function, x, y = MODULE_CASES[name](*_case())
    assert type(module).__name__ == name
    assert_allclose(module(x, y).numpy(force=True), function(x, y).numpy(force=True), rtol=1e-12)


def test_loss_module_repr_shows_its_reduction():
    assert repr(mt.nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
