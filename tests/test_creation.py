"""Factories and randomness as PyTorch has them: shapes, dtype/device/requires_grad
arguments, generators, and the distributions of the random functions.

Golden values marked "PyTorch 2.13" were printed by torch 2.13.0+cpu with the same call.
Statistical checks use a fixed seed (so they are deterministic) and allow 5 standard
errors: a correct sampler lands inside with probability 1 - 6e-7 for any seed, while the
mistakes they guard against (an inclusive high, a skewed category, sampling with
replacement where it should not) move a frequency by 20 or more standard errors."""

import math

import numpy as np
import pytest

import microtensor as mt


@pytest.fixture(autouse=True)
def _keep_default_stream():
    """Tests here reseed and draw from the default generator; others see it unchanged."""
    state = mt.get_rng_state()
    yield
    mt.set_rng_state(state)


def within_5_sigma(count: int, n: int, p: float) -> bool:
    """The count of n Bernoulli(p) trials is within 5 standard errors of n * p."""
    return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p))


# ----------------------------------------------------------- shapes and arguments
SHAPED = {"zeros": mt.zeros, "ones": mt.ones, "empty": mt.empty, "rand": mt.rand, "randn": mt.randn}


@pytest.mark.parametrize("name", SHAPED)
def test_a_shape_is_taken_as_ints_a_tuple_a_list_or_size(name):
    make = SHAPED[name]
    for t in (
        make(2, 3),
        make((2, 3)),
        make([2, 3]),
        make(size=(2, 3)),
        make(size=[2, 3]),
        make(np.int64(2), mt.tensor(3)),
    ):
        assert t.shape == (2, 3)
    assert make().shape == make(()).shape == make([]).shape == ()


@pytest.mark.parametrize("name", SHAPED)
def test_a_bad_shape_is_refused_naming_the_factory(name):
    make = SHAPED[name]
    with pytest.raises(TypeError, match=f"{name}: size must be a tuple of ints, got float"):
        make(2.0)
    with pytest.raises(TypeError, match="got bool"):
        make(True)
    with pytest.raises(RuntimeError, match=rf"{name}: negative dimension in shape \(2, -1\)"):
        make(2, -1)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        make(2, size=(2,))


def _x():
    return mt.ones(2, 3)


