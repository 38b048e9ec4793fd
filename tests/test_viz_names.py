"""Graphs with names (viz.to_dot / draw_graph names=): leaves, intermediates and the
root labelled with the caller's variable names (found in its frame, or given), module
parameters with dotted names; graphs still drawn whole after a plain backward(); long
left-to-right graphs wrapped into rows; real renders with the `dot` program."""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_viz import Dot

import microtensor as mt
from microtensor import nn, viz

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="the Graphviz `dot` program is not installed (CI installs it)",
)


def _mlp_loss():
    """The caller's view of a small network: variables x, W1, b1, h, loss."""
    x = mt.tensor([[1.0, 2.0]])
    W1 = mt.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    b1 = mt.tensor([0.1, 0.2], requires_grad=True)
    h = (x @ W1 + b1).tanh()
    loss = (h * h).sum()
    return x, W1, b1, h, loss


# ---------------------------------------------------------------- names from the caller
def test_leaves_intermediates_and_the_root_take_the_callers_variable_names():
    x, W1, b1, h, loss = _mlp_loss()
    d = Dot(viz.to_dot(loss))
    assert d.heads() == ["W1", "add", "b1", "h = tanh", "loss", "matmul", "mul", "sum", "x"]
    assert d.edge_names() == [
        ("W1", "matmul"),
        ("add", "h = tanh"),
        ("b1", "add"),
        ("h = tanh", "mul"),
        ("h = tanh", "mul"),
        ("matmul", "add"),
        ("mul", "sum"),
        ("sum", "loss"),
        ("x", "matmul"),
    ]
    assert d.lines(d.named("W1")) == ["W1", "(2, 2)"]
    assert d.nodes[d.named("x")]["shape"] == "note"  # an input, not a parameter


def test_draw_graph_and_tensor_draw_find_the_same_names():
    x, W1, b1, h, loss = _mlp_loss()
    text = viz.to_dot(loss)
    assert viz.draw_graph(loss).source == text == loss.draw().source
    assert '"loss\\nscalar"' in text and '"W1\\n(2, 2)"' in text


def test_explicit_names_replace_the_callers_and_an_unnamed_root_is_its_grad_fn():
    x, W1, b1, h, loss = _mlp_loss()
    d = Dot(viz.to_dot(loss, names={"inputs": x, "weight": W1}))
    assert d.heads() == [
        "(2,)",
        "SumBackward0",
        "add",
        "inputs",
        "matmul",
        "mul",
        "sum",
        "tanh",
        "weight",
    ]
    assert d.lines(d.named("(2,)")) == ["(2,)"]  # b1: not named, drawn by its shape


def test_an_unnamed_root_is_labelled_by_its_grad_fn_as_pytorch_names_it():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = Dot(viz.to_dot((x * 3).mean()))
    assert d.named("MeanBackward0") in {h for _, h, _ in d.edges}  # torch: MeanBackward0


def test_an_unnamed_root_is_named_by_its_grad_fn_before_and_after_backward():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    w = mt.tensor([3.0, 4.0], requires_grad=True)
    d = Dot(viz.to_dot(x @ w, names={}))
    assert "DotBackward0" in d.heads()  # torch: DotBackward0
    y = x @ w
    y.backward()  # the operands' dims that tell Dot from Mm are freed with them
    assert "MatmulBackward0" in Dot(viz.to_dot(y, names={})).heads()


def test_names_false_draws_no_names_and_roots_as_output():
    x, W1, b1, h, loss = _mlp_loss()
    d = Dot(viz.to_dot(loss, names=False))
    assert "loss" not in d.heads() and "W1" not in d.heads() and "output" in d.heads()
    assert "tanh" in d.heads()


def test_params_still_name_tensors_and_win_over_the_callers_names():
    x, W1, b1, h, loss = _mlp_loss()
    d = Dot(viz.to_dot(loss, params={"layer1.weight": W1}))
    assert "layer1.weight" in d.heads() and "W1" not in d.heads() and "b1" in d.heads()


def test_bad_names_are_refused_naming_what_was_given():
    x = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"names\['x'\] is a list"):
        viz.to_dot(x * 2, names={"x": [1.0]})
    with pytest.raises(TypeError, match="names must be None"):
        viz.to_dot(x * 2, names=["x"])


