"""models.registry: one spelling per name, the Python name of what it names, read alike by
`microtensor train` and `graph`, sweep files and the networks; an old spelling is taken
as the new one with a RenamedWarning, an unknown one is an error naming the closest."""

import doctest
import warnings

import pytest

import microtensor as mt
import models.registry
from microtensor import nn
from microtensor.nn import functional as F
from models import charlm, datasets, networks, registry
from models.cli import build_parser
from models.experiments.sweep import SETTINGS, SweepError
from models.registry import RenamedWarning, canonical

KINDS = ("data set", "network", "activation", "optimizer", "loss", "init")


# -- a name is the Python name of what it names -------------------------------------------


@pytest.mark.parametrize("name", registry.DATASETS)
def test_a_data_set_is_named_after_its_function_in_models_datasets(name):
    assert registry.DATASETS[name].load is getattr(datasets, name)


@pytest.mark.parametrize("name", registry.NETWORKS)
def test_a_network_is_named_after_its_class(name):
    assert registry.network(name) is getattr(networks, name)


@pytest.mark.parametrize("name", registry.LANGUAGE_MODELS)
def test_a_language_model_is_named_after_its_class_in_models_charlm(name):
    assert registry.language_model(name) is getattr(charlm, name)


@pytest.mark.parametrize("name", registry.WORD_LISTS)
def test_a_word_list_is_named_after_its_function_in_models_charlm(name):
    assert registry.word_list(name) == getattr(charlm, name)()


@pytest.mark.parametrize("name", registry.OPTIMIZERS)
def test_an_optimizer_is_named_after_its_class_in_microtensor_optim(name):
    assert registry.OPTIMIZERS[name].cls is getattr(mt.optim, name)


@pytest.mark.parametrize("name", registry.LOSSES)
def test_a_loss_is_named_after_its_function_in_nn_functional(name):
    assert registry.LOSSES[name] is getattr(F, name)


@pytest.mark.parametrize("name", registry.ACTIVATIONS)
def test_an_activation_is_named_after_its_function_or_none(name):
    module = networks.activation(name)
    assert isinstance(module, nn.Module)
    x = mt.tensor([[-1.0, 0.5, 2.0]])
    dim = {"dim": -1} if name in ("softmax", "log_softmax") else {}  # over the features
    expected = (
        x.numpy(force=True) if name == "none" else getattr(F, name)(x, **dim).numpy(force=True)
    )
    assert module(x).numpy(force=True).tolist() == expected.tolist()


def test_every_init_gain_belongs_to_an_activation():
    assert set(registry.GAINS) <= set(registry.ACTIVATIONS)


def test_old_spellings_name_current_names_and_are_not_names_themselves():
    for kind, renamed in registry.RENAMED.items():
        for old, new in renamed.items():
            assert new in registry.names(kind) and old not in registry.names(kind)


# -- canonical --------------------------------------------------------------------------


def test_a_name_is_returned_as_it_is_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [canonical(kind, registry.names(kind)[0]) for kind in KINDS] == [
            "linear_set",
            "MLP",
            "sigmoid",
            "SGD",
            "mse_loss",
            "default",
        ]


@pytest.mark.parametrize(
    "kind, old", [(kind, old) for kind, renamed in registry.RENAMED.items() for old in renamed]
)
def test_an_old_spelling_gives_the_new_one_and_says_so(kind, old):
    new = registry.RENAMED[kind][old]
    with pytest.warns(RenamedWarning) as caught:
        assert canonical(kind, old, where="here") == new
    assert str(caught[0].message) == (
        f"here: {old!r} is now spelled {new!r} (the old spelling still works)"
    )


def test_an_unknown_name_lists_the_names_and_the_closest():
    with pytest.raises(
        ValueError,
        match=r"^'Adma' is not one of \['SGD', 'Adam', 'AdamW', "
        r"'Adagrad', 'RMSprop'\] \(did you mean 'Adam'\?\)$",
    ):
        canonical("optimizer", "Adma")


def test_registry_doctests_pass():
    assert doctest.testmod(models.registry).failed == 0


# -- train, graph, sweep files and the networks read the same names -----------------------

TRAIN = ["train", "--out", "x", "--data", "iris", "--model", "MLP"]
OPTIONS = {
    "network": ("--model", "model"),
    "activation": ("--activation", "activation"),
    "optimizer": ("--optimizer", "optimizer"),
    "data set": ("--data", "data"),
}


@pytest.mark.parametrize("kind", OPTIONS)
def test_train_takes_every_name_of_its_kinds_and_each_old_spelling(kind):
    option, dest = OPTIONS[kind]
    parser = build_parser()
    names = [
        n
        for n in registry.names(kind)
        if not (kind == "data set" and registry.DATASETS[n].from_file)
    ]
    assert [getattr(parser.parse_args([*TRAIN, option, n]), dest) for n in names] == names
    renamed = registry.RENAMED.get(kind, {})
    with pytest.warns(RenamedWarning):
        got = [getattr(parser.parse_args([*TRAIN, option, old]), dest) for old in renamed]
    assert got == list(renamed.values())


def test_graph_takes_every_network():
    parser = build_parser()
    assert [
        parser.parse_args(["graph", "--out", "g.svg", "--model", n]).model
        for n in registry.NETWORKS
    ] == list(registry.NETWORKS)


@pytest.mark.parametrize(
    "setting, kind",
    [
        ("activation", "activation"),
        ("output", "activation"),
        ("init", "init"),
        ("loss", "loss"),
        ("optimizer", "optimizer"),
    ],
)
def test_a_sweep_setting_takes_every_name_of_its_kind_and_each_old_spelling(setting, kind):
    check = SETTINGS[setting][1]
    assert [check(n, setting) for n in registry.names(kind)] == registry.names(kind)
    renamed = registry.RENAMED.get(kind, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenamedWarning)
        assert [check(old, setting) for old in renamed] == list(renamed.values())


def test_a_sweep_takes_the_data_sets_that_give_x_and_y_and_the_two_swept_networks():
    check = SETTINGS["dataset"][1]
    pairs = [n for n, d in registry.DATASETS.items() if d.pairs]
    assert [check(n, "dataset") for n in pairs] == pairs
    with pytest.raises(SweepError, match="'digits' is neither"):
        check("digits", "dataset")
    check = SETTINGS["model"][1]
    assert [check(n, "model") for n in ("MLP", "SoftmaxClassifier")] == ["MLP", "SoftmaxClassifier"]


@pytest.mark.parametrize("name", registry.INITS)
def test_the_networks_take_every_init_name(name):
    mt.manual_seed(0)
    net = networks.MLP([3, 4, 1], activations="relu", init=name)
    assert net(mt.zeros(2, 3)).shape == (2, 1)


def test_an_unknown_init_names_the_choices():
    with pytest.raises(
        ValueError,
        match=r"init must be one of \['default', 'xavier', 'he'\] "
        r"or None, got 'glorot'",
    ):
        networks.MLP([3, 4, 1], init="glorot")


def test_train_takes_every_language_model_and_word_list():
    parser = build_parser()
    got = [
        (a.model, a.data)
        for a in (
            parser.parse_args(["train", "--out", "x", "--model", m, "--data", w])
            for m in registry.LANGUAGE_MODELS
            for w in registry.WORD_LISTS
        )
    ]
    assert got == [(m, w) for m in registry.LANGUAGE_MODELS for w in registry.WORD_LISTS]
