"""A running bench on the terminal: the runner's events (:mod:`ganzoo.events`) as rich lines, and one live line
per trial (progress through its budget, steps per second, time left, the latest headline metric). Only the CLI
uses it; the runner itself prints nothing."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

from ganzoo.events import BenchEvent, BenchFinished, Message, TrialDone, TrialProgress, TrialScored, TrialsStarting

STYLE = {"info": "", "note": "dim", "warning": "yellow"}


class BenchDisplay:
    """Call it with each event; :meth:`close` (or the bench's end) stops the live lines."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.labels: dict[str, str] = {}
        self.headline = ""
        self.last: dict[str, tuple[float, int]] = {}  # run_id -> (wall time, step) at its last progress event
        self.rate: dict[str, float] = {}

    def __call__(self, event: BenchEvent) -> None:
        if isinstance(event, Message):
            # a message quotes user and plugin text (a preset's protocol, a reason): shown as text, never as markup
            # a warning names what the user must find (a file, a value): never broken by rich, the terminal wraps it
            soft = event.level == "warning"
            self.console.print(Text(event.text, style=STYLE.get(event.level, "")), highlight=False, soft_wrap=soft)
        elif isinstance(event, TrialsStarting):
            self._start(event)
        elif isinstance(event, TrialProgress) and self.progress is not None:
            self.progress.update(
                self.tasks[event.run_id], completed=event.fraction, step=event.step, rate=self._rate(event)
            )
        elif isinstance(event, TrialScored) and self.progress is not None and self.headline in event.values:
            self.progress.update(
                self.tasks[event.run_id], headline=f"{self.headline} {event.values[self.headline]:.4g}"
            )
        elif isinstance(event, TrialDone) and self.progress is not None and event.status != "ok":
            colour = "red" if event.status == "failed" else "yellow"
            self.progress.update(
                self.tasks[event.run_id],
                description=f"[{colour}]{escape(self.labels[event.run_id])} {event.status}",
                headline=escape(event.error[:30]),
            )
        elif isinstance(event, BenchFinished):
            self.close()

    def _rate(self, event: TrialProgress) -> str:
        """Steps per second over the wall time between two progress events, smoothed."""
        now = time.monotonic()
        before = self.last.get(event.run_id)
        self.last[event.run_id] = (now, event.step)
        if before is not None and now > before[0] and event.step > before[1]:
            rate = (event.step - before[1]) / (now - before[0])
            self.rate[event.run_id] = (
                rate if event.run_id not in self.rate else 0.7 * self.rate[event.run_id] + 0.3 * rate
            )
        return f"{self.rate[event.run_id]:.1f} st/s" if event.run_id in self.rate else ""

    def _start(self, event: TrialsStarting) -> None:
        if event.executor:
            self.console.print(event.executor)
        self.headline = event.headline
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=16),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("step {task.fields[step]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[headline]}"),
            console=self.console,
        )
        self.progress.start()
        for t in event.trials:
            self.labels[t.run_id] = t.label
            done = t.finished_before
            self.tasks[t.run_id] = self.progress.add_task(
                f"[dim]{t.label} (finished before)" if done else t.label,
                total=1.0,
                completed=1.0 if done else 0.0,
                step="-" if done else 0,
                rate="",
                headline="",
            )

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
