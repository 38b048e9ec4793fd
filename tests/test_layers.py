"""Convolution, padding, pooling and resizing layers (nn.functional and their modules):
grouped and 'same' convolutions, padding modes, conv1d, transposed convolutions, pools
with ceil_mode and count_include_pad, adaptive pools and interpolate.

Every value is checked against a reference written here or in tests/references.py:
nested loops over output positions with the window bounds tested element by element,
numpy's own np.pad for the padding modes, and the per-pixel formulas of PyTorch's
documentation for interpolation; a few examples pin numbers recorded from PyTorch 2.13.
Gradients go through mt.testing.check_grads on small inputs."""

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given, settings
from numpy.testing import assert_allclose
from references import conv2d_reference

import microtensor as mt
from microtensor.nn import layers as L

F = mt.nn.functional
NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------- references
def grouped_conv_reference(x, w, b, stride, padding, dilation, groups):
    """conv2d_reference per group: input channels and filters cut into `groups` blocks."""
    cin, cout = x.shape[1] // groups, w.shape[0] // groups
    outs = [
        conv2d_reference(
            x[:, g * cin : (g + 1) * cin],
            w[g * cout : (g + 1) * cout],
            None if b is None else b[g * cout : (g + 1) * cout],
            stride,
            padding,
            dilation,
        )
        for g in range(groups)
    ]
    return np.concatenate(outs, axis=1)


def conv_transpose_reference(x, w, b, stride, padding, output_padding, groups, dilation):
    """Scatter every input pixel times the kernel into the output (the definition of the
    transposed convolution), then crop the padding; the size is the documented formula."""
    n, cin, h, wd = x.shape
    cout_g, kh, kw = w.shape[1:]
    size = [
        (s - 1) * st_ - 2 * p + d * (k - 1) + op + 1
        for s, st_, p, d, k, op in zip((h, wd), stride, padding, dilation, (kh, kw), output_padding)
    ]
    full = np.zeros(
        (
            n,
            cout_g * groups,
            size[0] + 2 * padding[0] + stride[0],
            size[1] + 2 * padding[1] + stride[1],
        )
    )
    per_group = cin // groups
    for ni in range(n):
        for c in range(cin):
            g = c // per_group
            for i in range(h):
                for j in range(wd):
                    for o in range(cout_g):
                        for ki in range(kh):
                            for kj in range(kw):
                                r = i * stride[0] + ki * dilation[0]
                                q = j * stride[1] + kj * dilation[1]
                                full[ni, g * cout_g + o, r, q] += x[ni, c, i, j] * w[c, o, ki, kj]
    out = full[:, :, padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def pool_windows(size, k, s, p, ceil_mode):
    """Start (in input coordinates) of every window along one dim: a window fits the
    padded input, or with ceil_mode overlaps it by more than a stride's worth while
    starting inside the input or the left padding (PyTorch's rule, from its docs)."""
    starts, a = [], 0
    while a + k <= size + 2 * p or (ceil_mode and a + k - s < size + 2 * p and a < size + p):
        starts.append(a - p)
        a += s
    return starts


def pool_reference(x, k, s, p, ceil_mode, kind, count_include_pad=True):
    """Max or average over every window of (N, C, H, W), element by element."""
    rows = pool_windows(x.shape[2], k[0], s[0], p[0], ceil_mode)
    cols = pool_windows(x.shape[3], k[1], s[1], p[1], ceil_mode)
    out = np.zeros(x.shape[:2] + (len(rows), len(cols)))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            inside = [
                (a, b)
                for a in range(r, r + k[0])
                for b in range(c, c + k[1])
                if 0 <= a < x.shape[2] and 0 <= b < x.shape[3]
            ]
            padded = [
                (a, b)
                for a in range(r, r + k[0])
                for b in range(c, c + k[1])
                if -p[0] <= a < x.shape[2] + p[0] and -p[1] <= b < x.shape[3] + p[1]
            ]
            vals = np.stack([x[:, :, a, b] for a, b in inside], axis=-1)
            if kind == "max":
                out[:, :, i, j] = vals.max(-1)
            else:
                out[:, :, i, j] = vals.sum(-1) / (len(padded) if count_include_pad else len(inside))
    return out


def adaptive_reference(x, out_size, reduce):
    """PyTorch's adaptive windows: [floor(i H / o), ceil((i + 1) H / o))."""
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + tuple(out_size))
    for i in range(out_size[0]):
        for j in range(out_size[1]):
            r0, r1 = (i * h) // out_size[0], -((-(i + 1) * h) // out_size[0])
            c0, c1 = (j * w) // out_size[1], -((-(j + 1) * w) // out_size[1])
            out[..., i, j] = reduce(x[..., r0:r1, c0:c1], axis=(-2, -1))
    return out


