"""Graph drawing (microtensor.viz): the DOT text of known graphs, read back node by node
and edge by edge; real renders with the `dot` program; collapse and max_nodes; NaN in
red; a missing `dot` program; and drawing that leaves graphs and gradients alone."""

import re
import shutil
import subprocess
import sys
import weakref
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn, viz

ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="the Graphviz `dot` program is not installed (CI installs it)",
)

# ---------------------------------------------------------------- a small DOT reader
_NODE = re.compile(r"^(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^(\w+) -> (\w+)(?: \[(.*)\])?$")
_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _attrs(text):
    unescape = {"n": "\n", '"': '"', "\\": "\\"}
    return {
        k: re.sub(r"\\(.)", lambda m: unescape.get(m.group(1), m.group(1)), v)
        for k, v in _ATTR.findall(text or "")
    }


class Dot:
    """Nodes (id -> attributes), edges (tail, head, attributes), clusters (label, ids of
    the nodes directly inside, label of the enclosing cluster) and the graph's label."""

    def __init__(self, text):
        self.nodes, self.edges, self.clusters, self.graph = {}, [], [], {}
        stack = []
        lines = text.splitlines()
        assert lines[0] == "digraph microtensor {" and lines[-1] == "}"
        for line in lines[1:-1]:
            s = line.strip()
            if s.startswith("subgraph cluster_"):
                parent = stack[-1]["label"] if stack else None
                stack.append({"label": None, "nodes": [], "parent": parent})
                self.clusters.append(stack[-1])
            elif s == "}":
                stack.pop()
            elif s.startswith("graph ["):
                attrs = _attrs(s)
                if stack:
                    stack[-1]["label"] = attrs["label"]
                else:
                    self.graph = attrs
            elif s.startswith(("node [", "edge [")):
                continue
            elif m := _EDGE.match(s):
                self.edges.append((m.group(1), m.group(2), _attrs(m.group(3))))
            elif m := _NODE.match(s):
                self.nodes[m.group(1)] = _attrs(m.group(2))
                if stack:
                    stack[-1]["nodes"].append(m.group(1))
            else:
                raise AssertionError(f"unparsed DOT line: {line!r}")
        assert not stack

    def lines(self, nid):
        return self.nodes[nid]["label"].split("\n")

    def named(self, first_line):
        """The one node whose label starts with this line."""
        found = [n for n in self.nodes if self.lines(n)[0] == first_line]
        assert len(found) == 1, (first_line, found)
        return found[0]

    def heads(self):
        return sorted(self.lines(n)[0] for n in self.nodes)

    def edge_names(self):
        """Edges as (first line of tail, first line of head), sorted."""
        return sorted((self.lines(t)[0], self.lines(h)[0]) for t, h, _ in self.edges)

    def label(self):
        return self.graph.get("label", "")


def dot_of(*roots, **options):
    """Without the caller's names (tests/test_viz_names.py tests them): roots are "output"."""
    return Dot(viz.to_dot(*roots, names=options.pop("names", False), **options))


def _ten_layers():
    return nn.Sequential(*[nn.Linear(3, 3) for _ in range(10)])


# ---------------------------------------------------------------- known graphs
def test_x_times_y_plus_z_draws_leaves_ops_and_output_with_edges_along_the_data():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = mt.tensor([3.0, 4.0], requires_grad=True)
    z = mt.tensor([5.0, 6.0])
    d = dot_of(x * y + z, params={"x": x, "y": y, "z": z})
    assert d.heads() == ["add", "mul", "output", "x", "y", "z"]
    shapes = {d.lines(n)[0]: d.nodes[n]["shape"] for n in d.nodes}
    assert shapes == {
        "x": "box",
        "y": "box",
        "z": "note",
        "mul": "ellipse",
        "add": "ellipse",
        "output": "doubleoctagon",
    }
    assert all(d.lines(n)[1] == "(2,)" for n in d.nodes)
    assert d.edge_names() == [
        ("add", "output"),
        ("mul", "add"),
        ("x", "mul"),
        ("y", "mul"),
        ("z", "add"),
    ]


def test_the_four_roles_have_four_fill_colours():
    x = mt.tensor([1.0], requires_grad=True)
    d = dot_of(x * mt.tensor([2.0]), params={"x": x})
    fills = [d.nodes[n]["fillcolor"] for n in d.nodes]
    assert len(set(fills)) == 4


