"""The Module system as PyTorch defines it: registration by assignment (onto any module,
containers included), buffers, containers, hooks, dtype conversion, state dicts with
buffers through mt.save / mt.load, and mt.nn.utils. Expected names, orders and printouts
were recorded by running the same code with torch 2.13 (said where), or written by hand."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import microtensor as mt
from microtensor.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

nn = mt.nn


class Net(nn.Module):
    """A parameter, buffers (one not persistent), a Sequential registered under two names
    and a None attribute that is not registered."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        self.register_buffer("steps", mt.zeros(1))
        self.scale = nn.Parameter(mt.ones(1))
        self.alias = self.body
        self.head = None
        self.register_buffer("cache", mt.zeros(1), persistent=False)

    def forward(self, x):
        return self.body(x) * self.scale


def names(pairs):
    return [name for name, _ in pairs]


# ------------------------------------------------------------------ registration
def test_a_module_assigned_onto_a_sequential_is_registered_and_runs_last():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model.fc = nn.Linear(3, 1)
    assert names(model.named_parameters()) == ["0.weight", "0.bias", "fc.weight", "fc.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "fc.weight", "fc.bias"]
    assert "(fc): Linear(in_features=3, out_features=1, bias=True)" in repr(model)
    assert len(model) == 3 and model[-1] is model.fc
    assert tuple(model(mt.zeros(4, 2)).shape) == (4, 1)


def test_a_module_assigned_onto_a_module_list_is_registered():
    layers = nn.ModuleList([nn.Linear(1, 1)])
    layers.extra = nn.Linear(1, 2)
    assert names(layers.named_parameters()) == ["0.weight", "0.bias", "extra.weight", "extra.bias"]


def test_replacing_the_head_keeps_its_place_and_only_the_new_head_trains():
    """The fine-tuning idiom: freeze everything, assign a new fc, optimize what requires
    grad."""
    mt.manual_seed(0)
    model = nn.Sequential(OrderedDict(body=nn.Linear(3, 4), act=nn.Tanh(), fc=nn.Linear(4, 2)))
    model.requires_grad_(False)
    model.fc = nn.Linear(4, 5)
    assert names(model.named_children()) == ["body", "act", "fc"]
    body = model.body.weight.numpy(force=True).copy()
    opt = mt.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    assert opt.param_groups[0]["params"] == [model.fc.weight, model.fc.bias]
    fc = model.fc.weight.numpy(force=True).copy()
    model(mt.randn(6, 3)).sum().backward()
    opt.step()
    np.testing.assert_array_equal(model.body.weight.numpy(force=True), body)
    assert not np.allclose(model.fc.weight.numpy(force=True), fc)


def test_names_orders_and_duplicates_are_pytorchs():
    # torch 2.13, the same Net: state_dict and named_modules(remove_duplicate=False) list a
    # module registered twice under both names; the other walks list it once
    net = Net()
    assert list(net.state_dict()) == [
        "scale",
        "steps",
        "body.0.weight",
        "body.0.bias",
        "alias.0.weight",
        "alias.0.bias",
    ]
    assert names(net.named_parameters()) == ["scale", "body.0.weight", "body.0.bias"]
    assert names(net.named_modules()) == ["", "body", "body.0", "body.1"]
    assert names(net.named_modules(remove_duplicate=False)) == [
        "",
        "body",
        "body.0",
        "body.1",
        "alias",
        "alias.0",
        "alias.1",
    ]
    assert names(net.named_buffers()) == ["steps", "cache"]
    assert names(net.named_children()) == ["body"]


def test_print_nests_as_pytorch_prints():
    # torch 2.13 printed the same Net this way
    assert repr(Net()) == (
        "Net(\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (alias): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        ")"
    )


def test_extra_repr_of_several_lines_and_a_none_child_print_as_in_pytorch():
    class Box(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("empty", None)
            self.inner = nn.ReLU()

        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Box()) == "Box(\n  a=1\n  b=2\n  (empty): None\n  (inner): ReLU()\n)"


def test_assigning_a_parameter_registers_it_and_a_plain_tensor_does_not():
    m = nn.Module()
    m.w = nn.Parameter(mt.ones(2))
    m.t = mt.ones(2)
    assert names(m.named_parameters()) == ["w"] and m.w is dict(m.named_parameters())["w"]


def test_assigning_none_to_a_parameter_or_child_empties_the_slot():
    layer = nn.Linear(2, 2)
    layer.weight = None
    assert names(layer.named_parameters()) == ["bias"] and layer.weight is None
    net = Net()
    net.body = None
    assert names(net.named_children()) == ["alias"]