def linear_source(dst, n_in, n_out, align_corners, cubic=False):
    """PyTorch's source coordinate of an output pixel (area_pixel_compute_source_index)."""
    if align_corners:
        return dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    src = (dst + 0.5) * n_in / n_out - 0.5
    return src if cubic else max(src, 0.0)


def bilinear_reference(x, size, align_corners):
    """Each output pixel from its four neighbours, weighted by distance."""
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + tuple(size))
    for i in range(size[0]):
        sy = linear_source(i, h, size[0], align_corners)
        y0 = math.floor(sy)
        y1, ly = min(y0 + 1, h - 1), sy - y0
        for j in range(size[1]):
            sx = linear_source(j, w, size[1], align_corners)
            x0 = math.floor(sx)
            x1, lx = min(x0 + 1, w - 1), sx - x0
            out[..., i, j] = (1 - ly) * ((1 - lx) * x[..., y0, x0] + lx * x[..., y0, x1]) + ly * (
                (1 - lx) * x[..., y1, x0] + lx * x[..., y1, x1]
            )
    return out


def bicubic_reference(x, size, align_corners, a=-0.75):
    """Each output pixel from its 4x4 neighbours (Keys' cubic, a = -0.75, edges clamped)."""

    def kernel(t):
        t = abs(t)
        if t <= 1:
            return ((a + 2) * t - (a + 3)) * t * t + 1
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a if t < 2 else 0.0

    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + tuple(size))
    for i in range(size[0]):
        sy = linear_source(i, h, size[0], align_corners, cubic=True)
        for j in range(size[1]):
            sx = linear_source(j, w, size[1], align_corners, cubic=True)
            for dy in range(-1, 3):
                for dx in range(-1, 3):
                    yy, xx = math.floor(sy) + dy, math.floor(sx) + dx
                    out[..., i, j] += (
                        kernel(sy - yy)
                        * kernel(sx - xx)
                        * x[..., min(max(yy, 0), h - 1), min(max(xx, 0), w - 1)]
                    )
    return out


def test_pool_windows_reference_counts_pytorchs_examples():
    """Output lengths recorded from PyTorch 2.13 (torch.nn.functional.max_pool1d)."""
    assert len(pool_windows(5, 2, 2, 0, True)) == 3  # the last window holds one element
    assert len(pool_windows(5, 2, 2, 0, False)) == 2
    assert len(pool_windows(4, 3, 2, 1, True)) == 3
    assert len(pool_windows(4, 3, 2, 1, False)) == 2
    assert len(pool_windows(6, 3, 3, 1, True)) == 3


# ------------------------------------------------------------------------ convolution
@st.composite
def grouped_configs(draw):
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    hw = tuple(d[i] * (k[i] - 1) + 1 + draw(st.integers(0, 2)) for i in range(2))
    return (draw(st.integers(1, 2)), cin, *hw), (cout, cin // groups, *k), s, p, d, groups


@given(grouped_configs(), st.booleans())
def test_grouped_conv2d_matches_a_reference_per_group(config, with_bias):
    shape, wshape, s, p, d, groups = config
    x, w, b = randn(*shape), randn(*wshape, seed=1), randn(wshape[0], seed=2)
    out = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b) if with_bias else None, s, p, d, groups)
    assert_allclose(
        out.numpy(force=True),
        grouped_conv_reference(x, w, b if with_bias else None, s, p, d, groups),
        atol=1e-12,
    )


