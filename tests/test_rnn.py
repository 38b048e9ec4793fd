"""RNN, LSTM and GRU (and their cells) against step-by-step references written here in
numpy from PyTorch's documented equations and gate order (LSTM: i, f, g, o; GRU: r, z,
n), over layers and directions: parameter names and shapes, batch_first, initial
states, unbatched inputs, dropout between layers, and gradients by finite differences."""

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given, settings
from numpy.testing import assert_allclose

import microtensor as mt
from microtensor.nn import layers as L


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rnn_step(mode, x, state, w_ih, w_hh, b_ih, b_hh):
    """One time step of (N, I) input from PyTorch's equations."""
    if mode == "LSTM":
        h, c = state
        i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c
    if mode == "GRU":
        r_i, z_i, n_i = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
        r_h, z_h, n_h = np.split(state @ w_hh.T + b_hh, 3, axis=-1)
        r, z = sigmoid(r_i + r_h), sigmoid(z_i + z_h)
        n = np.tanh(n_i + r * n_h)
        return (1 - z) * n + z * state
    pre = x @ w_ih.T + b_ih + state @ w_hh.T + b_hh
    return np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)


def sequence_reference(module, mode, x, h0, c0=None):
    """(output, h_n, c_n) of an (L, N, I) sequence: each layer runs each direction over
    time, one step at a time; the directions' outputs are concatenated on features."""
    dirs = 2 if module.bidirectional else 1
    layer_in, hs, cs = x, [], []
    for layer in range(module.num_layers):
        outs = []
        for d in range(dirs):
            sfx = "_reverse" if d else ""
            p = {
                k: getattr(module, f"{k}_l{layer}{sfx}").numpy(force=True)
                for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
            idx = layer * dirs + d
            state = (h0[idx], c0[idx]) if mode == "LSTM" else h0[idx]
            out = [None] * len(x)
            for t in range(len(x)) if d == 0 else reversed(range(len(x))):
                state = rnn_step(
                    mode,
                    layer_in[t],
                    state,
                    p["weight_ih"],
                    p["weight_hh"],
                    p["bias_ih"],
                    p["bias_hh"],
                )
                out[t] = state[0] if mode == "LSTM" else state
            outs.append(np.stack(out))
            hs.append(state[0] if mode == "LSTM" else state)
            cs.append(state[1] if mode == "LSTM" else None)
        layer_in = np.concatenate(outs, axis=-1)
    return layer_in, np.stack(hs), (np.stack(cs) if mode == "LSTM" else None)


MODES = {"RNN": "RNN_TANH", "LSTM": "LSTM", "GRU": "GRU"}


@settings(max_examples=12)
@given(
    st.sampled_from(list(MODES)),
    st.integers(1, 2),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(1, 4),
)
def test_recurrent_layers_match_the_step_by_step_reference(
    name, layers, bidirectional, batch_first, with_state, length
):
    mt.manual_seed(0)
    module = getattr(L, name)(
        3,
        4,
        num_layers=layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dtype=mt.float64,
    )
    x = randn(length, 2, 3)
    dirs = 2 if bidirectional else 1
    h0, c0 = randn(layers * dirs, 2, 4, seed=1), randn(layers * dirs, 2, 4, seed=2)
    if not with_state:
        h0, c0 = np.zeros_like(h0), np.zeros_like(c0)
    state = None
    if with_state:
        state = (mt.tensor(h0), mt.tensor(c0)) if name == "LSTM" else mt.tensor(h0)
    inp = x.transpose(1, 0, 2) if batch_first else x
    out, h_n = module(mt.tensor(inp), state)
    ref_out, ref_h, ref_c = sequence_reference(module, MODES[name], x, h0, c0)
    assert_allclose(
        out.numpy(force=True), ref_out.transpose(1, 0, 2) if batch_first else ref_out, atol=1e-12
    )
    if name == "LSTM":
        h_n, c_n = h_n
        assert_allclose(c_n.numpy(force=True), ref_c, atol=1e-12)
    assert_allclose(h_n.numpy(force=True), ref_h, atol=1e-12)


def test_rnn_with_relu_nonlinearity():
    mt.manual_seed(1)
    module = L.RNN(2, 3, nonlinearity="relu", dtype=mt.float64)
    x = randn(4, 1, 2)
    out, h_n = module(mt.tensor(x))
    ref_out, ref_h, _ = sequence_reference(module, "RNN_RELU", x, np.zeros((1, 1, 3)))
    assert_allclose(out.numpy(force=True), ref_out, atol=1e-12)
    assert_allclose(h_n.numpy(force=True), ref_h, atol=1e-12)


def test_parameters_have_pytorchs_names_shapes_and_order():
    lstm = L.LSTM(3, 5, num_layers=2, bidirectional=True)
    names = [(n, tuple(p.shape)) for n, p in lstm.named_parameters()]
    assert names[:5] == [
        ("weight_ih_l0", (20, 3)),
        ("weight_hh_l0", (20, 5)),
        ("bias_ih_l0", (20,)),
        ("bias_hh_l0", (20,)),
        ("weight_ih_l0_reverse", (20, 3)),
    ]
    assert names[8] == ("weight_ih_l1", (20, 10))  # layer 1 reads both directions
    assert [n for n, _ in L.GRU(2, 3, bias=False).named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
    ]
    assert L.GRU(2, 3).weight_hh_l0.shape == (9, 3) and L.RNN(2, 3).weight_hh_l0.shape == (3, 3)


def test_unbatched_sequences_give_unbatched_outputs():
    mt.manual_seed(2)
    gru = L.GRU(3, 4, num_layers=2, dtype=mt.float64)
    x = randn(5, 3)
    out, h_n = gru(mt.tensor(x))
    batched, h_b = gru(mt.tensor(x[:, None]))
    assert out.shape == (5, 4) and h_n.shape == (2, 4)
    assert_allclose(out.numpy(force=True), batched.numpy(force=True)[:, 0], atol=1e-12)
    assert_allclose(h_n.numpy(force=True), h_b.numpy(force=True)[:, 0], atol=1e-12)


def test_dropout_between_layers_acts_in_training_only():
    mt.manual_seed(3)
    lstm = L.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=mt.float64)
    x = mt.tensor(randn(6, 2, 3))
    train_a, train_b = lstm(x)[0].numpy(force=True), lstm(x)[0].numpy(force=True)
    lstm.eval()
    eval_out = lstm(x)[0].numpy(force=True)
    ref = sequence_reference(
        lstm, "LSTM", x.numpy(force=True), np.zeros((2, 2, 4)), np.zeros((2, 2, 4))
    )[0]
    assert not np.allclose(train_a, train_b)
    assert_allclose(eval_out, ref, atol=1e-12)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        L.GRU(2, 2, dropout=0.3)


