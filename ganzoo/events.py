"""What a running bench tells whoever shows it. The runner only reports (through one ``on_event``
callback) and returns what it did; the CLI decides how each event looks on a terminal
(:mod:`ganzoo.display`), and a notebook or another program can take the same events.

Plain data, no torch: a display imports it without loading the training stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


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
