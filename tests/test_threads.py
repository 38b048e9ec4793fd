"""Grad mode belongs to the thread, as in PyTorch: no_grad in one thread, or a backward
running there, never stops another thread's ops from recording."""

import threading

import numpy as np

import microtensor as mt
from microtensor import nn


def test_no_grad_in_one_thread_leaves_another_recording():
    start = threading.Barrier(2)
    stop = threading.Event()
    lost = []

    def toggler():
        start.wait()
        while not stop.is_set():
            with mt.no_grad():
                pass
            mt.set_grad_enabled(False)
            mt.set_grad_enabled(True)

    def recorder():
        x = mt.tensor([1.0, 2.0], requires_grad=True)
        start.wait()
        for _ in range(20000):
            if not (x * 2).requires_grad:
                lost.append(1)
        stop.set()

    threads = [threading.Thread(target=toggler), threading.Thread(target=recorder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(lost) == 0


def test_a_thread_that_turns_grad_off_for_good_leaves_the_others_on():
    t = threading.Thread(target=mt.set_grad_enabled, args=(False,))
    t.start()
    t.join()
    assert mt.is_grad_enabled()
    seen = []
    t = threading.Thread(target=lambda: seen.append(mt.is_grad_enabled()))
    t.start()
    t.join()
    assert seen == [True]  # a new thread starts with grad on, whatever others did


def test_backward_does_not_switch_grad_mode_in_other_threads():
    inside = threading.Event()
    release = threading.Event()
    seen = []

    def slow_hook(g):
        inside.set()
        release.wait(5)
        return g

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(slow_hook)
    worker = threading.Thread(target=lambda: y.sum().backward())
    worker.start()
    inside.wait(5)  # the other thread is now inside backward (grad mode off there)
    seen.append(mt.is_grad_enabled())
    seen.append((x * 2).requires_grad)
    release.set()
    worker.join()
    assert seen == [True, True]
    np.testing.assert_array_equal(x.grad.numpy(force=True), [3.0, 3.0])


def _model(seed: int) -> nn.Module:
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))


def _train(model: nn.Module, seed: int, steps: int = 300) -> None:
    rng = np.random.default_rng(seed)
    x = mt.tensor(rng.normal(size=(32, 4)))
    y = mt.tensor(rng.normal(size=(32, 1)))
    opt = mt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        with mt.no_grad():  # what an evaluation between steps does
            model(x)


def test_two_threads_training_two_models_match_training_them_one_after_the_other():
    serial = [_model(1), _model(2)]
    for i, m in enumerate(serial):
        _train(m, seed=10 + i)
    concurrent = [_model(1), _model(2)]
    threads = [threading.Thread(target=_train, args=(m, 10 + i)) for i, m in enumerate(concurrent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(serial, concurrent):
        for (name, p), q in zip(a.named_parameters(), b.parameters()):
            np.testing.assert_array_equal(p.numpy(force=True), q.numpy(force=True), err_msg=name)
