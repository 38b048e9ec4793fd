"""microtensor: a small, fast, exact autograd framework on numpy.

>>> import microtensor as mt
>>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""
from .tensor import Tensor, get_default_dtype, set_default_dtype, tensor  # first: defines Tensor
from . import autograd, data, nn, testing
from . import optim
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import xp as _xp
from .creation import (arange, as_tensor, device, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, logspace, ones, ones_like, zeros, zeros_like)
from .functional import stack, std, std_mean, var, var_mean
from . import ops
from .ops import *  # noqa: F401,F403  (every op function: ops.__all__)
from . import linalg  # torch.linalg: norm, vector_norm, matrix_norm
from .random import (Generator, bernoulli, default as default_generator, get_rng_state,
                     initial_seed, manual_seed, multinomial, normal, rand, rand_like, randint,
                     randint_like, randn, randn_like, randperm, seed, set_rng_state)
from .serialization import load, save
from .compile import compile  # torch.compile's name

float16, float32, float64 = _xp.float16, _xp.float32, _xp.float64
int32, int64, bool_ = _xp.int32, _xp.int64, _xp.bool_

__version__ = "0.1.0"


def __getattr__(name: str):
    """mt.viz loads on first use: it imports graphviz, which `import microtensor` skips."""
    if name == "viz":
        import importlib
        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'microtensor' has no attribute {name!r}")


__all__ = [
    "Tensor", "tensor", "autograd", "data", "nn", "optim", "testing", "viz", "empty", "save",
    "load", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "manual_seed", "set_default_dtype", "get_default_dtype",
    "float16", "float32", "float64", "int32", "int64", "bool_",
    "zeros", "ones", "full", "arange", "eye", "rand", "randn", "zeros_like", "ones_like",
    "device", "empty_like", "linspace", "logspace", "from_numpy", "as_tensor", "Generator",
    "default_generator", "seed", "initial_seed", "get_rng_state", "set_rng_state", "randint",
    "randperm", "rand_like", "randn_like", "randint_like", "normal", "bernoulli", "multinomial",
    "full_like", "var", "std", "var_mean", "std_mean", "stack", "compile", "linalg",
] + ops.__all__