def test_a_diamond_draws_the_shared_op_once_with_two_edges_out():
    x = mt.tensor([0.5, 1.0], requires_grad=True)
    h = x * 2
    d = dot_of(h.sin() + h.cos(), params={"x": x})
    assert d.heads() == ["add", "cos", "mul(·, 2)", "output", "sin", "x"]
    assert d.edge_names() == [
        ("add", "output"),
        ("cos", "add"),
        ("mul(·, 2)", "cos"),
        ("mul(·, 2)", "sin"),
        ("sin", "add"),
        ("x", "mul(·, 2)"),
    ]


def test_a_two_layer_mlp_names_its_parameters_and_its_input():
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    d = dot_of(net, mt.zeros(4, 2))
    assert d.heads() == [
        "0.bias",
        "0.weight",
        "2.bias",
        "2.weight",
        "input",
        "linear",
        "linear",
        "output",
        "tanh",
    ]
    linears = [n for n in d.nodes if d.lines(n)[0] == "linear"]
    first, second = sorted(linears, key=lambda n: d.lines(n)[1])[::-1]  # (4, 3), (4, 1)
    assert d.lines(first) == ["linear", "(4, 3)"] and d.lines(second) == ["linear", "(4, 1)"]
    tanh, inp, out = d.named("tanh"), d.named("input"), d.named("output")
    assert d.lines(d.named("0.weight")) == ["0.weight", "(3, 2)"]
    assert d.nodes[d.named("0.weight")]["shape"] == "box"
    assert d.nodes[inp]["shape"] == "note" and d.lines(inp) == ["input", "(4, 2)"]
    assert sorted((t, h) for t, h, _ in d.edges) == sorted(
        [
            (inp, first),
            (d.named("0.weight"), first),
            (d.named("0.bias"), first),
            (first, tanh),
            (tanh, second),
            (d.named("2.weight"), second),
            (d.named("2.bias"), second),
            (second, out),
        ]
    )
    assert d.label() == "Sequential, input (4, 2)"


def test_show_values_adds_dtype_and_min_mean_max_or_the_value_of_a_scalar():
    x = mt.tensor([1.0, 2.0, 6.0], requires_grad=True)
    d = dot_of(x.sum(), params={"x": x}, show_values=True)
    assert d.lines(d.named("x")) == ["x", "(3,) float32", "min 1 mean 3 max 6"]
    assert d.lines(d.named("output")) == ["output", "scalar float32", "= 9"]


def test_show_grads_adds_each_leafs_gradient():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    before = dot_of(y, params={"x": x}, show_grads=True)
    assert before.lines(before.named("x"))[-1] == "grad None"
    y.backward(retain_graph=True)
    after = dot_of(y, params={"x": x}, show_grads=True)
    assert after.lines(after.named("x"))[-1] == "grad min 2 mean 3 max 4"


def test_several_roots_are_drawn_as_numbered_outputs_sharing_their_graph():
    x = mt.tensor([1.0], requires_grad=True)
    h = x.exp()
    d = dot_of(h * 2, h + 1, params={"x": x})
    assert d.heads() == ["add(·, 1)", "exp", "mul(·, 2)", "output 0", "output 1", "x"]


def test_a_leaf_root_is_drawn_as_a_leaf_under_its_output_name():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = dot_of(x, x * 2)
    assert d.heads() == ["mul(·, 2)", "output 0", "output 1"]
    assert d.nodes[d.named("output 0")]["shape"] == "box"
    assert d.edge_names() == [("mul(·, 2)", "output 1"), ("output 0", "mul(·, 2)")]


