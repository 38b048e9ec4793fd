"""Randomness: generators, and every function that draws from one.

A `Generator` is a seed and the stream of numbers it starts (numpy's PCG64). Every random
function takes `generator=`; without it, it draws from the default generator, which
`mt.manual_seed` seeds and nn.init, dropout and DataLoader draw from too. A seed fixes a
run: the same seed gives the same numbers, and generators never move each other's streams.
The numbers are not PyTorch's (another bit generator) but the distributions are.

>>> import microtensor as mt
>>> g = mt.Generator().manual_seed(7)
>>> a = mt.rand(3, generator=g)
>>> bool((a == mt.rand(3, generator=mt.Generator().manual_seed(7))).all())
True
"""

from __future__ import annotations

import operator
import secrets
from typing import Any

from .autograd import apply_inplace
from .backend import ndarray, xp
from .creation import _check_device, _check_options, _count, _leaf, _like, _shape, device
from .ops import Fill
from .tensor import Tensor, _wrap, get_default_dtype

__all__ = [
    "Generator",
    "default",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "default_generator",
    "rand",
    "randn",
    "randint",
    "randperm",
    "rand_like",
    "randn_like",
    "randint_like",
    "normal",
    "bernoulli",
    "bernoulli_",
    "multinomial",
]

_INITIAL_SEED = 0  # one seed for the default generator and every new one, as in PyTorch
# What get_state packs, in bytes: PCG64's state and increment, a buffered 32-bit draw and
# whether there is one (numpy's uinteger and has_uint32), the initial seed.
_STATE_BYTES = (16, 16, 4, 1, 8)


