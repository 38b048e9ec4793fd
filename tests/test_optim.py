"""Optimizers, checked against their update equations written out here in plain numpy
(never computed with the code under test) and against values recorded from torch. The
lr schedulers are in test_lr_scheduler.py."""

import numpy as np
import pytest

import microtensor as mt
from microtensor.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

# Each parameter w minimizes f(w) = sum(A w²) + B·w, whose gradient is 2 A w + B. Two
# parameters of different shapes: together in one group they are updated as one flat
# array, each in a group of its own they are updated one by one.
_rng = np.random.default_rng(0)
PROBLEMS = [
    (_rng.uniform(0.5, 2.0, shape), _rng.uniform(-1.0, 1.0, shape), _rng.uniform(-2.0, 2.0, shape))
    for shape in [(4,), (2, 3)]
]  # (A, B, w0)
STEPS = 8


def quadratic_loss(params):
    return sum(
        (mt.tensor(a) * p * p).sum() + (mt.tensor(b) * p).sum()
        for p, (a, b, _) in zip(params, PROBLEMS)
    )


def new_params():
    return [mt.tensor(w0, requires_grad=True) for _, _, w0 in PROBLEMS]  # float64


def train(make_opt, params, steps=STEPS):
    """Run `steps` updates with gradients from microtensor's backward; the values of every
    parameter after each step."""
    opt = make_opt(params)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        quadratic_loss(params).backward()
        opt.step()
        history.append([p.numpy(force=True).copy() for p in params])
    return history


def reference(update, steps=STEPS):
    """The same run in plain numpy: `update(w, grad_fn)` is a generator of the values
    after each step."""
    runs = []
    for a, b, w0 in PROBLEMS:
        gen = update(w0.copy(), lambda w, a=a, b=b: 2 * a * w + b)
        runs.append([next(gen) for _ in range(steps)])
    return [list(step) for step in zip(*runs)]


