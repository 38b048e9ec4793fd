"""The reports' networks, built from nn modules, train as the reports say they do."""

import time

import numpy as np
import pytest

import microtensor as mt
import models
from microtensor.nn import functional as F
from models import MLP, ConvNet, SoftmaxClassifier


def train_lab1(X, Y, epochs, seed=0):
    """Report 000's recipe: 2-5-5-1, sigmoid everywhere, L2 loss 1/2 (y - p)^2 summed over
    the set (its hand-derived delta has no 1/n), full-batch gradient descent, lr 0.1."""
    mt.manual_seed(seed)
    net = MLP([2, 5, 5, 1], activations=["sigmoid", "sigmoid"], output="sigmoid")
    opt = mt.optim.SGD(net.parameters(), lr=0.1)
    x, y = mt.tensor(X, dtype=mt.float32), mt.tensor(Y, dtype=mt.float32)
    for _ in range(epochs):
        opt.zero_grad()
        F.l2_loss(net(x), y, reduction="sum").backward()
        opt.step()
    with mt.no_grad():
        return ((net(x).numpy(force=True) > 0.5) == (Y > 0.5)).mean()


def test_xor_easy_is_the_21_points_of_the_seeds_readme():
    X, Y = models.xor_easy()
    assert X.shape == (21, 2) and Y.shape == (21, 1)
    assert Y.sum() == 10  # 11 diagonal points labelled 0, 10 anti-diagonal labelled 1
    assert [0.5, 0.5] in X.tolist() and X.tolist().count([0.5, 0.5]) == 1


def test_linear_set_labels_follow_the_rule_and_the_seed():
    X, Y = models.linear_set(100, seed=3)
    assert X.shape == (100, 2) and ((X >= 0) & (X <= 1)).all()
    np.testing.assert_array_equal(Y[:, 0], (X[:, 0] <= X[:, 1]).astype(float))
    np.testing.assert_array_equal(models.linear_set(100, seed=3)[0], X)


def test_lab1_network_trains_to_100_percent_on_xor_easy():
    assert train_lab1(*models.xor_easy(), epochs=10000) == 1.0


def test_lab1_network_trains_to_100_percent_on_the_linear_set():
    assert train_lab1(*models.linear_set(100), epochs=3000) == 1.0


def test_mlp_takes_one_activation_per_hidden_layer_and_none_for_none():
    net = MLP([2, 3, 4, 1], activations=["relu", None], output="sigmoid")
    names = [type(a).__name__ for a in net.activations]
    assert names == ["ReLU", "Identity", "Sigmoid"]
    assert [tuple(p.shape) for p in net.parameters()] == [(3, 2), (3,), (4, 3), (4,), (1, 4), (1,)]


def test_mlp_without_activations_is_a_linear_map():
    mt.manual_seed(0)
    net = MLP([2, 5, 5, 1], activations=None, output=None)
    x = mt.randn(4, 2)
    w = np.eye(2)
    for layer in net.layers:
        w = w @ layer.weight.numpy(force=True).T
    b = net(mt.zeros(1, 2)).numpy(force=True)
    np.testing.assert_allclose(
        net(x).numpy(force=True), x.numpy(force=True) @ w + b, rtol=1e-5, atol=1e-6
    )


def test_mlp_rejects_a_wrong_number_of_activations():
    with pytest.raises(ValueError, match="2 hidden layer\\(s\\) need 2 activation\\(s\\), got 1"):
        MLP([2, 5, 5, 1], activations=["relu"])


def test_xavier_and_he_initialise_with_the_activations_gain():
    mt.manual_seed(0)
    net = MLP([400, 300, 10], activations="tanh", init="xavier")
    bound = (5 / 3) * np.sqrt(6 / (400 + 300))
    w = net.layers[0].weight.numpy(force=True)
    assert w.max() <= bound and w.max() > 0.95 * bound
    net = MLP([400, 300, 10], activations="relu", init="he")
    assert net.layers[0].weight.numpy(force=True).std() == pytest.approx(np.sqrt(2 / 400), rel=0.03)


def test_softmax_classifier_predicts_probabilities_and_labels():
    mt.manual_seed(0)
    clf = SoftmaxClassifier([4, 8, 3])
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    p = clf.predict_proba(x).numpy(force=True)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(x), p.argmax(axis=1))


def test_convnet_is_sized_from_its_input():
    assert ConvNet((1, 28, 28)).fc1.in_features == 32 * 4 * 4  # 5x5 kernels, like MNIST's
    assert ConvNet((1, 8, 8)).fc1.in_features == 32 * 2 * 2  # 3x3 with padding
    with pytest.raises(ValueError, match="too small"):
        ConvNet((1, 3, 3))


def test_convnet_trains_on_the_8x8_digits_to_97_percent():
    Xtr, Xte, ytr, yte = models.digits()
    mt.manual_seed(0)
    net = ConvNet((1, 8, 8), dropout=0.2)
    opt = mt.optim.Adam(net.parameters(), lr=3e-3)
    schedule = mt.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.3)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(30):
        net.train()
        for b in np.array_split(rng.permutation(len(Xtr)), len(Xtr) // 32):
            opt.zero_grad()
            F.cross_entropy(net(mt.tensor(Xtr[b])), ytr[b]).backward()
            opt.step()
        schedule.step()
    accuracy = (net.predict(Xte) == yte).mean()
    print(f"digits: {accuracy:.4f} test accuracy in {time.perf_counter() - start:.1f} s")
    assert accuracy >= 0.97
