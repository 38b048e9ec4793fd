"""The Tensor surface as PyTorch has it: dtype names, conversions, devices, Size, the
Python protocols, update idioms and printing. Expected strings and values were recorded
from PyTorch 2.x (torch.* printed as microtensor.*) or worked out by hand."""

import math

import numpy as np
import pytest

import microtensor as mt


# -- dtypes ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, numpy_dtype",
    [
        ("float", np.float32),
        ("float32", np.float32),
        ("double", np.float64),
        ("float64", np.float64),
        ("half", np.float16),
        ("float16", np.float16),
        ("long", np.int64),
        ("int64", np.int64),
        ("int", np.int32),
        ("int32", np.int32),
        ("short", np.int16),
        ("int16", np.int16),
        ("int8", np.int8),
        ("uint8", np.uint8),
        ("bool", np.bool_),
        ("bool_", np.bool_),
    ],
)
def test_dtype_names_are_pytorchs_and_are_the_tensors_dtypes(name, numpy_dtype):
    dtype = getattr(mt, name)
    x = mt.zeros(2, dtype=dtype)
    assert x.dtype is dtype and dtype == numpy_dtype and isinstance(dtype, mt.dtype)


def test_bfloat16_can_be_named_but_using_it_says_numpy_has_none():
    assert repr(mt.bfloat16) == "microtensor.bfloat16" and mt.bfloat16 != mt.float32
    for use in (
        lambda: mt.zeros(2, dtype=mt.bfloat16),
        lambda: mt.ones(2).to(mt.bfloat16),
        lambda: mt.tensor([1.0], dtype=mt.bfloat16),
    ):
        with pytest.raises(TypeError, match="bfloat16 is not available: numpy has no"):
            use()


def test_is_floating_point_is_tensor_and_numel():
    assert mt.is_floating_point(mt.ones(2)) and mt.ones(2).is_floating_point()
    assert not mt.is_floating_point(mt.ones(2, dtype=mt.long))
    assert mt.is_tensor(mt.ones(1)) and not mt.is_tensor(np.ones(1)) and not mt.is_tensor(3)
    assert mt.numel(mt.ones(2, 3)) == 6
    with pytest.raises(TypeError, match="is_floating_point: expected a Tensor, got ndarray"):
        mt.is_floating_point(np.ones(2))


def test_finfo_and_iinfo_are_numpys_for_the_dtype():
    assert mt.finfo(mt.float32).eps == 2.0**-23 and mt.finfo().eps == 2.0**-23
    assert mt.finfo(mt.float64).tiny == 2.0**-1022
    assert mt.iinfo(mt.int8).max == 127 and mt.iinfo(mt.uint8).min == 0
    with pytest.raises(TypeError, match="finfo: microtensor.int64 is not a floating dtype"):
        mt.finfo(mt.int64)
    with pytest.raises(TypeError, match="iinfo: microtensor.float32 is not an integer"):
        mt.iinfo(mt.float32)


# -- conversions -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, dtype",
    [
        ("float", np.float32),
        ("double", np.float64),
        ("half", np.float16),
        ("long", np.int64),
        ("int", np.int32),
        ("short", np.int16),
        ("char", np.int8),
        ("byte", np.uint8),
        ("bool", np.bool_),
    ],
)
def test_conversion_methods_give_pytorchs_dtypes(method, dtype):
    x = mt.tensor([-1.7, 0.0, 2.5])
    y = getattr(x, method)()
    assert y.dtype == dtype
    # integers truncate toward zero; uint8 wraps -1 to 255 (both as PyTorch)
    expected = {"bool": [True, False, True], "byte": [255, 0, 2]}.get(
        method, [-1, 0, 2] if np.dtype(dtype).kind == "i" else [-1.7, 0.0, 2.5]
    )
    np.testing.assert_allclose(y.tolist(), expected, rtol=1e-3)


def test_to_returns_the_tensor_itself_when_nothing_changes():
    x = mt.ones(2)
    assert x.to(mt.float32) is x and x.to("cpu") is x and x.to(mt.device("cpu")) is x
    assert x.to(x) is x and x.float() is x and x.type(mt.float32) is x and x.cpu() is x
    assert x.to("cpu", mt.float32, non_blocking=True) is x
    copy = x.to(mt.float32, copy=True)
    assert copy is not x and copy.tolist() == [1.0, 1.0]


