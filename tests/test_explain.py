"""autograd.explain: the backward pass step by step. The key check: on report 004's 2-3-1
sigmoid network the trace shows, step by step, the deltas and weight gradients the report
derives by hand (its formulas are written out in numpy below, not taken from
microtensor)."""

import re

import numpy as np
import pytest

import microtensor as mt
from microtensor import autograd, viz
from microtensor.autograd.backward import _explaining
from models.experiments.reproduce.report_004 import B1, B2, REPORT_OUTPUT, W1, W2, X0

F64 = mt.float64


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _report_004_by_hand(y=1.0):
    """Report 004, Q1.1 and Q1.2, in numpy: w_ij goes from node i to node j, so
    z = a @ w + b; L = 1/2 (y - a2)^2."""
    a0, w1, b1, w2, b2 = (np.array(v) for v in (X0, W1, B1, W2, B2))
    z1 = a0 @ w1 + b1
    a1 = _sigmoid(z1)
    z2 = a1 @ w2 + b2
    a2 = _sigmoid(z2)
    eta = (a2 - y) * a2 * (1 - a2)  # delta of the output layer (the report's eta)
    delta1 = (w2 @ eta) * a1 * (1 - a1)  # w2 . eta (.) f1'(z1): delta of the hidden layer
    return {
        "a1": a1,
        "a2": a2,
        "dL/da2": a2 - y,
        "eta": eta,
        "dW2": np.outer(a1, eta),
        "db2": eta,
        "dL/da1": w2 @ eta,
        "delta1": delta1,
        "dW1": np.outer(a0, delta1),
        "db1": delta1,
    }


def _report_004_traced():
    """The network as the report writes it, run inside explain(); returns what it made."""
    x = mt.tensor([X0], dtype=F64)
    y = mt.tensor([[1.0]], dtype=F64)
    w1 = mt.tensor(W1, dtype=F64, requires_grad=True)
    b1 = mt.tensor(B1, dtype=F64, requires_grad=True)
    w2 = mt.tensor(W2, dtype=F64, requires_grad=True)
    b2 = mt.tensor(B2, dtype=F64, requires_grad=True)
    with autograd.explain() as trace:
        z1 = x @ w1 + b1
        a1 = z1.sigmoid()
        z2 = a1 @ w2 + b2
        a2 = z2.sigmoid()
        loss = 0.5 * ((y - a2) ** 2).sum()
        loss.backward(retain_graph=True)
    return trace, {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "a2": a2, "loss": loss}


@pytest.fixture(scope="module")
def report_004():
    return _report_004_traced()


def _step(trace, op, line):
    (s,) = [s for s in trace.steps if s.op == op and line in (s.line or "")]
    return s


def _sent(step, to):
    (g,) = [g for g in step.grads if g.to == to]
    return g


def test_report_004_forward_pass_is_the_reports_0_8221(report_004):
    _, t = report_004
    assert round(float(t["a2"].item()), 4) == float(REPORT_OUTPUT)
    assert round(float(_report_004_by_hand()["a2"][0]), 4) == float(REPORT_OUTPUT)


def test_report_004_steps_run_from_the_loss_back_to_the_first_layer(report_004):
    trace, _ = report_004
    assert [s.op for s in trace.steps] == [
        "MulBackward0",
        "SumBackward0",
        "PowBackward0",
        "SubBackward0",
        "SigmoidBackward0",
        "AddBackward0",
        "MmBackward0",
        "SigmoidBackward0",
        "AddBackward0",
        "MmBackward0",
    ]
    assert [s.index for s in trace.steps] == list(range(1, 11))
    codes = [s.line.rsplit(": ", 1)[1] for s in trace.steps]
    assert codes == ["loss = 0.5 * ((y - a2) ** 2).sum()"] * 4 + [
        "a2 = z2.sigmoid()",
        "z2 = a1 @ w2 + b2",
        "z2 = a1 @ w2 + b2",
        "a1 = z1.sigmoid()",
        "z1 = x @ w1 + b1",
        "z1 = x @ w1 + b1",
    ]
    assert all(s.line.split(":")[0].endswith("test_explain.py") for s in trace.steps)


# (op, line that made it, input the gradient went to, the report's quantity, its shape)
REPORT_004_STEPS = [
    ("SubBackward0", "loss =", "a2", "dL/da2", (1, 1)),
    ("SigmoidBackward0", "a2 =", "z2", "eta", (1, 1)),  # the output layer's delta
    ("AddBackward0", "z2 =", "b2", "db2", (1,)),
    ("MmBackward0", "z2 =", "w2", "dW2", (3, 1)),
    ("MmBackward0", "z2 =", "a1", "dL/da1", (1, 3)),
    ("SigmoidBackward0", "a1 =", "z1", "delta1", (1, 3)),  # the hidden layer's deltas
    ("AddBackward0", "z1 =", "b1", "db1", (3,)),
    ("MmBackward0", "z1 =", "w1", "dW1", (2, 3)),
]