# every factory, called with the arguments it needs and **kw
FACTORIES = {
    "empty": lambda **kw: mt.empty(2, 3, **kw),
    "zeros": lambda **kw: mt.zeros(2, 3, **kw),
    "ones": lambda **kw: mt.ones(2, 3, **kw),
    "full": lambda **kw: mt.full((2, 3), 1.5, **kw),
    "arange": lambda **kw: mt.arange(0, 6, **kw),
    "linspace": lambda **kw: mt.linspace(0, 1, 5, **kw),
    "logspace": lambda **kw: mt.logspace(0, 1, 5, **kw),
    "eye": lambda **kw: mt.eye(3, **kw),
    "empty_like": lambda **kw: mt.empty_like(_x(), **kw),
    "zeros_like": lambda **kw: mt.zeros_like(_x(), **kw),
    "ones_like": lambda **kw: mt.ones_like(_x(), **kw),
    "full_like": lambda **kw: mt.full_like(_x(), 2.0, **kw),
    "rand": lambda **kw: mt.rand(2, 3, **kw),
    "randn": lambda **kw: mt.randn(2, 3, **kw),
    "randint": lambda **kw: mt.randint(0, 5, (2, 3), **kw),
    "randperm": lambda **kw: mt.randperm(6, **kw),
    "rand_like": lambda **kw: mt.rand_like(_x(), **kw),
    "randn_like": lambda **kw: mt.randn_like(_x(), **kw),
    "randint_like": lambda **kw: mt.randint_like(_x(), 5, **kw),
    "normal": lambda **kw: mt.normal(0.0, 1.0, (2, 3), **kw),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_every_factory_takes_dtype_device_and_requires_grad(name):
    make = FACTORIES[name]
    for device in (None, "cpu", "cpu:0", mt.device("cpu")):
        assert make(device=device).shape == make().shape
    t = make(dtype=mt.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert not make().requires_grad


@pytest.mark.parametrize("name", FACTORIES)
def test_every_factory_refuses_other_devices_saying_only_the_cpu_is_there(name):
    make = FACTORIES[name]
    for device, shown in (
        ("cuda", "cuda"),
        ("mps", "mps"),
        ("cuda:1", "cuda:1"),
        (mt.device("cuda", 0), "cuda:0"),
        (0, "0"),
    ):
        with pytest.raises(
            RuntimeError,
            match=f"^{name}: device '{shown}' is not available: "
            f"microtensor computes on the CPU only",
        ):
            make(device=device)


@pytest.mark.parametrize("name", FACTORIES)
def test_every_factory_refuses_pytorch_arguments_it_lacks_by_name(name):
    make = FACTORIES[name]
    make(layout=None, pin_memory=False, memory_format=None, out=None)  # the defaults
    for option, value in (
        ("layout", "sparse_coo"),
        ("pin_memory", True),
        ("memory_format", "channels_last"),
        ("out", mt.zeros(6)),
    ):
        with pytest.raises(TypeError, match=f"^{name}: {option}=.* is not supported"):
            make(**{option: value})
    with pytest.raises(TypeError, match=f"{name}.. got an unexpected keyword argument 'colour'"):
        make(colour="red")


@pytest.mark.parametrize("name", ["zeros", "full", "arange", "randint", "randperm"])
def test_an_integer_result_cannot_require_grad(name):
    with pytest.raises(RuntimeError, match=f"{name}: only floating point tensors can require"):
        FACTORIES[name](dtype=mt.int64, requires_grad=True)


# ------------------------------------------------------------------------- device
def test_a_device_has_type_index_equality_and_pytorchs_repr():
    cpu = mt.device("cpu")
    assert (cpu.type, cpu.index) == ("cpu", None)
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    assert repr(mt.device("cpu:0")) == "device(type='cpu', index=0)"
    assert mt.device("cpu", 0) == mt.device("cpu:0") != cpu
    assert cpu == mt.device(cpu) and cpu.type == "cpu" and cpu != "cuda" and cpu != 3
    assert cpu != "cpu"  # as PyTorch 2.13: a device never equals a string
    assert len({cpu, mt.device("cpu")}) == 1  # equal devices hash alike
    assert mt.device("cuda:1").index == 1  # any of PyTorch's devices can be named


def test_a_device_string_pytorch_rejects_is_refused():
    with pytest.raises(RuntimeError, match="expected one of cpu, cuda.* got 'gpu'"):
        mt.device("gpu")
    with pytest.raises(RuntimeError, match="invalid device string 'cpu:-1'"):
        mt.device("cpu:-1")
    with pytest.raises(RuntimeError, match="already has an index"):
        mt.device("cpu:0", 0)


# --------------------------------------------------------- deterministic factories
def test_full_takes_its_dtype_from_the_fill_value_as_pytorch():
    assert mt.full((2,), True).dtype == np.bool_
    assert mt.full((2,), 3).dtype == np.int64
    assert mt.full((2,), 3.5).dtype == np.float32
    assert mt.full((2,), mt.tensor(3.5)).tolist() == [3.5, 3.5]
    assert mt.full(2, 1.0, dtype=mt.float64).dtype == np.float64


def test_arange_takes_end_alone_and_refuses_an_empty_step_or_a_wrong_sign():
    assert mt.arange(end=4).tolist() == [0, 1, 2, 3] and mt.arange(4).dtype == np.int64
    assert mt.arange(0, 1, 0.25).dtype == np.float32
    assert mt.arange(10, 0, -3).tolist() == [10, 7, 4, 1]
    with pytest.raises(RuntimeError, match="arange: step must be nonzero"):
        mt.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="arange: the range from 5 to 0 runs against"):
        mt.arange(5, 0)


def test_arange_of_floats_is_computed_in_float64_then_rounded():
    expected = (np.arange(31) * 0.1).astype(np.float32)  # what PyTorch gives, per element
    assert np.array_equal(mt.arange(0, 3.05, 0.1).numpy(), expected)


def test_linspace_gives_pytorchs_values_in_the_default_dtype():
    # PyTorch 2.13: torch.linspace(-3.3, 7.1, 11).tolist()
    expected = [
        -3.299999952316284,
        -2.259999990463257,
        -1.2200000286102295,
        -0.18000006675720215,
        0.8599998950958252,
        1.9000000953674316,
        2.940000057220459,
        3.9800000190734863,
        5.019999980926514,
        6.059999942779541,
        7.099999904632568,
    ]
    assert mt.linspace(-3.3, 7.1, 11).tolist() == expected
    assert mt.linspace(0, 10, 5).dtype == np.float32  # integer ends: still floating
    assert mt.linspace(mt.tensor(0.0, dtype=mt.float64), 1, 3).dtype == np.float32


def test_linspace_ends_are_exact_and_the_steps_even():
    t = mt.linspace(0.1, 0.7, 1001, dtype=mt.float32).numpy()
    assert t[0] == np.float32(0.1) and t[-1] == np.float32(0.7)
    exact = np.linspace(np.float32(0.1), np.float32(0.7), 1001)
    assert np.abs(t - exact).max() <= 4 * np.finfo(np.float32).eps  # a few float32 roundings


def test_linspace_with_an_integer_dtype_truncates_as_pytorch():
    # PyTorch 2.13
    assert mt.linspace(0, 10, 4, dtype=mt.int64).tolist() == [0, 3, 6, 10]
    assert mt.linspace(-5, 5, 4, dtype=mt.int64).tolist() == [-5, -1, 1, 5]
    assert mt.linspace(0.7, 9.9, 5, dtype=mt.int64).tolist() == [0, 2, 4, 6, 9]


def test_linspace_edge_counts_and_refusals():
    assert mt.linspace(3, 10, 1).tolist() == [3.0] and mt.linspace(3, 10, 0).shape == (0,)
    with pytest.raises(RuntimeError, match="linspace: steps must be non-negative, got -1"):
        mt.linspace(0, 1, -1)
    with pytest.raises(TypeError, match="linspace: steps must be an int, got float"):
        mt.linspace(0, 1, 3.0)
    with pytest.raises(RuntimeError, match="start must be a number or a 0-d tensor"):
        mt.linspace(mt.tensor([0.0]), 1, 3)
    with pytest.raises(TypeError, match="linspace: dtype bool"):
        mt.linspace(0, 1, 3, dtype=mt.bool_)


def test_logspace_is_base_to_the_linspace():
    assert mt.logspace(0, 2, 3).tolist() == [1.0, 10.0, 100.0]
    assert mt.logspace(0, 3, 4, base=2).tolist() == [1.0, 2.0, 4.0, 8.0]
    assert mt.logspace(0, 2, 5, dtype=mt.int64).tolist() == [1, 3, 10, 31, 100]  # PyTorch 2.13
    assert mt.logspace(2, 3, 1).tolist() == [100.0]
    t = mt.logspace(0.1, 1.3, 5, base=3.0, dtype=mt.float64).numpy()
    np.testing.assert_allclose(t, 3.0 ** np.linspace(0.1, 1.3, 5), rtol=1e-15)


def test_eye_is_n_by_m_and_refuses_a_negative_size():
    assert mt.eye(2, 3, dtype=mt.int64).tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(RuntimeError, match="eye: n must be non-negative, got -1"):
        mt.eye(-1)


@pytest.mark.parametrize("like", ["empty_like", "zeros_like", "ones_like", "full_like"])
def test_like_factories_copy_shape_and_dtype_but_not_requires_grad(like):
    make = getattr(mt, like)
    args = (7,) if like == "full_like" else ()
    x = mt.ones(2, 3, dtype=mt.float64, requires_grad=True)
    t = make(x, *args)
    assert t.shape == (2, 3) and t.dtype == np.float64 and not t.requires_grad
    assert make(x, *args, dtype=mt.int32).dtype == np.int32
    with pytest.raises(TypeError, match=f"{like}: input must be a Tensor, got ndarray"):
        make(np.ones(2), *args)


def test_full_like_casts_the_fill_value_to_the_tensors_dtype():
    assert mt.full_like(mt.zeros(2, dtype=mt.int64), 2.7).tolist() == [2, 2]  # as PyTorch
    assert mt.full_like(mt.zeros(2), True).tolist() == [1.0, 1.0]


def test_from_numpy_shares_memory_both_ways_and_keeps_the_dtype():
    a = np.zeros(3, dtype=np.float64)
    t = mt.from_numpy(a)
    assert t.dtype == np.float64 and t.numpy(force=True) is a
    a[0] = 5.0
    t.add_(1.0)
    assert t.tolist() == [6.0, 1.0, 1.0] and a.tolist() == [6.0, 1.0, 1.0]


def test_from_numpy_refuses_what_is_not_a_numeric_array():
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        mt.from_numpy([1.0])
    with pytest.raises(TypeError, match="numpy dtype <U1 is not supported"):
        mt.from_numpy(np.array(["a"]))


def test_as_tensor_copies_only_when_it_must():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    assert mt.as_tensor(x) is x and mt.as_tensor(x, dtype=mt.float32) is x
    y = mt.as_tensor(x, dtype=mt.float64)  # a cast, in the graph as in PyTorch
    y.sum().backward()
    assert y.dtype == np.float64 and x.grad.tolist() == [1.0, 1.0]
    a = np.ones(2)
    assert (
        mt.as_tensor(a).numpy(force=True) is a
        and mt.as_tensor(a, device="cpu").numpy(force=True) is a
    )
    b = mt.as_tensor(a, dtype=mt.float32)
    assert b.dtype == np.float32 and not np.shares_memory(b.numpy(force=True), a)
    assert mt.as_tensor([1.0, 2.0]).dtype == np.float32 and mt.as_tensor(3).dtype == np.int64
    with pytest.raises(RuntimeError, match="as_tensor: device 'cuda'"):
        mt.as_tensor(a, device="cuda")


# --------------------------------------------------------------------- generators
# every random function, drawing with generator=g (None: the default generator)
DRAWS = {
    "rand": lambda g: mt.rand(50, generator=g),
    "randn": lambda g: mt.randn(50, generator=g),
    "randint": lambda g: mt.randint(0, 1000, (50,), generator=g),
    "randperm": lambda g: mt.randperm(50, generator=g),
    "rand_like": lambda g: mt.rand_like(mt.zeros(50), generator=g),
    "randn_like": lambda g: mt.randn_like(mt.zeros(50), generator=g),
    "randint_like": lambda g: mt.randint_like(mt.zeros(50), 1000, generator=g),
    "normal (tensors)": lambda g: mt.normal(mt.zeros(50), mt.ones(50), generator=g),
    "normal (numbers)": lambda g: mt.normal(0.0, 1.0, (50,), generator=g),
    "bernoulli": lambda g: mt.bernoulli(mt.full((50,), 0.5), generator=g),
    "bernoulli_": lambda g: mt.zeros(50).bernoulli_(0.5, generator=g),
    "multinomial": lambda g: mt.multinomial(mt.ones(50), 50, generator=g),
    "multinomial (replacement)": lambda g: mt.multinomial(mt.ones(50), 50, True, generator=g),
}


@pytest.mark.parametrize("name", DRAWS)
def test_the_same_seed_gives_the_same_numbers(name):
    draw = DRAWS[name]
    a = draw(mt.Generator().manual_seed(5))
    assert draw(mt.Generator().manual_seed(5)).tolist() == a.tolist()
    assert draw(mt.Generator().manual_seed(6)).tolist() != a.tolist()
    mt.manual_seed(5)
    b = draw(None)
    mt.manual_seed(5)
    assert draw(None).tolist() == b.tolist()


@pytest.mark.parametrize("name", DRAWS)
def test_generators_seeded_alike_give_one_sequence_independently(name):
    draw = DRAWS[name]
    g1, g2 = mt.Generator().manual_seed(3), mt.Generator().manual_seed(3)
    first = [draw(g1).tolist() for _ in range(3)]
    mt.manual_seed(3)
    draw(None)  # the default generator's draws move neither
    second = []
    for _ in range(3):
        second.append(draw(g2).tolist())
        draw(g1)  # nor do another generator's
    assert second == first


@pytest.mark.parametrize("name", DRAWS)
def test_drawing_from_a_generator_leaves_the_default_stream_alone(name):
    mt.manual_seed(11)
    expected = mt.rand(5).tolist()
    mt.manual_seed(11)
    DRAWS[name](mt.Generator())
    assert mt.rand(5).tolist() == expected


def test_manual_seed_seeds_and_returns_the_default_generator():
    g = mt.manual_seed(42)
    assert g is mt.default_generator and isinstance(g, mt.Generator)
    assert mt.initial_seed() == g.initial_seed() == 42
    assert mt.manual_seed(1.9).initial_seed() == 1  # int(seed), as torch.manual_seed


def test_seeded_numbers_are_those_microtensor_gave_before_generators():
    mt.manual_seed(123)  # numpy's default_rng(seed), float64 draws rounded to the dtype
    rng = np.random.default_rng(123)
    assert np.array_equal(mt.rand(4).numpy(), rng.random(4).astype(np.float32))
    assert np.array_equal(mt.randn(3).numpy(), rng.standard_normal(3).astype(np.float32))


def test_default_generator_function_is_the_one_numpy_stream_of_the_default():
    stream = mt.random.default_generator()  # what nn.init, dropout and DataLoader draw from
    mt.manual_seed(7)
    assert mt.random.default_generator() is stream
    assert stream.random(3).tolist() == np.random.default_rng(7).random(3).tolist()


def test_a_new_generator_starts_where_the_unseeded_default_starts():
    assert mt.Generator().initial_seed() == 0
    assert mt.Generator().device == mt.device("cpu")
    assert (
        mt.rand(4, generator=mt.Generator()).tolist()
        == mt.rand(4, generator=mt.Generator().manual_seed(0)).tolist()
    )


def test_seeds_are_64_bit_and_negative_ones_wrap_as_in_pytorch():
    g = mt.Generator()
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1
    assert g.manual_seed(2**64 - 1).initial_seed() == 2**64 - 1
    with pytest.raises(ValueError, match="out of range"):
        g.manual_seed(2**64)
    with pytest.raises(TypeError, match="manual_seed: the seed must be an int, got float"):
        g.manual_seed(1.5)


def test_seed_picks_a_new_seed_and_returns_it():
    g = mt.Generator()
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2**64
    assert (
        mt.rand(5, generator=g).tolist()
        == mt.rand(5, generator=mt.Generator().manual_seed(s)).tolist()
    )
    s = mt.seed()
    assert mt.initial_seed() == s


def test_get_state_and_set_state_replay_a_stream_and_its_seed():
    g = mt.Generator().manual_seed(9)
    mt.randint(0, 10, (7,), generator=g)
    state = g.get_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    after = [mt.rand(3, generator=g).tolist(), mt.randperm(5, generator=g).tolist()]
    g.manual_seed(1)
    assert g.set_state(state) is g and g.initial_seed() == 9
    assert [mt.rand(3, generator=g).tolist(), mt.randperm(5, generator=g).tolist()] == after


def test_get_rng_state_and_set_rng_state_act_on_the_default():
    state = mt.get_rng_state()
    a = mt.randn(4).tolist()
    mt.set_rng_state(state)
    assert mt.randn(4).tolist() == a


def test_set_state_refuses_what_get_state_did_not_give():
    g = mt.Generator()
    with pytest.raises(TypeError, match="set_state: the state must be a uint8 tensor"):
        g.set_state(mt.zeros(45))
    with pytest.raises(RuntimeError, match="a state has 45 bytes, got 3"):
        g.set_state(mt.zeros(3, dtype=np.uint8))
    with pytest.raises(RuntimeError, match="not a state from get_state"):
        g.set_state(mt.zeros(45, dtype=np.uint8))


def test_generator_must_be_a_microtensor_generator_and_on_the_cpu():
    with pytest.raises(TypeError, match="rand: generator must be a mt.Generator, got Generator"):
        mt.rand(2, generator=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="Generator: device 'cuda' is not available"):
        mt.Generator("cuda")


# ------------------------------------------------------------------ distributions
@pytest.mark.parametrize("dtype", [mt.float16, mt.float32, mt.float64])
def test_rand_stays_below_1_in_every_dtype(dtype):
    # float64 draws above 1 - 2**-12 round to 1.0 in float16: about 24 of these 10**5
    u = mt.rand(100_000, dtype=dtype, generator=mt.Generator().manual_seed(0)).numpy()
    assert u.dtype == dtype and u.min() >= 0 and u.max() < 1
    assert within_5_sigma(int((u < 0.25).sum()), u.size, 0.25)


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: mt.rand(2, **kw),
        lambda **kw: mt.randn(2, **kw),
        lambda **kw: mt.rand_like(mt.zeros(2), **kw),
        lambda **kw: mt.normal(0.0, 1.0, (2,), **kw),
    ],
)
def test_real_valued_draws_refuse_an_integer_dtype(make):
    with pytest.raises(TypeError, match="dtype int64 is not a floating dtype"):
        make(dtype=mt.int64)