class Generator:
    """A seed and the stream of random numbers it starts: pass it as `generator=` to draw
    from it instead of the default generator. Two generators seeded alike give the same
    numbers, and drawing from one moves neither the other nor the default."""

    def __init__(self, device: str | device | None = None) -> None:
        _check_device("Generator", device)
        self._rng = xp.random.default_rng(_INITIAL_SEED)
        self._seed = _INITIAL_SEED

    @property
    def device(self) -> device:
        return device("cpu")

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed`, an int in [-2**63, 2**64) (a negative one counts
        modulo 2**64, as in PyTorch); returns the generator."""
        if isinstance(seed, bool) or not isinstance(seed, (int, xp.integer)):
            raise TypeError(f"manual_seed: the seed must be an int, got {type(seed).__name__}")
        if not -(2**63) <= seed < 2**64:
            raise ValueError(f"manual_seed: the seed {seed} is out of range [-2**63, 2**64)")
        self._seed = int(seed) % 2**64
        # in place: whoever holds this numpy Generator (default_generator()) follows
        self._rng.bit_generator.state = xp.random.PCG64(self._seed).state
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy (a different run each time); returns
        the seed, so that the run can be repeated with manual_seed."""
        new = secrets.randbits(64)
        self.manual_seed(new)
        return new

    def initial_seed(self) -> int:
        """The seed the stream started from (the last manual_seed or seed)."""
        return self._seed

    def get_state(self) -> Tensor:
        """Where the stream stands, with its seed, as a uint8 tensor for set_state (PCG64's
        45 bytes, not PyTorch's 5056: states do not travel between the two)."""
        s = self._rng.bit_generator.state
        values = (
            s["state"]["state"],
            s["state"]["inc"],
            s["uinteger"],
            s["has_uint32"],
            self._seed,
        )
        raw = b"".join(v.to_bytes(n, "little") for v, n in zip(values, _STATE_BYTES))
        return _wrap(xp.frombuffer(raw, xp.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        """Put the stream back where get_state found it; returns the generator."""
        if not isinstance(new_state, Tensor) or new_state.dtype != xp.uint8:
            raise TypeError(
                f"set_state: the state must be a uint8 tensor from get_state, "
                f"got {_describe(new_state)}"
            )
        raw = new_state._data.tobytes()
        if len(raw) != sum(_STATE_BYTES):
            raise RuntimeError(f"set_state: a state has {sum(_STATE_BYTES)} bytes, got {len(raw)}")
        values, at = [], 0
        for n in _STATE_BYTES:
            values.append(int.from_bytes(raw[at : at + n], "little"))
            at += n
        state, inc, uinteger, has_uint32, seed = values
        if inc % 2 == 0 or has_uint32 > 1:  # PCG64's increment is odd
            raise RuntimeError("set_state: these bytes are not a state from get_state")
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": state, "inc": inc},
            "has_uint32": has_uint32,
            "uinteger": uinteger,
        }
        self._seed = seed
        return self


def _describe(value: Any) -> str:
    return f"a {value.dtype} tensor" if isinstance(value, Tensor) else type(value).__name__


default = Generator()  # mt.default_generator


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (random functions without generator=, nn.init, dropout,
    DataLoader); returns it, as torch.manual_seed does."""
    return default.manual_seed(int(seed))


def seed() -> int:
    """Seed the default generator from the operating system's entropy; returns the seed."""
    return default.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state (Generator.get_state)."""
    return default.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Put the default generator back in a state from get_rng_state."""
    default.set_state(new_state)


def default_generator():
    """The numpy Generator behind the default generator: the stream nn.init, dropout and
    DataLoader draw from (the same object for the whole run; manual_seed reseeds it)."""
    return default._rng


draws = [0]  # every draw through a Generator counts here: mt.compile sees draws by it


def _rng(where: str, generator: Generator | None):
    """The numpy stream a draw uses: the generator's own, or the default's."""
    draws[0] += 1
    if generator is None:
        return default._rng
    if not isinstance(generator, Generator):
        raise TypeError(
            f"{where}: generator must be a mt.Generator, got {type(generator).__name__}"
        )
    return generator._rng


def _floating(where: str, dtype) -> Any:
    dtype = get_default_dtype() if dtype is None else xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(
            f"{where}: dtype {dtype} is not a floating dtype; {where} draws real "
            f"numbers (randint draws integers)"
        )
    return dtype


def _uniform(rng, shape: tuple, dtype) -> ndarray:
    """Uniform on [0, 1) in dtype: float64 draws rounded, those that round up to 1 put
    just below it (in float32 about one draw in 3e7 would)."""
    out = rng.random(shape).astype(dtype)
    return xp.minimum(out, xp.nextafter(dtype.type(1), dtype.type(0)), out=out)


def _integers(where: str, rng, low, high, shape: tuple, dtype) -> ndarray:
    """Uniform integers in [low, high), in dtype (which must hold them)."""
    if low >= high:
        raise RuntimeError(f"{where}: low ({low}) must be less than high ({high})")
    if dtype.kind in "biu":
        lo, hi = (0, 1) if dtype.kind == "b" else (xp.iinfo(dtype).min, xp.iinfo(dtype).max)
        if low < lo or high - 1 > hi:
            raise RuntimeError(f"{where}: [{low}, {high}) does not fit in dtype {dtype}")
    return rng.integers(low, high, size=shape).astype(dtype, copy=False)


def _bound(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be an int, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{where}: {name} must be an int, got {type(value).__name__}") from None


def _bounds(where: str, low, high) -> tuple:
    """(low, high) from PyTorch's forms: (high) or (low, high)."""
    if high is None:
        if low is None:
            raise TypeError(f"{where}: missing high (the exclusive upper bound)")
        low, high = 0, low
    return _bound(where, "low", 0 if low is None else low), _bound(where, "high", high)


def rand(
    *dims,
    size=None,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """Uniform on [0, 1), of the given shape."""
    _check_options("rand", device, options)
    dtype = _floating("rand", dtype)
    data = _uniform(_rng("rand", generator), _shape("rand", dims, size), dtype)
    return _leaf("rand", data, requires_grad)


def randn(
    *dims,
    size=None,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """Standard normal, of the given shape."""
    _check_options("randn", device, options)
    dtype = _floating("randn", dtype)
    data = _rng("randn", generator).standard_normal(_shape("randn", dims, size))
    return _leaf("randn", data.astype(dtype), requires_grad)


def randint(
    low: int | None = None,
    high: int | None = None,
    size=None,
    *,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """Uniform integers in [low, high) (high excluded), of shape size: `randint(high, size)`
    or `randint(low, high, size)`. int64 unless dtype says otherwise.

    >>> import microtensor as mt
    >>> mt.randint(3, 5, (4,), generator=mt.Generator().manual_seed(0)).tolist()
    [4, 4, 4, 3]
    """
    _check_options("randint", device, options)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = None, low, high
    if size is None:
        raise TypeError("randint: missing size (a tuple of ints): randint(low=0, high, size)")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints, got {type(size).__name__}")
    low, high = _bounds("randint", low, high)
    dtype = xp.dtype(xp.int64 if dtype is None else dtype)
    data = _integers(
        "randint", _rng("randint", generator), low, high, _shape("randint", (size,)), dtype
    )
    return _leaf("randint", data, requires_grad)


def randperm(
    n: int,
    *,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """A random permutation of 0, ..., n - 1 (int64 unless dtype says otherwise)."""
    _check_options("randperm", device, options)
    n = _count("randperm", "n", n)
    dtype = xp.dtype(xp.int64 if dtype is None else dtype)
    if dtype.kind == "b":
        raise TypeError("randperm: dtype bool cannot hold a permutation")
    most = xp.iinfo(dtype).max if dtype.kind in "iu" else 2 ** (xp.finfo(dtype).nmant + 1)
    if n - 1 > most:  # floats: the integers they hold exactly
        raise RuntimeError(f"randperm: n = {n} is too large for dtype {dtype}")
    data = _rng("randperm", generator).permutation(n).astype(dtype, copy=False)
    return _leaf("randperm", data, requires_grad)


def rand_like(
    input: Tensor,
    *,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """rand in input's shape and dtype."""
    _check_options("rand_like", device, options)
    shape, dtype = _like("rand_like", input, dtype)
    data = _uniform(_rng("rand_like", generator), shape, _floating("rand_like", dtype))
    return _leaf("rand_like", data, requires_grad)


def randn_like(
    input: Tensor,
    *,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """randn in input's shape and dtype."""
    _check_options("randn_like", device, options)
    shape, dtype = _like("randn_like", input, dtype)
    dtype = _floating("randn_like", dtype)
    data = _rng("randn_like", generator).standard_normal(shape).astype(dtype)
    return _leaf("randn_like", data, requires_grad)


def randint_like(
    input: Tensor,
    low: int | None = None,
    high: int | None = None,
    *,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """randint in input's shape and dtype: `randint_like(x, high)` or
    `randint_like(x, low, high)`."""
    _check_options("randint_like", device, options)
    shape, dtype = _like("randint_like", input, dtype)
    low, high = _bounds("randint_like", low, high)
    data = _integers("randint_like", _rng("randint_like", generator), low, high, shape, dtype)
    return _leaf("randint_like", data, requires_grad)


def normal(
    mean,
    std=1.0,
    size=None,
    *,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    **options,
) -> Tensor:
    """Normal samples, mean + std * N(0, 1). With a tensor mean or std (or both, which
    broadcast) the result has their shape and the dtype of mean (else of std); with
    numbers, give size (and dtype, device, requires_grad if wanted). The result has no
    gradient (PyTorch's is identically zero).

    >>> import microtensor as mt
    >>> mt.normal(mt.tensor([0.0, 10.0]), 0.0)
    tensor([ 0., 10.])
    """
    _check_options("normal", device, options)
    rng = _rng("normal", generator)
    if not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
        if size is None:
            raise TypeError(
                "normal: with a number mean and std, give size: normal(mean, std, size)"
            )
        if not std >= 0:
            raise RuntimeError(f"normal: std must be >= 0, got {std}")
        dtype = _floating("normal", dtype)
        data = mean + std * rng.standard_normal(_shape("normal", (size,)))
        return _leaf("normal", data.astype(dtype), requires_grad)
    given = [
        name
        for name, v in (
            ("size", size),
            ("dtype", dtype),
            ("device", device),
            ("requires_grad", requires_grad),
        )
        if v is not None and v is not False
    ]
    if given:
        raise TypeError(
            f"normal: {', '.join(given)} go with a number mean and std only; with "
            f"a tensor mean or std the result takes the tensors' shape and dtype"
        )
    dtype = (mean if isinstance(mean, Tensor) else std).dtype
    if dtype.kind != "f":
        raise TypeError(f"normal: mean and std must be floating tensors, got dtype {dtype}")
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if not (xp.asarray(s) >= 0).all():
        raise RuntimeError("normal: every element of std must be >= 0")
    try:
        shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    except ValueError:
        raise RuntimeError(
            f"normal: the shapes of mean {xp.shape(m)} and std {xp.shape(s)} do not broadcast"
        ) from None
    return _wrap((m + s * rng.standard_normal(shape)).astype(dtype))


def _probabilities(where: str, p) -> ndarray | float:
    """p as an array or a float, checked to lie in [0, 1] (NaN does not)."""
    values = p._data if isinstance(p, Tensor) else float(p)
    if not (xp.asarray(values) >= 0).all() or not (xp.asarray(values) <= 1).all():
        raise RuntimeError(
            f"{where}: probabilities must be in [0, 1], got "
            f"{'values outside it' if isinstance(p, Tensor) else f'p={p}'}"
        )
    return values


def bernoulli(
    input: Tensor, p: float | None = None, *, generator: Generator | None = None, **options
) -> Tensor:
    """1 with probability input (or p, for every element), else 0, in input's shape and
    dtype. No gradient (PyTorch's is identically zero).

    >>> import microtensor as mt
    >>> mt.bernoulli(mt.tensor([0.0, 1.0, 1.0]))
    tensor([0., 1., 1.])
    """
    _check_options("bernoulli", None, options)
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(
            f"bernoulli: input must be a floating tensor (probabilities), got dtype {input.dtype}"
        )
    prob = _probabilities("bernoulli", input if p is None else p)
    draws = _rng("bernoulli", generator).random(input.shape) < prob
    return _wrap(draws.astype(input.dtype))


def bernoulli_(
    input: Tensor, p: float | Tensor = 0.5, *, generator: Generator | None = None
) -> Tensor:
    """In place (Tensor.bernoulli_): each element becomes 1 with probability p (a number,
    or a tensor broadcast to input's shape), else 0."""
    prob = _probabilities("bernoulli_", p)
    try:
        prob = xp.broadcast_to(prob, input.shape)
    except ValueError:
        raise RuntimeError(
            f"bernoulli_: p of shape {xp.shape(prob)} does not broadcast to the "
            f"tensor's shape {input.shape}"
        ) from None
    draws = _rng("bernoulli_", generator).random(input.shape) < prob
    return apply_inplace(Fill, input, value=draws)


def multinomial(
    input: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
    **options,
) -> Tensor:
    """Category indices drawn with the (unnormalised, non-negative) weights in input: one
    row of num_samples per distribution (input 1-D or 2-D, a distribution per row). Without
    replacement an index appears at most once; categories of weight 0 come only after all
    the others, as in PyTorch.

    >>> import microtensor as mt
    >>> mt.multinomial(mt.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    _check_options("multinomial", None, options)
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(
            f"multinomial: input must be a floating tensor (weights), got dtype {input.dtype}"
        )
    if input.ndim not in (1, 2):
        raise RuntimeError(
            f"multinomial: input must be 1-D or 2-D (a distribution per row), "
            f"got shape {input.shape}"
        )
    n = _count("multinomial", "num_samples", num_samples)
    weights = input._data.astype(xp.float64).reshape(-1, input.shape[-1])
    k = weights.shape[1]
    if n == 0:
        raise RuntimeError("multinomial: num_samples must be positive, got 0")
    if not replacement and n > k:
        raise RuntimeError(
            f"multinomial: cannot draw {n} samples without replacement from {k} categories"
        )
    if not (xp.isfinite(weights) & (weights >= 0)).all():
        raise RuntimeError("multinomial: weights must be finite and non-negative")
    if (weights.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: the weights of a distribution sum to 0")
    rng = _rng("multinomial", generator)
    if replacement:  # inverse CDF: the first category whose cumulative weight exceeds u
        cdf = weights.cumsum(axis=1)
        cdf /= cdf[:, -1:]  # the last is exactly 1, so u in [0, 1) always lands
        u = rng.random((len(weights), n))
        out = xp.empty(u.shape, xp.int64)
        for r in range(len(weights)):
            out[r] = xp.searchsorted(cdf[r], u[r], side="right")
    else:  # the n largest weight / Exponential(1): sequential draws without replacement
        keys = weights / rng.standard_exponential(weights.shape)
        out = xp.argsort(-keys, axis=1, kind="stable")[:, :n]
    return _wrap(out.astype(xp.int64, copy=False).reshape(input.shape[:-1] + (n,)))


# Tensor methods, as in PyTorch: x.bernoulli(), x.bernoulli_(p), x.multinomial(n)
for _name, _fn in (
    ("bernoulli", bernoulli),
    ("bernoulli_", bernoulli_),
    ("multinomial", multinomial),
):
    setattr(Tensor, _name, _fn)