def test_assigning_a_plain_value_to_a_registered_name_is_a_type_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(
        TypeError, match="Linear.weight is a parameter: assign a Parameter or None, not a Tensor"
    ):
        layer.weight = mt.ones(2, 2)
    with pytest.raises(TypeError, match="Net.body is a child module: assign a Module or None"):
        Net().body = 3


def test_deleting_a_registered_name_unregisters_it():
    net = Net()
    del net.scale, net.steps, net.alias
    assert list(net.state_dict()) == ["body.0.weight", "body.0.bias"]
    assert not hasattr(net, "scale") and not hasattr(net, "steps")
    del net.head  # a plain attribute
    assert not hasattr(net, "head")


def test_a_parameter_can_become_a_module_and_back():
    m = nn.Module()
    m.x = nn.Parameter(mt.ones(1))
    m.x = nn.ReLU()
    assert names(m.named_parameters()) == [] and names(m.named_children()) == ["x"]
    m.x = nn.Parameter(mt.ones(1))
    assert names(m.named_parameters()) == ["x"] and names(m.named_children()) == []


def test_register_parameter_add_module_and_register_module():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(mt.zeros(3)))
    m.register_parameter("b", None)
    m.add_module("lin", nn.Linear(1, 1))
    m.register_module("act", nn.ReLU())
    assert names(m.named_parameters()) == ["w", "lin.weight", "lin.bias"]
    assert m.b is None and names(m.named_children()) == ["lin", "act"]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: m.register_parameter("w", mt.ones(1)), TypeError, "Parameter or None required"),
        (
            lambda m: m.register_parameter("a.b", None),
            KeyError,
            "must not be empty or contain a dot",
        ),
        (lambda m: m.register_parameter("", None), KeyError, "must not be empty or contain a dot"),
        (lambda m: m.register_parameter("forward", None), KeyError, "'forward' already exists"),
        (lambda m: m.register_buffer("plain", mt.ones(1)), KeyError, "'plain' already exists"),
        (lambda m: m.register_buffer("b", 3.0), TypeError, "Tensor or None required"),
        (lambda m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
        (lambda m: m.add_module(1, nn.ReLU()), TypeError, "the name must be a string"),
    ],
)
def test_registration_errors_name_the_method_and_the_fault(call, error, message):
    m = nn.Module()
    m.plain = 1
    with pytest.raises(error, match=message):
        call(m)


# -------------------------------------------------------------------- buffers
def test_buffers_persistent_and_not():
    net = Net()
    assert [b is net.steps for b in net.buffers()] == [True, False]
    assert "cache" not in net.state_dict() and "steps" in net.state_dict()
    net.register_buffer("cache", net.cache, persistent=True)
    assert "cache" in net.state_dict()


