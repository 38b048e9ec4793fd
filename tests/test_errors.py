"""Argument errors of the op functions: each names the op and what is wrong, and says
what would be right (errors of the engine's own calls are in test_autograd.py, of
in-place ops in test_inplace_views.py, of nn layers and losses in their files)."""

import re

import pytest

import microtensor as mt

ERRORS = [
    (lambda: mt.argmax(mt.zeros(0)), ValueError, "argmax: cannot reduce an empty tensor"),
    (lambda: mt.argmin(mt.zeros(0)), ValueError, "argmin: cannot reduce an empty tensor"),
    (lambda: mt.amin(mt.zeros(0)), ValueError, "amin: cannot reduce an empty tensor"),
    (lambda: mt.argmax(mt.zeros(2), 1), IndexError, "argmax: dim 1 is out of range"),
    (lambda: mt.argmin(mt.zeros(2), 1), IndexError, "argmin: dim 1 is out of range"),
    (lambda: mt.amax(mt.zeros(2), 1), IndexError, "amax: dim 1 is out of range"),
    (lambda: mt.amin(mt.zeros(2), 1), IndexError, "amin: dim 1 is out of range"),
    (lambda: mt.mean(mt.zeros(2), 1), IndexError, "mean: dim 1 is out of range"),
    (lambda: mt.all(mt.zeros(2), 1), IndexError, "all: dim 1 is out of range"),
    (lambda: mt.any(mt.zeros(2), 1), IndexError, "any: dim 1 is out of range"),
    (lambda: mt.logsumexp(mt.zeros(2), 1), IndexError, "logsumexp: dim 1 is out of range"),
    (lambda: mt.log_softmax(mt.zeros(2), 1), IndexError, "log_softmax: dim 1 is out of range"),
    (lambda: mt.squeeze(mt.zeros(2), 1), IndexError, "squeeze: dim 1 is out of range"),
    (lambda: mt.permute(mt.zeros(2, 2), 0, 2), IndexError, "permute: dim 2 is out of range"),
    (lambda: mt.split(mt.zeros(2), 1, 1), IndexError, "split: dim 1 is out of range"),
    (lambda: mt.chunk(mt.zeros(2), 1, 1), IndexError, "chunk: dim 1 is out of range"),
    (lambda: mt.cat([mt.zeros(2)], 1), IndexError, "cat: dim 1 is out of range"),
    (lambda: mt.flatten(mt.zeros(2, 2), 2), IndexError, "flatten: dim 2 is out of range"),
    (lambda: mt.flatten(mt.zeros(2, 2), 0, 2), IndexError, "flatten: dim 2 is out of range"),
    (
        lambda: mt.flatten(mt.zeros(2, 2), 1, 0),
        ValueError,
        "flatten: start_dim 1 comes after end_dim 0",
    ),
    (
        lambda: mt.mean(mt.zeros(2, dtype=mt.int64)),
        TypeError,
        "mean: needs a floating tensor, got dtype int64",
    ),
    (lambda: mt.cat([]), ValueError, "cat: expected a non-empty list of tensors"),
    (lambda: mt.split(mt.zeros(2), 0), ValueError, "split: split_size must be positive, got 0"),
    (lambda: mt.chunk(mt.zeros(2), 0), ValueError, "chunk: chunks must be positive, got 0"),
    (lambda: mt.clamp(mt.zeros(2)), ValueError, "clamp: at least one of min and max must be given"),
    (lambda: mt.clamp(mt.zeros(2), 2, 1), ValueError, "clamp: min (2) is greater than max (1)"),
    (
        lambda: mt.pad(mt.zeros(2), (1,)),
        ValueError,
        "pad: padding (1,) must have an even length of at most 2 * 1 for a tensor of shape (2,)",
    ),
    (
        lambda: mt.pad(mt.zeros(2), (1, 1, 1, 1)),
        ValueError,
        "pad: padding (1, 1, 1, 1) must have an even length of at most 2 * 1",
    ),
    (
        lambda: mt.pad(mt.zeros(2), (1, -1)),
        ValueError,
        "pad: negative padding (1, -1) is not supported",
    ),
    (
        lambda: mt.reshape(mt.zeros(6), -1, -1),
        ValueError,
        "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (-1, -1)",
    ),
    (
        lambda: mt.reshape(mt.zeros(6), 4, -1),
        ValueError,
        "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (4, -1)",
    ),
    (
        lambda: mt.reshape(mt.zeros(6), 0, -1),
        ValueError,
        "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (0, -1)",
    ),
    (
        lambda: mt.reshape(mt.zeros(6), 4),
        ValueError,
        "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (4,)",
    ),
    (
        lambda: mt.reshape(mt.zeros(6), 1, 4),
        ValueError,
        "reshape: cannot reshape a tensor of shape (6,) (6 elements) into shape (1, 4)",
    ),
    (
        lambda: mt.broadcast_to(mt.zeros(2, 3), (3,)),
        ValueError,
        "broadcast_to: a tensor of shape (2, 3) cannot be broadcast to shape (3,)",
    ),
    (lambda: mt.broadcast_to(mt.zeros(3), (2,)), ValueError, "broadcast_to: a tensor of shape"),
    (lambda: mt.broadcast_to(mt.zeros(3, 1), (3,)), ValueError, "broadcast_to: a tensor of"),
    (
        lambda: mt.fold(mt.zeros(1, 4, 3), (3, 3), 2),
        ValueError,
        "fold: columns of shape (1, 4, 3) do not match output_size (3, 3) with "
        "kernel (2, 2) (4 windows expected)",
    ),
    (lambda: mt.fold(mt.zeros(1, 3, 4), (3, 3), 2), ValueError, "fold: columns of shape"),
    (lambda: mt.fold(mt.zeros(4, 4), (3, 3), 2), ValueError, "fold: columns of shape"),
    (
        lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), (2, 2, 2)),
        ValueError,
        "fold: kernel_size must be an int or a pair, got (2, 2, 2)",
    ),
    (
        lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), 2, dilation=(1, 1, 1)),
        ValueError,
        "fold: dilation must be an int or a pair",
    ),
    (
        lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), 2, padding=(0, 0, 0)),
        ValueError,
        "fold: padding must be an int or a pair",
    ),
    (
        lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3), 2, stride=(1, 1, 1)),
        ValueError,
        "fold: stride must be an int or a pair",
    ),
    (
        lambda: mt.fold(mt.zeros(1, 4, 4), (3, 3, 3), 2),
        ValueError,
        "fold: output_size must be an int or a pair",
    ),
    (
        lambda: mt.ops.linear(mt.zeros(2, 5), mt.zeros(3, 4)),
        ValueError,
        "linear: input of shape (2, 5) does not match weight of shape (3, 4) (5 != 4 in_features)",
    ),
    (
        lambda: mt.ops.linear(mt.zeros(2, 3, 5), mt.zeros(3, 4)),
        ValueError,
        "linear: input of shape (2, 3, 5) does not match weight of shape (3, 4) "
        "(5 != 4 in_features)",
    ),
    (
        lambda: mt.ops.linear(mt.zeros(()), mt.zeros(3, 4)),
        ValueError,
        "linear: the input must have at least one dimension (its features), got a 0-d value",
    ),
    (
        lambda: mt.ops.linear(mt.zeros(2, 4), mt.zeros(3, 4, 1)),
        ValueError,
        "linear: weight must be (out_features, in_features) and bias (out_features,), "
        "got weight (3, 4, 1) and bias None",
    ),
    (
        lambda: mt.ops.linear(mt.zeros(2, 4), mt.zeros(3, 4), mt.zeros(2)),
        ValueError,
        "linear: weight must be (out_features, in_features) and bias (out_features,), got "
        "weight (3, 4) and bias (2,)",
    ),
    (
        lambda: mt.matmul(2.0, mt.zeros(2)),
        ValueError,
        "matmul: both operands need at least 1 dimension, got shapes () and (2,)",
    ),
    (
        lambda: mt.matmul(mt.zeros(2), 2.0),
        ValueError,
        "matmul: both operands need at least 1 dimension, got shapes (2,) and ()",
    ),
    (
        lambda: mt.matmul(mt.zeros(2, 3), mt.zeros(4)),
        ValueError,
        "matmul: shapes (2, 3) and (4,) do not align (3 != 4)",
    ),
    (
        lambda: mt.matmul(mt.zeros(3), mt.zeros(4)),
        ValueError,
        "matmul: shapes (3,) and (4,) do not align (3 != 4)",
    ),
    (
        lambda: mt.matmul(mt.zeros(2, 3, 4), mt.zeros(5, 6)),
        ValueError,
        "matmul: shapes (2, 3, 4) and (5, 6) do not align (4 != 5)",
    ),
    (
        lambda: mt.matmul(mt.zeros(2, 3), mt.zeros(2, 4, 5)),
        ValueError,
        "matmul: shapes (2, 3) and (2, 4, 5) do not align (3 != 4)",
    ),
    (
        lambda: mt.matmul(mt.zeros(2, 3, 4), mt.zeros(3, 4, 5)),
        ValueError,
        "matmul: batch dimensions of shapes (2, 3, 4) and (3, 4, 5) do not broadcast",
    ),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_argument_errors_name_the_op_and_what_is_wrong(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        call()


def test_a_numpy_error_inside_an_op_is_reraised_naming_the_op_and_the_input_shapes():
    with pytest.raises(ValueError, match=r"^add: .*\(input shapes: \(2,\), list\)$"):
        mt.tensor([1.0, 2.0]) + [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"^mul: .*\(input shapes: \(2,\), \(3,\)\)$"):
        mt.tensor([1.0, 2.0]) * mt.tensor([1.0, 2.0, 3.0])


def test_matmul_shape_error_names_the_op_and_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"^matmul: shapes \(3, 4\) and \(5, 2\) do not align "
        r"\(4 != 5\)$",
    ):
        mt.ones(3, 4) @ mt.ones(5, 2)


