"""The two event vocabularies of a bench, both typed.

- Trial events (:data:`TrialEvent`): what a trial, wherever it runs (this process, a pool worker, a Ray
  task), sends back to the driver: its result rows, its changed files, its progress, its end. Every executor
  speaks them; :class:`ganzoo.executor.Driver` and the runner take them.
- Bench events (:data:`BenchEvent`): what a running bench tells whoever shows it. The runner only reports
  (through one ``on_event`` callback) and returns what it did; the CLI decides how each event looks on a
  terminal (:mod:`ganzoo.display`), and a notebook or another program can take the same events.

Plain data, no torch: a display imports it without loading the training stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# -- trial -> driver --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowsWritten:
    """Result rows of one trial (``ganzoo.results.Row``): an evaluation point's, or its final status row."""

    run_id: str
    rows: list[Any]

    @property
    def final(self) -> bool:
        """Whether these rows end the trial: a status row that is not an interruption's."""
        return any(r.metric == "status" and not r.detail.startswith("interrupted") for r in self.rows)


@dataclass(frozen=True)
class FilesChanged:
    """Files of one trial's folder, by path inside it, that changed (None: the file is gone)."""

    run_id: str
    files: dict[str, bytes | None]


@dataclass(frozen=True)
class StepsDone:
    """How far a trial is (``ganzoo.budget.Spent``) and its latest step's losses."""

    run_id: str
    spent: Any
    losses: dict[str, float]


@dataclass(frozen=True)
class TrialEnded:
    """A trial's outcome (``ganzoo.trial.TrialResult``), sent last."""

    run_id: str
    result: Any


TrialEvent = RowsWritten | FilesChanged | StepsDone | TrialEnded

# -- bench -> display -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A line for the user. ``level``: ``info`` (what the bench does), ``note`` (recorded, for the curious)
    or ``warning`` (something the user should know: an override, a metric left out)."""

    text: str
    level: str = "info"


@dataclass(frozen=True)
class TrialLine:
    run_id: str
    label: str  # variant/divergence seed N
    finished_before: bool = False  # a resumed bench's trial that needs no more work


@dataclass(frozen=True)
class TrialsStarting:
    """The bench's trials, in order, as they are handed to the executor."""

    trials: list[TrialLine]
    budget_left: str  # what a trial that has not started has left, e.g. "2000 steps left"
    executor: str = ""  # how they run when several at a time or elsewhere, e.g. "local pool: 2 trial(s) at a time"
    headline: str = ""  # the metric a live line shows (the first of the bench's summary metrics)


@dataclass(frozen=True)
class TrialProgress:
    run_id: str
    fraction: float  # of the budget
    step: int
    left: str  # of the budget, in its own measure
    losses: dict[str, float]  # the latest step's losses: loss_d, loss_g


@dataclass(frozen=True)
class TrialScored:
    """A trial's values at one evaluation point (scores, losses and the divergence estimate)."""

    run_id: str
    step: int
    values: dict[str, float]


@dataclass(frozen=True)
class TrialDone:
    run_id: str
    status: str  # ok | failed | interrupted
    error: str = ""


@dataclass(frozen=True)
class BenchFinished:
    """The bench ended (finished or interrupted); everything it wrote is in place."""

    status: str
    trials: dict[str, str] = field(default_factory=dict)  # run_id -> status


BenchEvent = Message | TrialsStarting | TrialProgress | TrialScored | TrialDone | BenchFinished
OnEvent = Callable[[BenchEvent], None]