def test_buffers_round_trip_through_save_and_load(tmp_path):
    class Stats(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.register_buffer("running_mean", mt.zeros(3))
            self.register_buffer("num_batches_tracked", mt.tensor(0))
            self.register_buffer("scratch", mt.zeros(2), persistent=False)

    mt.manual_seed(0)
    src = nn.Sequential(Stats(), nn.ReLU())
    src[0].running_mean.numpy(force=True)[:] = [1.5, -2.0, 0.25]
    src[0].num_batches_tracked.numpy(force=True)[...] = 7
    mt.save(src.state_dict(), tmp_path / "model.npz")
    loaded = mt.load(tmp_path / "model.npz")
    assert list(loaded) == ["0.running_mean", "0.num_batches_tracked", "0.lin.weight", "0.lin.bias"]
    mt.manual_seed(1)
    dst = nn.Sequential(Stats(), nn.ReLU())
    result = dst.load_state_dict(loaded)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(dst[0].running_mean.numpy(force=True), [1.5, -2.0, 0.25])
    assert dst[0].num_batches_tracked.item() == 7
    assert dst[0].num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(
        dst[0].lin.weight.numpy(force=True), src[0].lin.weight.numpy(force=True)
    )


def test_state_dict_shares_memory_detached_and_keep_vars_keeps_the_parameters():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert not state["weight"].requires_grad
    state["weight"].numpy(force=True)[0, 0] = 42.0
    assert layer.weight.numpy(force=True)[0, 0] == 42.0
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight
    assert list(layer.state_dict(prefix="enc.")) == ["enc.weight", "enc.bias"]


def test_a_tied_parameter_is_saved_and_loaded_under_both_names():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
            self.dec.weight = self.enc.weight

    model = Tied()
    assert list(model.state_dict()) == ["enc.weight", "dec.weight"]  # as torch 2.13
    assert names(model.named_parameters()) == ["enc.weight"]
    model.load_state_dict({"enc.weight": mt.ones(2, 2), "dec.weight": mt.ones(2, 2)})
    assert (model.dec.weight.numpy(force=True) == 1).all()


# ----------------------------------------------------------------- walking the tree
def test_named_parameters_prefix_and_recurse():
    net = Net()
    assert names(net.named_parameters(prefix="net")) == [
        "net.scale",
        "net.body.0.weight",
        "net.body.0.bias",
    ]
    assert names(net.named_parameters(recurse=False)) == ["scale"]
    assert [p is net.scale for p in net.parameters(recurse=False)] == [True]


def test_get_submodule_follows_the_dotted_path():
    net = Net()
    assert net.get_submodule("body.0") is net.body[0]
    assert net.get_submodule("alias.1") is net.body[1]
    assert net.get_submodule("") is net
    with pytest.raises(AttributeError, match="Net has no submodule 'body.7'"):
        net.get_submodule("body.7")


def test_apply_visits_children_before_their_parent():
    net = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_train_needs_a_bool():
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        Net().train("no")


def test_train_calls_each_childs_own_train():
    class Frozen(nn.ReLU):
        def train(self, mode=True):
            return super().train(False)

    net = nn.Sequential(nn.Linear(1, 1), Frozen()).train()
    assert net[0].training and not net[1].training


def test_a_deep_copy_is_an_independent_model():
    net = Net()
    twin = copy.deepcopy(net)
    assert twin.body is twin.alias and twin.body[0].weight is not net.body[0].weight
    twin.body[0].weight.numpy(force=True)[...] = 0
    assert not (net.body[0].weight.numpy(force=True) == 0).all()
    assert names(twin.named_parameters()) == names(net.named_parameters())


# ---------------------------------------------------------------------- containers
def test_sequential_from_an_ordered_dict_keeps_the_names():
    model = nn.Sequential(OrderedDict([("conv", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert names(model.named_children()) == ["conv", "act"] and model.conv is model[0]
    sub = model[1:]
    assert isinstance(sub, nn.Sequential) and names(sub.named_children()) == ["act"]


def test_sequential_set_delete_insert_pop_renumber_as_pytorch():
    a, b, c, d = nn.Linear(1, 1), nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    model = nn.Sequential(a, b, c)
    model[-1] = d
    assert list(model) == [a, b, d]
    del model[0]
    assert names(model.named_children()) == ["0", "1"] and list(model) == [b, d]
    model.insert(1, c)
    assert list(model) == [b, c, d] and model.pop(0) is b and list(model) == [c, d]
    model.extend([a])
    assert names(model.named_children()) == ["0", "1", "2"]
    with pytest.raises(IndexError, match="index 3 is out of range for 3 items"):
        model[3]


def test_module_list_behaves_as_a_list():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    ml = nn.ModuleList([a])
    ml.append(b).extend([c])
    assert len(ml) == 3 and list(ml) == [a, b, c] and ml[-1] is c
    assert isinstance(ml[1:], nn.ModuleList) and list(ml[1:]) == [b, c]
    ml.insert(0, c)
    assert list(ml) == [c, a, b, c] and names(ml.named_children()) == ["0", "1", "2"]
    del ml[0]
    ml += [nn.Sigmoid()]
    assert len(ml) == 4 and names(ml.named_children()) == ["0", "1", "2", "3"]
    with pytest.raises(TypeError, match="extend should be called with an iterable"):
        ml.extend(nn.ReLU)


def test_module_list_prints_runs_of_identical_modules_once():
    # torch 2.13 prints the same
    ml = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.ReLU()])
    assert repr(ml) == "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n  (3): ReLU()\n)"


def test_module_dict_is_a_dict_of_registered_modules():
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.ReLU()
    md.update([("c", nn.Tanh())])
    assert list(md) == ["a", "b", "c"] and len(md) == 3 and "b" in md
    assert names(md.named_parameters()) == ["a.weight", "a.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and list(md.keys()) == ["a", "c"]
    assert [type(m).__name__ for m in md.values()] == ["Linear", "Tanh"]
    with pytest.raises(TypeError, match="is not a Module subclass"):
        md["d"] = mt.ones(1)


def test_parameter_list_and_dict_make_tensors_parameters():
    pl = nn.ParameterList([mt.zeros(2, 3), nn.Parameter(mt.ones(1))])
    pl.append(mt.ones(4))
    assert len(pl) == 3 and all(isinstance(p, nn.Parameter) for p in pl)
    assert names(pl.named_parameters()) == ["0", "1", "2"] and pl[-1].shape == (4,)
    pl[0] = mt.ones(1)
    assert pl[0].shape == (1,)
    pd = nn.ParameterDict({"w": mt.zeros(2)})
    pd["b"] = mt.ones(1)
    assert names(pd.named_parameters()) == ["w", "b"] and isinstance(pd["b"], nn.Parameter)
    model = nn.Module()
    model.scales = pl
    assert names(model.named_parameters()) == ["scales.0", "scales.1", "scales.2"]


def test_parameter_list_prints_as_pytorch_does():
    pl = nn.ParameterList([mt.zeros(2, 3, dtype=mt.float32), mt.zeros(1, dtype=mt.float32)])
    assert repr(pl) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [float32 of size 2x3]\n"
        "    (1): Parameter containing: [float32 of size 1]\n)"
    )


# --------------------------------------------------------------------------- hooks
def test_forward_pre_hook_replaces_the_input_and_forward_hook_the_output():
    layer = nn.Identity()
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 10,))
    post = layer.register_forward_hook(
        lambda m, args, out: calls.append((m, args[0].tolist(), out.tolist()))
    )
    assert layer(mt.tensor([1.0])).tolist() == [10.0]
    assert calls == [(layer, [10.0], [10.0])]
    pre.remove()
    post.remove()
    assert layer(mt.tensor([1.0])).tolist() == [1.0] and len(calls) == 1


def test_a_forward_hook_that_returns_a_value_replaces_the_output_and_gradients_follow():
    layer = nn.Linear(2, 1, dtype=mt.float64)
    layer.register_forward_hook(lambda m, args, out: out * 3)
    x = mt.tensor([[1.0, 2.0]], dtype=mt.float64)
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(force=True), [[3.0, 6.0]])