def test_to_takes_a_device_a_dtype_both_or_another_tensor():
    x = mt.tensor([1.5, 2.5])
    assert x.to(mt.float64).dtype == np.float64
    assert x.to("cpu", mt.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=mt.int64).tolist() == [1, 2]
    assert x.to(mt.zeros(1, dtype=mt.float16)).dtype == np.float16
    assert x.type_as(mt.zeros(1, dtype=mt.int32)).dtype == np.int32
    with pytest.raises(TypeError, match="to: expected a dtype, a device or a tensor, got True"):
        x.to(True)


def test_a_cast_to_floating_stays_in_the_graph_and_to_integers_leaves_it():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    (y * y).sum().backward()
    assert y.grad_fn is not None and x.grad.dtype == np.float32
    assert x.grad.tolist() == [2.0, 4.0]  # d(x^2)/dx = 2x, back in x's dtype
    i = x.long()
    assert i.grad_fn is None and not i.requires_grad and i.tolist() == [1, 2]


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.to("cuda"),
        lambda x: x.to("mps"),
        lambda x: x.to(mt.device("cuda", 0)),
        lambda x: x.to(device="cuda:1"),
        lambda x: mt.tensor([1.0], device="cuda"),
        lambda x: mt.zeros(2, device="mps"),
        lambda x: mt.randn(2, device="cuda"),
    ],
)
def test_other_devices_are_refused_saying_only_the_cpu_is_available(call):
    with pytest.raises(
        RuntimeError, match="is not available: microtensor computes on the CPU only"
    ):
        call(mt.ones(1))


def test_cuda_is_refused_and_the_device_is_the_cpu():
    x = mt.ones(2)
    with pytest.raises(RuntimeError, match="cuda: CUDA is not available"):
        x.cuda()
    assert x.device == mt.device("cpu") and str(x.device) == "cpu"
    assert not x.is_cuda and x.is_cpu
    assert mt.tensor([1.0], device="cpu").device.type == "cpu"


def test_type_gives_pytorchs_type_names_and_converts_by_name():
    assert mt.ones(2).type() == "microtensor.FloatTensor"
    assert mt.ones(2, dtype=mt.long).type() == "microtensor.LongTensor"
    assert mt.ones(2, dtype=mt.bool).type() == "microtensor.BoolTensor"
    assert mt.ones(2, dtype=mt.uint8).type() == "microtensor.ByteTensor"
    assert mt.ones(2).type("torch.DoubleTensor").dtype == np.float64
    assert mt.ones(2).type("microtensor.IntTensor").dtype == np.int32
    with pytest.raises(RuntimeError, match="'torch.cuda.FloatTensor' is not a tensor type"):
        mt.ones(2).type("torch.cuda.FloatTensor")


def test_memory_formats_row_major_ones_are_accepted_channels_last_refused():
    x = mt.ones(2, 3)
    assert x.contiguous() is x and x.contiguous(memory_format=mt.contiguous_format) is x
    assert mt.zeros_like(x, memory_format=mt.preserve_format).shape == (2, 3)
    assert x.to(memory_format=mt.contiguous_format) is x
    with pytest.raises(TypeError, match="memory_format=microtensor.channels_last is not supported"):
        x.contiguous(memory_format=mt.channels_last)


def test_contiguous_copies_a_transposed_view_in_row_major_order_keeping_the_gradient():
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    t = x.T
    c = t.contiguous()
    assert c is not t and c.numpy(force=True).flags.c_contiguous
    (c * mt.tensor([[1.0, 10.0], [100.0, 1000.0]])).sum().backward()
    assert x.grad.tolist() == [[1.0, 100.0], [10.0, 1000.0]]  # the weights transposed back