def test_randint_high_is_exclusive_and_the_values_uniform():
    x = mt.randint(3, 7, (40_000,), generator=mt.Generator().manual_seed(0))
    assert x.dtype == np.int64
    counts = np.bincount(x.numpy(), minlength=8)
    assert counts[:3].sum() == 0 and counts[7] == 0
    assert all(within_5_sigma(int(c), x.numel(), 0.25) for c in counts[3:7])


def test_randint_takes_pytorchs_forms():
    g = mt.Generator()
    assert set(mt.randint(2, (1000,), generator=g).tolist()) == {0, 1}
    assert set(mt.randint(2, size=(1000,), generator=g).tolist()) == {0, 1}
    assert set(mt.randint(high=2, size=[1000], generator=g).tolist()) == {0, 1}
    assert set(mt.randint(low=-3, high=-1, size=(1000,), generator=g).tolist()) == {-3, -2}
    t = mt.randint(0, 5, (3,), dtype=mt.float32)
    assert t.dtype == np.float32 and mt.randint(0, 2, (3,), dtype=mt.bool_).dtype == np.bool_


def test_randint_refuses_bad_bounds_and_sizes():
    with pytest.raises(RuntimeError, match=r"randint: low \(5\) must be less than high \(5\)"):
        mt.randint(5, 5, (2,))
    with pytest.raises(RuntimeError, match=r"\[0, 300\) does not fit in dtype uint8"):
        mt.randint(0, 300, (2,), dtype=np.uint8)
    with pytest.raises(TypeError, match="randint: high must be an int, got float"):
        mt.randint(0, 5.5, (2,))
    with pytest.raises(TypeError, match="randint: size must be a tuple of ints, got int"):
        mt.randint(0, 5, 4)
    with pytest.raises(TypeError, match="randint: missing size"):
        mt.randint(5)


