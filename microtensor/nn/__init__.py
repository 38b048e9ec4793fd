"""Neural-network building blocks, named as in torch.nn."""
from . import functional, init, utils
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import (ELU, AvgPool2d, Conv2d, Dropout, Flatten, Identity, LeakyReLU, Linear,
                     LogSoftmax, MaxPool2d, ReLU, Sigmoid, Softmax, Softplus, Tanh)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L2Loss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
           "ModuleDict", "ParameterList", "ParameterDict", "Linear",
           "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "Identity", "ReLU",
           "LeakyReLU", "Sigmoid", "Tanh", "ELU", "Softplus", "Softmax", "LogSoftmax",
           "MSELoss", "L2Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]
