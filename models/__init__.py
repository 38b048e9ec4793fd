"""The application built on microtensor: the reports' networks, data sets, training and
figures, the experiments (sweeps, reproductions) and the `microtensor` command. It
depends on microtensor; microtensor never imports this package.

- networks: MLP, SoftmaxClassifier, ConvNet
- datasets: the reports' data sets (generated, scikit-learn's, CSV, MNIST)
- training: fit / evaluate / predict, History, EarlyStopping
- plots (import it as `from models import plots`; needs matplotlib): learning curves,
  ground truth vs prediction, decision boundaries, confusion matrices, bar charts
- registry: the names of data sets, networks, activations, optimizers, losses and inits
  that the command, sweep files and reproductions share, one spelling each
- experiments: sweep (many runs from a TOML file) and reproduce (the five reports)
- cli: the `microtensor` command (`python -m models` where the script is not on PATH)
"""

from .datasets import (
    breast_cancer,
    digits,
    iris,
    linear_set,
    linear_xy,
    load_mnist_idx,
    load_xy_csv,
    mnist_sample,
    moons,
    nonlinear_xy,
    read_idx,
    xor_easy,
)
from .networks import MLP, ConvNet, SoftmaxClassifier, activation
from .training import EarlyStopping, History, evaluate, fit, predict

__all__ = [
    "MLP",
    "SoftmaxClassifier",
    "ConvNet",
    "activation",
    "linear_set",
    "xor_easy",
    "moons",
    "iris",
    "breast_cancer",
    "digits",
    "linear_xy",
    "nonlinear_xy",
    "load_xy_csv",
    "read_idx",
    "load_mnist_idx",
    "mnist_sample",
    "fit",
    "evaluate",
    "predict",
    "History",
    "EarlyStopping",
]