@pytest.mark.parametrize("name", list(MODES))
def test_recurrent_gradients_match_finite_differences(name):
    mt.manual_seed(4)
    module = getattr(L, name)(2, 2, bidirectional=True, dtype=mt.float64)
    x = leaf(randn(3, 1, 2))
    w = module.weight_hh_l0
    mt.testing.check_grads(lambda x, w: module(x)[0] + 0 * w.sum(), x, w)


@pytest.mark.parametrize(
    "name, mode", [("RNNCell", "RNN_TANH"), ("LSTMCell", "LSTM"), ("GRUCell", "GRU")]
)
def test_cells_take_one_step_of_the_reference(name, mode):
    mt.manual_seed(5)
    cell = getattr(L, name)(3, 4, dtype=mt.float64)
    x, h, c = randn(2, 3), randn(2, 4, seed=1), randn(2, 4, seed=2)
    state = (h, c) if mode == "LSTM" else h
    args = (mt.tensor(h), mt.tensor(c)) if mode == "LSTM" else mt.tensor(h)
    out = cell(mt.tensor(x), args)
    ref = rnn_step(
        mode,
        x,
        state,
        cell.weight_ih.numpy(force=True),
        cell.weight_hh.numpy(force=True),
        cell.bias_ih.numpy(force=True),
        cell.bias_hh.numpy(force=True),
    )
    for got, want in zip(out if mode == "LSTM" else [out], ref if mode == "LSTM" else [ref]):
        assert_allclose(got.numpy(force=True), want, atol=1e-12)
    single = cell(mt.tensor(x[0]))  # unbatched, zero state
    zero = (np.zeros(4), np.zeros(4)) if mode == "LSTM" else np.zeros(4)
    ref = rnn_step(
        mode,
        x[0],
        zero,
        cell.weight_ih.numpy(force=True),
        cell.weight_hh.numpy(force=True),
        cell.bias_ih.numpy(force=True),
        cell.bias_hh.numpy(force=True),
    )
    assert_allclose(
        (single[0] if mode == "LSTM" else single).numpy(force=True),
        ref[0] if mode == "LSTM" else ref,
        atol=1e-12,
    )


def test_gru_cell_second_derivatives_match_finite_differences():
    mt.manual_seed(6)
    cell = L.GRUCell(2, 2, dtype=mt.float64)
    mt.testing.check_grads(
        lambda x, h: cell(x, h), leaf(randn(1, 2)), leaf(randn(1, 2, seed=1)), order=2
    )


def test_states_of_the_wrong_shape_name_the_expected_one():
    with pytest.raises(ValueError, match=r"expected hidden size \(2, 3, 4\), got \(1, 3, 4\)"):
        L.GRU(2, 4, num_layers=2)(mt.ones(5, 3, 2), mt.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"hx must be a tuple \(h_0, c_0\)"):
        L.LSTM(2, 4)(mt.ones(5, 3, 2), mt.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"expected input \(L, N, 2\)"):
        L.RNN(2, 4)(mt.ones(5, 3, 3))
    with pytest.raises(NotImplementedError, match="proj_size"):
        L.LSTM(2, 4, proj_size=2)


def test_a_sequence_model_learns_to_copy_the_previous_token():
    """Embedding -> LSTM -> Linear, trained with cross_entropy over (N, C, T) logits."""
    mt.manual_seed(7)
    emb, lstm, head = L.Embedding(4, 8), L.LSTM(8, 16, batch_first=True), L.Linear(16, 4)
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = mt.optim.Adam(params, lr=0.05)
    seq = mt.tensor(np.random.default_rng(8).integers(0, 4, (16, 6)))
    target = mt.tensor(
        np.concatenate([np.zeros((16, 1), np.int64), seq.numpy(force=True)[:, :-1]], 1)
    )
    for _ in range(60):
        logits = head(lstm(emb(seq))[0])
        loss = mt.nn.functional.cross_entropy(logits.transpose(1, 2), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2