# ------------------------------------------------------------ the update equations
def sgd_ref(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    def update(w, grad):
        t, b = 0, None
        while True:
            t += 1
            g = -grad(w) if maximize else grad(w)
            g = g + weight_decay * w
            if momentum:
                b = g if t == 1 else momentum * b + (1 - dampening) * g
                g = g + momentum * b if nesterov else b
            w = w - lr * g
            yield w

    return update


def adam_ref(
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    b1, b2 = betas

    def update(w, grad):
        t, m, v, v_max = 0, 0.0, 0.0, 0.0
        while True:
            t += 1
            g = -grad(w) if maximize else grad(w)
            if decoupled:
                w = w * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * w
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            v_max = np.maximum(v_max, v)  # PyTorch keeps the max of the raw average
            m_hat = m / (1 - b1**t)
            v_hat = (v_max if amsgrad else v) / (1 - b2**t)
            w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
            yield w

    return update


def adagrad_ref(
    lr=1e-2,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
    maximize=False,
):
    def update(w, grad):
        t, s = 0, initial_accumulator_value
        while True:
            t += 1
            g = (-grad(w) if maximize else grad(w)) + weight_decay * w
            s = s + g * g
            w = w - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
            yield w

    return update


def rmsprop_ref(
    lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
):
    def update(w, grad):
        v, avg, buf = 0.0, 0.0, 0.0
        while True:
            g = (-grad(w) if maximize else grad(w)) + weight_decay * w
            v = alpha * v + (1 - alpha) * g * g
            if centered:
                avg = alpha * avg + (1 - alpha) * g
                d = np.sqrt(v - avg * avg) + eps
            else:
                d = np.sqrt(v) + eps
            if momentum:
                buf = momentum * buf + g / d
                w = w - lr * buf
            else:
                w = w - lr * g / d
            yield w

    return update


CASES = {
    "sgd": (SGD, dict(lr=0.1), sgd_ref(0.1)),
    "sgd-momentum": (SGD, dict(lr=0.1, momentum=0.9), sgd_ref(0.1, momentum=0.9)),
    "sgd-dampening": (
        SGD,
        dict(lr=0.1, momentum=0.9, dampening=0.3),
        sgd_ref(0.1, momentum=0.9, dampening=0.3),
    ),
    "sgd-nesterov": (
        SGD,
        dict(lr=0.1, momentum=0.8, nesterov=True),
        sgd_ref(0.1, momentum=0.8, nesterov=True),
    ),
    "sgd-weight-decay": (
        SGD,
        dict(lr=0.1, momentum=0.5, weight_decay=0.3),
        sgd_ref(0.1, momentum=0.5, weight_decay=0.3),
    ),
    "sgd-maximize": (
        SGD,
        dict(lr=0.01, momentum=0.5, weight_decay=0.3, maximize=True),
        sgd_ref(0.01, momentum=0.5, weight_decay=0.3, maximize=True),
    ),
    "adam": (Adam, dict(lr=0.1), adam_ref(0.1)),
    "adam-betas-eps": (
        Adam,
        dict(lr=0.05, betas=(0.5, 0.7), eps=1e-3),
        adam_ref(0.05, betas=(0.5, 0.7), eps=1e-3),
    ),
    "adam-amsgrad": (
        Adam,
        dict(lr=0.1, betas=(0.9, 0.8), amsgrad=True),
        adam_ref(0.1, betas=(0.9, 0.8), amsgrad=True),
    ),
    "adam-weight-decay": (Adam, dict(lr=0.1, weight_decay=0.5), adam_ref(0.1, weight_decay=0.5)),
    "adam-maximize": (
        Adam,
        dict(lr=0.1, weight_decay=0.5, maximize=True),
        adam_ref(0.1, weight_decay=0.5, maximize=True),
    ),
    "adamw": (AdamW, dict(lr=0.1), adam_ref(0.1, weight_decay=1e-2, decoupled=True)),
    "adamw-amsgrad": (
        AdamW,
        dict(lr=0.1, betas=(0.9, 0.8), weight_decay=0.5, amsgrad=True),
        adam_ref(0.1, betas=(0.9, 0.8), weight_decay=0.5, amsgrad=True, decoupled=True),
    ),
    "adagrad": (Adagrad, dict(lr=0.5), adagrad_ref(0.5)),
    "adagrad-lr-decay": (
        Adagrad,
        dict(lr=0.5, lr_decay=0.2, initial_accumulator_value=0.7),
        adagrad_ref(0.5, lr_decay=0.2, initial_accumulator_value=0.7),
    ),
    "adagrad-weight-decay": (
        Adagrad,
        dict(lr=0.5, weight_decay=0.3, eps=1e-3),
        adagrad_ref(0.5, weight_decay=0.3, eps=1e-3),
    ),
    "adagrad-maximize": (
        Adagrad,
        dict(lr=0.5, weight_decay=0.3, maximize=True),
        adagrad_ref(0.5, weight_decay=0.3, maximize=True),
    ),
    "rmsprop": (RMSprop, dict(lr=0.01), rmsprop_ref(0.01)),
    "rmsprop-maximize": (
        RMSprop,
        dict(lr=0.01, weight_decay=0.2, maximize=True),
        rmsprop_ref(0.01, weight_decay=0.2, maximize=True),
    ),
    "rmsprop-centered": (
        RMSprop,
        dict(lr=0.01, alpha=0.9, centered=True),
        rmsprop_ref(0.01, alpha=0.9, centered=True),
    ),
    "rmsprop-momentum": (RMSprop, dict(lr=0.01, momentum=0.9), rmsprop_ref(0.01, momentum=0.9)),
    "rmsprop-all": (
        RMSprop,
        dict(lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.2, momentum=0.5, centered=True),
        rmsprop_ref(0.01, alpha=0.9, eps=1e-4, weight_decay=0.2, momentum=0.5, centered=True),
    ),
}

LAYOUTS = {
    "one-group": lambda params: params,  # the two parameters updated as one flat array
    "group-each": lambda params: [{"params": [p]} for p in params],  # one at a time
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_optimizer_follows_its_update_equations(case, layout):
    cls, options, update = CASES[case]
    got = train(lambda params: cls(LAYOUTS[layout](params), **options), new_params())
    want = reference(update)
    for t, (g_step, w_step) in enumerate(zip(got, want)):
        for g, w in zip(g_step, w_step):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"step {t + 1}")


def test_amsgrad_case_is_one_where_the_maximum_matters():
    plain = reference(adam_ref(0.1, betas=(0.9, 0.8)))
    ams = reference(adam_ref(0.1, betas=(0.9, 0.8), amsgrad=True))
    assert not np.allclose(plain[-1][0], ams[-1][0])


def test_float32_parameters_stay_float32_and_follow_the_equations():
    w = mt.tensor(PROBLEMS[0][2].astype(np.float32), requires_grad=True)
    a, b = (mt.tensor(x.astype(np.float32)) for x in PROBLEMS[0][:2])
    opt = Adam([w], lr=0.1)
    for _ in range(STEPS):
        opt.zero_grad()
        ((a * w * w).sum() + (b * w).sum()).backward()
        opt.step()
    assert w.dtype == np.float32 and opt.state[w]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(
        w.numpy(force=True), reference(adam_ref(0.1))[-1][0], rtol=1e-5, atol=1e-6
    )


def test_large_parameters_are_updated_alone_and_follow_the_equations():
    n = 20_000  # above the size updated as part of a flat array
    a, b, w0 = (np.linspace(0.5, 1.5, n), np.linspace(-1, 1, n), np.linspace(2, -2, n))
    w, small = mt.tensor(w0, requires_grad=True), mt.tensor([1.0, 2.0], requires_grad=True)
    opt = Adam([w, small], lr=0.1)
    want = w0.copy()
    gen = adam_ref(0.1)(want, lambda v: 2 * a * v + b)
    for _ in range(3):
        opt.zero_grad()
        ((mt.tensor(a) * w * w).sum() + (mt.tensor(b) * w).sum() + (small * small).sum()).backward()
        opt.step()
        want = next(gen)
    np.testing.assert_allclose(w.numpy(force=True), want, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ the step loop
@pytest.mark.parametrize("cls", [SGD, Adam])
def test_parameters_without_a_gradient_are_skipped_and_keep_their_own_step_count(cls):
    options = dict(lr=0.1, momentum=0.9) if cls is SGD else dict(lr=0.1)
    update = sgd_ref(0.1, momentum=0.9) if cls is SGD else adam_ref(0.1)
    w, v = new_params()
    opt = cls([w, v], **options)
    for has_grad in [(True, True), (True, False), (True, True), (True, True)]:
        opt.zero_grad()
        quadratic_loss([w, v]).backward()
        if not has_grad[1]:
            v.grad = None
        before = v.numpy(force=True).copy()
        opt.step()
        if not has_grad[1]:
            np.testing.assert_array_equal(v.numpy(force=True), before)
    assert opt.state[w]["step"] == 4 and opt.state[v]["step"] == 3
    (want_w, _), (_, want_v) = reference(update, 4)[-1], reference(update, 3)[-1]
    np.testing.assert_allclose(w.numpy(force=True), want_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v.numpy(force=True), want_v, rtol=1e-10, atol=1e-12)


def test_param_groups_take_their_own_options_and_the_defaults_for_the_rest():
    w, v = new_params()
    opt = SGD([{"params": [w], "lr": 0.1}, {"params": v, "lr": 0.01, "momentum": 0.9}], lr=0.5)
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["lr"] == 0.01
    for _ in range(STEPS):
        opt.zero_grad()
        quadratic_loss([w, v]).backward()
        opt.step()
    np.testing.assert_allclose(w.numpy(force=True), reference(sgd_ref(0.1))[-1][0], rtol=1e-10)
    np.testing.assert_allclose(
        v.numpy(force=True), reference(sgd_ref(0.01, momentum=0.9))[-1][1], rtol=1e-10
    )


def test_add_param_group_starts_updating_the_new_parameters():
    w, v = new_params()
    opt = SGD([w], lr=0.1)
    opt.add_param_group({"params": [v], "lr": 0.2})
    quadratic_loss([w, v]).backward()
    opt.step()
    a, b, w0 = PROBLEMS[1]
    np.testing.assert_allclose(v.numpy(force=True), w0 - 0.2 * (2 * a * w0 + b), rtol=1e-12)


def test_named_parameters_are_accepted_and_their_names_kept_as_in_pytorch():
    layer = mt.nn.Linear(2, 1, dtype=mt.float64)
    opt = SGD(layer.named_parameters(), lr=0.1)
    group = opt.param_groups[0]
    assert group["params"] == [layer.weight, layer.bias]
    assert group["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    w, v = new_params()
    with pytest.raises(ValueError, match="every parameter with a name .* or none"):
        SGD([("w", w), v])


def test_changing_the_lr_of_a_group_takes_effect_at_the_next_step():
    w, v = new_params()
    opt = SGD([w, v], lr=0.1)
    quadratic_loss([w, v]).backward()
    opt.step()
    opt.param_groups[0]["lr"] = 0.0
    before = w.numpy(force=True).copy()
    opt.step()
    np.testing.assert_array_equal(w.numpy(force=True), before)


def test_zero_grad_sets_gradients_to_none_by_default():
    w, v = new_params()
    opt = SGD([w, v])
    quadratic_loss([w, v]).backward()
    opt.zero_grad()
    assert w.grad is None and v.grad is None


def test_zero_grad_can_fill_the_gradients_with_zeros_in_place():
    w, v = new_params()
    opt = SGD([w, v])
    quadratic_loss([w, v]).backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert (
        w.grad is grad and not w.grad.numpy(force=True).any() and not v.grad.numpy(force=True).any()
    )


def test_zero_grad_cuts_a_gradient_that_is_part_of_a_graph():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    (w**3).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    SGD([w]).zero_grad(set_to_none=False)
    assert not w.grad.requires_grad and not w.grad.numpy(force=True).any()


def test_step_calls_the_closure_with_grad_mode_on_and_returns_its_loss():
    w, v = new_params()
    opt = SGD([w, v], lr=0.1)
    calls = []

    def closure():
        calls.append(mt.is_grad_enabled())
        opt.zero_grad()
        loss = quadratic_loss([w, v])
        loss.backward()
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert calls == [True] and isinstance(loss, mt.Tensor)
    np.testing.assert_allclose(w.numpy(force=True), reference(sgd_ref(0.1))[0][0], rtol=1e-12)


def test_step_records_no_graph_and_parameters_stay_leaves():
    w, v = new_params()
    opt = Adam([w, v])
    quadratic_loss([w, v]).backward()
    opt.step()
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_a_graph_built_before_a_step_refuses_to_backward_after_it():
    w, v = new_params()
    opt = SGD([w, v], lr=0.1)
    loss = quadratic_loss([w, v])
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_state_holds_numpy_arrays_named_as_in_pytorch():
    w, v = new_params()
    opt = Adam([w, v], amsgrad=True)
    quadratic_loss([w, v]).backward()
    opt.step()
    st = opt.state[w]
    assert set(st) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"} and st["step"] == 1
    assert isinstance(st["exp_avg"], np.ndarray) and st["exp_avg"].shape == w.shape


# --------------------------------------------------------------- saving and loading
STATEFUL = {
    "sgd": lambda ps, lr=0.1: SGD(ps, lr=lr, momentum=0.9, nesterov=True),
    "adam": lambda ps, lr=0.1: Adam(ps, lr=lr, amsgrad=True, betas=(0.9, 0.8)),
    "adamw": lambda ps, lr=0.1: AdamW(ps, lr=lr),
    "adagrad": lambda ps, lr=0.1: Adagrad(ps, lr=lr, lr_decay=0.1),
    "rmsprop": lambda ps, lr=0.1: RMSprop(ps, lr=lr, momentum=0.5, centered=True),
}


def _steps(opt, params, n):
    for _ in range(n):
        opt.zero_grad()
        quadratic_loss(params).backward()
        opt.step()


@pytest.mark.parametrize("name", STATEFUL)
def test_state_dict_round_trip_continues_like_an_uninterrupted_run(name):
    make = STATEFUL[name]
    params = new_params()
    opt = make(params)
    _steps(opt, params, 3)
    saved = opt.state_dict()
    clones = [mt.tensor(p.numpy(force=True), requires_grad=True) for p in params]
    restored = make(clones, lr=123.0)  # the options come back from the state dict
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == 0.1
    _steps(opt, params, 4)
    _steps(restored, clones, 4)
    for p, c in zip(params, clones):
        np.testing.assert_array_equal(p.numpy(force=True), c.numpy(force=True))


def test_state_dict_has_pytorchs_layout_and_is_a_snapshot():
    w, v = new_params()
    opt = Adam([{"params": [w]}, {"params": [v], "lr": 0.5}])
    _steps(opt, [w, v], 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1} and sd["state"][1]["step"] == 2
    exp_avg = sd["state"][0]["exp_avg"]
    assert isinstance(exp_avg, mt.Tensor) and exp_avg.shape == w.shape
    before = exp_avg.numpy(force=True).copy()
    _steps(opt, [w, v], 1)
    np.testing.assert_array_equal(exp_avg.numpy(force=True), before)


def test_load_state_dict_accepts_a_state_dict_with_tensors_of_another_float_dtype():
    w = mt.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    opt = SGD([w], momentum=0.9)
    sd = {
        "state": {0: {"step": mt.tensor(3), "momentum_buffer": mt.tensor(np.ones(2))}},
        "param_groups": opt.state_dict()["param_groups"],
    }
    opt.load_state_dict(sd)
    assert opt.state[w]["step"] == 3 and opt.state[w]["momentum_buffer"].dtype == np.float32


BAD_STATE_DICTS = {
    "group count": (
        lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])),
        "2 parameter groups, the optimizer has 1",
    ),
    "param count": (
        lambda sd: sd["param_groups"][0]["params"].append(2),
        "parameter group 0 has 3 parameters in the state dict, 2 in the optimizer",
    ),
    "shape": (
        lambda sd: sd["state"][1].update(exp_avg=mt.zeros(3)),
        r"state 'exp_avg' of parameter 1 has shape \(3,\), but the parameter has "
        r"shape \(2, 3\)",
    ),
    "other optimizer": (
        lambda sd: sd["param_groups"][0].pop("betas"),
        r"lacks the options \['betas'\] of Adam",
    ),
    "unknown index": (
        lambda sd: sd["state"].update({7: {"step": 1}}),
        "state for parameter 7, which is in none of its parameter groups",
    ),
}


@pytest.mark.parametrize("case", BAD_STATE_DICTS)
def test_load_state_dict_names_what_does_not_fit_and_changes_nothing(case):
    edit, message = BAD_STATE_DICTS[case]
    params = new_params()
    opt = Adam(params, lr=0.1)
    _steps(opt, params, 2)
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][0]["exp_avg"] = mt.tensor(np.full(4, 9.0))  # would change param 0 if applied
    bad["param_groups"][0]["lr"] = 7.0
    edit(bad)
    with pytest.raises(ValueError, match=f"Adam.load_state_dict: .*{message}"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        for k, val in before["state"][i].items():
            np.testing.assert_array_equal(
                np.asarray(getattr(val, "data", val)),
                np.asarray(getattr(after["state"][i][k], "data", after["state"][i][k])),
            )


# Values recorded from torch 2.13 (CPU, float64): w = [1, -2, 0.5], four steps on
# f(w) = sum(sin(3 w) + w² / 2), whose gradient's size rises and falls (so amsgrad's
# maximum matters), with each optimizer and the options named.
TORCH_RUNS = {
    "sgd-nesterov-wd": (
        SGD,
        dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        [1.3901404361079785, -2.335009405606453, -0.6273593146599932],
    ),
    "sgd-dampening-maximize": (
        SGD,
        dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.2, maximize=True),
        [0.4329701879635736, -1.6641475609856038, 0.6273478392858242],
    ),
    "adam-amsgrad-maximize": (
        Adam,
        dict(lr=0.1, betas=(0.8, 0.9), amsgrad=True, maximize=True, weight_decay=0.1),
        [0.6106980506668754, -1.6676097689251577, 0.590768401606141],
    ),
    "adamw-amsgrad": (
        AdamW,
        dict(lr=0.1, amsgrad=True),
        [1.3874729131660666, -2.377345746837052, 0.10988598665214516],
    ),
    "rmsprop-maximize": (
        RMSprop,
        dict(lr=0.01, momentum=0.5, centered=True, maximize=True),
        [0.6022703016506584, -1.733502008731585, 0.5767072831452102],
    ),
    "adagrad-maximize": (
        Adagrad,
        dict(lr=0.1, lr_decay=0.1, maximize=True),
        [0.764481678752896, -1.8060728747710542, 0.5895330807551067],
    ),
}