def test_randperm_is_a_permutation_with_every_order_equally_likely():
    g = mt.Generator().manual_seed(0)
    assert sorted(mt.randperm(100, generator=g).tolist()) == list(range(100))
    orders = [tuple(mt.randperm(3, generator=g).tolist()) for _ in range(6000)]
    counts = {order: orders.count(order) for order in set(orders)}
    assert len(counts) == 6 and all(within_5_sigma(c, 6000, 1 / 6) for c in counts.values())


def test_randperm_dtypes_and_limits():
    assert mt.randperm(4).dtype == np.int64 and mt.randperm(0).shape == (0,)
    assert mt.randperm(4, dtype=mt.float32).dtype == np.float32
    mt.randperm(2049, dtype=mt.float16)  # float16 holds every integer up to 2048
    with pytest.raises(RuntimeError, match="randperm: n = 2050 is too large for dtype float16"):
        mt.randperm(2050, dtype=mt.float16)
    with pytest.raises(RuntimeError, match="randperm: n must be non-negative, got -1"):
        mt.randperm(-1)


def test_random_like_functions_take_input_shape_and_dtype():
    x = mt.zeros(2, 3, dtype=mt.float64, requires_grad=True)
    for t in (mt.rand_like(x), mt.randn_like(x), mt.randint_like(x, 5)):
        assert t.shape == (2, 3) and t.dtype == np.float64 and not t.requires_grad
    assert set(mt.randint_like(mt.zeros(1000, dtype=mt.int32), 3, 5).tolist()) == {3, 4}
    assert mt.randint_like(mt.zeros(2, dtype=mt.int32), high=5).dtype == np.int32
    with pytest.raises(TypeError, match="rand_like: dtype int64 is not a floating dtype"):
        mt.rand_like(mt.arange(3))
    with pytest.raises(TypeError, match="randint_like: missing high"):
        mt.randint_like(x)


