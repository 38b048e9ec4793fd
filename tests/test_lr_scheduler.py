"""Learning-rate schedulers, against their formulas written out here and against
sequences recorded from torch (the same schedule run in torch 2.13, numbers pasted)."""

import math

import numpy as np
import pytest

import microtensor as mt
from microtensor.optim import SGD, Adam
from microtensor.optim import lr_scheduler as L


def new_params():
    return [mt.zeros(1, requires_grad=True), mt.zeros(2, requires_grad=True)]


def run(make_sched, n, lr=1.0, groups=1, opt_cls=SGD, **options):
    """get_last_lr() of every group, and the first group's momentum (or beta1), at
    construction and after each of n steps; group i starts at lr * (i + 1)."""
    params = [mt.zeros(1, requires_grad=True) for _ in range(groups)]
    opt = opt_cls([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], **options)
    sched = make_sched(opt)

    def momentum():
        group = opt.param_groups[0]
        return group["betas"][0] if "betas" in group else group.get("momentum")

    lrs, momenta = [sched.get_last_lr()], [momentum()]
    for _ in range(n):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        lrs.append(sched.get_last_lr())
        momenta.append(momentum())
    return np.array(lrs), np.array(momenta)


def lr_sequence(make_sched, n, lr=1.0, groups=1):
    return run(make_sched, n, lr, groups)[0]


def test_scheduler_records_initial_lr_in_each_group():
    opt = SGD([{"params": [p], "lr": lr} for p, lr in zip(new_params(), [0.1, 0.2])])
    sched = L.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]
    assert sched.base_lrs == [0.1, 0.2] and sched.last_epoch == 0


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    got = lr_sequence(lambda o: L.StepLR(o, step_size=3, gamma=0.5), 9, groups=2)
    want = [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    np.testing.assert_allclose(got, np.array([want, [2 * w for w in want]]).T, rtol=1e-15)


def test_exponential_lr_multiplies_by_gamma_every_epoch():
    got = lr_sequence(lambda o: L.ExponentialLR(o, gamma=0.9), 12, lr=0.5)
    np.testing.assert_allclose(got[:, 0], [0.5 * 0.9**k for k in range(13)], rtol=1e-13)


@pytest.mark.parametrize("T_max, eta_min", [(4, 0.1), (5, 0.0), (1, 0.2)])
def test_cosine_annealing_follows_the_cosine_for_several_periods(T_max, eta_min):
    n = 3 * T_max + 2  # down, up and down again: crosses both minima's special cases
    got = lr_sequence(lambda o: L.CosineAnnealingLR(o, T_max, eta_min), n, lr=0.8)
    want = [
        eta_min + (0.8 - eta_min) * (1 + math.cos(math.pi * k / T_max)) / 2 for k in range(n + 1)
    ]
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12, atol=1e-15)


def test_cosine_annealing_golden_values():
    got = lr_sequence(lambda o: L.CosineAnnealingLR(o, T_max=4, eta_min=0.1), 8)
    np.testing.assert_allclose(got[::2, 0], [1.0, 0.55, 0.1, 0.55, 1.0], rtol=1e-12)


def _plateau(metrics, **options):
    opt = SGD([mt.zeros(1, requires_grad=True)], lr=1.0)
    sched = L.ReduceLROnPlateau(opt, **options)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [lrs[-1]]
    return lrs


def test_reduce_on_plateau_with_patience_cooldown_and_relative_threshold():
    metrics = [10, 9.5, 9.2, 9.1, 9.0, 9.0, 8.0, 7.5, 7.3, 7.3, 7.3, 7.3, 7.3, 7.3]
    # improvement means < 0.9 * best; 3 bad epochs in a row (> patience 2) halve the lr,
    # and the epoch after a reduction (cooldown 1) is not counted
    want = [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125]
    got = _plateau(metrics, factor=0.5, patience=2, threshold=0.1, cooldown=1)
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_reduce_on_plateau_in_max_mode_with_absolute_threshold():
    metrics = [1.0, 1.4, 1.6, 2.0, 2.0, 2.0, 2.0]  # improvement means > best + 0.5
    got = _plateau(metrics, mode="max", threshold_mode="abs", threshold=0.5, patience=1)
    np.testing.assert_allclose(got, [1, 1, 1, 1, 0.1, 0.1, 0.01], rtol=1e-15)