@pytest.mark.parametrize("case", TORCH_RUNS)
def test_optimizer_gives_the_values_torch_gives(case):
    cls, options, want = TORCH_RUNS[case]
    w = mt.tensor([1.0, -2.0, 0.5], dtype=mt.float64, requires_grad=True)
    opt = cls([w], **options)
    for _ in range(4):
        opt.zero_grad()
        ((3 * w).sin() + 0.5 * w * w).sum().backward()
        opt.step()
    np.testing.assert_allclose(w.numpy(force=True), want, rtol=1e-13)


# -------------------------------------------------------------------- arguments
BAD_ARGUMENTS = [
    (lambda ps: SGD(ps, lr=-0.1), "SGD: invalid lr -0.1"),
    (lambda ps: SGD(ps, momentum=-0.5), "SGD: invalid momentum -0.5"),
    (lambda ps: SGD(ps, nesterov=True), "SGD: nesterov momentum needs momentum > 0"),
    (lambda ps: SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
    (lambda ps: SGD([{"params": ps, "lr": -1.0}]), "SGD: invalid lr -1.0"),
    (lambda ps: Adam(ps, lr=-1e-3), "Adam: invalid lr -0.001"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"Adam: invalid betas \(1.0, 0.999\)"),
    (lambda ps: Adam(ps, betas=(0.9, -0.1)), r"Adam: invalid betas \(0.9, -0.1\)"),
    (lambda ps: Adam(ps, eps=-1.0), "Adam: invalid eps"),
    (lambda ps: AdamW(ps, weight_decay=-1.0), "AdamW: invalid weight_decay -1.0"),
    (lambda ps: Adagrad(ps, lr_decay=-1.0), "Adagrad: invalid lr_decay"),
    (
        lambda ps: Adagrad(ps, initial_accumulator_value=-1.0),
        "Adagrad: invalid initial_accumulator_value",
    ),
    (lambda ps: RMSprop(ps, alpha=-0.9), "RMSprop: invalid alpha"),
    (lambda ps: RMSprop(ps, momentum=-0.9), "RMSprop: invalid momentum"),
    (lambda ps: Adam([]), "Adam: got an empty parameter list"),
    (lambda ps: SGD([{"params": []}]), "SGD: got an empty parameter list"),
    (lambda ps: SGD([ps[0] * 2]), "SGD: parameter 0 .* is not a leaf tensor"),
    (lambda ps: SGD([ps[0], ps[0]]), "SGD: parameter 1 .* appears more than once"),
    (lambda ps: SGD([{"params": [ps[0]]}, {"params": [ps[0]]}]), "appears more than once"),
]


@pytest.mark.parametrize("make, message", BAD_ARGUMENTS)
def test_bad_arguments_raise_naming_the_optimizer(make, message):
    with pytest.raises(ValueError, match=message):
        make(new_params())


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: SGD(ps[0]), "SGD: params must be an iterable .* got a single Tensor"),
        (lambda ps: Adam([ps[0], 1.0]), "Adam: parameter 1 is a float, not a Tensor"),
        (lambda ps: SGD(set(ps)), "not as a set"),
    ],
)
def test_params_that_are_not_a_list_of_tensors_raise_type_error(make, message):
    with pytest.raises(TypeError, match=message):
        make(new_params())


