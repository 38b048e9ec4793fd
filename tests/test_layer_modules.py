"""The other layers and what they call: Embedding (and F.embedding, F.one_hot), the
activation modules generated from one table and the activations nn.functional composes
(selu, celu, glu, the shrinks, prelu, rrelu, softmin), the dropouts (element-wise,
channel-wise, alpha), Bilinear, Flatten/Unflatten, Identity, and the initialisation
statistics of the layers, as PyTorch's (bounds and standard deviations from its
documentation). Values are formulas written here in numpy, or recorded from PyTorch 2.13
where a comment says so."""

import math

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


# ------------------------------------------------------------------------- Embedding
@given(st.lists(st.integers(0, 4), min_size=1, max_size=6), st.integers(0, 4))
def test_embedding_gathers_rows_and_scatter_adds_their_gradient(idx, padding_idx):
    emb = L.Embedding(5, 3, padding_idx=padding_idx, dtype=mt.float64)
    w = emb.weight.numpy(force=True).copy()
    idx = np.array(idx).reshape(-1, 1)
    out = emb(mt.tensor(idx))
    assert_allclose(out.numpy(force=True), w[idx])
    (out * mt.tensor(randn(*out.shape))).sum().backward()
    expected = np.zeros_like(w)
    np.add.at(expected, idx.ravel(), randn(*out.shape).reshape(-1, 3))
    expected[padding_idx] = 0  # the padding row gets no gradient
    assert_allclose(emb.weight.grad.numpy(force=True), expected, atol=1e-12)


def test_embedding_initialisation_is_standard_normal_with_a_zero_padding_row():
    mt.manual_seed(0)
    emb = L.Embedding(2000, 50, padding_idx=-1)
    w = emb.weight.numpy(force=True)
    assert emb.padding_idx == 1999 and (w[1999] == 0).all()
    assert abs(w[:-1].mean()) < 0.01 and abs(w[:-1].std() - 1) < 0.01


def test_embedding_from_pretrained_is_frozen_unless_told():
    w = mt.tensor(randn(4, 2))
    frozen = L.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad
    assert_allclose(frozen(mt.tensor([3, 0])).numpy(force=True), w.numpy(force=True)[[3, 0]])
    assert L.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_embedding_errors_name_what_is_wrong():
    with pytest.raises(NotImplementedError, match="max_norm"):
        L.Embedding(3, 2, max_norm=1.0)
    with pytest.raises(IndexError, match="index 3 is out of range for a weight of 3 rows"):
        L.Embedding(3, 2)(mt.tensor([0, 3]))
    with pytest.raises(TypeError, match="embedding: expected integer indices"):
        F.embedding(mt.tensor([0.0]), mt.ones(3, 2))
    with pytest.raises(ValueError, match="padding_idx 3 must be within num_embeddings"):
        L.Embedding(3, 2, padding_idx=3)


def test_one_hot_infers_the_number_of_classes_and_checks_the_values():
    out = F.one_hot(mt.tensor([[0, 3], [2, 1]]))
    assert out.dtype == mt.int64 and out.shape == (2, 2, 4)
    assert_allclose(out.numpy(force=True), np.eye(4, dtype=np.int64)[[[0, 3], [2, 1]]])
    assert F.one_hot(mt.tensor([1]), 5).shape == (1, 5)
    with pytest.raises(ValueError, match="smaller than num_classes=2"):
        F.one_hot(mt.tensor([2]), 2)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(mt.tensor([-1]))


