"""Learning-rate schedulers: each step() sets the lr of every parameter group of an
optimizer (as torch.optim.lr_scheduler), in PyTorch's recursive ("chainable") form, so
the numbers match PyTorch's for a loop of step() calls."""

from .base import LRScheduler
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .schedules import CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR, StepLR
from .sequential import SequentialLR

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "LinearLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "SequentialLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
]
