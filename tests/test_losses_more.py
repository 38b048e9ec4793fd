"""The losses beyond tests/test_losses.py: K-dimensional and unbatched cross_entropy and
nll_loss, the regression losses (L1, smooth L1, Huber), KL divergence, Poisson and
Gaussian NLL, the margin losses, their modules, PyTorch's legacy size_average/reduce,
and stability at large logits. References are loops or formulas written here in numpy
(PyTorch's documented definitions); a few values are recorded from PyTorch 2.13."""

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given
from numpy.testing import assert_allclose

import microtensor as mt
from microtensor.nn import loss as nn_loss

F = mt.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def log_softmax(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def cross_entropy_reference(z, t, w, ignore, eps, reduction):
    """Loop over every sample and position of (N, C, d...) logits: PyTorch's
    (1 - eps) nll + eps / C * sum_c -w_c log p_c, 'mean' over the counted weights."""
    c = z.shape[1]
    logp = log_softmax(z, 1)
    loss, counted = np.zeros(t.shape), 0.0
    for pos in np.ndindex(*t.shape):
        if t[pos] == ignore:
            continue
        lp = logp[(pos[0], slice(None)) + pos[1:]]
        nll = -w[t[pos]] * lp[t[pos]]
        smooth = -(w * lp).sum()
        loss[pos] = (1 - eps) * nll + eps / c * smooth
        counted += w[t[pos]]
    if reduction == "mean":
        return loss.sum() / counted
    return loss.sum() if reduction == "sum" else loss


@st.composite
def kdim_cases(draw):
    c = draw(st.integers(2, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    n = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    t = rng.integers(0, c, (n,) + spatial)
    t.flat[0] = -1  # one ignored target
    if t.size > 1:
        t.flat[-1] = 0  # and at least one counted
    return rng.standard_normal((n, c) + spatial) * 3, t, rng.uniform(0.5, 2, c)


@given(kdim_cases(), st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.3]), st.booleans())
def test_k_dimensional_cross_entropy_matches_the_loop_reference(case, reduction, eps, weighted):
    z, t, w = case
    if t.size == 1 and reduction == "mean":
        return  # every target ignored: NaN, tested below
    weight = w if weighted else np.ones_like(w)
    out = F.cross_entropy(
        mt.tensor(z),
        mt.tensor(t),
        mt.tensor(w) if weighted else None,
        ignore_index=-1,
        reduction=reduction,
        label_smoothing=eps,
    )
    assert_allclose(
        out.numpy(force=True), cross_entropy_reference(z, t, weight, -1, eps, reduction), atol=1e-12
    )


@given(kdim_cases(), st.sampled_from(REDUCTIONS))
def test_k_dimensional_nll_loss_picks_minus_the_weighted_log_probability(case, reduction):
    z, t, w = case
    if t.size == 1 and reduction == "mean":
        return
    logp = log_softmax(z, 1)
    out = F.nll_loss(
        mt.tensor(logp), mt.tensor(t), mt.tensor(w), ignore_index=-1, reduction=reduction
    )
    assert_allclose(
        out.numpy(force=True), cross_entropy_reference(z, t, w, -1, 0.0, reduction), atol=1e-12
    )


def test_k_dimensional_cross_entropy_gradients_match_finite_differences():
    z = leaf(randn(2, 3, 2, 2))
    t = mt.tensor(np.array([[[0, 2], [1, -100]], [[2, 2], [0, 1]]]))
    mt.testing.check_grads(lambda z: F.cross_entropy(z, t, label_smoothing=0.1), z, order=2)


def test_cross_entropy_with_k_dimensional_probabilities_averages_over_positions():
    z, p = randn(2, 3, 4), np.random.default_rng(1).dirichlet(np.ones(3), (2, 4))
    p = p.transpose(0, 2, 1)
    w = np.array([1.0, 2.0, 0.5])
    per = -(log_softmax(z, 1) * p * w[None, :, None]).sum(1)
    assert_allclose(
        F.cross_entropy(mt.tensor(z), mt.tensor(p), mt.tensor(w)).numpy(force=True),
        per.mean(),
        atol=1e-12,
    )


def test_unbatched_logits_take_a_zero_dimensional_target():
    z = randn(5)
    out = F.cross_entropy(mt.tensor(z), mt.tensor(np.array(3)), reduction="none")
    assert out.shape == ()
    assert_allclose(out.numpy(force=True), -log_softmax(z, 0)[3])
    assert_allclose(F.nll_loss(mt.tensor(z), mt.tensor(np.array(1))).numpy(force=True), -z[1])
    probs = np.array([0.1, 0.2, 0.3, 0.4, 0.0])
    assert_allclose(
        F.cross_entropy(mt.tensor(z), mt.tensor(probs)).numpy(force=True),
        -(log_softmax(z, 0) * probs).sum(),
    )


def test_cross_entropy_values_recorded_from_pytorch():
    z = mt.tensor(np.arange(12.0).reshape(1, 3, 2, 2) / 4)
    t = mt.tensor(np.array([[[0, 1], [2, 1]]]))
    # torch.nn.functional.cross_entropy(z, t) and with label_smoothing=0.2, weight=[1, 2, 3]
    assert_allclose(F.cross_entropy(z, t).item(), 1.40760596, rtol=1e-7)
    assert_allclose(
        F.cross_entropy(z, t, mt.tensor([1.0, 2.0, 3.0]), label_smoothing=0.2).item(),
        1.14093930,
        rtol=1e-7,
    )


def test_mean_over_only_ignored_targets_is_nan_silently_as_pytorch():
    out = F.cross_entropy(mt.ones(2, 3), mt.tensor([-100, -100]))
    assert math.isnan(out.item())


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_k_dimensional_cross_entropy_is_exact_at_logits_of_1e4(dtype):
    z = leaf(np.array([[[1e4, -1e4]], [[-1e4, 1e4]], [[0.0, 0.0]]]).T.transpose(0, 2, 1), dtype)
    loss = F.cross_entropy(z, mt.tensor(np.array([[0], [1]])), label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad.numpy(force=True)).all()


def test_cross_entropy_target_shape_and_range_errors_name_them():
    with pytest.raises(ValueError, match=r"got input \(2, 3, 4\) and target \(2, 3\)"):
        F.cross_entropy(mt.ones(2, 3, 4), mt.tensor(np.zeros((2, 3), np.int64)))
    with pytest.raises(IndexError, match="target 5 is out of bounds for 3 classes"):
        F.nll_loss(mt.ones(1, 3, 2), mt.tensor(np.array([[0, 5]])))


# ----------------------------------------------------------------- regression losses
@given(st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_smooth_l1_and_huber_losses_follow_their_formulas(reduction, beta):
    x, y = randn(3, 4) * 2, randn(3, 4, seed=1)
    d = np.abs(x - y)
    smooth = np.where(d < beta, 0.5 * d * d / beta if beta else 0, d - 0.5 * beta)
    assert_allclose(
        F.smooth_l1_loss(mt.tensor(x), mt.tensor(y), reduction=reduction, beta=beta).numpy(
            force=True
        ),
        reduce(smooth, reduction),
        atol=1e-12,
    )
    if beta:
        huber = np.where(d < beta, 0.5 * d * d, beta * (d - 0.5 * beta))
        assert_allclose(
            F.huber_loss(mt.tensor(x), mt.tensor(y), reduction, beta).numpy(force=True),
            reduce(huber, reduction),
            atol=1e-12,
        )
    assert_allclose(
        F.l1_loss(mt.tensor(x), mt.tensor(y), reduction=reduction).numpy(force=True),
        reduce(d, reduction),
        atol=1e-12,
    )


def test_regression_loss_gradients_match_finite_differences():
    x, y = leaf(randn(2, 3) * 2), mt.tensor(randn(2, 3, seed=1))
    mt.testing.check_grads(lambda x: F.smooth_l1_loss(x, y, beta=0.7), x)
    mt.testing.check_grads(lambda x: F.huber_loss(x, y, delta=0.7), x)
    mt.testing.check_grads(lambda x: F.l1_loss(x, y), x)


# --------------------------------------------------------------- likelihood losses
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div_follows_its_formula_with_zero_targets_counting_nothing(reduction):
    logp = log_softmax(randn(4, 3), 1)
    t = np.random.default_rng(1).dirichlet(np.ones(3), 4)
    t[0, 1] = 0.0
    pointwise = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t * logp
    expected = pointwise.sum() / 4 if reduction == "batchmean" else reduce(pointwise, reduction)
    if reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean'"):
            out = F.kl_div(mt.tensor(logp), mt.tensor(t), reduction=reduction)
    else:
        out = F.kl_div(mt.tensor(logp), mt.tensor(t), reduction=reduction)
    assert_allclose(out.numpy(force=True), expected, atol=1e-12)
    log_t = np.log(t + 0.1)
    assert_allclose(
        F.kl_div(mt.tensor(logp), mt.tensor(log_t), reduction="sum", log_target=True).numpy(
            force=True
        ),
        (np.exp(log_t) * (log_t - logp)).sum(),
    )


def test_kl_div_gradient_matches_finite_differences():
    t = mt.tensor(np.random.default_rng(2).dirichlet(np.ones(3), 2))
    mt.testing.check_grads(
        lambda x: F.kl_div(x, t, reduction="batchmean"), leaf(randn(2, 3)), order=2
    )


@pytest.mark.parametrize(
    "log_input, full", [(True, False), (True, True), (False, False), (False, True)]
)
def test_poisson_nll_loss_follows_its_formula(log_input, full):
    x, k = np.abs(randn(3, 4)) + 0.1, np.random.default_rng(1).poisson(2, (3, 4)).astype(float)
    loss = np.exp(x) - k * x if log_input else x - k * np.log(x + 1e-8)
    if full:
        safe = np.where(k > 1, k, 1.0)
        loss = loss + np.where(
            k > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0
        )
    assert_allclose(
        F.poisson_nll_loss(mt.tensor(x), mt.tensor(k), log_input, full).numpy(force=True),
        loss.mean(),
        atol=1e-12,
    )


def test_gaussian_nll_loss_follows_its_formula_with_var_clamped_at_eps():
    x, y = randn(3, 2), randn(3, 2, seed=1)
    var = np.array([1e-9, 0.5, 2.0])
    v = np.maximum(var, 1e-6)[:, None]  # one variance per sample
    expected = 0.5 * (np.log(v) + (x - y) ** 2 / v) + 0.5 * np.log(2 * np.pi)
    assert_allclose(
        F.gaussian_nll_loss(
            mt.tensor(x), mt.tensor(y), mt.tensor(var), full=True, reduction="none"
        ).numpy(force=True),
        expected,
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(mt.tensor(x), mt.tensor(y), mt.tensor(-var))


def test_binary_cross_entropy_with_logits_weight_and_pos_weight_follow_the_formula():
    x, t = randn(4, 3) * 3, np.random.default_rng(1).uniform(size=(4, 3))
    w, pw = np.array([0.5, 1.0, 2.0]), np.array([3.0, 1.0, 0.5])
    log_sig, log_one_minus = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    expected = -w * (pw * t * log_sig + (1 - t) * log_one_minus)
    out = F.binary_cross_entropy_with_logits(
        mt.tensor(x), mt.tensor(t), mt.tensor(w), reduction="none", pos_weight=mt.tensor(pw)
    )
    assert_allclose(out.numpy(force=True), expected, atol=1e-12)


# -------------------------------------------------------------------- margin losses
def test_margin_ranking_hinge_and_soft_margin_losses_follow_their_formulas():
    a, b, y = randn(6), randn(6, seed=1), np.array([1.0, -1, 1, -1, 1, -1])
    assert_allclose(
        F.margin_ranking_loss(mt.tensor(a), mt.tensor(b), mt.tensor(y), 0.3).numpy(force=True),
        np.maximum(0, -y * (a - b) + 0.3).mean(),
    )
    assert_allclose(
        F.hinge_embedding_loss(mt.tensor(a), mt.tensor(y), 0.5, reduction="sum").numpy(force=True),
        np.where(y == 1, a, np.maximum(0, 0.5 - a)).sum(),
    )
    assert_allclose(
        F.soft_margin_loss(mt.tensor(a * 1e3), mt.tensor(y)).numpy(force=True),
        np.logaddexp(0, -y * a * 1e3).mean(),
    )


def test_cosine_embedding_loss_follows_pytorchs_formula():
    a, b, y = randn(4, 3), randn(4, 3, seed=1), np.array([1.0, -1, -1, 1])
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
    expected = np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.1))
    out = F.cosine_embedding_loss(mt.tensor(a), mt.tensor(b), mt.tensor(y), 0.1, reduction="none")
    assert_allclose(out.numpy(force=True), expected, atol=1e-12)
    mt.testing.check_grads(
        lambda a, b: F.cosine_embedding_loss(a, b, mt.tensor(y)), leaf(a), leaf(b)
    )


def test_triplet_margin_loss_compares_pairwise_distances():
    a, p, n = randn(4, 3), randn(4, 3, seed=1), randn(4, 3, seed=2)

    def dist(u, v):
        return np.linalg.norm(u - v + 1e-6, axis=-1)

    expected = np.maximum(dist(a, p) - np.minimum(dist(a, n), dist(p, n)) + 1.0, 0).mean()
    assert_allclose(
        F.triplet_margin_loss(mt.tensor(a), mt.tensor(p), mt.tensor(n), swap=True).numpy(
            force=True
        ),
        expected,
        atol=1e-12,
    )


# ------------------------------------------------------------------ modules and legacy
MODULES = [
    (nn_loss.L1Loss(reduction="sum"), lambda x, y: F.l1_loss(x, y, reduction="sum")),
    (nn_loss.SmoothL1Loss(beta=0.5), lambda x, y: F.smooth_l1_loss(x, y, beta=0.5)),
    (nn_loss.HuberLoss(delta=2.0), lambda x, y: F.huber_loss(x, y, delta=2.0)),
    (nn_loss.SoftMarginLoss(), F.soft_margin_loss),
    (nn_loss.HingeEmbeddingLoss(0.5), lambda x, y: F.hinge_embedding_loss(x, y, 0.5)),
    (nn_loss.PoissonNLLLoss(full=True), lambda x, y: F.poisson_nll_loss(x, y, full=True)),
]


@pytest.mark.parametrize("module, function", MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_loss_module_equals_its_function(module, function):
    x, y = mt.tensor(randn(3, 4)), mt.tensor(np.sign(randn(3, 4, seed=1)))
    assert_allclose(module(x, y).numpy(force=True), function(x, y).numpy(force=True), rtol=1e-15)


def test_multi_input_loss_modules_equal_their_functions():
    a, b, y = mt.tensor(randn(4, 3)), mt.tensor(randn(4, 3, seed=1)), mt.tensor([1.0, -1, 1, -1])
    assert_allclose(
        nn_loss.CosineEmbeddingLoss(0.2)(a, b, y).numpy(force=True),
        F.cosine_embedding_loss(a, b, y, 0.2).numpy(force=True),
    )
    assert_allclose(
        nn_loss.MarginRankingLoss(0.2)(a[:, 0], b[:, 0], y).numpy(force=True),
        F.margin_ranking_loss(a[:, 0], b[:, 0], y, 0.2).numpy(force=True),
    )
    assert_allclose(
        nn_loss.TripletMarginLoss(p=1.0)(a, b, a * 2).numpy(force=True),
        F.triplet_margin_loss(a, b, a * 2, p=1.0).numpy(force=True),
    )
    assert_allclose(
        nn_loss.KLDivLoss(reduction="batchmean", log_target=True)(a, b).numpy(force=True),
        F.kl_div(a, b, reduction="batchmean", log_target=True).numpy(force=True),
    )
    assert_allclose(
        nn_loss.GaussianNLLLoss()(a, b, mt.ones(4, 3)).numpy(force=True),
        F.gaussian_nll_loss(a, b, mt.ones(4, 3)).numpy(force=True),
    )


def test_class_weights_are_buffers_saved_in_the_state_dict():
    loss = nn_loss.CrossEntropyLoss(weight=mt.tensor([1.0, 2.0]), ignore_index=0)
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn_loss.BCEWithLogitsLoss(pos_weight=mt.ones(2)).state_dict()) == ["pos_weight"]
    z = mt.tensor(randn(3, 2))
    assert_allclose(
        loss(z, mt.tensor([0, 1, 1])).numpy(force=True),
        F.cross_entropy(z, mt.tensor([0, 1, 1]), mt.tensor([1.0, 2.0]), ignore_index=0).numpy(
            force=True
        ),
    )


@pytest.mark.parametrize(
    "size_average, reduce_, reduction",
    [(None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")],
)
def test_legacy_size_average_and_reduce_pick_the_reduction_with_a_warning(
    size_average, reduce_, reduction
):
    x, y = mt.tensor(randn(3)), mt.tensor(randn(3, seed=1))
    with pytest.warns(UserWarning, match="size_average and reduce are deprecated"):
        out = F.l1_loss(x, y, size_average, reduce_)
    assert_allclose(out.numpy(force=True), F.l1_loss(x, y, reduction=reduction).numpy(force=True))
    with pytest.warns(UserWarning, match="deprecated"):
        assert nn_loss.MSELoss(size_average, reduce_).reduction == reduction


def test_loss_arguments_are_in_pytorchs_positions():
    z, t = mt.tensor(randn(3, 4)), mt.tensor([0, 3, 1])
    w = mt.tensor([1.0, 2.0, 3.0, 4.0])
    # cross_entropy(input, target, weight, size_average, ignore_index, reduce, reduction,
    #               label_smoothing), as torch.nn.functional's
    assert_allclose(
        F.cross_entropy(z, t, w, None, 3, None, "sum", 0.1).numpy(force=True),
        F.cross_entropy(z, t, w, ignore_index=3, reduction="sum", label_smoothing=0.1).numpy(
            force=True
        ),
    )
    assert_allclose(
        F.nll_loss(z, t, w, None, 1, None, "none").numpy(force=True),
        F.nll_loss(z, t, w, ignore_index=1, reduction="none").numpy(force=True),
    )


# ------------------------------------------------------------------------- stability
_Y = np.array([[1.0, -1.0, 1.0, -1.0]])
_P = np.array([[0.5, 0.0, 0.3, 0.2]])
AT_LARGE_LOGITS = {
    "cross_entropy": lambda x: F.cross_entropy(x, mt.tensor([1]), label_smoothing=0.1),
    "cross_entropy_k_dim": lambda x: F.cross_entropy(x.reshape(1, 4, 1), mt.tensor([[3]])),
    "cross_entropy_probabilities": lambda x: F.cross_entropy(x, mt.tensor(_P, dtype=x.dtype)),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(
        x, mt.tensor(_P, dtype=x.dtype), pos_weight=mt.tensor(3.0, dtype=x.dtype)
    ),
    "soft_margin_loss": lambda x: F.soft_margin_loss(x, mt.tensor(_Y, dtype=x.dtype)),
    "kl_div": lambda x: F.kl_div(
        F.log_softmax(x, 1), mt.tensor(_P, dtype=x.dtype), reduction="batchmean"
    ),
    "smooth_l1_loss": lambda x: F.smooth_l1_loss(x, mt.tensor(_Y, dtype=x.dtype)),
    "huber_loss": lambda x: F.huber_loss(x, mt.tensor(_Y, dtype=x.dtype)),
    "cosine_embedding_loss": lambda x: F.cosine_embedding_loss(
        x, x * 0.5 + 1, mt.tensor([1.0], dtype=x.dtype)
    ),
    "margin_ranking_loss": lambda x: F.margin_ranking_loss(x, x * 0, mt.tensor(_Y, dtype=x.dtype)),
    "triplet_margin_loss": lambda x: F.triplet_margin_loss(x, x * 0.5, x * 0),
}


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
@pytest.mark.parametrize("name", AT_LARGE_LOGITS)
def test_losses_are_finite_without_warnings_at_logits_of_1e4(name, dtype):
    """numpy's overflow warnings are errors in this suite (pyproject's filterwarnings)."""
    x = leaf([[-1e4, 1e4, 0.0, 50.0]], dtype)
    loss = AT_LARGE_LOGITS[name](x)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy(force=True)).all()
