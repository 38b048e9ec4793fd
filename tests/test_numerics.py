"""Stable kernels at inputs of magnitude 1e4, and errors that name the op and shapes."""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import microtensor as mt

DTYPES = [mt.float32, mt.float64]
BIG = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])


def grad_of(fn, values, dtype):
    x = mt.tensor(values, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.data, x.grad.data


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_stable_for_inputs_of_1e4(dtype):
    y, g = grad_of(mt.sigmoid, BIG, dtype)
    np.testing.assert_allclose(y, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.25, 0.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_is_stable_for_inputs_of_1e4(dtype):
    y, g = grad_of(mt.tanh, BIG, dtype)
    np.testing.assert_allclose(y, [-1.0, -1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(g, [0.0, 0.0, 1.0, 0.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_is_stable_for_inputs_of_1e4(dtype):
    y, g = grad_of(mt.softplus, BIG, dtype)
    np.testing.assert_allclose(y, [0.0, np.exp(-50.0), np.log(2.0), 50.0, 1e4], rtol=1e-6)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_for_inputs_of_1e4(dtype):
    x = mt.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], dtype=dtype, requires_grad=True)
    y = x.softmax(dim=1)
    np.testing.assert_allclose(y.data, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    (y * mt.tensor([[1.0, 2.0, 3.0]], dtype=dtype)).sum().backward()
    assert np.isfinite(x.grad.data).all()
    # d/dx of sum(w * softmax(x)) = s * (w - s.w): zero on the saturated row
    np.testing.assert_allclose(x.grad.data[0], [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(x.grad.data[1], np.array([-1, 0, 1]) / 3, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_is_stable_and_exact_where_softmax_underflows(dtype):
    x = mt.tensor([[1e4, 0.0, -1e4]], dtype=dtype, requires_grad=True)
    y = x.log_softmax(dim=-1)
    np.testing.assert_allclose(y.data, [[0.0, -1e4, -2e4]], rtol=1e-6)
    y[0, 1].backward()  # d log_softmax_1 / dx = e_1 - softmax
    np.testing.assert_allclose(x.grad.data, [[-1.0, 1.0, 0.0]], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_is_stable_for_inputs_of_1e4(dtype):
    x = mt.tensor([[1e4, 1e4], [-1e4, -1e4], [1e4, -1e4]], dtype=dtype, requires_grad=True)
    y = mt.logsumexp(x, dim=1)
    np.testing.assert_allclose(y.data, [1e4 + np.log(2), -1e4 + np.log(2), 1e4], rtol=1e-7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], atol=1e-7)


def test_logsumexp_keepdim_and_all_dims():
    x = mt.tensor([[0.0, np.log(3.0)]], dtype=mt.float64)
    assert mt.logsumexp(x, dim=1, keepdim=True).shape == (1, 1)
    assert mt.logsumexp(x, dim=(0, 1)).item() == pytest.approx(np.log(4.0))


@pytest.mark.parametrize("fn", [mt.sigmoid, mt.tanh, mt.softplus])
def test_stable_kernels_stay_finite_in_float16(fn):
    x = mt.tensor(np.array([-1e4, 1e4], dtype=np.float16))
    assert np.isfinite(fn(x).data).all()


# ------------------------------------------------------------------------------ errors
def test_matmul_shape_error_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 4\) and \(5, 2\) do not align "
                                         r"\(4 != 5\)$"):
        mt.ones(3, 4) @ mt.ones(5, 2)


def test_matmul_of_a_scalar_is_refused():
    with pytest.raises(ValueError, match="matmul: both operands need at least 1 dimension"):
        mt.matmul(mt.tensor(2.0), mt.ones(2))


def test_broadcast_mismatch_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"^mul: .*\(3,\).*\(4,\)"):
        mt.ones(3) * mt.ones(4)


def test_bad_dim_names_the_op_and_the_valid_range():
    with pytest.raises(IndexError, match=r"^sum: dim 2 is out of range for a tensor of 2 "
                                         r"dimensions \(expected -2 to 1\)$"):
        mt.ones(3, 4).sum(dim=2)
    with pytest.raises(IndexError, match="^softmax: dim -3"):
        mt.ones(3, 4).softmax(dim=-3)


def test_reshape_to_a_wrong_size_is_an_error():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) "
                                         r"\(6 elements\) into shape \(4,\)"):
        mt.ones(2, 3).reshape(4)


def test_cat_of_mismatched_shapes_is_an_error():
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 3\).*\(2, 2\)"):
        mt.cat([mt.ones(2, 2), mt.ones(2, 3)], dim=0)


def test_split_sections_must_cover_the_dim():
    with pytest.raises(ValueError, match=r"split: sections \(1, 1\) sum to 2"):
        mt.ones(3).split([1, 1])


def test_broadcast_to_an_incompatible_shape_is_an_error():
    with pytest.raises(ValueError, match=r"broadcast_to: a tensor of shape \(3,\) cannot"):
        mt.ones(3).broadcast_to((4,))


def test_permute_needs_a_permutation():
    with pytest.raises(ValueError, match="permute: dims"):
        mt.ones(2, 3).permute(0, 0)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp: at least one"):
        mt.ones(2).clamp()


def test_unfold_window_that_does_not_fit_is_an_error():
    with pytest.raises(ValueError, match="unfold: a window of kernel"):
        mt.unfold(mt.ones(1, 1, 2, 2), kernel_size=3)


def test_reduction_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match=r"amax: cannot reduce an empty tensor of shape \(0,\)"):
        mt.zeros(0).amax()


# --------------------------------------------------------------- allocator settings
RETAIN_PROBE = """
import ctypes, resource, sys
import numpy as np
from microtensor.backend import retain_freed_memory
# Pin glibc to its starting thresholds (128 KiB, no adapting), whatever this process did
# before: every 1 MiB array is then mapped afresh and its 256 pages faulted in.
mallopt = ctypes.CDLL(None).mallopt
assert mallopt(-3, 128 * 1024) and mallopt(-1, 128 * 1024)
if sys.argv[1] == "retain":
    assert retain_freed_memory() is True
def step():  # a training step's temporaries: 32 arrays of 1 MiB alive at once, then freed
    arrays = [np.ones(1 << 17) for _ in range(32)]
    del arrays
for _ in range(3):  # settle: the heap grows to the working set once
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_retain_freed_memory_stops_large_arrays_from_faulting_in_afresh():
    def faults(mode):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        out = subprocess.run([sys.executable, "-c", RETAIN_PROBE, mode], env=env, check=True,
                             capture_output=True, text=True).stdout
        return int(out)
    # pinned: 10 steps x 32 arrays x 256 pages faulted in; none once freed memory is kept
    assert faults("default") > 10 * 32 * 256 // 2
    assert faults("retain") < 100
