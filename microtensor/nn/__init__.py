"""Neural-network building blocks, named as in torch.nn."""

from . import functional, init, layers, loss, utils
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import *  # noqa: F401,F403  (every layer: layers.__all__)
from .loss import *  # noqa: F401,F403  (every loss module: loss.__all__)
from .module import Module, Parameter

__all__ = [
    "functional",
    "init",
    "utils",
    "Module",
    "Parameter",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "ParameterList",
    "ParameterDict",
    *layers.__all__,
    *loss.__all__,
]
