"""Report-time views of tidy results, one module per kind of reading: :mod:`~ganzoo.report.tables`,
:mod:`~ganzoo.report.comparisons`, :mod:`~ganzoo.report.published`, :mod:`~ganzoo.report.sweeps` and
:mod:`~ganzoo.report.plots`.

Results stay long (one row per run x point x metric) on disk; every view is built from them with pandas at
report time. The names below are the readings' public names, for ``from ganzoo import report``.
"""

from __future__ import annotations

from ganzoo.report.comparisons import NotComparable, Welch, check_comparable, compare, welch
from ganzoo.report.plots import plot, plot_sweep
from ganzoo.report.published import Verdict, equivalence, published, published_display
from ganzoo.report.sweeps import best_of_k, sweep_best, sweep_finals, sweep_headline, sweep_record
from ganzoo.report.tables import (
    GROUP,
    MEASURES,
    NOT_SCORES,
    budget_measure,
    cell,
    display,
    is_score,
    load_many,
    metric_directions,
    notes,
    paper_table,
    per_run,
    run_info,
    shown_name,
    shown_scale,
    summary_wide,
    table,
    to_latex,
    to_markdown,
    unfinished,
)

__all__ = [
    "NOT_SCORES",
    "MEASURES",
    "GROUP",
    "is_score",
    "metric_directions",
    "load_many",
    "notes",
    "unfinished",
    "budget_measure",
    "run_info",
    "per_run",
    "table",
    "cell",
    "display",
    "summary_wide",
    "paper_table",
    "shown_name",
    "shown_scale",
    "published",
    "equivalence",
    "Verdict",
    "published_display",
    "to_markdown",
    "to_latex",
    "NotComparable",
    "check_comparable",
    "Welch",
    "welch",
    "compare",
    "plot",
    "sweep_record",
    "sweep_finals",
    "sweep_headline",
    "sweep_best",
    "best_of_k",
    "plot_sweep",
]