def test_grouped_conv2d_gradients_match_finite_differences():
    x, w, b = leaf(randn(1, 4, 4, 3)), leaf(randn(6, 2, 2, 2, seed=1)), leaf(randn(6, seed=2))
    mt.testing.check_grads(lambda x, w, b: F.conv2d(x, w, b, 1, 1, 1, 2), x, w, b, order=2)


def test_depthwise_conv2d_convolves_each_channel_with_its_own_filter():
    x, w = randn(2, 3, 5, 5), randn(3, 1, 3, 3, seed=1)
    out = F.conv2d(mt.tensor(x), mt.tensor(w), groups=3)
    for c in range(3):
        assert_allclose(
            out.numpy(force=True)[:, c : c + 1],
            conv2d_reference(x[:, c : c + 1], w[c : c + 1], None, (1, 1), (0, 0), (1, 1)),
            atol=1e-12,
        )


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 2), st.integers(3, 6))
def test_same_padding_keeps_the_size_and_pads_an_odd_total_more_on_the_right(kh, kw, d, n):
    x, w = randn(1, 2, n, n + 1), randn(3, 2, kh, kw, seed=1)
    out = F.conv2d(mt.tensor(x), mt.tensor(w), padding="same", dilation=d)
    th, tw = d * (kh - 1), d * (kw - 1)
    padded = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    assert out.shape == (1, 3, n, n + 1)
    assert_allclose(
        out.numpy(force=True), conv2d_reference(padded, w, None, (1, 1), (0, 0), (d, d)), atol=1e-12
    )


def test_valid_padding_is_no_padding():
    x, w = randn(1, 2, 5, 4), randn(3, 2, 2, 3, seed=1)
    assert_allclose(
        F.conv2d(mt.tensor(x), mt.tensor(w), padding="valid").numpy(force=True),
        conv2d_reference(x, w, None, (1, 1), (0, 0), (1, 1)),
        atol=1e-12,
    )