@pytest.mark.parametrize(
    "cls, defaults",
    [
        (
            SGD,
            dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False),
        ),
        (
            Adam,
            dict(
                lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False
            ),
        ),
        (
            AdamW,
            dict(
                lr=1e-3,
                betas=(0.9, 0.999),
                eps=1e-8,
                weight_decay=1e-2,
                amsgrad=False,
                maximize=False,
            ),
        ),
        (
            Adagrad,
            dict(
                lr=1e-2,
                lr_decay=0,
                weight_decay=0,
                initial_accumulator_value=0,
                eps=1e-10,
                maximize=False,
            ),
        ),
        (
            RMSprop,
            dict(
                lr=1e-2,
                alpha=0.99,
                eps=1e-8,
                weight_decay=0,
                momentum=0,
                centered=False,
                maximize=False,
            ),
        ),
    ],
)
def test_defaults_are_pytorchs(cls, defaults):
    opt = cls(new_params())
    assert opt.defaults == defaults and isinstance(opt, Optimizer)


# -------------------------------------------------------------- real problems
def _least_squares():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(64, 1))
    coef, *_ = np.linalg.lstsq(np.hstack([x, np.ones((64, 1))]), y, rcond=None)
    return x, y, coef.ravel()


@pytest.mark.parametrize(
    "make, steps",
    [
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9), 300),
        (lambda ps: Adam(ps, lr=0.05), 1500),
    ],
)
def test_optimizer_fits_least_squares_to_the_lstsq_solution(make, steps):
    x, y, want = _least_squares()
    model = mt.nn.Linear(3, 1, dtype=np.float64)
    opt = make(model.parameters())
    xt, yt = mt.tensor(x), mt.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        ((model(xt) - yt) ** 2).mean().backward()
        opt.step()
    got = np.concatenate([model.weight.numpy(force=True).ravel(), model.bias.numpy(force=True)])
    np.testing.assert_allclose(got, want, atol=1e-6)


