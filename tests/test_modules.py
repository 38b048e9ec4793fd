"""The Module API (parameters, children, modes, gradients, state) and the layers.

Also the rule that keeps nn honest: no module, layer or loss defines a backward of its
own; every gradient in microtensor.nn comes from the primitives' VJPs.
"""

import ast
import importlib
import inspect
import math
import pathlib
import pkgutil

import numpy as np
import pytest
from numpy.testing import assert_allclose

import microtensor as mt
from microtensor import ops

nn = mt.nn
F = nn.functional
ROOT = pathlib.Path(__file__).resolve().parent.parent


class Block(nn.Module):
    """A parameter of its own, a Sequential, a list and a dict of modules, a ModuleList."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mt.ones(3))
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3))
        self.heads = [nn.Linear(3, 1), nn.Linear(3, 2, bias=False)]
        self.extra = {"proj": nn.Linear(3, 4), "drop": nn.Dropout(0.5)}
        self.stack = nn.ModuleList([nn.Linear(4, 4)])

    def forward(self, x):
        h = self.extra["drop"](self.body(x) * self.scale)
        return self.stack[0](self.extra["proj"](h)), self.heads[0](h), self.heads[1](h)


# ------------------------------------------------------------ parameters, children
def test_named_parameters_have_dotted_names_through_sequentials_lists_and_dicts():
    """Registered modules first, in the order assigned (PyTorch's order), then those held
    in plain lists and dicts (which PyTorch would not find)."""
    assert [name for name, _ in Block().named_parameters()] == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.2.weight",
        "body.2.bias",
        "stack.0.weight",
        "stack.0.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
        "extra.proj.weight",
        "extra.proj.bias",
    ]


def test_parameters_are_the_tensors_the_layers_hold():
    block = Block()
    params = list(block.parameters())
    assert params[0] is block.scale and params[1] is block.body[0].weight
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)


def test_a_shared_parameter_is_found_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(4, 4)
            self.dec = nn.Linear(4, 4)
            self.dec.weight = self.enc.weight

    assert [name for name, _ in Tied().named_parameters()] == ["enc.weight", "enc.bias", "dec.bias"]


def test_a_shared_module_contributes_its_parameters_once():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a

    assert [name for name, _ in Shared().named_parameters()] == ["a.weight", "a.bias"]


def test_a_shared_module_is_listed_once_by_modules():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a

    assert [name for name, _ in Shared().named_modules()] == ["", "a"]


def test_children_are_the_direct_submodules_only():
    block = Block()
    assert [name for name, _ in block.named_children()] == [
        "body",
        "stack",
        "heads.0",
        "heads.1",
        "extra.proj",
        "extra.drop",
    ]
    assert list(block.children())[0] is block.body


def test_modules_walks_the_whole_tree_depth_first():
    block = Block()
    assert [name for name, _ in block.named_modules()] == [
        "",
        "body",
        "body.0",
        "body.1",
        "body.2",
        "stack",
        "stack.0",
        "heads.0",
        "heads.1",
        "extra.proj",
        "extra.drop",
    ]
    assert next(iter(block.modules())) is block


def test_buffers_are_in_the_state_dict_but_not_parameters():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("steps", mt.zeros(1))

    c = Counter()
    assert [name for name, _ in c.named_buffers()] == ["steps"]
    assert "steps" not in dict(c.named_parameters())
    assert list(c.state_dict()) == ["steps", "lin.weight", "lin.bias"]  # own, then children


def test_a_buffer_can_only_be_reassigned_a_tensor():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("steps", mt.zeros(1))

    with pytest.raises(TypeError, match="Counter.steps is a buffer: assign a Tensor"):
        Counter().steps = 3


# ---------------------------------------------------------------- train / eval
def test_train_and_eval_propagate_to_every_submodule():
    block = Block()
    assert block.eval() is block
    assert not any(m.training for m in block.modules())
    block.train()
    assert all(m.training for m in block.modules())
    block.train(False)
    assert not block.extra["drop"].training and not block.body[1].training


def test_dropout_is_active_only_in_train_mode():
    drop = nn.Dropout(0.5)
    x = mt.ones(1000)
    assert (drop(x).numpy(force=True) == 0).any()
    drop.eval()
    assert drop(x) is x


def test_dropout_module_zeroes_about_p_and_scales_the_rest_by_one_over_one_minus_p():
    p, n = 0.2, 100_000
    mt.manual_seed(0)
    out = nn.Dropout(p)(mt.ones(n, dtype=mt.float64)).numpy(force=True)
    assert abs((out == 0).mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert_allclose(out[out != 0], 1 / (1 - p))


def test_dropout_module_same_seed_gives_the_same_mask():
    def mask(seed):
        mt.manual_seed(seed)
        return nn.Dropout(0.5)(mt.ones(500)).numpy(force=True) != 0

    assert (mask(3) == mask(3)).all()
    assert (mask(3) != mask(4)).any()


def test_dropout_module_probability_outside_zero_one_is_an_error():
    with pytest.raises(ValueError, match="Dropout: probability has to be between 0 and 1, got 2"):
        nn.Dropout(2)


# -------------------------------------------------------------------- zero_grad
def _with_grads():
    layer = nn.Linear(3, 2)
    layer(mt.ones(4, 3)).sum().backward()
    assert layer.weight.grad is not None and layer.bias.grad is not None
    return layer


def test_zero_grad_sets_gradients_to_none_by_default():
    layer = _with_grads()
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_zero_grad_without_set_to_none_zeroes_the_gradients_in_place():
    layer = _with_grads()
    grad = layer.weight.grad
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is grad
    assert (layer.weight.grad.numpy(force=True) == 0).all() and (
        layer.bias.grad.numpy(force=True) == 0
    ).all()


def test_gradients_accumulate_until_zero_grad():
    layer = nn.Linear(3, 2, dtype=mt.float64)
    x = mt.tensor(np.arange(12.0).reshape(4, 3))
    layer(x).sum().backward()
    first = layer.weight.grad.numpy(force=True).copy()
    layer(x).sum().backward()
    assert_allclose(layer.weight.grad.numpy(force=True), 2 * first)


def test_requires_grad_false_freezes_every_parameter():
    block = Block().requires_grad_(False)
    assert not any(p.requires_grad for p in block.parameters())


# ---------------------------------------------------------------------- state
def _snapshot(module):
    return {name: p.numpy(force=True).copy() for name, p in module.state_dict().items()}


def test_state_dict_round_trip_makes_an_identical_model():
    mt.manual_seed(0)
    a = Block()
    mt.manual_seed(1)
    b = Block()
    assert not np.allclose(a.body[0].weight.numpy(force=True), b.body[0].weight.numpy(force=True))
    assert b.load_state_dict(a.state_dict()) == ([], [])
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb and (pa.numpy(force=True) == pb.numpy(force=True)).all()
    x = mt.randn(5, 2)
    a.eval(), b.eval()
    for ya, yb in zip(a(x), b(x)):
        assert_allclose(ya.numpy(force=True), yb.numpy(force=True))


def test_load_state_dict_copies_values_and_keeps_the_parameters():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    weight = b.weight
    b.load_state_dict(a.state_dict())
    assert b.weight is weight and b.weight.numpy(force=True) is not a.weight.numpy(force=True)
    a.weight.numpy(force=True)[...] = 7
    assert not (b.weight.numpy(force=True) == 7).any()


def test_load_state_dict_with_a_missing_key_names_it_and_leaves_the_model_unchanged():
    model = nn.Linear(2, 2)
    before = _snapshot(model)
    with pytest.raises(
        RuntimeError,
        match=r"for Linear:\n\tMissing key\(s\) in state_dict: "
        r'"bias"\.',
    ):
        model.load_state_dict({"weight": mt.zeros(2, 2)})
    assert all((model.state_dict()[k].numpy(force=True) == v).all() for k, v in before.items())


def test_load_state_dict_with_an_unexpected_key_names_it_and_leaves_the_model_unchanged():
    model = nn.Linear(2, 2)
    before = _snapshot(model)
    state = {"weight": mt.zeros(2, 2), "bias": mt.zeros(2), "gamma": mt.zeros(2)}
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "gamma"\.'):
        model.load_state_dict(state)
    assert all((model.state_dict()[k].numpy(force=True) == v).all() for k, v in before.items())


def test_load_state_dict_with_a_wrong_shape_names_the_key_and_both_shapes_and_changes_nothing():
    model = nn.Linear(2, 2)
    before = _snapshot(model)
    with pytest.raises(
        RuntimeError,
        match=r"size mismatch for bias: copying a param with shape "
        r"\(3,\) from checkpoint, the shape in current "
        r"model is \(2,\)",
    ):
        model.load_state_dict({"weight": mt.zeros(2, 2), "bias": mt.zeros(3)})
    assert all((model.state_dict()[k].numpy(force=True) == v).all() for k, v in before.items())


def test_load_state_dict_with_a_wrong_shape_raises_even_when_not_strict():
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        nn.Linear(2, 2).load_state_dict({"weight": mt.zeros(3, 2)}, strict=False)


def test_load_state_dict_casts_values_to_the_models_dtype_as_pytorchs_copy_does():
    model = nn.Linear(2, 2, dtype=mt.float32)
    value = np.array([1 / 3, 2 / 3])
    model.load_state_dict({"weight": mt.zeros(2, 2), "bias": mt.tensor(value)})
    assert model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.bias.numpy(force=True), value.astype(np.float32))


def test_load_state_dict_not_strict_reports_missing_and_unexpected_keys():
    model = nn.Linear(2, 2)
    result = model.load_state_dict({"weight": mt.ones(2, 2), "gamma": mt.ones(1)}, strict=False)
    assert (result.missing_keys, result.unexpected_keys) == (["bias"], ["gamma"])
    assert (model.weight.numpy(force=True) == 1).all()


def test_load_state_dict_that_matches_says_so_as_pytorch_prints_it():
    model = nn.Linear(2, 2)
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"


# ------------------------------------------------------------------------ repr
def test_repr_lists_the_layers_with_their_settings():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 10),
        nn.Dropout(0.25),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=1, padding=1)\n"
        "  (1): ReLU()\n"
        "  (2): MaxPool2d(kernel_size=2, stride=2)\n"
        "  (3): Flatten()\n"
        "  (4): Linear(in_features=64, out_features=10, bias=True)\n"
        "  (5): Dropout(p=0.25)\n"
        ")"
    )


def test_repr_of_nested_modules_is_indented():
    text = repr(Block())
    assert text.startswith("Block(\n  (body): Sequential(\n    (0): Linear(in_features=2")
    assert "  (extra.drop): Dropout(p=0.5)\n" in text
    assert (
        "  (stack): ModuleList(\n    (0): Linear(in_features=4, out_features=4, bias=True)" in text
    )


# ---------------------------------------------------------------- Sequential
def test_sequential_applies_its_layers_in_order():
    model = nn.Sequential(
        nn.Linear(3, 4, dtype=mt.float64), nn.Tanh(), nn.Linear(4, 2, dtype=mt.float64)
    )
    x = np.random.default_rng(0).standard_normal((5, 3))
    w0, b0, w1, b1 = (p.numpy(force=True) for p in model.parameters())
    assert_allclose(
        model(mt.tensor(x)).numpy(force=True), np.tanh(x @ w0.T + b0) @ w1.T + b1, atol=1e-12
    )


def test_sequential_indexing_length_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert list(model) == layers
    sub = model[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]


def test_sequential_append_adds_a_layer_and_its_parameters():
    model = nn.Sequential(nn.Linear(2, 3))
    assert model.append(nn.Linear(3, 1)) is model
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_module_list_holds_modules_whose_parameters_the_parent_finds():
    lst = nn.ModuleList([nn.Linear(1, 1)]).append(nn.Linear(1, 2))
    assert len(lst) == 2 and lst[1].out_features == 2 and len(list(lst)) == 2
    assert [n for n, _ in lst.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


# -------------------------------------------------------------------- layers
def test_linear_layer_computes_x_w_transposed_plus_b():
    layer = nn.Linear(3, 2, dtype=mt.float64)
    x = np.random.default_rng(1).standard_normal((4, 3))
    assert_allclose(
        layer(mt.tensor(x)).numpy(force=True),
        x @ layer.weight.numpy(force=True).T + layer.bias.numpy(force=True),
    )


def test_linear_layer_without_bias_has_only_a_weight():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]


def test_linear_layer_with_the_wrong_input_width_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(2, 3\)"):
        nn.Linear(3, 2)(mt.ones(4, 5))


def test_linear_layer_gradients_match_finite_differences():
    layer = nn.Linear(3, 2, dtype=mt.float64)
    x = mt.randn(4, 3, dtype=mt.float64, requires_grad=True)
    mt.testing.check_grads(lambda x, w, b: F.linear(x, w, b), x, layer.weight, layer.bias)


@pytest.mark.parametrize(
    "start, end, shape", [(1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)), (2, 3, (2, 3, 20))]
)
def test_flatten_merges_the_dims_from_start_to_end(start, end, shape):
    x = mt.tensor(np.arange(120.0).reshape(2, 3, 4, 5))
    out = nn.Flatten(start, end)(x)
    assert out.shape == shape
    assert_allclose(out.numpy(force=True), np.arange(120.0).reshape(shape))


def test_flatten_defaults_keep_the_batch_dim():
    assert nn.Flatten()(mt.ones(2, 3, 4)).shape == (2, 12)


def test_identity_returns_its_input():
    x = mt.randn(3)
    assert nn.Identity()(x) is x


ACTIVATION_MODULES = [
    (nn.ReLU(), F.relu),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    (nn.LeakyReLU(), lambda x: F.leaky_relu(x, 0.01)),
    (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh),
    (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.ELU(), lambda x: F.elu(x, 1.0)),
    (nn.Softplus(2.0, 3.0), lambda x: F.softplus(x, 2.0, 3.0)),
    (nn.Softmax(0), lambda x: F.softmax(x, 0)),
    (nn.Softmax(), lambda x: F.softmax(x, -1)),
    (nn.LogSoftmax(1), lambda x: F.log_softmax(x, 1)),
]


@pytest.mark.parametrize(
    "module, function", ACTIVATION_MODULES, ids=[type(m).__name__ for m, _ in ACTIVATION_MODULES]
)
def test_activation_module_equals_its_function(module, function):
    x = mt.tensor(np.random.default_rng(2).uniform(-3, 3, size=(4, 5)))
    assert_allclose(module(x).numpy(force=True), function(x).numpy(force=True), rtol=1e-15)


def test_activation_modules_have_no_parameters():
    assert not any(list(m.parameters()) for m, _ in ACTIVATION_MODULES)


def test_a_network_of_layers_trains_its_loss_down():
    mt.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 2)
    )
    x = mt.randn(6, 1, 4, 4)
    y = mt.tensor([0, 1, 0, 1, 0, 1])
    losses = []
    for _ in range(30):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad.numpy(force=True)
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ------------------------------------------------------- forgetting super().__init__
def test_assigning_a_layer_before_super_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"Forgetful: call super\(\).__init__\(\)"):
        Forgetful()


def test_calling_a_module_that_skipped_super_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            pass

        def forward(self, x):
            return x * 2

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()(mt.ones(2))


def test_a_module_without_forward_says_so():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()(mt.ones(1))


# ------------------------------------------------------- no backward in nn or models
def _nn_submodules():
    return [
        importlib.import_module(f"microtensor.nn.{m.name}")
        for m in pkgutil.iter_modules(nn.__path__)
    ]


def _classes_defined_in_nn():
    found = {}
    for module in [nn] + _nn_submodules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__.startswith("microtensor.nn"):
                found[cls.__qualname__] = cls
    return found


def test_no_class_in_nn_defines_a_backward_or_a_vjp():
    classes = _classes_defined_in_nn()
    assert {"Module", "Linear", "Conv2d", "CrossEntropyLoss", "Parameter"} <= set(classes)
    for name, cls in classes.items():
        if issubclass(cls, mt.Tensor):  # Parameter: Tensor.backward runs the engine
            assert cls.backward is mt.Tensor.backward, name
            assert not hasattr(cls, "vjp"), name
        else:
            assert not hasattr(cls, "backward") and not hasattr(cls, "vjp"), name


def test_no_autograd_function_or_op_subclass_is_defined_in_nn():
    _nn_submodules()

    def subclasses(base):
        for sub in base.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for base in (mt.autograd.Function, ops.Op):
        defined_in_nn = [
            c.__qualname__ for c in subclasses(base) if c.__module__.startswith("microtensor.nn")
        ]
        assert defined_in_nn == []


def _sources_of_nn_and_models():
    files = sorted((ROOT / "microtensor" / "nn").glob("*.py")) + sorted(
        (ROOT / "models").rglob("*.py")
    )
    assert files
    return files


@pytest.mark.parametrize(
    "path", _sources_of_nn_and_models(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_source_defines_no_backward_and_no_function_subclass(path):
    """Read the source, not the imports: a class defined in a function body counts too."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {
            b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", None) for b in node.bases
        }
        assert not bases & {"Function", "Op", "_FunctionOp"}, (
            f"{path.name}: class {node.name} subclasses {bases}"
        )
        methods = {
            n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        assert not methods & {"backward", "vjp"}, (
            f"{path.name}: class {node.name} defines {methods & {'backward', 'vjp'}}"
        )


def test_the_source_check_catches_a_class_that_defines_backward(tmp_path):
    """The check above can fail: it flags a hand-written backward."""
    bad = tmp_path / "bad.py"
    bad.write_text("class MyLayer:\n    def backward(self, g):\n        return g\n")
    with pytest.raises(AssertionError, match="MyLayer defines"):
        test_source_defines_no_backward_and_no_function_subclass(bad)