def test_a_custom_function_is_drawn_under_its_class_name():
    class Cube(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = dot_of(Cube.apply(x).sum(), params={"x": x})
    cube = d.named("Cube")
    assert d.nodes[cube]["shape"] == "hexagon"
    assert d.nodes[cube]["fillcolor"] != d.nodes[d.named("sum")]["fillcolor"]
    assert d.edge_names() == [("Cube", "sum"), ("sum", "output"), ("x", "Cube")]


# ---------------------------------------------------------------- NaN and inf
def test_a_nan_made_in_the_forward_pass_is_red_on_the_op_that_made_it():
    x = mt.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = (x.log() * 2).sum()
    d = dot_of(out, params={"x": x})
    red = {d.lines(n)[0] for n in d.nodes if d.nodes[n].get("fillcolor") == "#f8cecc"}
    assert red == {"log", "mul(·, 2)", "sum", "output"}
    log = d.nodes[d.named("log")]
    assert log["penwidth"] == "3" and "NaN/inf first appears here" in log["label"]
    assert "1 NaN" in log["label"]
    assert "penwidth" not in d.nodes[d.named("mul(·, 2)")]


def test_an_inf_in_a_leaf_is_red_and_counted():
    x = mt.tensor([1.0, np.inf], requires_grad=True)
    d = dot_of(x * 1.5, params={"x": x})
    assert d.nodes[d.named("x")]["fillcolor"] == "#f8cecc"
    assert "1 inf" in d.lines(d.named("x"))
    assert "penwidth" not in d.nodes[d.named("mul(·, 1.5)")]  # it came in, not made here


def test_a_nan_inside_a_folded_module_makes_its_node_red_and_names_the_op():
    class Log(nn.Module):
        def forward(self, x):
            return x.log()

    net = nn.Sequential(nn.Identity(), Log())
    with np.errstate(invalid="ignore"):
        d = dot_of(net, mt.tensor([[1.0, -1.0]]), collapse="fold")
    folded = d.nodes[d.named("1: Log")]
    assert folded["fillcolor"] == "#f8cecc" and folded["penwidth"] == "3"
    assert "NaN/inf first appears in log" in folded["label"]
    assert d.nodes[d.named("input")]["fillcolor"] != "#f8cecc"


# ---------------------------------------------------------------- collapse, max_nodes
def test_collapse_cluster_draws_one_cluster_per_layer_named_after_it():
    net = _ten_layers()
    d = dot_of(net, mt.zeros(1, 3), collapse="cluster")
    assert [c["label"] for c in d.clusters] == [f"{i}: Linear" for i in range(10)]
    for i, c in enumerate(d.clusters):
        assert sorted(d.lines(n)[0] for n in c["nodes"]) == [f"{i}.bias", f"{i}.weight", "linear"]
    assert "input" not in [d.lines(n)[0] for c in d.clusters for n in c["nodes"]]


def test_collapse_fold_draws_one_node_per_layer_and_hides_its_parameters():
    d = dot_of(_ten_layers(), mt.zeros(1, 3), collapse="fold")
    folded = [n for n in d.nodes if d.nodes[n]["shape"] == "box3d"]
    assert [d.lines(n) for n in folded] == [
        [f"{i}: Linear", "(1, 3)", "1 op, 12 parameters"] for i in range(10)
    ]
    assert d.heads() == sorted(["input", "output"] + [f"{i}: Linear" for i in range(10)])
    chain = ["input"] + [f"{i}: Linear" for i in range(10)] + ["output"]
    assert d.edge_names() == sorted(zip(chain, chain[1:]))


def test_each_call_of_a_shared_module_gets_its_own_cluster():
    from models import ConvNet

    d = dot_of(ConvNet((1, 8, 8)), mt.zeros(1, 1, 8, 8), collapse="cluster")
    labels = [c["label"] for c in d.clusters]
    assert labels == [
        "conv1: Conv2d",
        "act: ReLU",
        "conv2: Conv2d",
        "conv2_drop: Dropout",
        "act: ReLU",
        "fc1: Linear",
        "act: ReLU",
        "drop: Dropout",
        "fc2: Linear",
    ]
    assert d.lines(d.named("input")) == ["input", "(1, 1, 8, 8)"]


def test_nested_modules_draw_nested_clusters():
    block = lambda: nn.Sequential(nn.Linear(2, 2), nn.Tanh())  # noqa: E731
    net = nn.Sequential(block(), block())
    d = dot_of(net, mt.zeros(1, 2), collapse="cluster")
    assert [(c["label"], c["parent"]) for c in d.clusters] == [
        ("0: Sequential", None),
        ("0.0: Linear", "0: Sequential"),
        ("0.1: Tanh", "0: Sequential"),
        ("1: Sequential", None),
        ("1.0: Linear", "1: Sequential"),
        ("1.1: Tanh", "1: Sequential"),
    ]


def test_max_nodes_folds_the_deepest_modules_first_and_says_so():
    block = lambda: nn.Sequential(nn.Linear(2, 2), nn.Tanh())  # noqa: E731
    net = nn.Sequential(*[block() for _ in range(5)])
    full = dot_of(net, mt.zeros(1, 2), collapse="cluster")
    assert len(full.nodes) == 1 + 5 * 4 + 1
    d = dot_of(net, mt.zeros(1, 2), collapse="cluster", max_nodes=15)
    assert len(d.nodes) <= 15
    folded = sorted(d.lines(n)[0] for n in d.nodes if d.nodes[n]["shape"] == "box3d")
    assert folded == sorted(
        [f"{i}.0: Linear" for i in range(5)] + [f"{i}.1: Tanh" for i in range(5)]
    )
    assert [c["label"] for c in d.clusters] == [f"{i}: Sequential" for i in range(5)]
    assert "max_nodes=15" in d.label() and "depth 2" in d.label()
    shallow = dot_of(net, mt.zeros(1, 2), max_nodes=8)
    assert len(shallow.nodes) == 7 and "depth 1" in shallow.label()


def test_max_nodes_keeps_the_nodes_nearest_the_outputs_when_nothing_folds():
    x = mt.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(50):
        y = y.tanh()
    d = dot_of(y, params={"x": x}, max_nodes=10)
    assert len(d.nodes) == 10
    assert "output" in d.heads() and "x" not in d.heads()
    more = d.named("... 43 more nodes not drawn")
    assert [h for t, h, _ in d.edges if t == more] != []
    assert "43 nodes farthest from the outputs not drawn (max_nodes=10)" in d.label()


def test_collapse_of_tensor_roots_uses_the_scopes_trace_modules_recorded():
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    with viz.trace_modules(net) as scopes:
        loss = (net(mt.ones(1, 2)) ** 2).mean()
    d = dot_of(loss, scopes=scopes, collapse="cluster")
    assert [(c["label"], c["parent"]) for c in d.clusters] == [
        ("Sequential", None),
        ("0: Linear", "Sequential"),
        ("1: Tanh", "Sequential"),
    ]
    outside = {d.lines(n)[0] for n in d.nodes} - {
        d.lines(n)[0] for c in d.clusters for n in c["nodes"]
    }
    assert outside == {"pow(·, 2)", "mean", "output", "(1, 2)"}  # the loss, the input
    with pytest.raises(ValueError, match="trace_modules"):
        viz.to_dot(loss, collapse="cluster")


def test_modules_pay_nothing_outside_trace_modules_even_after_an_error():
    class Broken(nn.Module):
        def forward(self, x):
            raise ArithmeticError("inside forward")

    with pytest.raises(ArithmeticError), viz.trace_modules():
        Broken()(mt.zeros(1))
    assert nn.module._call_hook is None


# ---------------------------------------------------------------- the graph is untouched
def test_drawing_changes_neither_the_graph_nor_the_gradients():
    def run(draw):
        mt.manual_seed(1)
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Dropout(0.5), nn.Linear(4, 1))
        x = mt.randn(5, 3)
        loss = (net(x) ** 2).mean()
        if draw:
            for options in ({}, {"show_values": True, "show_grads": True}, {"max_nodes": 4}):
                viz.to_dot(loss, params=net, **options)
                viz.to_dot(net, x, collapse="fold", **options)
        loss.backward()
        return [p.grad.numpy(force=True).copy() for p in net.parameters()], mt.randn(3).numpy(
            force=True
        )

    (grads, after), (grads_drawn, after_drawn) = run(False), run(True)
    for g, h in zip(grads, grads_drawn):
        np.testing.assert_array_equal(g, h)
    np.testing.assert_array_equal(after, after_drawn)  # dropout's draw left no trace