@pytest.mark.parametrize(
    "op, line, to, quantity, shape", REPORT_004_STEPS, ids=[row[3] for row in REPORT_004_STEPS]
)
def test_report_004_each_delta_and_weight_gradient_is_the_reports(
    report_004, op, line, to, quantity, shape
):
    trace, _ = report_004
    sent = _sent(_step(trace, op, line), to)
    assert sent.value.shape == sent.shape == shape
    np.testing.assert_allclose(
        sent.value, _report_004_by_hand()[quantity].reshape(shape), rtol=1e-12
    )


def test_report_004_steps_receive_what_the_step_before_sent(report_004):
    trace, _ = report_004
    hand = _report_004_by_hand()
    sig = _step(trace, "SigmoidBackward0", "a2 =")
    assert sig.outputs == ["a2"]
    np.testing.assert_allclose(sig.grad_output, [hand["dL/da2"]], rtol=1e-12)
    mm = _step(trace, "MmBackward0", "z1 =")
    np.testing.assert_allclose(mm.grad_output, [hand["delta1"]], rtol=1e-12)
    assert [g.to for g in mm.grads] == ["w1"]  # x needs no gradient
    assert (mm.input_shapes, mm.output_shape) == ([(1, 2), (2, 3)], (1, 3))


def test_report_004_bias_gradients_show_where_broadcasting_was_summed(report_004):
    trace, _ = report_004
    summed = {
        g.to: (g.summed_from, g.shape)
        for s in trace.steps
        for g in s.grads
        if g.summed_from is not None
    }
    assert summed == {"b2": ((1, 1), (1,)), "b1": ((1, 3), (3,))}


def test_report_004_leaves_hold_the_same_gradients_as_backward_gives(report_004):
    _, t = report_004
    hand = _report_004_by_hand()
    for name, quantity in {"w1": "dW1", "b1": "db1", "w2": "dW2", "b2": "db2"}.items():
        np.testing.assert_allclose(t[name].grad.numpy(), hand[quantity], rtol=1e-12)


def test_report_004_table_shows_each_delta_on_the_line_that_made_it(report_004):
    trace, _ = report_004
    hand = _report_004_by_hand()
    text = str(trace)
    row = next(line for line in text.splitlines() if "a1 = z1.sigmoid()" in line)
    assert "SigmoidBackward0" in row and "test_explain.py:" in row
    assert "z1: [[" + ", ".join(f"{v:.4g}" for v in hand["delta1"]) + "]]" in row
    assert f"b2: [{hand['db2'][0]:.4g}]  (broadcast summed (1, 1) -> (1,))" in text
    assert text.splitlines()[0].split() == [
        "#",
        "op",
        "line",
        "shapes",
        "in",
        "->",
        "out",
        "grad_output",
        "gradients",
        "sent",
    ]


def test_trace_renders_as_an_html_table_with_one_row_per_step(report_004):
    trace, _ = report_004
    page = trace._repr_html_()
    assert page.startswith("<table>") and page.count("<tr>") == 1 + len(trace.steps)
    assert "loss = 0.5 * ((y - a2) ** 2).sum()" in page
    assert "&gt;" in page and " -> " not in page  # escaped


def test_draw_graph_labels_each_edge_with_the_gradient_it_carried(report_004):
    trace, t = report_004
    hand = _report_004_by_hand()
    dot = viz.to_dot(t["loss"], trace=trace, params={"w2": t["w2"], "b1": t["b1"]})
    nodes = re.finditer(r'^\t(\w+) \[.*label="(\w+)\\n', dot, re.MULTILINE)
    ids = {m[2]: m[1] for m in nodes}
    edges = re.finditer(r'^\t(\w+) -> (\w+) \[label="([^"]*)"\]', dot, re.MULTILINE)
    labels = {(m[1], m[2]): m[3] for m in edges}
    (w2_edge,) = [v for (tail, _), v in labels.items() if tail == ids["w2"]]
    assert w2_edge == "grad [[" + "], [".join(f"{v:.4g}" for v in hand["dW2"][:, 0]) + "]]"
    (b1_edge,) = [v for (tail, _), v in labels.items() if tail == ids["b1"]]
    assert b1_edge == "grad [" + ", ".join(f"{v:.4g}" for v in hand["db1"]) + "]"
    assert len(labels) == 13  # every edge a gradient went along (x's and y's carry none)
    assert f'label="{w2_edge}"' in viz.draw_graph(t["loss"], trace=trace).source