# ----------------------------------------------------------------------- activations
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
FORMULAS = {
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, 2.0 * np.expm1(x / 2.0)),
    "softshrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
    "hardshrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "tanhshrink": lambda x: x - np.tanh(x),
    "threshold": lambda x: np.where(x > 0.1, x, -3.0),
    "softmin": lambda x: np.exp(-x) / np.exp(-x).sum(1, keepdims=True),
    "glu": lambda x: x[:, :2] / (1 + np.exp(-x[:, 2:])),
}
CALLS = {
    "selu": F.selu,
    "celu": lambda x: F.celu(x, 2.0),
    "softshrink": F.softshrink,
    "hardshrink": F.hardshrink,
    "tanhshrink": F.tanhshrink,
    "threshold": lambda x: F.threshold(x, 0.1, -3.0),
    "softmin": lambda x: F.softmin(x, 1),
    "glu": lambda x: F.glu(x, 1),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_composed_activation_matches_its_formula_and_gradient(name):
    x = np.array([[-2.3, -0.7, 0.3, 1.9], [0.05, -0.2, 2.5, -4.0]])
    assert_allclose(CALLS[name](mt.tensor(x)).numpy(force=True), FORMULAS[name](x), atol=1e-12)
    mt.testing.check_grads(CALLS[name], leaf(x))


def test_selu_and_celu_values_recorded_from_pytorch():
    x = mt.tensor([-1.0, 2.0])
    assert_allclose(F.selu(x).numpy(force=True), [-1.1113, 2.1014], atol=1e-4)
    assert_allclose(F.celu(x, 2.0).numpy(force=True), [-0.7869, 2.0], atol=1e-4)


def test_prelu_has_one_learned_slope_per_channel_initialised_to_a_quarter():
    act = L.PReLU(3, dtype=mt.float64)
    assert_allclose(act.weight.numpy(force=True), [0.25] * 3)
    act.weight.numpy(force=True)[...] = [0.1, 0.2, 0.3]
    x = randn(2, 3, 4)
    slope = np.array([0.1, 0.2, 0.3]).reshape(1, 3, 1)
    assert_allclose(act(mt.tensor(x)).numpy(force=True), np.where(x > 0, x, slope * x))
    mt.testing.check_grads(F.prelu, leaf(x), leaf([0.1, 0.2, 0.3]))


def test_rrelu_draws_slopes_in_training_and_uses_their_mean_in_eval():
    act = L.RReLU(0.1, 0.3)
    x = mt.tensor(-np.ones(1000))
    slopes = -act(x).numpy(force=True)
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    assert_allclose(act.eval()(x).numpy(force=True), -0.2)


# (name, constructor arguments, the function the module must equal)
TABLE = [
    ("ReLU", (), F.relu),
    ("ReLU6", (), F.relu6),
    ("LeakyReLU", (0.2,), lambda x: F.leaky_relu(x, 0.2)),
    ("ELU", (0.5,), lambda x: F.elu(x, 0.5)),
    ("CELU", (1.5,), lambda x: F.celu(x, 1.5)),
    ("SELU", (), F.selu),
    ("GELU", ("tanh",), lambda x: F.gelu(x, approximate="tanh")),
    ("SiLU", (), F.silu),
    ("Mish", (), F.mish),
    ("Hardtanh", (-2.0, 0.5), lambda x: F.hardtanh(x, -2.0, 0.5)),
    ("Hardswish", (), F.hardswish),
    ("Hardsigmoid", (), F.hardsigmoid),
    ("Sigmoid", (), F.sigmoid),
    ("Tanh", (), F.tanh),
    ("LogSigmoid", (), F.logsigmoid),
    ("Softsign", (), F.softsign),
    ("Softplus", (2.0, 1.0), lambda x: F.softplus(x, 2.0, 1.0)),
    ("Softshrink", (1.0,), lambda x: F.softshrink(x, 1.0)),
    ("Hardshrink", (1.0,), lambda x: F.hardshrink(x, 1.0)),
    ("Tanhshrink", (), F.tanhshrink),
    ("Threshold", (0.5, -1.0), lambda x: F.threshold(x, 0.5, -1.0)),
    ("GLU", (0,), lambda x: F.glu(x, 0)),
    ("Softmax", (1,), lambda x: F.softmax(x, 1)),
    ("LogSoftmax", (0,), lambda x: F.log_softmax(x, 0)),
    ("Softmin", (1,), lambda x: F.softmin(x, 1)),
]


@pytest.mark.parametrize("name, args, function", TABLE, ids=[t[0] for t in TABLE])
def test_activation_module_equals_its_function(name, args, function):
    module = getattr(L, name)(*args)
    x = mt.tensor(np.random.default_rng(1).uniform(-4, 4, (4, 6)))
    assert type(module).__name__ == name and type(module).__module__ == L.activation.__name__
    assert_allclose(module(x).numpy(force=True), function(x).numpy(force=True), rtol=1e-15)
    assert not list(module.parameters())


def test_activation_modules_take_their_options_by_keyword_and_print_them_as_pytorch():
    assert repr(L.LeakyReLU(negative_slope=0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(L.GELU(approximate="tanh")) == "GELU(approximate='tanh')"
    assert repr(L.Hardtanh(-2.0, 2.0)) == "Hardtanh(min_val=-2.0, max_val=2.0)"
    assert repr(L.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(L.SiLU()) == "SiLU()"
    with pytest.raises(TypeError):
        L.ReLU(negative_slope=0.1)
    with pytest.raises(TypeError):
        L.Threshold(0.5)  # value is required, as in PyTorch


def test_an_inplace_activation_writes_into_its_input_and_keeps_the_gradient():
    for module, reference in [
        (L.ReLU(inplace=True), lambda a: np.maximum(a, 0)),
        (L.SELU(inplace=True), FORMULAS["selu"]),
    ]:
        x = leaf(randn(5))
        y = x * 1.0
        out = module(y)
        assert out is y
        assert_allclose(y.numpy(force=True), reference(x.numpy(force=True)), atol=1e-12)
        out.sum().backward()
        h = 1e-6
        numeric = (reference(x.numpy(force=True) + h) - reference(x.numpy(force=True) - h)) / (
            2 * h
        )
        assert_allclose(x.grad.numpy(force=True), numeric, atol=1e-6)


def test_softmax_without_dim_uses_pytorchs_implicit_dim_with_a_warning():
    x = mt.tensor(randn(2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = L.Softmax()(x)
    assert_allclose(
        out.numpy(force=True), F.softmax(x, 0).numpy(force=True)
    )  # dim 0 for a 3-D input
    assert_allclose(L.Softmax2d()(x).numpy(force=True), F.softmax(x, -3).numpy(force=True))


# ---------------------------------------------------------------------------- dropout
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest():
    mt.manual_seed(0)
    x = mt.ones(8, 16, 3, 3)
    out = L.Dropout2d(0.5)(x).numpy(force=True)
    per_channel = out.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    assert (L.Dropout2d(0.5).eval()(x).numpy(force=True) == 1).all()
    seq = L.Dropout1d(0.5)(mt.ones(4, 16, 5)).numpy(force=True)
    assert ((seq == 0).all(-1) | (seq == 2).all(-1)).all()


def test_dropout2d_of_a_three_dimensional_input_drops_one_dimensional_channels():
    mt.manual_seed(1)
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        out = F.dropout2d(mt.ones(4, 8, 5), 0.5).numpy(force=True)
    assert ((out == 0).all(-1) | (out == 2).all(-1)).all()


def test_alpha_dropout_keeps_the_mean_and_variance_of_unit_normal_inputs():
    mt.manual_seed(2)
    x = mt.tensor(randn(200_000))
    out = L.AlphaDropout(0.3)(x).numpy(force=True)
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    dropped = -SELU_ALPHA * SELU_SCALE  # the dropped value before the affine map
    a = 1 / math.sqrt((dropped**2 * 0.3 + 1) * 0.7)
    assert np.isclose(out, a * dropped + a * -dropped * 0.3).mean() == pytest.approx(0.3, abs=0.01)


def test_inplace_dropout_writes_into_its_input():
    mt.manual_seed(3)
    y = mt.ones(100)
    assert L.Dropout(0.5, inplace=True)(y) is y
    assert set(np.unique(y.numpy(force=True))) <= {0.0, 2.0}


# ------------------------------------------------------------------ the other layers
def test_bilinear_is_x1_w_x2_plus_b_and_initialised_within_one_over_sqrt_in1():
    mt.manual_seed(0)
    layer = L.Bilinear(4, 3, 5, dtype=mt.float64)
    assert layer.weight.shape == (5, 4, 3)
    assert (
        np.abs(layer.weight.numpy(force=True)).max() <= 0.5
        and np.abs(layer.bias.numpy(force=True)).max() <= 0.5
    )
    x1, x2 = randn(2, 4), randn(2, 3, seed=1)
    expected = np.einsum(
        "ni,oij,nj->no", x1, layer.weight.numpy(force=True), x2
    ) + layer.bias.numpy(force=True)
    assert_allclose(layer(mt.tensor(x1), mt.tensor(x2)).numpy(force=True), expected, atol=1e-12)
    mt.testing.check_grads(F.bilinear, leaf(x1), leaf(x2), leaf(randn(5, 4, 3, seed=2)))


def test_unflatten_undoes_flatten_as_a_view():
    x = mt.tensor(randn(2, 12))
    out = L.Unflatten(1, (3, 4))(x)
    assert out.shape == (2, 3, 4)
    assert_allclose(L.Flatten()(out).numpy(force=True), x.numpy(force=True))
    assert L.Identity(3, key="ignored")(x) is x


def _uniform_bound(samples: np.ndarray, bound: float) -> None:
    """Drawn from U(-bound, bound): within it, and spread over it (std bound / sqrt 3)."""
    assert np.abs(samples).max() <= bound
    assert abs(samples.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_layers_are_initialised_as_pytorchs():
    mt.manual_seed(0)
    linear = L.Linear(400, 300)
    _uniform_bound(
        linear.weight.numpy(force=True), 1 / math.sqrt(400)
    )  # kaiming_uniform(a = sqrt 5)
    _uniform_bound(linear.bias.numpy(force=True), 1 / math.sqrt(400))
    conv = L.Conv2d(16, 64, 5, groups=4)
    _uniform_bound(conv.weight.numpy(force=True), 1 / math.sqrt(4 * 25))
    lstm = L.LSTM(30, 100, num_layers=2, bidirectional=True)
    for p in lstm.parameters():
        _uniform_bound(p.numpy(force=True), 1 / math.sqrt(100))
    mha = L.MultiheadAttention(64, 4)
    _uniform_bound(
        mha.in_proj_weight.numpy(force=True), math.sqrt(6 / (64 + 3 * 64))
    )  # xavier on (3E, E)
    assert (mha.in_proj_bias.numpy(force=True) == 0).all() and (
        mha.out_proj.bias.numpy(force=True) == 0
    ).all()
    assert (L.LayerNorm(3).weight.numpy(force=True) == 1).all() and (
        L.GroupNorm(1, 3).bias.numpy(force=True) == 0
    ).all()


def test_layers_take_pytorchs_factory_arguments():
    layer = L.Linear(2, 3, device="cpu", dtype=mt.float64)
    assert layer.weight.dtype == mt.float64 and layer.bias.dtype == mt.float64
    with pytest.raises(RuntimeError, match="Conv2d"):
        L.Conv2d(1, 1, 1, device="cuda")


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_layers_are_finite_without_warnings_at_inputs_of_1e4(dtype):
    """numpy's overflow warnings are errors in this suite (pyproject's filterwarnings)."""
    mt.manual_seed(0)
    big = np.array([-1e4, 1e4, 0.0, 50.0])
    layers = [
        L.SELU(),
        L.CELU(0.5),
        L.Softmin(0),
        L.GLU(0),
        L.Tanhshrink(),
        L.Mish(),
        L.LayerNorm(4, dtype=dtype),
        lambda x: L.LSTM(1, 2, dtype=dtype)(x[:, None, None])[0],
        lambda x: L.GRU(1, 2, dtype=dtype)(x[:, None, None])[0],
        lambda x: F.scaled_dot_product_attention(x[:, None], x[:, None], x[:, None]),
    ]
    for layer in layers:
        x = leaf(big, dtype)
        out = layer(x)
        out.sum().backward()
        assert (
            np.isfinite(out.numpy(force=True)).all() and np.isfinite(x.grad.numpy(force=True)).all()
        )


# ------------------------------------------------------------------ more of nn.init
def test_orthogonal_init_gives_orthonormal_rows_or_columns_times_gain():
    mt.manual_seed(0)
    tall, wide = mt.empty(6, 3), mt.empty(2, 3, 2)
    mt.nn.init.orthogonal_(tall)
    mt.nn.init.orthogonal_(wide, gain=2.0)
    assert_allclose(tall.numpy(force=True).T @ tall.numpy(force=True), np.eye(3), atol=1e-6)
    flat = wide.numpy(force=True).reshape(2, 6)
    assert_allclose(flat @ flat.T, 4 * np.eye(2), atol=1e-5)


def test_eye_and_dirac_init_make_layers_that_pass_their_input_through():
    x = randn(1, 4, 5, 5)
    w = mt.nn.init.dirac_(mt.empty(4, 2, 3, 3, dtype=mt.float64), groups=2)
    assert_allclose(F.conv2d(mt.tensor(x), w, padding=1, groups=2).numpy(force=True), x, atol=1e-12)
    assert_allclose(mt.nn.init.eye_(mt.empty(2, 3)).numpy(force=True), np.eye(2, 3))


def test_trunc_normal_init_stays_within_its_bounds_with_the_truncated_mean():
    mt.manual_seed(1)
    t = mt.nn.init.trunc_normal_(mt.empty(200_000, dtype=mt.float64), 0.0, 1.0, -1.0, 2.0)

    def pdf(z):
        return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def cdf(z):
        return (1 + math.erf(z / math.sqrt(2))) / 2

    mean = (pdf(-1.0) - pdf(2.0)) / (cdf(2.0) - cdf(-1.0))  # of N(0, 1) cut to [-1, 2]
    assert t.numpy(force=True).min() >= -1.0 and t.numpy(force=True).max() <= 2.0
    assert abs(t.numpy(force=True).mean() - mean) < 0.01
