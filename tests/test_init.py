"""nn.init: the statistics of large draws match the target distributions.

Targets are written here from the papers' formulas (Glorot: std = gain sqrt(2 / (fan_in +
fan_out)), He: std = gain / sqrt(fan)); tolerances come from the sampling error of the
estimators, at 6 standard errors, so a correct init fails with probability ~1e-9 while a
wrong fan (sqrt(500/400) = 1.118x) or gain is off by 20+ standard errors.
"""

import math

import numpy as np
import pytest

import microtensor as mt

init = mt.nn.init
SHAPE = (500, 400)  # fan_in 400, fan_out 500
CONV_SHAPE = (64, 32, 3, 3)  # fan_in 32*9 = 288, fan_out 64*9 = 576
FANS = {SHAPE: (400, 500), CONV_SHAPE: (288, 576)}
Z = 6  # standard errors allowed


def fresh(shape=SHAPE, dtype=mt.float64):
    return mt.zeros(*shape, dtype=dtype)


def assert_std(a, std, kurtosis):
    """Sample std within Z standard errors of `std`; mean within Z errors of 0.
    The std's relative standard error is sqrt((kurtosis - 1) / n) / 2."""
    n = a.size
    assert abs(a.mean()) < Z * std / math.sqrt(n), f"mean {a.mean()} is not ~0"
    rel = math.sqrt((kurtosis - 1) / n) / 2
    assert abs(a.std() / std - 1) < Z * rel, f"std {a.std()} is not {std} (+-{Z * rel:.2%})"


def assert_uniform(a, bound):
    """All values inside [-bound, bound] and reaching within delta * bound of both ends,
    with delta = 40 / n: P(no sample there) = (1 - delta / 2)^n ~ e^-20 per end. For
    n = 200000 a bound off by 0.02% fails. The std is bound / sqrt(3)."""
    delta = 40 / a.size
    assert np.abs(a).max() <= bound, f"max |value| {np.abs(a).max()} exceeds {bound}"
    assert a.max() > bound * (1 - delta) and a.min() < -bound * (1 - delta), (
        f"values span [{a.min()}, {a.max()}], not +-{bound}"
    )
    assert_std(a, bound / math.sqrt(3), kurtosis=1.8)


def assert_normal(a, std):
    assert_std(a, std, kurtosis=3.0)
    # about 68.27% within one std: binomial standard error
    inside = (np.abs(a) < std).mean()
    assert abs(inside - 0.6827) < Z * math.sqrt(0.6827 * 0.3173 / a.size)


# -------------------------------------------------------------------------- gains
@pytest.mark.parametrize(
    "nonlinearity, param, gain",
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.2**2))),
        ("leaky_relu", 0, math.sqrt(2)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain_golden_values(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_of_an_unknown_nonlinearity_is_an_error_naming_it():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


# ---------------------------------------------------------------- basic fills
def test_uniform_fills_within_the_bounds_with_the_uniform_std():
    a = init.uniform_(fresh(), -0.5, 1.5).numpy(force=True)
    assert a.min() >= -0.5 and a.max() <= 1.5
    assert a.min() < -0.49 and a.max() > 1.49
    assert abs(a.mean() - 0.5) < Z * (2 / math.sqrt(12)) / math.sqrt(a.size)
    assert_std(a - 0.5, 2 / math.sqrt(12), kurtosis=1.8)


def test_normal_fills_with_the_given_mean_and_std():
    a = init.normal_(fresh(), mean=3.0, std=0.25).numpy(force=True)
    assert_normal(a - 3.0, 0.25)


@pytest.mark.parametrize(
    "fill, value",
    [(lambda t: init.constant_(t, -2.5), -2.5), (init.zeros_, 0.0), (init.ones_, 1.0)],
)
def test_constant_fills_fill_every_element(fill, value):
    assert (fill(mt.randn(3, 4)).numpy(force=True) == value).all()


def test_init_fills_in_place_keep_the_dtype_and_return_the_tensor():
    t = mt.zeros(20, 30, dtype=mt.float32)
    data = t.numpy(force=True)
    assert init.xavier_uniform_(t) is t
    assert t.numpy(force=True) is data and t.dtype == np.float32
    assert (t.numpy(force=True) != 0).all()


def test_init_records_no_graph_on_a_parameter():
    p = mt.nn.Parameter(mt.zeros(10, 10))
    init.kaiming_normal_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


# ------------------------------------------------------------------------ xavier
@pytest.mark.parametrize("shape", [SHAPE, CONV_SHAPE])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform_bound_is_gain_sqrt_6_over_fan_in_plus_fan_out(shape, gain):
    fan_in, fan_out = FANS[shape]
    assert_uniform(
        init.xavier_uniform_(fresh(shape), gain=gain).numpy(force=True),
        gain * math.sqrt(6 / (fan_in + fan_out)),
    )


@pytest.mark.parametrize("shape", [SHAPE, CONV_SHAPE])
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2)])
def test_xavier_normal_std_is_gain_sqrt_2_over_fan_in_plus_fan_out(shape, gain):
    fan_in, fan_out = FANS[shape]
    assert_normal(
        init.xavier_normal_(fresh(shape), gain=gain).numpy(force=True),
        gain * math.sqrt(2 / (fan_in + fan_out)),
    )


