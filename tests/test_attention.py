"""F.scaled_dot_product_attention and nn.MultiheadAttention against the definition
written here in numpy: softmax(q kᵀ / sqrt(E) + mask) v, per head, between the input
and output projections. Masks: for SDPA a bool True attends, for MultiheadAttention a
True is masked out; float masks are added. Values of edge cases are those of PyTorch
2.13 (recorded: a query with every key masked gives 0 from SDPA)."""

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given
from numpy.testing import assert_allclose

import microtensor as mt
from microtensor.nn import layers as L

F = mt.nn.functional


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def attention_reference(q, k, v, mask=None, scale=None):
    """softmax(q kᵀ scale + mask) v, with mask additive (0 or -inf) or None."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = s + mask
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return w @ v, w


def additive(allowed):
    return np.where(allowed, 0.0, -np.inf)


# ---------------------------------------------------------------------------- SDPA
@given(
    st.integers(1, 2),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.sampled_from([None, "bool", "float"]),
)
def test_sdpa_matches_the_definition(heads, length, source, dim, mask_kind):
    q, k, v = (
        randn(2, heads, length, dim),
        randn(2, heads, source, dim, seed=1),
        randn(2, heads, source, 3, seed=2),
    )
    mask = None
    if mask_kind == "bool":
        mask = np.random.default_rng(3).random((length, source)) > 0.3
        mask[:, 0] = True  # every query attends somewhere
    elif mask_kind == "float":
        mask = randn(heads, length, source, seed=4)
    out = F.scaled_dot_product_attention(
        mt.tensor(q), mt.tensor(k), mt.tensor(v), None if mask is None else mt.tensor(mask)
    )
    ref_mask = additive(mask) if mask_kind == "bool" else mask
    assert_allclose(out.numpy(force=True), attention_reference(q, k, v, ref_mask)[0], atol=1e-12)


def test_sdpa_is_causal_lets_query_i_see_keys_up_to_i_and_scale_replaces_the_default():
    q, k, v = randn(1, 4, 2), randn(1, 4, 2, seed=1), randn(1, 4, 3, seed=2)
    out = F.scaled_dot_product_attention(
        mt.tensor(q), mt.tensor(k), mt.tensor(v), is_causal=True, scale=0.3
    )
    ref = attention_reference(q, k, v, additive(np.tril(np.ones((4, 4), bool))), 0.3)[0]
    assert_allclose(out.numpy(force=True), ref, atol=1e-12)
    assert_allclose(
        out.numpy(force=True)[0, 0], v[0, 0], atol=1e-12
    )  # the first query sees one key


def test_sdpa_query_with_every_key_masked_gives_zero_and_finite_gradients():
    q, k, v = leaf(randn(3, 2)), leaf(randn(4, 2, seed=1)), leaf(randn(4, 2, seed=2))
    mask = np.ones((3, 4), bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, mt.tensor(mask))
    assert_allclose(out.numpy(force=True)[1], 0.0)
    assert_allclose(
        out.numpy(force=True)[[0, 2]],
        attention_reference(q.numpy(force=True)[[0, 2]], k.numpy(force=True), v.numpy(force=True))[
            0
        ],
        atol=1e-12,
    )
    out.sum().backward()
    assert (
        np.isfinite(q.grad.numpy(force=True)).all() and np.isfinite(k.grad.numpy(force=True)).all()
    )
    assert_allclose(q.grad.numpy(force=True)[1], 0.0)


def test_sdpa_gradients_match_finite_differences_to_second_order():
    q, k, v = leaf(randn(2, 3, 2)), leaf(randn(2, 4, 2, seed=1)), leaf(randn(2, 4, 2, seed=2))
    mask = mt.tensor(randn(3, 4, seed=3))
    mt.testing.check_grads(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), q, k, v, order=2
    )


def test_sdpa_grouped_query_attention_shares_each_key_head_with_a_group():
    q, k, v = randn(1, 4, 3, 2), randn(1, 2, 5, 2, seed=1), randn(1, 2, 5, 2, seed=2)
    out = F.scaled_dot_product_attention(mt.tensor(q), mt.tensor(k), mt.tensor(v), enable_gqa=True)
    ref = attention_reference(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))[0]
    assert_allclose(out.numpy(force=True), ref, atol=1e-12)


def test_sdpa_dropout_zeroes_weights_and_scales_the_rest():
    mt.manual_seed(0)
    q = k = mt.zeros(1, 1000, 1)
    v = mt.ones(1, 1000, 1)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy(force=True)
    assert 0.9 < out.mean() < 1.1 and out.std() > 0.01  # uniform weights, half of them kept x2


def test_sdpa_errors_name_the_problem():
    with pytest.raises(ValueError, match="attn_mask should not be set when is_causal"):
        F.scaled_dot_product_attention(
            mt.ones(2, 2), mt.ones(2, 2), mt.ones(2, 2), mt.ones(2, 2), is_causal=True
        )
    with pytest.raises(ValueError, match=r"query \(\.\.\., L, E\).*\(2, 3\), \(2, 2\)"):
        F.scaled_dot_product_attention(mt.ones(2, 3), mt.ones(2, 2), mt.ones(2, 2))


# ---------------------------------------------------------------- MultiheadAttention
def mha_reference(m, q, k, v, key_padding_mask=None, attn_mask=None, average=True):
    """(L, N, E) inputs: project, split into heads, attend, merge, project out."""
    e, h = m.embed_dim, m.num_heads
    if m.in_proj_weight is not None:
        wq, wk, wv = np.split(m.in_proj_weight.numpy(force=True), 3)
    else:
        wq, wk, wv = (
            m.q_proj_weight.numpy(force=True),
            m.k_proj_weight.numpy(force=True),
            m.v_proj_weight.numpy(force=True),
        )
    bq, bk, bv = (
        np.split(m.in_proj_bias.numpy(force=True), 3) if m.in_proj_bias is not None else (0, 0, 0)
    )

    def heads(x, w, b):  # (T, N, E_in) -> (N, H, T, E / H)
        y = x @ w.T + b
        return y.reshape(x.shape[0], x.shape[1], h, e // h).transpose(1, 2, 0, 3)

    mask = np.zeros((q.shape[1], 1, q.shape[0], k.shape[0]))
    if key_padding_mask is not None:
        mask = mask + additive(~key_padding_mask)[:, None, None, :]
    if attn_mask is not None:
        mask = mask + (additive(~attn_mask) if attn_mask.dtype == bool else attn_mask)
    out, w = attention_reference(heads(q, wq, bq), heads(k, wk, bk), heads(v, wv, bv), mask)
    out = out.transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], e)
    out = out @ m.out_proj.weight.numpy(force=True).T + (
        0 if m.out_proj.bias is None else m.out_proj.bias.numpy(force=True)
    )
    return out, (w.mean(1) if average else w)


@given(
    st.sampled_from([(4, 1), (4, 2), (6, 3)]),
    st.integers(1, 3),
    st.integers(1, 3),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_multihead_attention_matches_the_definition(dims, length, source, padding, causal, average):
    mt.manual_seed(0)
    e, h = dims
    m = L.MultiheadAttention(e, h, dtype=mt.float64)
    q, k, v = randn(length, 2, e), randn(source, 2, e, seed=1), randn(source, 2, e, seed=2)
    kpm = np.zeros((2, source), bool)
    kpm[:, 1:] = np.random.default_rng(3).random((2, source - 1)) > 0.5 if padding else False
    am = np.triu(np.ones((length, source), bool), 1) if causal else None
    out, w = m(
        mt.tensor(q),
        mt.tensor(k),
        mt.tensor(v),
        key_padding_mask=mt.tensor(kpm),
        attn_mask=None if am is None else mt.tensor(am),
        average_attn_weights=average,
    )
    ref_out, ref_w = mha_reference(m, q, k, v, kpm, am, average)
    assert_allclose(out.numpy(force=True), ref_out, atol=1e-12)
    assert_allclose(w.numpy(force=True), ref_w, atol=1e-12)


def test_multihead_attention_batch_first_unbatched_and_need_weights():
    mt.manual_seed(1)
    m = L.MultiheadAttention(4, 2, batch_first=True, dtype=mt.float64)
    x = randn(2, 3, 4)  # (N, L, E)
    out, w = m(mt.tensor(x), mt.tensor(x), mt.tensor(x), need_weights=False)
    ref = mha_reference(m, x.transpose(1, 0, 2), x.transpose(1, 0, 2), x.transpose(1, 0, 2))[0]
    assert w is None
    assert_allclose(out.numpy(force=True), ref.transpose(1, 0, 2), atol=1e-12)
    single, weights = m(mt.tensor(x[0]), mt.tensor(x[0]), mt.tensor(x[0]))
    assert single.shape == (3, 4) and weights.shape == (3, 3)
    assert_allclose(single.numpy(force=True), out.numpy(force=True)[0], atol=1e-12)


def test_multihead_attention_with_other_key_and_value_sizes_has_separate_projections():
    mt.manual_seed(2)
    m = L.MultiheadAttention(4, 2, kdim=3, vdim=5, dtype=mt.float64)
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    q, k, v = randn(2, 1, 4), randn(3, 1, 3, seed=1), randn(3, 1, 5, seed=2)
    out, w = m(mt.tensor(q), mt.tensor(k), mt.tensor(v))
    ref_out, ref_w = mha_reference(m, q, k, v)
    assert_allclose(out.numpy(force=True), ref_out, atol=1e-12)
    assert_allclose(w.numpy(force=True), ref_w, atol=1e-12)


def test_multihead_attention_has_pytorchs_parameters_and_gradients():
    m = L.MultiheadAttention(4, 2, dtype=mt.float64)
    assert [n for n, _ in m.named_parameters()] == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    x = leaf(randn(2, 1, 4))
    mt.testing.check_grads(lambda x, w: m(x, x, x)[0] + 0 * w.sum(), x, m.in_proj_weight)


def test_multihead_attention_dropout_applies_in_training_only():
    mt.manual_seed(3)
    m = L.MultiheadAttention(4, 1, dropout=0.9, dtype=mt.float64)
    x = mt.tensor(randn(5, 1, 4))
    w_train = m(x, x, x)[1].numpy(force=True)
    m.eval()
    w_eval = m(x, x, x)[1].numpy(force=True)
    assert (w_train == 0).mean() > 0.5
    assert_allclose(w_eval.sum(-1), 1.0)


def test_multihead_attention_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"embed_dim \(5\) must be divisible by num_heads"):
        L.MultiheadAttention(5, 2)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        L.MultiheadAttention(4, 2, add_bias_kv=True)