def test_same_padding_with_a_stride_is_an_error_as_in_pytorch():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(mt.ones(1, 1, 4, 4), mt.ones(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        L.Conv2d(1, 1, 3, stride=2, padding="same")


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_padding_modes_pad_the_input_as_np_pad_then_convolve(mode):
    mt.manual_seed(0)
    conv = L.Conv2d(2, 3, (3, 2), padding=(2, 1), padding_mode=mode, dtype=mt.float64)
    x = randn(2, 2, 4, 5)
    padded = np.pad(
        x, ((0, 0), (0, 0), (2, 2), (1, 1)), mode="constant" if mode == "zeros" else NP_MODES[mode]
    )
    assert_allclose(
        conv(mt.tensor(x)).numpy(force=True),
        conv2d_reference(
            padded,
            conv.weight.numpy(force=True),
            conv.bias.numpy(force=True),
            (1, 1),
            (0, 0),
            (1, 1),
        ),
        atol=1e-12,
    )


def test_conv1d_is_conv2d_over_a_height_of_one():
    x, w, b = randn(2, 4, 9), randn(6, 2, 3, seed=1), randn(6, seed=2)
    out = F.conv1d(mt.tensor(x), mt.tensor(w), mt.tensor(b), 2, 1, 2, groups=2)
    ref = grouped_conv_reference(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1), (1, 2), 2)
    assert_allclose(out.numpy(force=True), ref[:, :, 0], atol=1e-12)
    assert_allclose(
        F.conv1d(mt.tensor(x[0]), mt.tensor(w), groups=2).numpy(force=True),  # unbatched
        F.conv1d(mt.tensor(x[:1]), mt.tensor(w), groups=2).numpy(force=True)[0],
    )


def test_conv1d_layer_with_circular_padding_wraps_the_sequence():
    conv = L.Conv1d(1, 1, 3, padding=1, padding_mode="circular", bias=False, dtype=mt.float64)
    conv.weight.numpy(force=True)[...] = [[[1.0, 0.0, 0.0]]]  # picks the left neighbour
    out = conv(mt.tensor([[[1.0, 2.0, 3.0, 4.0]]]))
    assert_allclose(out.numpy(force=True), [[[4.0, 1.0, 2.0, 3.0]]])


@st.composite
def transpose_configs(draw):
    groups = draw(st.integers(1, 2))
    cin, cout_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    op = tuple(draw(st.integers(0, max(s[i], d[i]) - 1)) for i in range(2))
    p = tuple(draw(st.integers(0, 1)) for _ in range(2))
    hw = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return (draw(st.integers(1, 2)), cin, *hw), (cin, cout_g, *k), s, p, op, groups, d


@given(transpose_configs(), st.booleans())
def test_conv_transpose2d_matches_the_scatter_reference(config, with_bias):
    shape, wshape, s, p, op, groups, d = config
    size = [
        (shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (wshape[2 + i] - 1) + op[i] + 1
        for i in range(2)
    ]
    if min(size) < 1:
        return
    x, w, b = randn(*shape), randn(*wshape, seed=1), randn(wshape[1] * groups, seed=2)
    bias = b if with_bias else None
    out = F.conv_transpose2d(
        mt.tensor(x), mt.tensor(w), None if bias is None else mt.tensor(b), s, p, op, groups, d
    )
    assert_allclose(
        out.numpy(force=True), conv_transpose_reference(x, w, bias, s, p, op, groups, d), atol=1e-12
    )


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv_transpose(y, w), x> = <y, conv(x, w)> for every x, y: it is conv2d's VJP."""
    x, w, y = randn(2, 3, 7, 6), randn(4, 3, 3, 2, seed=1), randn(2, 4, 4, 4, seed=2)
    conv = F.conv2d(mt.tensor(x), mt.tensor(w), stride=2, padding=1)
    back = F.conv_transpose2d(mt.tensor(y), mt.tensor(w), stride=2, padding=1)
    assert back.shape == x.shape
    assert_allclose(
        (back.numpy(force=True) * x).sum(), (y * conv.numpy(force=True)).sum(), rtol=1e-12
    )


def test_conv_transpose2d_gradients_match_finite_differences():
    x, w, b = leaf(randn(1, 2, 2, 3)), leaf(randn(2, 2, 2, 2, seed=1)), leaf(randn(4, seed=2))
    mt.testing.check_grads(
        lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2), x, w, b, order=2
    )


def test_conv_transpose1d_and_its_layer_upsample_a_sequence_by_the_stride():
    mt.manual_seed(0)
    layer = L.ConvTranspose1d(2, 3, 4, stride=2, padding=1, dtype=mt.float64)
    x = randn(1, 2, 5)
    out = layer(mt.tensor(x))
    ref = conv_transpose_reference(
        x[:, :, None],
        layer.weight.numpy(force=True)[:, :, None],
        layer.bias.numpy(force=True),
        (1, 2),
        (0, 1),
        (0, 0),
        1,
        (1, 1),
    )
    assert out.shape == (1, 3, 10)
    assert_allclose(out.numpy(force=True), ref[:, :, 0], atol=1e-12)


def test_output_padding_not_below_stride_or_dilation_is_an_error():
    with pytest.raises(ValueError, match="output_padding .* smaller than either stride"):
        F.conv_transpose2d(mt.ones(1, 1, 2, 2), mt.ones(1, 1, 2, 2), stride=2, output_padding=2)


def test_conv_layers_check_groups_and_padding_mode():
    with pytest.raises(ValueError, match=r"in_channels \(3\).*divisible by groups \(2\)"):
        L.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        L.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="only padding_mode 'zeros'"):
        L.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_conv_weights_have_pytorchs_shapes_and_initialisation_bounds():
    mt.manual_seed(0)
    conv = L.Conv2d(8, 6, (3, 5), groups=2)
    tconv = L.ConvTranspose2d(8, 6, 3, groups=2)
    assert conv.weight.shape == (6, 4, 3, 5) and tconv.weight.shape == (8, 3, 3, 3)
    # kaiming_uniform(a=sqrt 5): bound 1 / sqrt(fan_in), fan_in = weight.shape[1] * kernel
    assert np.abs(conv.weight.numpy(force=True)).max() <= 1 / math.sqrt(4 * 15)
    assert np.abs(conv.bias.numpy(force=True)).max() <= 1 / math.sqrt(4 * 15)
    assert np.abs(tconv.weight.numpy(force=True)).max() <= 1 / math.sqrt(3 * 9)