def test_module_parameters_get_dotted_names_and_a_module_class_is_not_a_module():
    Linear = nn.Linear  # a class has named_parameters too, unbound
    net = nn.Sequential(Linear(2, 3), nn.Tanh(), Linear(3, 1))
    x = mt.ones(4, 2)
    out = net(x).sum()
    d = Dot(viz.to_dot(out))
    assert {"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "x", "out"} <= set(
        d.heads()
    )
    explicit = Dot(viz.to_dot(out, names={"model": net}))
    assert "model.2.weight" in explicit.heads() and "net.2.weight" not in explicit.heads()


def test_several_outputs_of_one_op_are_named_together():
    x = mt.arange(6.0, requires_grad=True)
    a, b = x.split(3)
    d = Dot(viz.to_dot(a.sum() + b.exp().sum()))
    assert "a, b = split" in d.heads()


def test_module_level_code_is_named_from_its_globals():
    """A script or a notebook cell runs at module level, where locals are globals; a
    function of the script sees the script's globals too (not `_`-names: IPython's)."""
    ns = {"__name__": "__main__", "mt": mt, "viz": viz}
    exec(
        "_ = mt.tensor([2.0], requires_grad=True)\n"  # first, as IPython's `_` is
        "w = _\n"
        "def draw():\n"
        "    y = w * w\n"
        "    return viz.to_dot(y)\n"
        "top = viz.to_dot((w + 1).sum())\n",
        ns,
    )
    assert Dot(ns["top"]).named("w") and "SumBackward0" in Dot(ns["top"]).heads()
    inner = Dot(ns["draw"]())
    assert sorted(inner.heads()) == ["mul", "w", "y"]


# ---------------------------------------------------------------- wrapping
def _chain(n: int) -> mt.Tensor:
    """n tanh ops in a row on one leaf, then a sum."""
    y = mt.tensor([0.5, -0.5], requires_grad=True)
    for _ in range(n):
        y = y.tanh()
    return y.sum()


def test_a_long_left_to_right_chain_wraps_into_rows_of_eight():
    text = viz.to_dot(_chain(30), direction="LR", names=False)
    d = Dot(text)
    free = [(t, h) for t, h, a in d.edges if a.get("constraint") == "false"]
    assert len(free) == 4  # 33 nodes, 33 columns: a new row at columns 8, 16, 24, 32
    invisible = [(t, h) for t, h, a in d.edges if a.get("style") == "invis"]
    assert [d.lines(h)[0] for _, h in invisible] == ["tanh", "tanh", "tanh", "output"]
    assert "constraint" not in viz.to_dot(_chain(30), names=False)  # TB: left alone
    assert "constraint" not in viz.to_dot(_chain(30), direction="LR", wrap=None)
    assert "constraint" not in viz.to_dot(_chain(5), direction="LR")


# ---------------------------------------------------------------- real renders
@needs_dot
def test_a_wrapped_chain_renders_as_a_block_not_a_ribbon(tmp_path):
    sizes = []
    for wrap in (None, 8):
        path = viz.draw_graph(_chain(30), direction="LR", wrap=wrap).render(
            outfile=tmp_path / f"chain{wrap}.png"
        )
        data = Path(path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        sizes.append((int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")))
    (w0, h0), (w1, h1) = sizes
    assert w0 > 10 * h0  # unwrapped: one long ribbon (about 4800 x 80 pixels)
    assert w1 < 2 * h1 * 3 and w1 < w0 / 2  # wrapped: four rows


@needs_dot
def test_an_svg_render_shows_the_callers_names(tmp_path):
    x, W1, b1, h, loss = _mlp_loss()
    loss.backward(retain_graph=True)  # a plain backward() frees the ops' inputs
    path = viz.draw_graph(loss, show_grads=True).render(outfile=tmp_path / "g.svg")
    ns = {"s": "http://www.w3.org/2000/svg"}
    texts = {t.text for t in ET.parse(path).getroot().iterfind(".//s:text", ns)}
    assert {"x", "W1", "b1", "h = tanh", "loss", "matmul"} <= texts