# ----------------------------------------------------------------------- kaiming
KAIMING = [  # (kwargs, gain)
    ({"nonlinearity": "relu"}, math.sqrt(2)),
    ({"nonlinearity": "tanh"}, 5 / 3),
    ({}, math.sqrt(2)),  # leaky_relu with a = 0, PyTorch's default
    ({"a": 0.2, "nonlinearity": "leaky_relu"}, math.sqrt(2 / 1.04)),
    ({"a": math.sqrt(5)}, math.sqrt(1 / 3)),
]


@pytest.mark.parametrize("shape", [SHAPE, CONV_SHAPE])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("kwargs, gain", KAIMING)
def test_kaiming_normal_std_is_gain_over_sqrt_fan(shape, mode, kwargs, gain):
    fan = FANS[shape][0 if mode == "fan_in" else 1]
    assert_normal(
        init.kaiming_normal_(fresh(shape), mode=mode, **kwargs).numpy(force=True),
        gain / math.sqrt(fan),
    )


@pytest.mark.parametrize("shape", [SHAPE, CONV_SHAPE])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("kwargs, gain", KAIMING)
def test_kaiming_uniform_bound_is_gain_sqrt_3_over_fan(shape, mode, kwargs, gain):
    fan = FANS[shape][0 if mode == "fan_in" else 1]
    assert_uniform(
        init.kaiming_uniform_(fresh(shape), mode=mode, **kwargs).numpy(force=True),
        gain * math.sqrt(3 / fan),
    )


def test_kaiming_with_an_unknown_mode_is_an_error_naming_it():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform_(fresh((3, 4)), mode="fan_avg")


@pytest.mark.parametrize(
    "fill", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_]
)
def test_fan_based_init_of_a_one_dimensional_tensor_is_an_error(fill):
    with pytest.raises(ValueError, match=r"at least 2 dims, got shape \(5,\)"):
        fill(mt.zeros(5))


# --------------------------------------------------------------------------- seeds
@pytest.mark.parametrize(
    "fill",
    [
        init.uniform_,
        init.normal_,
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
    ],
)
def test_same_seed_gives_the_same_weights_and_another_seed_others(fill):
    def draw(seed):
        mt.manual_seed(seed)
        return fill(fresh((20, 10))).numpy(force=True).copy()

    assert (draw(0) == draw(0)).all()
    assert (draw(0) != draw(1)).all()


def test_same_seed_gives_the_same_layers():
    def layers(seed):
        mt.manual_seed(seed)
        return mt.nn.Linear(8, 4), mt.nn.Conv2d(2, 3, 3)

    a, b, c = layers(5), layers(5), layers(6)
    for x, y, z in zip(a, b, c):
        assert (x.weight.numpy(force=True) == y.weight.numpy(force=True)).all() and (
            x.bias.numpy(force=True) == y.bias.numpy(force=True)
        ).all()
        assert (x.weight.numpy(force=True) != z.weight.numpy(force=True)).all()


# ------------------------------------------------- layer defaults, as PyTorch
def test_linear_default_init_bounds_weight_by_one_over_sqrt_fan_in():
    layer = mt.nn.Linear(400, 500, dtype=mt.float64)
    assert layer.weight.shape == (500, 400)
    # kaiming_uniform_ with a = sqrt(5): sqrt(3) * sqrt(2 / (1 + 5)) / sqrt(fan_in)
    assert_uniform(layer.weight.numpy(force=True), 1 / math.sqrt(400))


def test_linear_default_init_bounds_bias_by_one_over_sqrt_fan_in():
    layer = mt.nn.Linear(4, 100_000, dtype=mt.float64)  # many biases: a sharp estimate
    assert layer.bias.shape == (100_000,)
    assert_uniform(layer.bias.numpy(force=True), 1 / math.sqrt(4))


def test_conv2d_default_init_bounds_weight_by_one_over_sqrt_fan_in():
    layer = mt.nn.Conv2d(32, 64, 3, dtype=mt.float64)
    assert_uniform(layer.weight.numpy(force=True), 1 / math.sqrt(32 * 3 * 3))


def test_conv2d_default_init_bounds_bias_by_one_over_sqrt_fan_in():
    layer = mt.nn.Conv2d(3, 50_000, (2, 1), dtype=mt.float64)
    assert_uniform(layer.bias.numpy(force=True), 1 / math.sqrt(3 * 2 * 1))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("fill", [init.kaiming_uniform_, init.kaiming_normal_])
def test_kaiming_init_of_a_zero_element_tensor_is_a_no_op(fill, mode):
    assert fill(mt.zeros(0, 4), mode=mode).shape == (0, 4)
    assert fill(mt.zeros(4, 0), mode=mode).shape == (4, 0)


def test_a_linear_layer_with_zero_input_features_outputs_zero_bias():
    """As PyTorch: nothing to initialise in the weight, and a bias bound of 0."""
    layer = mt.nn.Linear(0, 3)
    assert layer(mt.ones(2, 0)).tolist() == [[0.0] * 3] * 2


def test_layers_use_the_default_dtype():
    assert mt.nn.Linear(3, 2).weight.dtype == mt.get_default_dtype()
    assert mt.nn.Conv2d(1, 2, 3, dtype=mt.float64).weight.dtype == np.float64