# ---------------------------------------------------------------------------- padding
@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(list(NP_MODES)))
    k = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(2, 4)) for _ in range(k + 1))
    limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 3)
    widths = [(draw(st.integers(0, limit(n))), draw(st.integers(0, limit(n)))) for n in shape[1:]]
    return mode, shape, widths


@given(pad_cases())
def test_pad_modes_match_np_pad(case):
    mode, shape, widths = case
    x = randn(*shape)
    flat = tuple(v for pair in reversed(widths) for v in pair)
    out = F.pad(mt.tensor(x), flat, mode=mode)
    assert_allclose(out.numpy(force=True), np.pad(x, [(0, 0)] + widths, mode=NP_MODES[mode]))


@pytest.mark.parametrize("mode", list(NP_MODES))
def test_pad_mode_gradients_match_finite_differences(mode):
    x = leaf(randn(1, 2, 3, 3))
    mt.testing.check_grads(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode) ** 2, x)


def test_constant_pad_with_negative_widths_crops_as_pytorch():
    x = np.arange(12.0).reshape(3, 4)
    out = F.pad(mt.tensor(x), (-1, 2, 1, -2), value=7.0)
    expected = np.pad(x[:1, 1:], ((1, 0), (0, 2)), constant_values=7.0)
    assert_allclose(out.numpy(force=True), expected)


def test_reflect_padding_as_wide_as_the_input_is_an_error():
    with pytest.raises(ValueError, match=r"reflect padding \(3, 0\).*at most 2"):
        F.pad(mt.ones(1, 1, 3), (3, 0), mode="reflect")


def test_padding_layers_pad_as_their_functions():
    x = randn(1, 2, 3, 4)
    assert_allclose(
        L.ReflectionPad2d((1, 2, 0, 1))(mt.tensor(x)).numpy(force=True),
        np.pad(x, ((0, 0), (0, 0), (0, 1), (1, 2)), mode="reflect"),
    )
    assert_allclose(
        L.ReplicationPad1d(2)(mt.tensor(x[0])).numpy(force=True),
        np.pad(x[0], ((0, 0), (0, 0), (2, 2)), mode="edge"),
    )
    assert_allclose(
        L.ConstantPad2d(1, 3.5)(mt.tensor(x)).numpy(force=True),
        np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=3.5),
    )
    assert repr(L.ZeroPad2d((1, 2, 0, 1))) == "ZeroPad2d((1, 2, 0, 1))"  # PyTorch's


# ---------------------------------------------------------------------------- pooling
@st.composite
def pool_configs(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    hw = (k[0] + draw(st.integers(0, 3)), k[1] + draw(st.integers(0, 3)))
    return (draw(st.integers(1, 2)), 2, *hw), k, s, p


@given(pool_configs(), st.booleans())
def test_max_pool2d_with_ceil_mode_matches_the_reference(config, ceil_mode):
    shape, k, s, p = config
    x = randn(*shape)
    out = F.max_pool2d(mt.tensor(x), k, s, p, ceil_mode=ceil_mode)
    assert_allclose(out.numpy(force=True), pool_reference(x, k, s, p, ceil_mode, "max"))


@given(pool_configs(), st.booleans(), st.booleans())
def test_avg_pool2d_with_ceil_mode_and_count_include_pad_matches_the_reference(
    config, ceil_mode, count_include_pad
):
    shape, k, s, p = config
    x = randn(*shape)
    out = F.avg_pool2d(mt.tensor(x), k, s, p, ceil_mode, count_include_pad)
    assert_allclose(
        out.numpy(force=True),
        pool_reference(x, k, s, p, ceil_mode, "avg", count_include_pad),
        atol=1e-12,
    )


def test_avg_pool2d_values_recorded_from_pytorch():
    x = mt.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    # torch.nn.functional.avg_pool2d(x, 2, 2, 1, ceil_mode=True, count_include_pad=...)
    assert_allclose(
        F.avg_pool2d(x, 2, 2, 1, True, True).numpy(force=True)[0, 0, 0], [0.0, 0.75, 1.75]
    )
    assert_allclose(
        F.avg_pool2d(x, 2, 2, 1, True, False).numpy(force=True)[0, 0, 0], [0.0, 1.5, 3.5]
    )
    assert_allclose(F.avg_pool2d(x, 3, divisor_override=2).numpy(force=True), [[[[27.0]]]])


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_ceil_mode_pool_gradients_match_finite_differences(kind):
    x = leaf(randn(1, 2, 4, 5))
    if kind == "max":
        mt.testing.check_grads(lambda x: F.max_pool2d(x, 2, 2, 1, ceil_mode=True), x)
    else:
        mt.testing.check_grads(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), x, order=2)


