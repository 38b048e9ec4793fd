"""Tensor construction, dtypes, factories, seeding, conversions, repr and operators."""

import numpy as np
import pytest

import microtensor as mt


def test_python_floats_and_lists_become_float32():
    assert mt.tensor(1.5).dtype == np.float32
    assert mt.tensor([[1.0, 2.0]]).dtype == np.float32


def test_python_ints_become_int64_and_bools_bool():
    assert mt.tensor([1, 2]).dtype == np.int64
    assert mt.tensor([True, False]).dtype == np.bool_


def test_numpy_arrays_keep_their_dtype_and_are_copied():
    a = np.array([1.0, 2.0])
    t = mt.tensor(a)
    a[0] = 99
    assert t.dtype == np.float64 and t.numpy(force=True)[0] == 1.0


def test_set_default_dtype_changes_what_floats_become():
    mt.set_default_dtype(mt.float64)
    try:
        assert mt.tensor([1.0]).dtype == np.float64
        assert mt.zeros(2).dtype == np.float64
    finally:
        mt.set_default_dtype(mt.float32)
    with pytest.raises(TypeError, match="only floating"):
        mt.set_default_dtype(np.int32)


def test_python_scalars_never_upcast_a_tensor():
    x = mt.tensor([1.0, 2.0])  # float32
    assert (x * 2.5).dtype == np.float32
    assert (3 - x).dtype == np.float32
    assert (x**2).dtype == np.float32


def test_tensor_promotion_follows_pytorch():
    a = mt.tensor(np.ones(2, dtype=np.float32))
    b = mt.tensor(np.ones(2, dtype=np.float64))
    i = mt.tensor([1, 2])
    assert (a + b).dtype == np.float64
    assert (i + a).dtype == np.float32  # PyTorch's (numpy's would be float64)


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="only floating point tensors.*int64"):
        mt.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only floating point"):
        mt.arange(3).requires_grad_()


def test_factories_make_the_asked_shapes_and_values():
    assert mt.zeros(2, 3).shape == (2, 3) and mt.zeros((2, 3)).numpy(force=True).sum() == 0
    assert mt.ones(4).numpy(force=True).sum() == 4
    np.testing.assert_array_equal(mt.full((2,), 7.0).numpy(force=True), [7.0, 7.0])
    np.testing.assert_array_equal(mt.arange(3).numpy(force=True), [0, 1, 2])
    assert mt.arange(0, 1, 0.5).dtype == np.float32
    np.testing.assert_array_equal(mt.eye(2).numpy(force=True), [[1, 0], [0, 1]])
    x = mt.rand(3, 2)
    assert mt.zeros_like(x).shape == (3, 2) and mt.ones_like(x).numpy(force=True).sum() == 6
    assert mt.zeros(2, requires_grad=True).requires_grad


def test_manual_seed_makes_random_tensors_reproducible():
    mt.manual_seed(123)
    a, b = mt.rand(5), mt.randn(2, 2)
    mt.manual_seed(123)
    np.testing.assert_array_equal(mt.rand(5).numpy(force=True), a.numpy(force=True))
    np.testing.assert_array_equal(mt.randn(2, 2).numpy(force=True), b.numpy(force=True))
    mt.manual_seed(124)
    assert not np.array_equal(mt.rand(5).numpy(force=True), a.numpy(force=True))


def test_rand_is_uniform_and_randn_standard_normal():
    mt.manual_seed(0)
    u, n = mt.rand(20000).numpy(force=True), mt.randn(20000).numpy(force=True)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03


def test_attributes_and_conversions():
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.shape == (2, 2) and x.ndim == 2 and x.dtype == np.float32
    assert x.is_leaf and x.grad is None and x.grad_fn is None
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert x[1, 0].item() == 3.0 and x.numel() == 4 and x.size(1) == 2 and len(x) == 2
    assert isinstance(x.detach().numpy(), np.ndarray)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(RuntimeError, match="4 elements"):
        x.item()


def test_repr_looks_like_pytorch():
    assert (
        repr(mt.tensor([2.0, 4.0, 6.0], requires_grad=True))
        == "tensor([2., 4., 6.], requires_grad=True)"
    )
    assert repr(mt.tensor([1.5], dtype=mt.float64)) == "tensor([1.5000], dtype=microtensor.float64)"
    y = mt.tensor([1.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<MulBackward0>)"


def test_operators_and_their_reflected_forms():
    x = mt.tensor([1.0, 2.0])
    np.testing.assert_allclose((1 + x).numpy(force=True), [2, 3])
    np.testing.assert_allclose((1 - x).numpy(force=True), [0, -1])
    np.testing.assert_allclose((2 * x).numpy(force=True), [2, 4])
    np.testing.assert_allclose((2 / x).numpy(force=True), [2, 1])
    np.testing.assert_allclose((2**x).numpy(force=True), [2, 4])
    np.testing.assert_allclose((x**2).numpy(force=True), [1, 4])
    np.testing.assert_allclose((-x).numpy(force=True), [-1, -2])
    np.testing.assert_allclose((np.array([1.0, 1.0]) + x).numpy(force=True), [2, 3])
    assert isinstance(np.array([1.0, 1.0]) * x, mt.Tensor)
    np.testing.assert_allclose((x @ x).numpy(force=True), 5)


def test_comparisons_and_logic_give_bool_tensors_without_gradient():
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = (x > 1.5) & (x <= 3) | (x == 1)
    assert m.dtype == np.bool_ and not m.requires_grad
    assert m.tolist() == [True, True, True]
    assert (~(x != 2)).tolist() == [False, True, False]
    assert x.argmax().item() == 2 and x.argmin().item() == 0
    assert (x >= 2).any().item() and not (x < 0).all().item()


def test_tensors_hash_by_identity_so_they_work_as_dict_keys():
    a, b = mt.tensor([1.0]), mt.tensor([1.0])
    assert len({a: 1, b: 2}) == 2


def test_max_with_dim_returns_values_and_indices_like_pytorch():
    x = mt.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.min().item() == 1.0


def test_cast_gives_the_dtype_asked_for():
    assert mt.tensor([1.0], dtype=mt.float64).to(mt.float32).dtype == mt.float32


def test_to_changes_dtype_and_the_gradient_comes_back_in_the_original_dtype():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]