def test_hooks_run_in_order_and_prepend_puts_one_first():
    layer = nn.Identity()
    order = []
    layer.register_forward_hook(lambda *a: order.append("first"))
    layer.register_forward_hook(lambda *a: order.append("second"))
    layer.register_forward_hook(lambda *a: order.append("prepended"), prepend=True)
    layer(mt.ones(1))
    assert order == ["prepended", "first", "second"]


def test_hooks_with_kwargs_see_and_replace_the_keyword_arguments():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 5.0}), with_kwargs=True)
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs), with_kwargs=True)
    assert m(mt.ones(1), factor=2.0).tolist() == [5.0] and seen == [{"factor": 5.0}]


def test_a_handle_removes_its_hook_at_the_end_of_a_with_block():
    layer = nn.Identity()
    with layer.register_forward_hook(lambda m, args, out: out + 1):
        assert layer(mt.zeros(1)).tolist() == [1.0]
    assert layer(mt.zeros(1)).tolist() == [0.0]


def test_a_hook_on_a_submodule_sees_its_activation():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    acts = {}
    model[1].register_forward_hook(lambda m, args, out: acts.__setitem__("relu", out))
    model(mt.randn(4, 2))
    assert tuple(acts["relu"].shape) == (4, 3) and (acts["relu"].numpy(force=True) >= 0).all()


# ---------------------------------------------------------------- dtypes, devices
def test_double_and_float_convert_parameters_buffers_and_grads_in_place():
    net = Net()
    net.register_buffer("count", mt.tensor(3))
    weight = net.body[0].weight
    opt = mt.optim.SGD(net.parameters(), lr=0.1)
    net(mt.ones(1, 2)).sum().backward()
    assert net.double() is net
    assert net.body[0].weight is weight and weight.dtype == np.float64
    assert weight.grad.dtype == np.float64 and net.steps.dtype == np.float64
    assert net.count.dtype == np.int64  # integer buffers keep their dtype, as in PyTorch
    opt.step()  # the optimizer made before still holds (and updates) the parameters
    assert weight.dtype == np.float64
    net.float()
    assert weight.dtype == np.float32 and net.scale.dtype == np.float32


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((mt.float64,), {}),
        ((), {"dtype": mt.float64}),
        (("cpu", mt.float64), {}),
        ((mt.zeros(1, dtype=mt.float64),), {}),
    ],
)
def test_to_takes_a_dtype_a_device_or_a_tensor(args, kwargs):
    layer = nn.Linear(2, 2)
    assert layer.to(*args, **kwargs) is layer and layer.weight.dtype == np.float64


