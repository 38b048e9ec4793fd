"""torch.nn.functional for microtensor: layers and losses as compositions of primitives.

Nothing here has a backward of its own: a convolution is unfold + one matmul, pooling
and resizing are unfolds, gathers and constant matrices, normalization is means and
rsqrt, attention two matmuls around a softmax, the losses log_softmax, softplus, gathers
and means. Autodiff derives every gradient (and the second ones). The functions live by
topic in the _functional_* modules; the activations the op table holds as they are
(gelu, silu, ...) come from it.
"""

from __future__ import annotations

from ..ops import (
    elu,
    fold,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    linear,
    logsigmoid,
    mish,
    relu6,
    sigmoid,
    silu,
    softplus,
    softsign,
    tanh,
    unfold,
)
from . import (
    _functional_activation,
    _functional_attention,
    _functional_conv,
    _functional_loss,
    _functional_norm,
    _functional_pool,
)
from ._functional_activation import *
from ._functional_attention import *
from ._functional_conv import *
from ._functional_loss import *
from ._functional_norm import *
from ._functional_pool import *

__all__ = [
    "linear",
    "elu",
    "leaky_relu",
    "softplus",
    "gelu",
    "silu",
    "mish",
    "hardtanh",
    "relu6",
    "hardswish",
    "hardsigmoid",
    "logsigmoid",
    "softsign",
    "sigmoid",
    "tanh",
    "unfold",
    "fold",
    *_functional_activation.__all__,
    *_functional_attention.__all__,
    *_functional_conv.__all__,
    *_functional_loss.__all__,
    *_functional_norm.__all__,
    *_functional_pool.__all__,
]
