"""A running bench on the terminal: the runner's events (:mod:`ganzoo.events`) as rich lines and one
progress bar per trial. Only the CLI uses it; the runner itself prints nothing."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ganzoo.events import BenchEvent, BenchFinished, Message, TrialDone, TrialProgress, TrialsStarting

STYLE = {"info": "", "note": "dim", "warning": "yellow"}


class BenchDisplay:
    """Call it with each event; :meth:`close` (or the bench's end) stops the live bars."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.labels: dict[str, str] = {}

    def __call__(self, event: BenchEvent) -> None:
        if isinstance(event, Message):
            style = STYLE.get(event.level, "")
            self.console.print(f"[{style}]{event.text}[/]" if style else event.text, highlight=False, markup=True)
        elif isinstance(event, TrialsStarting):
            self._start(event)
        elif isinstance(event, TrialProgress) and self.progress is not None:
            self.progress.update(self.tasks[event.run_id], completed=event.fraction, step=event.step, left=event.left, losses=event.losses)
        elif isinstance(event, TrialDone) and self.progress is not None and event.status != "ok":
            colour = "red" if event.status == "failed" else "yellow"
            self.progress.update(self.tasks[event.run_id], description=f"[{colour}]{self.labels[event.run_id]} {event.status}",
                                 left=event.error[:60])
        elif isinstance(event, BenchFinished):
            self.close()

    def _start(self, event: TrialsStarting) -> None:
        if event.executor:
            self.console.print(event.executor)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("step {task.fields[step]}"),
                                 TextColumn("{task.fields[losses]}"), TextColumn("{task.fields[left]}"), TimeElapsedColumn(),
                                 console=self.console)
        self.progress.start()
        for t in event.trials:
            self.labels[t.run_id] = t.label
            done = t.finished_before
            self.tasks[t.run_id] = self.progress.add_task(f"[dim]{t.label} (finished before)" if done else t.label, total=1.0,
                                                          completed=1.0 if done else 0.0, step="-" if done else 0, losses="",
                                                          left="" if done else event.budget_left)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