def test_one_dimensional_pools_are_the_two_dimensional_over_a_height_of_one():
    x = randn(2, 3, 7)
    assert_allclose(
        F.max_pool1d(mt.tensor(x), 3, 2, 1, ceil_mode=True).numpy(force=True),
        pool_reference(x[:, :, None], (1, 3), (1, 2), (0, 1), True, "max")[:, :, 0],
    )
    assert_allclose(
        F.avg_pool1d(mt.tensor(x), 2, 2, 1, True, False).numpy(force=True),
        pool_reference(x[:, :, None], (1, 2), (1, 2), (0, 1), True, "avg", False)[:, :, 0],
    )
    assert_allclose(
        L.MaxPool1d(2)(mt.tensor(x[0])).numpy(force=True), x[0, :, :6].reshape(3, 3, 2).max(-1)
    )


def test_pool_layers_pass_their_settings():
    x = randn(1, 2, 5, 5)
    assert_allclose(
        L.MaxPool2d(2, ceil_mode=True)(mt.tensor(x)).numpy(force=True),
        pool_reference(x, (2, 2), (2, 2), (0, 0), True, "max"),
    )
    assert_allclose(
        L.AvgPool2d(3, 2, 1, count_include_pad=False)(mt.tensor(x)).numpy(force=True),
        pool_reference(x, (3, 3), (2, 2), (1, 1), False, "avg", False),
    )


def test_return_indices_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="max_pool2d: return_indices"):
        F.max_pool2d(mt.ones(1, 1, 2, 2), 2, return_indices=True)


@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 4), st.integers(1, 4))
def test_adaptive_pools_match_the_window_reference(h, w, oh, ow):
    x = randn(2, 2, h, w)
    assert_allclose(
        F.adaptive_avg_pool2d(mt.tensor(x), (oh, ow)).numpy(force=True),
        adaptive_reference(x, (oh, ow), np.mean),
        atol=1e-12,
    )
    assert_allclose(
        F.adaptive_max_pool2d(mt.tensor(x), (oh, ow)).numpy(force=True),
        adaptive_reference(x, (oh, ow), np.max),
    )


def test_adaptive_pool_output_size_none_keeps_that_dim_and_one_is_global_pooling():
    x = randn(2, 3, 5, 4)
    assert F.adaptive_avg_pool2d(mt.tensor(x), (2, None)).shape == (2, 3, 2, 4)
    assert_allclose(
        L.AdaptiveAvgPool2d(1)(mt.tensor(x)).numpy(force=True),
        x.mean(axis=(2, 3), keepdims=True),
        atol=1e-12,
    )
    assert_allclose(
        F.adaptive_max_pool1d(mt.tensor(x[0]), 2).numpy(force=True),
        adaptive_reference(x[0][:, :, None], (1, 2), np.max)[:, :, 0],
    )


def test_adaptive_pool_gradients_match_finite_differences():
    x = leaf(randn(1, 2, 5, 4))
    mt.testing.check_grads(lambda x: F.adaptive_avg_pool2d(x, (3, 3)), x, order=2)
    mt.testing.check_grads(lambda x: F.adaptive_max_pool2d(x, (2, 3)), x)


# ------------------------------------------------------------------------ interpolate
@pytest.mark.parametrize(
    "mode, reference", [("bilinear", bilinear_reference), ("bicubic", bicubic_reference)]
)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.booleans())
def test_interpolation_matches_the_per_pixel_formula(mode, reference, h, w, oh, ow, align_corners):
    x = randn(1, 2, h, w)
    out = F.interpolate(mt.tensor(x), size=(oh, ow), mode=mode, align_corners=align_corners)
    assert_allclose(out.numpy(force=True), reference(x, (oh, ow), align_corners), atol=1e-12)