def test_normal_with_tensors_broadcasts_and_takes_the_dtype_of_mean():
    t = mt.normal(mt.tensor([0.0, 10.0]), mt.tensor([[1.0], [0.0]]))
    assert t.shape == (2, 2) and t.dtype == np.float32 and t[1].tolist() == [0.0, 10.0]
    assert mt.normal(mt.tensor([2.0], dtype=mt.float64), mt.tensor([3.0])).dtype == np.float64
    assert mt.normal(mt.tensor([2.0]), mt.tensor([3.0], dtype=mt.float64)).dtype == np.float32
    assert mt.normal(5.0, mt.zeros(3, dtype=mt.float64)).tolist() == [5.0, 5.0, 5.0]
    assert mt.normal(mt.tensor([1.0, 2.0]), 0.0).tolist() == [1.0, 2.0]
    assert not mt.normal(mt.zeros(2, requires_grad=True)).requires_grad


def test_normal_has_the_given_mean_and_standard_deviation():
    x = mt.normal(2.0, 3.0, (40_000,), generator=mt.Generator().manual_seed(0)).numpy()
    # standard errors: 3 / sqrt(n) = 0.015 for the mean, about 3 / sqrt(2n) = 0.011 for std
    assert abs(x.mean() - 2.0) < 5 * 0.015 and abs(x.std() - 3.0) < 5 * 0.011
    assert mt.normal(0, 1, (2,)).dtype == np.float32
    assert mt.normal(mean=1.0, std=2.0, size=(2,), dtype=mt.float64).dtype == np.float64