def test_bad_dim_names_the_op_and_the_valid_range():
    with pytest.raises(
        IndexError,
        match=r"^sum: dim 2 is out of range for a tensor of 2 "
        r"dimensions \(expected -2 to 1\)$",
    ):
        mt.ones(3, 4).sum(dim=2)
    with pytest.raises(IndexError, match="^softmax: dim -3"):
        mt.ones(3, 4).softmax(dim=-3)


def test_cat_of_mismatched_shapes_is_an_error():
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 3\).*\(2, 2\)"):
        mt.cat([mt.ones(2, 2), mt.ones(2, 3)], dim=0)


def test_split_sections_must_cover_the_dim():
    with pytest.raises(ValueError, match=r"split: sections \(1, 1\) sum to 2"):
        mt.ones(3).split([1, 1])


def test_permute_needs_a_permutation():
    with pytest.raises(ValueError, match="permute: dims"):
        mt.ones(2, 3).permute(0, 0)


def test_unfold_window_that_does_not_fit_is_an_error():
    with pytest.raises(ValueError, match="unfold: a window of kernel"):
        mt.unfold(mt.ones(1, 1, 2, 2), kernel_size=3)


def test_reduction_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match=r"amax: cannot reduce an empty tensor of shape \(0,\)"):
        mt.zeros(0).amax()
