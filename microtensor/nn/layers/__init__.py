"""Layers: modules that hold parameters (Linear, Conv2d, LSTM, ...) or settings (pools,
dropout, activations) and call nn.functional in forward. None defines a backward. One
file per topic, as torch/nn/modules is laid out."""

from . import (
    activation,
    attention,
    conv,
    dropout,
    embedding,
    linear,
    normalization,
    pooling,
    recurrent,
)
from .activation import *
from .attention import *
from .conv import *
from .dropout import *
from .embedding import *
from .linear import *
from .normalization import *
from .pooling import *
from .recurrent import *

__all__ = [
    *linear.__all__,
    *conv.__all__,
    *pooling.__all__,
    *normalization.__all__,
    *dropout.__all__,
    *activation.__all__,
    *embedding.__all__,
    *attention.__all__,
    *recurrent.__all__,
]
