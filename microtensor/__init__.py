"""microtensor: a small, fast, exact autograd framework on numpy.

>>> import microtensor as mt
>>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from .tensor import (
    Size,
    Tensor,
    get_default_dtype,
    is_floating_point,
    is_tensor,  # first:
    numel,
    set_default_dtype,
    tensor,
)  # defines Tensor
from . import autograd, data, nn, testing
from . import optim
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import xp as _xp
from .creation import (
    arange,
    as_tensor,
    channels_last,
    contiguous_format,
    device,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    memory_format,
    ones,
    ones_like,
    preserve_format,
    zeros,
    zeros_like,
)
from .dtypes import bfloat16, finfo, iinfo
from .functional import stack, std, std_mean, var, var_mean
from . import ops
from .ops import *  # noqa: F401,F403  (every op function: ops.__all__)
from . import linalg  # torch.linalg: norm, vector_norm, matrix_norm
from . import cuda, utils  # torch.cuda.is_available() is False; torch.utils.data
from .random import (
    Generator,
    bernoulli,
    default as default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from .serialization import load, save
from .compile import compile  # torch.compile's name

# dtypes under PyTorch's names (numpy dtypes: mt.float32 is a float32 tensor's dtype)
dtype = _xp.dtype
float16 = half = dtype(_xp.float16)
float32 = float = dtype(_xp.float32)  # noqa: A001  (torch.float, as in PyTorch)
float64 = double = dtype(_xp.float64)
uint8, int8 = dtype(_xp.uint8), dtype(_xp.int8)
int16 = short = dtype(_xp.int16)
int32 = int = dtype(_xp.int32)  # noqa: A001
int64 = long = dtype(_xp.int64)
bool = bool_ = dtype(_xp.bool_)  # noqa: A001

__version__ = "0.1.0"


def __getattr__(name: str):
    """mt.viz loads on first use: it imports graphviz, which `import microtensor` skips."""
    if name == "viz":
        import importlib

        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'microtensor' has no attribute {name!r}")


__all__ = [
    "Tensor",
    "tensor",
    "autograd",
    "data",
    "nn",
    "optim",
    "testing",
    "viz",  # noqa: F405  (loaded on first use by __getattr__)
    "empty",
    "save",
    "load",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "manual_seed",
    "set_default_dtype",
    "get_default_dtype",
    "dtype",
    "float16",
    "half",
    "float32",
    "float",
    "float64",
    "double",
    "uint8",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "bool_",
    "bfloat16",
    "finfo",
    "iinfo",
    "Size",
    "is_tensor",
    "is_floating_point",
    "numel",
    "memory_format",
    "contiguous_format",
    "preserve_format",
    "channels_last",
    "zeros",
    "ones",
    "full",
    "arange",
    "eye",
    "rand",
    "randn",
    "zeros_like",
    "ones_like",
    "device",
    "empty_like",
    "linspace",
    "logspace",
    "from_numpy",
    "as_tensor",
    "Generator",
    "default_generator",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "randint",
    "randperm",
    "rand_like",
    "randn_like",
    "randint_like",
    "normal",
    "bernoulli",
    "multinomial",
    "full_like",
    "var",
    "std",
    "var_mean",
    "std_mean",
    "stack",
    "compile",
    "linalg",
    "cuda",
    "utils",
] + ops.__all__