def test_reduce_on_plateau_stops_at_min_lr():
    got = _plateau([1.0] * 7, factor=0.5, patience=0, min_lr=0.3)
    np.testing.assert_allclose(got, [1, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3], rtol=1e-15)


def test_reduce_on_plateau_rejects_bad_options():
    opt = SGD(new_params())
    with pytest.raises(ValueError, match="factor must be < 1"):
        L.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        L.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="2 min_lr values for 1 parameter groups"):
        L.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])


def test_scheduler_load_state_dict_of_another_kind_raises():
    opt = SGD(new_params())
    step = L.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: missing keys"):
        step.load_state_dict(L.ExponentialLR(opt, gamma=0.5).state_dict())


# ------------------------------------------- sequences recorded from torch 2.13
# Each list is get_last_lr() at construction and after each step, printed by running the
# same schedule with torch.optim.lr_scheduler on an SGD (or Adam) of the same groups.
def test_lambda_lr_takes_one_function_per_group():
    got = lr_sequence(
        lambda o: L.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (1 + e)]), 5, groups=2
    )
    torch = [
        [1.0, 2.0],
        [0.9, 1.0],
        [0.81, 0.6666666666666666],
        [0.7290000000000001, 0.5],
        [0.6561, 0.4],
        [0.5904900000000001, 0.3333333333333333],
    ]
    np.testing.assert_allclose(got, torch, rtol=1e-15)


def test_lambda_lr_with_one_function_for_every_group():
    got = lr_sequence(lambda o: L.LambdaLR(o, lambda e: e + 1), 2, groups=2)
    np.testing.assert_allclose(got, [[1, 2], [2, 4], [3, 6]], rtol=1e-15)


def test_multi_step_lr_multiplies_by_gamma_at_each_milestone_as_often_as_listed():
    got = lr_sequence(lambda o: L.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5), 7, lr=0.8)
    np.testing.assert_allclose(got[:, 0], [0.8, 0.8, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1], rtol=1e-15)


@pytest.mark.parametrize(
    "options, torch",
    [
        (
            {},
            [
                0.16666666666666666,
                0.23333333333333334,
                0.30000000000000004,
                0.36666666666666675,
                0.43333333333333346,
                0.5000000000000001,
                0.5000000000000001,
                0.5000000000000001,
            ],
        ),
        (
            dict(start_factor=1.0, end_factor=0.2, total_iters=4),
            [
                0.5,
                0.4,
                0.30000000000000004,
                0.2,
                0.09999999999999998,
                0.09999999999999998,
                0.09999999999999998,
                0.09999999999999998,
            ],
        ),
    ],
)
def test_linear_lr_goes_linearly_from_start_to_end_factor_then_stays(options, torch):
    got = lr_sequence(lambda o: L.LinearLR(o, **options), 7, lr=0.5)
    np.testing.assert_allclose(got[:, 0], torch, rtol=1e-15)
    start, end, total = (
        options.get("start_factor", 1 / 3),
        options.get("end_factor", 1.0),
        options.get("total_iters", 5),
    )
    formula = [0.5 * (start + (end - start) * min(t, total) / total) for t in range(8)]
    np.testing.assert_allclose(got[:, 0], formula, rtol=1e-14)