def test_new_factories_take_the_tensors_dtype_unless_told_otherwise():
    x = mt.ones(2, dtype=mt.float64)
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_zeros((2, 3)).dtype == np.float64
    assert x.new_ones(2).tolist() == [1.0, 1.0] and x.new_empty(4).dtype == np.float64
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_full((2,), 7).dtype == np.float64
    assert x.new_tensor([1, 2]).dtype == np.float64
    assert x.new_zeros(2, dtype=mt.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    assert mt.ones(2, dtype=mt.long).new_full((2,), 3.5).tolist() == [3, 3]  # as PyTorch


# -- Size and shape queries ------------------------------------------------------------
def test_size_is_a_tuple_that_prints_as_pytorchs():
    s = mt.zeros(3, 4).shape
    assert isinstance(s, tuple) and isinstance(s, mt.Size) and s == (3, 4)
    assert repr(s) == "microtensor.Size([3, 4])" and str(s) == "microtensor.Size([3, 4])"
    assert repr(mt.zeros(()).shape) == "microtensor.Size([])"
    assert f"{s}" == "(3, 4)"  # the form error messages give shapes in
    assert s.numel() == 12 and mt.zeros(3, 4).size() == s


def test_size_of_a_dim_counts_negative_dims_from_the_end():
    x = mt.zeros(2, 3, 4)
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(-3) == 2
    with pytest.raises(IndexError, match="size: dim 3 is out of range"):
        x.size(3)


def test_counting_methods():
    x = mt.zeros(2, 3, dtype=mt.float64)
    assert x.numel() == x.nelement() == 6 and x.dim() == x.ndimension() == 2
    assert x.element_size() == x.itemsize == 8 and x.nbytes == 48


# -- Python protocols ------------------------------------------------------------------
def test_len_iter_and_contains():
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(x) == 2 and [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert 3.0 in x and 5 not in x and mt.tensor(4.0) in x
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(mt.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(mt.tensor(1.0))
    with pytest.raises(
        RuntimeError, match="only supports Tensor or scalar, but you passed in a <class 'str'>"
    ):
        "a" in x  # noqa: B015  (the membership test is what raises)


def test_iterating_gives_views_that_share_memory():
    x = mt.zeros(2, 2)
    for row in x:
        row.fill_(1.0)
    assert x.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_scalar_conversions_and_their_errors():
    assert float(mt.tensor([2.5])) == 2.5 and int(mt.tensor(7)) == 7
    assert bool(mt.tensor([0.0])) is False and [10, 20, 30][mt.tensor(2)] == 30
    with pytest.raises(
        ValueError, match="only one element tensors can be converted to Python scalars"
    ):
        float(mt.ones(2))
    with pytest.raises(ValueError, match="only one element tensors"):
        int(mt.ones(2))
    with pytest.raises(
        RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"
    ):
        bool(mt.ones(2))
    for index in (mt.tensor(1.0), mt.tensor([0, 1])):
        with pytest.raises(
            TypeError, match="only integer tensors of a single element can be converted to an index"
        ):
            [1, 2][index]


def test_format_of_a_0d_tensor_formats_its_value():
    loss = mt.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and f"{mt.tensor(5):>3}" == "  5"
    assert f"{mt.ones(1)}" == "tensor([1.])"
    with pytest.raises(TypeError):
        f"{mt.ones(2):.2f}"


def test_numpy_and_array_share_memory_and_refuse_tensors_that_require_grad():
    x = mt.tensor([1.0, 2.0])
    a = np.asarray(x)
    a[0] = 5.0
    assert x.tolist() == [5.0, 2.0] and x.numpy() is a
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    w = mt.ones(2, requires_grad=True)
    message = r"Can't call numpy\(\) on Tensor that requires grad. Use tensor.detach\(\)"
    for call in (w.numpy, lambda: np.asarray(w)):
        with pytest.raises(RuntimeError, match=message):
            call()
    assert w.numpy(force=True).tolist() == [1.0, 1.0]


def test_tensors_hash_by_identity():
    a, b = mt.ones(1), mt.ones(1)
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1


# -- autograd helpers and update idioms ------------------------------------------------
def test_detach_in_place_makes_a_leaf_and_refuses_views():
    x = mt.ones(2, requires_grad=True)
    y = x * 2
    assert y.detach_() is y and y.is_leaf and not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="detach_: can't detach views in-place"):
        (x * 2)[0].detach_()


def test_sgd_update_under_no_grad_and_zeroing_the_gradient():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()  # grad 2p = [2, 4]
    with mt.no_grad():
        p -= 0.5 * p.grad
    assert p.tolist() == [0.0, 0.0] and p.is_leaf and p.requires_grad
    p.grad.zero_()
    assert p.grad.tolist() == [0.0, 0.0]


def test_add_and_sub_in_place_scale_the_other_by_alpha():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    g = mt.tensor([10.0, 20.0])
    with mt.no_grad():
        p.add_(g, alpha=-0.1)
    assert np.allclose(p.tolist(), [0.0, 0.0])
    q = mt.tensor([1.0, 1.0])
    q.sub_(g, alpha=2)
    assert q.tolist() == [-19.0, -39.0]


def test_add_in_place_with_alpha_passes_alpha_times_the_gradient():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    y = mt.zeros(2).add_(w, alpha=3.0)
    y.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


# -- printing --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, printed",
    [  # printed: PyTorch's repr, torch. -> microtensor.
        (
            lambda: mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
            "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)",
        ),
        (lambda: mt.tensor([0.1, -2.5, 3.14159]), "tensor([ 0.1000, -2.5000,  3.1416])"),
        (lambda: mt.tensor([1e5, 1.0]), "tensor([1.0000e+05, 1.0000e+00])"),
        (lambda: mt.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
        (lambda: mt.tensor([math.nan, math.inf, 1.0]), "tensor([nan, inf, 1.])"),
        (lambda: mt.tensor([[1, -20], [300, 4]]), "tensor([[  1, -20],\n        [300,   4]])"),
        (lambda: mt.tensor([1, 2], dtype=mt.int32), "tensor([1, 2], dtype=microtensor.int32)"),
        (lambda: mt.tensor([True, False]), "tensor([ True, False])"),
        (
            lambda: mt.tensor([1.5, 2.0], dtype=mt.float64),
            "tensor([1.5000, 2.0000], dtype=microtensor.float64)",
        ),
        (lambda: mt.zeros(0), "tensor([])"),
        (lambda: mt.zeros(0, 3), "tensor([], size=(0, 3))"),
        (lambda: mt.zeros(0, dtype=mt.long), "tensor([], dtype=microtensor.int64)"),
        (lambda: mt.tensor(3.5), "tensor(3.5000)"),
        (
            lambda: mt.arange(30.0)[:10] / 7,
            "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n"
            "        1.2857])",
        ),
        (
            lambda: mt.arange(2000.0),
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., "
            "1.9970e+03, 1.9980e+03,\n        1.9990e+03])",
        ),
        (
            lambda: mt.arange(1200).reshape(30, 40),
            "tensor([[   0,    1,    2,  ...,   37,   38,   39],\n"
            "        [  40,   41,   42,  ...,   77,   78,   79],\n"
            "        [  80,   81,   82,  ...,  117,  118,  119],\n"
            "        ...,\n"
            "        [1080, 1081, 1082,  ..., 1117, 1118, 1119],\n"
            "        [1120, 1121, 1122,  ..., 1157, 1158, 1159],\n"
            "        [1160, 1161, 1162,  ..., 1197, 1198, 1199]])",
        ),
        (
            lambda: mt.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mt.float64, requires_grad=True) * 2,
            "tensor([[2., 4.],\n        [6., 8.]], dtype=microtensor.float64, grad_fn=<MulBackward0>)",
        ),
    ],
)
def test_repr_is_pytorchs(make, printed):
    assert repr(make()) == printed


X = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
W = mt.tensor([1.0, 1.0], requires_grad=True)


@pytest.mark.parametrize(
    "make, name",
    [  # type(grad_fn).__name__ in PyTorch
        (lambda: X + 1, "AddBackward0"),
        (lambda: X * X, "MulBackward0"),
        (lambda: X.sum(), "SumBackward0"),
        (lambda: X.sum(1), "SumBackward1"),
        (lambda: X.mean(), "MeanBackward0"),
        (lambda: X.mean(0), "MeanBackward1"),
        (lambda: X @ X, "MmBackward0"),
        (lambda: X @ W, "MvBackward0"),
        (lambda: W @ W, "DotBackward0"),
        (lambda: X.exp(), "ExpBackward0"),
        (lambda: X.double(), "ToCopyBackward0"),
        (lambda: X.reshape(4), "ViewBackward0"),
        (lambda: X.log_softmax(1), "LogSoftmaxBackward0"),
        (lambda: X.relu(), "ReluBackward0"),
        (lambda: X.clamp(0, 1), "ClampBackward1"),
        (lambda: -X, "NegBackward0"),
        (lambda: X.log1p(), "Log1PBackward0"),
        (lambda: X.logsumexp(1), "LogsumexpBackward0"),
        (lambda: X[0], "SelectBackward0"),
        (lambda: X[:, 0], "SelectBackward0"),
        (lambda: X[0, 1:2], "SliceBackward0"),
        (lambda: X[None], "UnsqueezeBackward0"),
        (lambda: X[[0, 1]], "IndexBackward0"),
        (lambda: X.expand(2, 2, 2), "ExpandBackward0"),
    ],
)
def test_grad_fn_has_pytorchs_node_name(make, name):
    node = make().grad_fn
    assert node.backward_name == name and f"grad_fn=<{name}>" in repr(make())
    assert repr(node).startswith(f"<{name} object at 0x")


# -- .data: PyTorch's, a detached tensor over the same memory ---------------------------
def test_data_updates_change_the_parameter_in_place_outside_the_graph():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()  # grad 2p = [2, 4]
    p.data -= 0.25 * p.grad
    assert p.tolist() == [0.5, 1.0]
    p.data += -0.25 * p.grad
    assert p.tolist() == [0.0, 0.0]
    p.data.add_(p.grad, alpha=-0.5)
    assert p.tolist() == [-1.0, -2.0]
    p.data.zero_()
    assert p.tolist() == [0.0, 0.0] and p.is_leaf and p.requires_grad and p.grad_fn is None


def test_data_is_a_detached_tensor_sharing_memory():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    d = p.data
    assert isinstance(d, mt.Tensor) and not d.requires_grad and d.is_leaf
    d[0] = 7.0
    assert p.tolist() == [7.0, 2.0]


def test_a_change_through_data_is_not_seen_by_autograd():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (p * p).sum()
    p.data.mul_(10.0)  # through detach() this would raise at backward; .data is unchecked
    y.backward()
    assert p.grad.tolist() == [20.0, 40.0]  # 2p with the new p, as PyTorch gives


def test_assigning_data_gives_the_tensor_new_values_of_any_shape():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    p.data = mt.tensor([[5.0, 6.0, 7.0]], dtype=mt.float64)
    assert p.shape == (1, 3) and p.dtype == mt.float64 and p.requires_grad and p.is_leaf
    with pytest.raises(TypeError, match="data: the new data must be a Tensor, got ndarray"):
        p.data = np.zeros(2)
    with pytest.raises(RuntimeError, match="must stay floating, got dtype int64"):
        p.data = mt.zeros(2, dtype=mt.long)


def test_clone_takes_pytorchs_memory_formats_and_refuses_channels_last():
    x = mt.tensor([[1.0, 2.0]], requires_grad=True)
    y = x.clone(memory_format=mt.preserve_format)
    y.sum().backward()
    assert y.tolist() == [[1.0, 2.0]] and x.grad.tolist() == [[1.0, 1.0]]
    with pytest.raises(TypeError, match="clone: memory_format=microtensor.channels_last is not"):
        x.clone(memory_format=mt.channels_last)


def test_cuda_is_not_available_and_utils_data_is_data():
    assert mt.cuda.is_available() is False and mt.cuda.device_count() == 0
    mt.cuda.manual_seed_all(0)  # nothing to seed, as PyTorch without a GPU
    from microtensor.utils.data import DataLoader, TensorDataset

    assert DataLoader is mt.data.DataLoader and TensorDataset is mt.data.TensorDataset


def test_a_grad_fn_still_prints_after_backward_freed_what_its_name_was_read_from():
    a = mt.ones(2, 3, requires_grad=True)
    z, s = a @ mt.ones(3, 2), a[0]
    z.sum().backward()
    s.sum().backward()
    assert repr(z.grad_fn).startswith("<MatmulBackward0 object at 0x")  # dims gone
    assert repr(s.grad_fn).startswith("<") and "Backward" in repr(s.grad_fn)