def test_normal_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="normal: std must be >= 0, got -3"):
        mt.normal(2.0, -3.0, (2,))
    with pytest.raises(RuntimeError, match="every element of std must be >= 0"):
        mt.normal(mt.zeros(2), mt.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="normal: with a number mean and std, give size"):
        mt.normal(2.0, 3.0)
    with pytest.raises(TypeError, match="normal: size, dtype go with a number mean and std"):
        mt.normal(mt.zeros(2), 1.0, (2,), dtype=mt.float64)
    with pytest.raises(TypeError, match="mean and std must be floating tensors, got dtype int64"):
        mt.normal(mt.tensor([1]), 1.0)
    with pytest.raises(RuntimeError, match=r"shapes of mean \(3,\) and std \(2,\) do not"):
        mt.normal(mt.zeros(3), mt.ones(2))


def test_bernoulli_is_1_with_the_given_probability():
    g = mt.Generator().manual_seed(0)
    p = mt.tensor([0.0, 0.3, 1.0], dtype=mt.float64).expand(20_000, 3)
    x = mt.bernoulli(p, generator=g)
    assert x.dtype == np.float64 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    ones = x.numpy().sum(axis=0)
    assert ones[0] == 0 and ones[2] == 20_000 and within_5_sigma(int(ones[1]), 20_000, 0.3)
    assert mt.bernoulli(mt.ones(3), 0.0).tolist() == [0.0, 0.0, 0.0]  # p= for every element
    assert mt.tensor([1.0, 0.0]).bernoulli().tolist() == [1.0, 0.0]