def test_sequential_lr_warms_up_then_anneals_then_decays():
    def make(o):
        warmup = L.LinearLR(o, start_factor=0.1, total_iters=3)
        cosine = L.CosineAnnealingLR(o, T_max=4, eta_min=0.01)
        return L.SequentialLR(o, [warmup, cosine, L.ExponentialLR(o, gamma=0.5)], [3, 7])

    torch = [
        0.03,
        0.11999999999999998,
        0.20999999999999996,
        0.3,
        0.25753048327204936,
        0.155,
        0.05246951672795062,
        0.3,
        0.15,
        0.075,
        0.0375,
    ]
    np.testing.assert_allclose(lr_sequence(make, 10, lr=0.3)[:, 0], torch, rtol=1e-14)


def test_sequential_lr_starts_each_scheduler_at_its_own_epoch_zero():
    def make(o):
        return L.SequentialLR(
            o,
            [L.StepLR(o, step_size=1, gamma=0.5), L.MultiStepLR(o, milestones=[1, 3], gamma=0.1)],
            [2],
        )

    torch = [1.0, 0.5, 1.0, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002]
    np.testing.assert_allclose(lr_sequence(make, 6)[:, 0], torch, rtol=1e-15)


def test_one_cycle_lr_defaults_rise_then_cosine_anneal_with_momentum_the_other_way():
    lrs, momenta = run(
        lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=10), 10, lr=0.1, momentum=0.9
    )
    torch_lrs = [
        0.040000000000000036,
        0.52,
        1.0,
        0.9504846320134737,
        0.8117456539497631,
        0.6112620219362893,
        0.38874197806371075,
        0.18825834605023697,
        0.049519367986526286,
        4e-06,
        0.04951936798652623,
    ]
    torch_momenta = [
        0.95,
        0.8999999999999999,
        0.85,
        0.854951556604879,
        0.8688255099070633,
        0.8888739533021842,
        0.9111260466978157,
        0.9311744900929366,
        0.945048443395121,
        0.95,
        0.945048443395121,
    ]
    np.testing.assert_allclose(lrs[:, 0], torch_lrs, rtol=1e-13)
    np.testing.assert_allclose(momenta, torch_momenta, rtol=1e-13)
    # the formula: 0.3 * 10 - 1 = 2 steps up from max_lr / 25, 7 cosine steps down to
    # max_lr / 25 / 1e4
    up = [0.04 + (1 - 0.04) * (1 - math.cos(math.pi * t / 2)) / 2 for t in range(3)]
    down = [4e-6 + (1 - 4e-6) * (1 + math.cos(math.pi * t / 7)) / 2 for t in range(1, 8)]
    np.testing.assert_allclose(lrs[:10, 0], up + down, rtol=1e-12)


