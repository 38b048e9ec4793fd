"""Re-run the experiments of the five reports in shared/seeds/ and put our numbers beside
theirs: `reproduce("000", out)` writes out/results.json, out/figures/*.png and
out/report.md; `reproduce_all(out)` does every report under out/000 ... out/004 plus a
combined out/report.md and out/results.json. `fast=True` is the reduced version the test
suite runs (fewer epochs, fewer sweep points).

One module per report (report_000 ... report_004), each with TITLE, SOURCE and
run(ctx); `common` holds the run context, the writers and the shared training recipes.
REPRODUCTION.md, beside them, is the full run's report.md with what each difference means.
"""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

from ...training import blas_single_thread
from .common import VERDICTS, Reproduction, markdown

__all__ = ["REPORTS", "reproduce", "reproduce_all"]

REPORTS = ("000", "001", "002", "003", "004")


def reproduce(
    report: str, out: str | Path, *, fast: bool = False, progress: bool = False, echo: bool = False
) -> dict:
    """Run one report's experiments and write its results under `out`; return the
    results dict (what results.json holds)."""
    if report not in REPORTS:
        raise ValueError(f"reproduce: unknown report {report!r}; choose from {list(REPORTS)}")
    module = importlib.import_module(f".report_{report}", __name__)
    ctx = Reproduction(
        report, module.TITLE, module.SOURCE, Path(out), fast=fast, progress=progress, echo=echo
    )
    with blas_single_thread():
        module.run(ctx)
    return ctx.write()


def reproduce_all(
    out: str | Path, *, fast: bool = False, progress: bool = False, echo: bool = False
) -> dict:
    """Every report, each under out/<id>/, then out/report.md (a summary table and every
    report's section) and out/results.json ({"reports": {id: results}})."""
    out = Path(out)
    start = time.perf_counter()
    results = {}
    for report in REPORTS:
        results[report] = reproduce(report, out / report, fast=fast, progress=progress, echo=echo)
    seconds = round(time.perf_counter() - start, 1)
    combined = {"scale": "fast" if fast else "full", "seconds": seconds, "reports": results}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(combined, indent=2) + "\n")
    lines = [
        "# microtensor: the five reports, reproduced",
        "",
        f"Scale: {combined['scale']}. All five ran in {seconds} s. Each report's own "
        f"files are in its folder (`000/report.md`, `000/results.json`, "
        f"`000/figures/`, ...).",
        "",
        "| report | title | " + " | ".join(VERDICTS) + " | seconds |",
        "| --- | --- | " + " | ".join("---" for _ in VERDICTS) + " | --- |",
    ]
    for report, r in results.items():
        counts = " | ".join(str(r["summary"][v]) for v in VERDICTS)
        lines.append(
            f"| [{report}]({report}/report.md) | {r['title']} | {counts} | {r['seconds']} |"
        )
    lines.append("")
    for report, r in results.items():
        lines += [markdown(r, figure_prefix=f"{report}/", level=2), ""]
    (out / "report.md").write_text("\n".join(lines))
    return combined