def test_a_graph_after_backward_is_drawn_whole():
    x = mt.tensor([1.0], requires_grad=True)
    y = (x * 3).sin()
    y.backward(mt.ones(1))
    d = dot_of(y, params={"x": x})
    assert d.edge_names() == [("mul(·, 3)", "sin"), ("sin", "output"), ("x", "mul(·, 3)")]
    assert "freed" not in d.label() and "retain_graph" not in d.label()


def test_show_grads_after_backward_shows_the_gradients_on_the_whole_graph():
    x = mt.tensor([0.5, 2.0], requires_grad=True)
    w = mt.tensor([3.0, -1.0], requires_grad=True)
    loss = (x * w).tanh().sum()
    loss.backward()
    d = dot_of(loss, params={"x": x, "w": w}, show_grads=True)
    assert d.edge_names() == [
        ("mul", "tanh"),
        ("sum", "output"),
        ("tanh", "sum"),
        ("w", "mul"),
        ("x", "mul"),
    ]
    assert any(line.startswith("grad") for line in d.lines(d.named("x")))


def test_a_graph_after_backward_keeps_no_input_without_grad_alive():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    data = mt.tensor([3.0, 4.0])
    y = (x * data).sum()
    y.backward()
    gone = weakref.ref(data)
    del data
    assert gone() is None
    d = dot_of(y, params={"x": x})
    assert d.named("mul(·, freed)") and d.lines(d.named("mul(·, freed)"))[-1] == (
        "an input freed by backward"
    )
    assert "retain_graph=True" in d.label()