def test_bernoulli_refuses_probabilities_outside_0_1_and_integer_input():
    with pytest.raises(RuntimeError, match=r"bernoulli: probabilities must be in \[0, 1\]"):
        mt.bernoulli(mt.tensor([1.5]))
    with pytest.raises(RuntimeError, match=r"must be in \[0, 1\]"):
        mt.bernoulli(mt.tensor([float("nan")]))
    with pytest.raises(RuntimeError, match=r"got p=1.5"):
        mt.bernoulli(mt.ones(2), 1.5)
    with pytest.raises(TypeError, match="bernoulli: input must be a floating tensor"):
        mt.bernoulli(mt.tensor([0, 1]))


def test_bernoulli_in_place_fills_any_dtype_and_broadcasts_p():
    x = mt.zeros(2, 3, dtype=mt.int64)
    assert x.bernoulli_(mt.tensor([1.0, 0.0, 1.0])) is x and x.tolist() == [[1, 0, 1]] * 2
    y = mt.zeros(20_000).bernoulli_(0.25, generator=mt.Generator().manual_seed(0))
    assert within_5_sigma(int(y.sum().item()), 20_000, 0.25)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        mt.zeros(3).bernoulli_(mt.ones(2))
    with pytest.raises(RuntimeError, match="leaf tensor"):
        mt.zeros(3, requires_grad=True).bernoulli_()