def test_explain_of_a_built_graph_runs_backward_with_lines_unknown():
    w = mt.tensor([2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    trace = autograd.explain(loss, retain_graph=True)
    assert [s.line for s in trace.steps] == [None, None]
    assert "?" in str(trace).splitlines()[1]
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 6.0])
    autograd.explain(loss)  # gradients accumulate, as with backward()
    np.testing.assert_array_equal(w.grad.numpy(), [8.0, 12.0])
    with pytest.raises(RuntimeError, match="a second time"):
        autograd.explain(loss)


def test_explain_names_module_parameters_by_their_dotted_names():
    layer = mt.nn.Linear(3, 2)
    x = mt.ones(4, 3)
    with autograd.explain() as trace:
        layer(x).sum().backward()
    sent = {g.to for s in trace.steps for g in s.grads}
    assert {"layer.weight", "layer.bias"} <= sent


def test_large_gradients_are_summarised_by_shape_min_mean_max_and_norm():
    w = mt.tensor(np.arange(20.0).reshape(4, 5), requires_grad=True)
    with autograd.explain() as trace:
        (w * w).sum().backward()
    g = np.arange(20.0)  # d(w*w)/d(each input) is the other one: w, sent twice
    expected = (
        f"w: (4, 5) min {g.min():.4g} mean {g.mean():.4g} max {g.max():.4g} "
        f"norm {np.linalg.norm(g):.4g}"
    )
    assert expected in str(trace)
    assert str(trace).count(expected) == 2
    np.testing.assert_array_equal(trace.steps[-1].grads[1].value, g.reshape(4, 5))
    np.testing.assert_array_equal(w.grad.numpy(), 2 * g.reshape(4, 5))


def test_recorded_gradients_are_copies_that_later_backward_calls_leave_alone():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    with autograd.explain() as trace:
        loss = (w * 3).sum()
        loss.backward(retain_graph=True)
    loss.backward()  # adds into w.grad in place
    np.testing.assert_array_equal(trace.steps[-1].grads[0].value, [3.0, 3.0])
    assert len(trace.steps) == 2  # the backward after the block was not recorded


def test_outside_the_block_ops_record_no_line_and_backward_no_steps():
    x = mt.tensor([1.0], requires_grad=True)
    with autograd.explain() as trace:
        inside = x * 2
    outside = x * 2
    assert "inside = x * 2" in inside.grad_fn.trace
    assert outside.grad_fn.trace is None and not autograd.is_anomaly_enabled()
    assert _explaining.get() is None
    assert len(trace) == 0


def test_multi_output_ops_show_the_gradient_of_each_output():
    q = mt.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with autograd.explain() as trace:
        u, v = q.unbind(0)
        (u * v).sum().backward()
    last = trace.steps[-1]
    assert last.op == "UnbindBackward0" and last.outputs == ["u", "v"]
    np.testing.assert_array_equal(last.grad_output[0], [3.0, 4.0, 5.0])  # d(u.v)/du = v
    np.testing.assert_array_equal(last.grad_output[1], [0.0, 1.0, 2.0])
    assert last.output_shape == [(3,), (3,)]


def test_grad_under_create_graph_is_recorded_as_arrays():
    x = mt.tensor(3.0, requires_grad=True)
    with autograd.explain() as trace:
        (dx,) = autograd.grad(x**3, x, create_graph=True)
    assert [s.op for s in trace.steps] == ["PowBackward0"]
    assert isinstance(trace.steps[0].grads[0].value, np.ndarray)
    assert float(trace.steps[0].grads[0].value) == 27.0 == float(dx)


def test_a_nan_gradient_inside_the_block_raises_as_in_anomaly_mode_and_keeps_the_steps():
    x = mt.tensor([0.0], requires_grad=True)
    with (
        pytest.raises(RuntimeError, match="backward of sqrt produced NaN or inf"),
        autograd.explain() as trace,
        np.errstate(divide="ignore"),
    ):
        x.sqrt().sum().backward()
    assert trace.steps[-1].op == "SqrtBackward0"
    assert np.isinf(trace.steps[-1].grads[0].value).all()


def test_retain_graph_needs_a_loss():
    with pytest.raises(TypeError, match="explain: retain_graph"):
        autograd.explain(retain_graph=True)


def test_a_module_class_among_the_callers_names_is_not_taken_for_a_module():
    Linear = mt.nn.Linear  # noqa: F841  (a class with named_parameters, in the caller's locals)
    w = mt.tensor([2.0], requires_grad=True)
    with mt.autograd.explain() as trace:
        (w * 3.0).sum().backward()
    assert w.grad.tolist() == [3.0] and len(trace.steps) == 2