# ------------------------------------------------- the flat-buffer contract


class _Shrink(mt.optim.Optimizer):
    """A user's optimizer whose step reads the values: p -= lr * p (no weight_decay option)."""

    def __init__(self, params, lr=0.5):
        super().__init__(params, dict(lr=lr))

    def _update(self, group, p, g, tmp, st, step):
        np.multiply(p, group["lr"], out=tmp)


def test_an_optimizer_of_ones_own_that_reads_the_values_sees_them_on_the_flat_path():
    # small parameters go through one flat chunk; values must be copied in for this update
    params = [
        mt.nn.Parameter(mt.tensor(np.arange(1.0, 4.0))),
        mt.nn.Parameter(mt.tensor(np.ones(2))),
    ]
    opt = _Shrink(params)
    for _ in range(2):
        for p in params:
            p.grad = mt.zeros(p.shape)
        opt.step()
    np.testing.assert_allclose(params[0].numpy(force=True), np.arange(1.0, 4.0) * 0.25)
    np.testing.assert_allclose(params[1].numpy(force=True), np.ones(2) * 0.25)


class _ShrinkClaimingNotToRead(_Shrink):
    """A user's optimizer that wrongly declares its update does not read the values."""

    def _update_reads_params(self, group):
        return False


def test_an_update_declared_not_to_read_the_values_gets_none_instead_of_a_stale_buffer():
    params = [
        mt.nn.Parameter(mt.tensor(np.arange(1.0, 4.0))),
        mt.nn.Parameter(mt.tensor(np.ones(2))),
    ]
    for p in params:
        p.grad = mt.zeros(p.shape)
    with pytest.raises(TypeError):
        _ShrinkClaimingNotToRead(params).step()


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: mt.optim.SGD(ps, lr=0.1),
        lambda ps: mt.optim.Adam(ps),
        lambda ps: mt.optim.Adagrad(ps),
        lambda ps: mt.optim.RMSprop(ps),
    ],
)
def test_built_in_optimizers_read_the_values_only_for_weight_decay(make):
    params = [mt.nn.Parameter(mt.tensor(np.ones(2)))]
    opt = make(params)
    group = opt.param_groups[0]
    assert not opt._update_reads_params(group)
    group["weight_decay"] = 0.1
    assert opt._update_reads_params(group)