def test_multinomial_with_replacement_follows_the_weights():
    w = mt.tensor([[1.0, 0.0, 2.0, 7.0], [0.0, 0.0, 5.0, 0.0]])  # unnormalised
    x = mt.multinomial(w, 30_000, replacement=True, generator=mt.Generator().manual_seed(0))
    assert x.shape == (2, 30_000) and x.dtype == np.int64
    counts = np.bincount(x[0].numpy(), minlength=4)
    assert counts[1] == 0 and set(x[1].tolist()) == {2}
    assert all(within_5_sigma(int(counts[i]), 30_000, p) for i, p in ((0, 0.1), (2, 0.2), (3, 0.7)))


def test_multinomial_without_replacement_draws_in_sequence():
    g = mt.Generator().manual_seed(0)
    p = np.array([0.1, 0.2, 0.7])
    draws = np.array([mt.multinomial(mt.tensor(p), 2, generator=g).tolist() for _ in range(20_000)])
    assert (draws[:, 0] != draws[:, 1]).all()
    # first: p; second: sum over the first i of p_i * p_j / (1 - p_i)
    second = [sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j) for j in range(3)]
    for j in range(3):
        assert within_5_sigma(int((draws[:, 0] == j).sum()), 20_000, p[j])
        assert within_5_sigma(int((draws[:, 1] == j).sum()), 20_000, second[j])


def test_multinomial_puts_weight_0_categories_last_and_checks_its_input():
    assert sorted(mt.multinomial(mt.tensor([0.0, 1.0, 1.0]), 3).tolist()[:2]) == [1, 2]
    assert mt.tensor([0.0, 3.0]).multinomial(1).tolist() == [1]
    for bad, message in (
        (mt.tensor([1.0, 1.0]), "cannot draw 3 samples without replacement"),
        (mt.tensor([-1.0, 1.0]), "finite and non-negative"),
        (mt.tensor([float("inf"), 1.0]), "finite and non-negative"),
        (mt.zeros(2), "sum to 0"),
        (mt.ones(2, 2, 2), "must be 1-D or 2-D"),
    ):
        with pytest.raises(RuntimeError, match=f"multinomial: .*{message}"):
            mt.multinomial(bad, 3 if message.startswith("cannot") else 1)
    with pytest.raises(RuntimeError, match="num_samples must be positive, got 0"):
        mt.multinomial(mt.ones(2), 0)
    with pytest.raises(TypeError, match="must be a floating tensor"):
        mt.multinomial(mt.tensor([1, 1]), 1)
