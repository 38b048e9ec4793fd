"""Golden numbers computed by hand: the forward-pass exercise of report 004
(shared/seeds/004_331a992bd604ecec.txt, Q1.1) and its hand-derived gradients (Q1.2)."""

import math

import numpy as np
import pytest

import microtensor as mt

W1 = [[0.4, 0.6, 0.2], [0.3, 0.9, 0.5]]
B1 = [1.0, 1.0, 1.0]
W2 = [[0.2], [0.2], [0.8]]
B2 = [0.5]
A0 = [1.0, 1.0]
Y = 1.0


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def by_hand():
    """The report's chain rule, element by element, in plain Python."""
    z1 = [sum(A0[i] * W1[i][j] for i in range(2)) + B1[j] for j in range(3)]
    a1 = [sig(z) for z in z1]
    z2 = sum(a1[j] * W2[j][0] for j in range(3)) + B2[0]
    a2 = sig(z2)
    delta2 = (a2 - Y) * a2 * (1 - a2)  # dL/dz2 for L = 1/2 (y - a2)^2
    d_w2 = [[a1[j] * delta2] for j in range(3)]
    d_b2 = [delta2]
    delta1 = [W2[j][0] * delta2 * a1[j] * (1 - a1[j]) for j in range(3)]
    d_w1 = [[A0[i] * delta1[j] for j in range(3)] for i in range(2)]
    d_b1 = delta1
    return a2, d_w1, d_b1, d_w2, d_b2


def forward(dtype):
    params = [mt.tensor(v, dtype=dtype, requires_grad=True) for v in (W1, B1, W2, B2)]
    w1, b1, w2, b2 = params
    a0 = mt.tensor(A0, dtype=dtype)
    a1 = (a0 @ w1 + b1).sigmoid()
    a2 = (a1 @ w2 + b2).sigmoid()
    return a2, params


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_report_004_forward_pass_gives_0_8221(dtype):
    a2, _ = forward(dtype)
    assert round(a2.item(), 4) == 0.8221


def test_report_004_hand_derivation_is_itself_right():
    # z1 = [1.7, 2.5, 1.7] by hand, so the output is sigma(0.2 s(1.7) + 0.2 s(2.5) + 0.8 s(1.7) + 0.5)
    expected = sig(0.2 * sig(1.7) + 0.2 * sig(2.5) + 0.8 * sig(1.7) + 0.5)
    assert by_hand()[0] == pytest.approx(expected, abs=1e-15)
    assert round(expected, 4) == 0.8221


def test_report_004_gradients_equal_the_hand_derivation():
    a2, params = forward(mt.float64)
    loss = 0.5 * (Y - a2) ** 2
    loss.sum().backward()
    _, *grads = by_hand()
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(force=True), np.array(g), rtol=0, atol=1e-15)