def test_one_cycle_lr_three_phase_linear_per_group_cycles_adams_beta1():
    def make(o):
        return L.OneCycleLR(
            o,
            max_lr=[0.5, 2.0],
            epochs=3,
            steps_per_epoch=4,
            anneal_strategy="linear",
            three_phase=True,
            pct_start=0.25,
            div_factor=10.0,
            final_div_factor=100.0,
        )

    lrs, beta1 = run(make, 12, lr=0.1, groups=2, opt_cls=Adam)
    torch_lrs = [
        [0.05, 0.2],
        [0.275, 1.1],
        [0.5, 2.0],
        [0.275, 1.1],
        [0.04999999999999999, 0.19999999999999996],
        [0.042928571428571434, 0.17171428571428574],
        [0.03585714285714286, 0.14342857142857143],
        [0.02878571428571429, 0.11514285714285716],
        [0.021714285714285717, 0.08685714285714287],
        [0.014642857142857145, 0.05857142857142858],
        [0.007571428571428576, 0.030285714285714305],
        [0.0005000000000000004, 0.0020000000000000018],
        [-0.006571428571428568, -0.026285714285714273],
    ]
    torch_beta1 = [0.95, 0.8999999999999999, 0.85, 0.8999999999999999] + [0.95] * 9
    np.testing.assert_allclose(lrs, torch_lrs, rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(beta1, torch_beta1, rtol=1e-15)


def test_one_cycle_lr_refuses_a_step_past_total_steps_plus_one():
    opt = SGD([mt.zeros(1, requires_grad=True)], lr=0.1)
    sched = L.OneCycleLR(opt, max_lr=1.0, total_steps=3, cycle_momentum=False)
    for _ in range(3):
        sched.step()  # torch also allows step number total_steps
    with pytest.raises(ValueError, match="tried to step 4 times; .* total steps is 3"):
        sched.step()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: L.OneCycleLR(o, max_lr=1.0), "give total_steps, or epochs and steps_per_epoch"),
        (
            lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1),
            "pct_start must be a float in",
        ),
        (
            lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="cosine"),
            "anneal_strategy must be 'cos' or 'linear'",
        ),
        (
            lambda o: L.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10),
            "OneCycleLR: 2 max_lr values for 1 parameter groups",
        ),
        (lambda o: L.LinearLR(o, start_factor=0), r"start_factor must be in \(0, 1\]"),
        (lambda o: L.LambdaLR(o, [abs, abs]), "LambdaLR: 2 lr_lambda values for 1 parameter"),
        (
            lambda o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], milestones=[]),
            "2 schedulers need 1 milestones, got 0",
        ),
        (
            lambda o: L.SequentialLR(o, [L.StepLR(SGD([mt.zeros(1, requires_grad=True)]), 2)], []),
            "scheduler 0 .* belongs to another optimizer",
        ),
        (lambda o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], []), "needs a metric"),
    ],
)
def test_scheduler_bad_arguments_raise_naming_the_scheduler(make, message):
    with pytest.raises(ValueError, match=message):
        make(SGD([mt.zeros(1, requires_grad=True)], lr=0.1))


def test_one_cycle_lr_with_cycle_momentum_needs_an_optimizer_with_momentum():
    opt = mt.optim.Adagrad([mt.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum"):
        L.OneCycleLR(opt, max_lr=1.0, total_steps=5)


# --------------------------------------------------------------- saving and loading
def _continues_after_reload(make, path, steps_before=3, steps_after=6):
    """A scheduler reloaded from its state_dict, through mt.save / mt.load, goes on as
    the original does."""

    def setup():
        opt = SGD([mt.zeros(1, requires_grad=True)], lr=0.5, momentum=0.9)
        return opt, make(opt)

    opt, sched = setup()
    for _ in range(steps_before):
        sched.step()
    opt2, sched2 = setup()
    mt.save([opt.state_dict(), sched.state_dict()], path)
    state = mt.load(path)
    opt2.load_state_dict(state[0])
    sched2.load_state_dict(state[1])
    for _ in range(steps_after):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert opt2.param_groups[0]["momentum"] == opt.param_groups[0]["momentum"]


@pytest.mark.parametrize(
    "make",
    [
        lambda o: L.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
        lambda o: L.StepLR(o, step_size=2, gamma=0.3),
        lambda o: L.MultiStepLR(o, milestones=[4, 5], gamma=0.5),
        lambda o: L.LinearLR(o, total_iters=6),
        lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=10),
        lambda o: L.SequentialLR(o, [L.LinearLR(o, total_iters=2), L.StepLR(o, 2)], [4]),
    ],
)
def test_scheduler_continues_the_same_sequence_after_a_save_and_load(make, tmp_path):
    _continues_after_reload(make, tmp_path / "sched.npz")


def test_lambda_lr_saves_a_callable_objects_attributes_but_not_a_function():
    class Halving:
        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor**epoch

    opt = SGD([mt.zeros(1, requires_grad=True)], lr=1.0)
    obj = Halving()
    state = L.LambdaLR(opt, [obj]).state_dict()
    assert state["lr_lambdas"] == [{"factor": 0.5}]
    assert L.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]
    obj.factor = 0.1
    fresh = Halving()
    L.LambdaLR(opt, [fresh]).load_state_dict(state)
    assert fresh.factor == 0.5