@given(st.integers(1, 5), st.integers(1, 9))
def test_nearest_interpolation_reads_the_floor_of_the_scaled_index(n, m):
    x = randn(1, 1, n)
    idx = [min(math.floor(i * np.float32(n / m)), n - 1) for i in range(m)]
    idx_exact = [min(math.floor((i + 0.5) * np.float32(n / m)), n - 1) for i in range(m)]
    assert_allclose(F.interpolate(mt.tensor(x), size=m).numpy(force=True), x[..., idx])
    assert_allclose(
        F.interpolate(mt.tensor(x), size=m, mode="nearest-exact").numpy(force=True),
        x[..., idx_exact],
    )


def test_interpolate_values_recorded_from_pytorch():
    x = mt.tensor(np.arange(6.0).reshape(1, 1, 2, 3))
    # torch.nn.functional.interpolate(x, scale_factor=1.5, mode=...)
    assert_allclose(
        F.interpolate(x, scale_factor=1.5, mode="bilinear").numpy(force=True)[0, 0],
        [[0.0, 0.5, 7 / 6, 11 / 6], [1.5, 2.0, 8 / 3, 10 / 3], [3.0, 3.5, 25 / 6, 29 / 6]],
    )
    assert_allclose(
        F.interpolate(x, scale_factor=1.5).numpy(force=True)[0, 0],
        [[0, 0, 1, 2], [0, 0, 1, 2], [3, 3, 4, 5]],
    )
    assert_allclose(
        F.interpolate(x[:, :, 0], scale_factor=2, mode="linear", align_corners=True).numpy(
            force=True
        )[0, 0],
        [0.0, 0.4, 0.8, 1.2, 1.6, 2.0],
    )


def test_area_interpolation_is_adaptive_average_pooling():
    x = randn(1, 2, 6, 5)
    assert_allclose(
        F.interpolate(mt.tensor(x), size=(3, 2), mode="area").numpy(force=True),
        adaptive_reference(x, (3, 2), np.mean),
        atol=1e-12,
    )


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_interpolate_gradients_match_finite_differences(mode):
    x = leaf(randn(1, 1, 3, 2))
    mt.testing.check_grads(lambda x: F.interpolate(x, scale_factor=(1.5, 2), mode=mode), x)


def test_upsample_layers_call_interpolate_with_their_settings():
    x = randn(1, 1, 3, 2)
    assert_allclose(
        L.Upsample(size=(5, 4), mode="bilinear", align_corners=True)(mt.tensor(x)).numpy(
            force=True
        ),
        bilinear_reference(x, (5, 4), True),
        atol=1e-12,
    )
    assert_allclose(
        L.UpsamplingBilinear2d(scale_factor=2)(mt.tensor(x)).numpy(force=True),
        bilinear_reference(x, (6, 4), True),
        atol=1e-12,
    )
    assert_allclose(
        L.UpsamplingNearest2d(scale_factor=2)(mt.tensor(x)).numpy(force=True),
        x.repeat(2, axis=2).repeat(2, axis=3),
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: F.interpolate(mt.ones(1, 1, 4), size=3, mode="bilinear"),
            "3-D input, but mode 'bilinear' needs 4-D",
        ),
        (
            lambda: F.interpolate(mt.ones(1, 1, 4), size=3, align_corners=True),
            "align_corners can only be set with the interpolating modes",
        ),
        (
            lambda: F.interpolate(mt.ones(1, 1, 4), size=3, scale_factor=2),
            "exactly one of size and scale_factor",
        ),
        (lambda: F.interpolate(mt.ones(1, 1, 4), size=3, antialias=True), "antialias"),
    ],
)
def test_interpolate_errors_name_the_setting(call, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        call()


@settings(max_examples=10)
@given(st.sampled_from(["bilinear", "nearest"]), st.integers(2, 3))
def test_interpolate_keeps_float32(mode, factor):
    x = mt.tensor(randn(1, 1, 2, 2).astype(np.float32))
    assert F.interpolate(x, scale_factor=factor, mode=mode).dtype == mt.float32