# ---------------------------------------------------------------- backward graphs
def test_backward_true_draws_the_ops_create_graph_recorded_for_the_gradients():
    x = mt.tensor([0.5, 1.0], requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    y.backward(create_graph=True)
    d = dot_of(y, backward=True, params={"x": x})
    assert d.named("grad of x") in {h for _, h, _ in d.edges}
    reused = {d.lines(n)[0] for n in d.nodes if d.nodes[n].get("style") == "dashed"}
    assert reused == {"exp"}  # the forward op whose output the gradient reads
    new_ops = [
        n for n in d.nodes if d.nodes[n]["shape"] == "ellipse" and d.nodes[n]["style"] != "dashed"
    ]
    assert len(new_ops) >= 2 and "backward graph" in d.label()


def test_backward_true_without_create_graph_says_what_to_do():
    x = mt.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    with pytest.raises(ValueError, match="create_graph=True"):
        viz.to_dot(y, backward=True)


def test_autograd_grad_results_draw_as_ordinary_roots():
    x = mt.tensor(2.0, requires_grad=True)
    (dx,) = mt.autograd.grad(x**3, x, create_graph=True)
    d = dot_of(dx, params={"x": x})
    assert "x" in d.heads() and d.named("output") in {h for _, h, _ in d.edges}
    assert len([n for n in d.nodes if d.nodes[n]["shape"] == "ellipse"]) >= 2


# ---------------------------------------------------------------- the graphviz object
def test_draw_graph_is_a_digraph_with_the_to_dot_text_and_tensor_draw_delegates():
    import graphviz

    x = mt.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    g = viz.draw_graph(y, show_values=True)
    assert isinstance(g, graphviz.Digraph)
    assert g.source == viz.to_dot(y, show_values=True) == y.draw(show_values=True).source


def test_bad_options_are_refused_with_the_allowed_values():
    x = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="'cluster' or 'fold'"):
        viz.to_dot(x * 2, collapse="yes")
    with pytest.raises(ValueError, match="'LR' or 'TB'"):
        viz.to_dot(x * 2, direction="up")
    with pytest.raises(TypeError, match="root 0 is a list"):
        viz.to_dot([x])


@needs_dot
def test_render_to_svg_gives_xml_with_a_node_for_each_op(tmp_path):
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    g = viz.draw_graph(net, mt.zeros(1, 2), collapse="cluster")
    path = g.render(outfile=tmp_path / "g.svg")
    assert Path(path).exists() and (tmp_path / "g.dot").read_text() == g.source
    svg = ET.parse(path).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    titles = {n.find("s:title", ns).text for n in svg.iterfind(".//s:g[@class='node']", ns)}
    ops = [n for n, a in Dot(g.source).nodes.items() if a["shape"] == "ellipse"]
    assert len(ops) == 3 and set(ops) <= titles
    texts = {t.text for t in svg.iterfind(".//s:text", ns)}
    assert {"linear", "tanh", "0: Linear"} <= texts


@needs_dot
def test_render_to_png_gives_a_png_of_plausible_size(tmp_path):
    x = mt.tensor([1.0], requires_grad=True)
    path = Path(viz.draw_graph((x * 2).sin()).render(outfile=tmp_path / "g.png"))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 50 < width < 2000 and 100 < height < 2000 and len(data) > 1000


def test_without_dot_render_says_how_to_install_it_and_writes_the_dot_text(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x = mt.tensor([1.0], requires_grad=True)
    g = viz.draw_graph(x * 2)
    with pytest.raises(viz.DotNotFoundError) as info:
        g.render(outfile=tmp_path / "out.svg")
    message = str(info.value)
    for hint in (
        "apt-get install graphviz",
        "brew install graphviz",
        "conda install graphviz",
        str(tmp_path / "out.dot"),
    ):
        assert hint in message
    assert (tmp_path / "out.dot").read_text() == g.source
    assert not (tmp_path / "out.svg").exists()
    bundle = g._repr_mimebundle_()  # what Jupyter shows instead of a traceback
    assert "apt-get install graphviz" in bundle["text/plain"] and g.source in bundle["text/plain"]


# ---------------------------------------------------------------- no command here
def test_python_m_microtensor_viz_points_to_the_graph_command(tmp_path):
    """Drawing a network of models/ is `microtensor graph` (tests/test_cli.py); the engine's
    viz module only says so, and exits non-zero rather than do nothing."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "microtensor.viz",
            "--model",
            "mlp",
            "--out",
            str(tmp_path / "g.dot"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "`microtensor graph`" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