def test_to_cpu_changes_nothing_and_another_device_or_dtype_is_refused():
    layer = nn.Linear(2, 2)
    assert layer.to("cpu") is layer and layer.to(mt.device("cpu")) is layer
    assert layer.cpu() is layer and layer.weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="Module.to: device 'cuda' is not available"):
        layer.to("cuda")
    with pytest.raises(TypeError, match="only accepts floating point dtypes, got"):
        layer.to(mt.int64)


# -------------------------------------------------------------------------- nn.utils
def _with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(mt.zeros(np.shape(g), dtype=mt.float64))
        p.grad = mt.tensor(np.array(g, dtype=np.float64))
        params.append(p)
    return params


GRADS = [[3.0, -4.0], [[1.0, 2.0], [-2.0, 0.5]]]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), "inf"])
def test_clip_grad_norm_scales_to_max_norm_by_the_hand_formula(norm_type):
    params = _with_grads(GRADS)
    flat = np.concatenate([np.ravel(g) for g in GRADS])
    p = float(norm_type)
    total = np.abs(flat).max() if p == np.inf else (np.abs(flat) ** p).sum() ** (1 / p)
    got = clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
    assert isinstance(got, mt.Tensor) and got.dtype == np.float64
    np.testing.assert_allclose(got.item(), total, rtol=1e-14)
    scale = 1.5 / (total + 1e-6)
    for param, g in zip(params, GRADS):
        np.testing.assert_allclose(param.grad.numpy(force=True), np.array(g) * scale, rtol=1e-14)


def test_clip_grad_norm_leaves_gradients_under_max_norm_alone():
    params = _with_grads(GRADS)
    assert clip_grad_norm_(params, max_norm=100).item() == pytest.approx(np.sqrt(34.25))
    np.testing.assert_array_equal(params[0].grad.numpy(force=True), GRADS[0])


def test_clip_grad_norm_takes_one_tensor_skips_missing_grads_and_returns_zero_for_none():
    (p,) = _with_grads([[6.0, 8.0]])
    q = nn.Parameter(mt.ones(2))
    assert clip_grad_norm_([p, q], 5.0).item() == 10.0 and q.grad is None
    np.testing.assert_allclose(p.grad.numpy(force=True), [3.0, 4.0], rtol=1e-6)
    assert clip_grad_norm_(p, 100.0).item() == pytest.approx(5.0)
    assert clip_grad_norm_([q], 1.0).item() == 0.0


def test_clip_grad_norm_with_error_if_nonfinite_raises_on_an_infinite_norm():
    params = _with_grads([[np.inf, 1.0]])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert np.isinf(clip_grad_norm_(params, 1.0).item())


def test_clip_grad_value_clamps_every_gradient():
    params = _with_grads(GRADS)
    assert clip_grad_value_(params, 1.5) is None
    np.testing.assert_array_equal(params[0].grad.numpy(force=True), [1.5, -1.5])
    np.testing.assert_array_equal(params[1].grad.numpy(force=True), [[1.0, 1.5], [-1.5, 0.5]])


def test_parameters_to_vector_and_back():
    layer = nn.Linear(2, 3, dtype=mt.float64)
    vec = parameters_to_vector(layer.parameters())
    want = np.concatenate([layer.weight.numpy(force=True).ravel(), layer.bias.numpy(force=True)])
    np.testing.assert_array_equal(vec.numpy(force=True), want)
    new = mt.tensor(np.arange(9.0))
    vector_to_parameters(new, layer.parameters())
    np.testing.assert_array_equal(layer.weight.numpy(force=True), np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(layer.bias.numpy(force=True), [6.0, 7.0, 8.0])
    new.numpy(force=True)[0] = 100.0  # the parameters share the vector's memory, as in PyTorch
    assert layer.weight.numpy(force=True)[0, 0] == 100.0


def test_parameters_to_vector_is_differentiable():
    layer = nn.Linear(2, 1, dtype=mt.float64)
    (parameters_to_vector(layer.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(
        layer.weight.grad.numpy(force=True), 2 * layer.weight.numpy(force=True)
    )


def test_vector_to_parameters_refuses_a_short_vector_and_a_non_tensor():
    layer = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match="has 5 elements, too few for parameter 0"):
        vector_to_parameters(mt.zeros(5), layer.parameters())
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        vector_to_parameters([0.0] * 9, layer.parameters())


def test_nn_utils_is_reachable_as_in_pytorch():
    assert mt.nn.utils.clip_grad_norm_ is clip_grad_norm_
