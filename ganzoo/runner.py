"""``ganzoo bench`` as a library function: plan, lock the output folder, load the data, prepare the
metrics once, run every trial, and keep ``bench.json`` saying where the bench stands.

Data flows one way: :mod:`ganzoo.plan` resolves the config, :mod:`ganzoo.trial` trains one trial and
hands back rows, and this module alone writes the folder's shared files (``results.csv``, ``bench.json``).
A bench can be resumed after any kill (``--resume DIR``): finished trials are kept, unfinished ones
continue from their last checkpoint, the rest start. Ctrl-C or SIGTERM stop the trial in progress at
the end of its step, checkpoint it, and leave the bench resumable.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ganzoo import fingerprint, presets, registry
from ganzoo.board import Board
from ganzoo.budget import Spent
from ganzoo.config import MACHINE_OPTIONS, BenchConfig, BenchInputError
from ganzoo.evaluation import prepare_metrics
from ganzoo.events import (
    BenchFinished,
    FilesChanged,
    Message,
    OnEvent,
    RowsWritten,
    StepsDone,
    TrialDone,
    TrialEnded,
    TrialEvent,
    TrialLine,
    TrialProgress,
    TrialScored,
    TrialsStarting,
)
from ganzoo.executor import executor_for, job_for
from ganzoo.factory import load_checked
from ganzoo.lock import LockHeld, OutLock
from ganzoo.page import write_page
from ganzoo.plan import Plan, clear_out, plan
from ganzoo.results import (
    MANIFEST,
    ResultsFileError,
    ResultsWriter,
    Row,
    atomic_write_bytes,
    atomic_write_json,
    environment,
    read_manifest,
    read_results,
    rows_from_frame,
    utc_now,
)
from ganzoo.trial import (
    CHECKPOINT,
    StopFlag,
    finished_files_in_place,
    load_checkpoint,
    read_checkpoint,
    refused_message,
)

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class BenchInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped the bench; everything done is saved and ``--resume`` continues it."""

    def __init__(self, signum: int, out: Path) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum, self.out = signum, out

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 130)


def remove_torn_writes(out: Path) -> list[Path]:
    """Remove what a killed write left in ``out``: the temporary files the atomic writer renames into place
    (``.NAME.*.tmp``), which a finished write never leaves. Called only while this bench holds the lock, so
    no other writer's file is in flight."""
    torn = [f for f in Path(out).rglob(".*.tmp") if f.is_file()]
    for f in torn:
        f.unlink(missing_ok=True)
    return torn


def preset_record(config: BenchConfig) -> dict[str, Any]:
    """What bench.json keeps of the preset a bench started from: its protocol, the user's overrides and
    the published numbers, so ``ganzoo table --published`` needs nothing but the results folder."""
    pr = presets.get(config.preset)
    return {
        "name": pr.name,
        "paper": pr.paper,
        "protocol": pr.protocol,
        "deviations": pr.deviations,
        "overrides": list(config.preset_overrides),
        "protocol_overrides": presets.protocol_overrides(list(config.preset_overrides)),
        "published": pr.published_rows(),
        "margins": dict(pr.margins),
        "margin_rule": pr.margin_rule,
    }


def _machine_options(recorded: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Where a resumed bench reads, caches and connects comes from this command line, never from the
    results folder (which may be copied or crafted): the cache falls back to the default, and a bench that
    read its data from a folder or ran on a Ray cluster must be told again."""
    out = {k: given.get(k) for k in MACHINE_OPTIONS}
    for key, flag in (("data_dir", "--data-dir"), ("ray_address", "--ray-address")):
        if recorded.get(key) is not None and out[key] is None:
            raise BenchInputError(
                f"this bench ran with {flag} {recorded[key]}; a results folder does not choose where ganzoo "
                f"reads or connects, so give it again: ganzoo bench --resume DIR {flag} ..."
            )
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}


def _manifest_to_resume(out: Path) -> dict[str, Any]:
    try:
        manifest = read_manifest(Path(out)) if Path(out).is_dir() else None
    except ResultsFileError as exc:
        raise BenchInputError(str(exc)) from None
    if manifest is None:
        raise BenchInputError(f"--resume {str(out)!r}: no {MANIFEST} there, so no bench to resume")
    return manifest


@dataclass
class _Kept:
    """What a resumed bench keeps: its rows, the trials that are finished (ok or failed), and a line for each
    checkpoint that cannot be used (its trial starts again from step 0)."""

    rows: list[Row]
    finished: set[str]
    refused: list[str]


def _kept_rows(p: Plan) -> _Kept:
    """An unfinished trial keeps its rows up to its checkpoint; without one it starts again."""
    try:
        df = read_results(p.out)
    except ResultsFileError:
        return _Kept([], set(), [])
    status = df[df["metric"] == "status"].groupby("run_id").last()
    folders = {spec.run_id: spec.folder for spec in p.runs}

    def done(run_id: str, row: pd.Series) -> bool:
        if row["value"] == 1:  # ok, believed only with its files in place: a kill between the row and the files
            return run_id not in folders or finished_files_in_place(
                folders[run_id]
            )  # (or a copy without them) continues
        return not str(row["detail"]).startswith("interrupted")  # failed

    finished = {r for r, row in status.iterrows() if done(r, row)}
    keep = df["run_id"].isin(finished)
    refused = []
    for spec in p.runs:
        if spec.run_id in finished:
            continue
        state, why = read_checkpoint(spec.folder / CHECKPOINT)
        if why:
            refused.append(refused_message(spec.folder / CHECKPOINT, why))
        if state is not None:
            keep |= (df["run_id"] == spec.run_id) & (df["metric"] != "status") & (df["step"] <= state["spent"]["steps"])
    return _Kept(rows_from_frame(df[keep]), finished, refused)


def _install_stop_handlers(stop: StopFlag) -> dict[int, Any]:
    """First Ctrl-C / SIGTERM: stop after the current step. A second: stop now (KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.signal = signum

    return {s: signal.signal(s, handler) for s in EXIT_CODES}


@dataclass(frozen=True)
class BenchOutcome:
    """What a bench did: its results (also on disk), where they are, and how it ended."""

    frame: pd.DataFrame  # the tidy results table, as results.csv holds it
    out: Path
    status: str  # finished (every trial ran to its end, ok or failed)
    measure: str  # the budget's measure: steps, images or seconds
    summary_metrics: list[str]  # the headline values its metrics declare

    @property
    def failed(self) -> pd.DataFrame:
        """The status rows of the trials that failed."""
        df = self.frame
        return df[(df["metric"] == "status") & (df["value"] == 0)]


def run_bench(
    config: BenchConfig | None = None,
    *,
    on_event: OnEvent | None = None,
    resume: Path | None = None,
    allow_code_change: bool = False,
    machine: dict[str, Any] | None = None,
) -> BenchOutcome:
    """Plan, load, train and evaluate every trial; returns what it did. Progress goes to ``on_event`` (the
    CLI shows it; nothing here prints). ``resume``: a bench folder to continue, with the config it recorded,
    but ``machine``'s (this command line's) ``cache_dir``, ``data_dir`` and ``ray_address``."""
    tell: OnEvent = on_event or (lambda event: None)
    manifest = None
    if resume is not None:
        manifest = _manifest_to_resume(resume)
        config = BenchConfig.from_json(
            {
                **manifest["config"],
                "out": str(resume),
                "force": False,
                **_machine_options(manifest["config"], machine or {}),
            }
        )
    assert config is not None
    p = plan(config, resuming=resume is not None)
    out = p.out
    created = not out.exists()
    lock = OutLock(out)
    try:
        note = lock.acquire()
    except (LockHeld, OSError) as exc:
        raise BenchInputError(
            str(exc) if isinstance(exc, LockHeld) else f"--out {str(out)!r} cannot be written: {exc}"
        ) from None
    started, executor = False, None
    try:
        if note:
            tell(Message(note, "warning"))
        if manifest is None and config.force:
            clear_out(out)
        remove_torn_writes(out)
        data = load_checked(p.source)
        changes: list[str] = []
        if manifest is not None:
            changes = fingerprint.changes(manifest.get("code", {}), p.code)
            if changes and not allow_code_change:
                raise BenchInputError(
                    f"--resume {str(out)!r}: the code differs from what produced its results ({'; '.join(changes)}); "
                    "pass --allow-code-change to resume anyway"
                )
        _tell_start(p, data, resuming=manifest is not None, tell=tell)
        executor = executor_for(p)
        executor.prestart()  # a pool's workers import while the metrics are prepared here
        metrics = prepare_metrics(data, p.device, p.cache_dir, p.evaluation)
        resumed = _kept_rows(p) if manifest is not None else _Kept([], set(), [])
        kept, finished = resumed.rows, resumed.finished
        for line in resumed.refused:
            tell(Message(line, "warning"))
        started = True  # from here on the folder holds this bench
        writer = ResultsWriter(out, kept, order=[r.run_id for r in p.runs])
        bench = {
            "ganzoo_bench": 1,
            "config": config.to_json(),
            "runs": [r.run_id for r in p.runs],
            "dataset": {"name": data.name, "split": data.split, "source": data.source},
            "metric_directions": {k: v for m in metrics.values() for k, v in type(m).directions.items()},
            # FID first where it is computed: the closing table and the live lines show the summary's head
            # a preset's published metrics lead, so its table and page open with the paper's columns
            "summary_metrics": list(
                dict.fromkeys(
                    [
                        *(presets.get(config.preset).published_metrics() if config.preset else []),
                        *(
                            k
                            for _, m in sorted(metrics.items(), key=lambda kv: kv[0] != "fidelity")
                            for k in type(m).summary_values()
                        ),
                    ]
                )
            ),
            "environment": environment(p.device),
            "code": p.code,
            "status": "running",
            "started": manifest["started"] if manifest else utc_now(),
            "resumed": [
                *(manifest or {}).get("resumed", []),
                *([{"time": utc_now(), "code_changes": changes}] if manifest else []),
            ],
        }
        if p.left_out:
            bench["left_out"] = p.left_out
        if p.metrics_left_out:
            bench["metrics_left_out"] = p.metrics_left_out
        if config.preset:
            bench["preset"] = preset_record(config)
        atomic_write_json(
            out / MANIFEST, bench
        )  # first: a kill before it leaves no bench here, so the same command starts it again
        writer.flush()
        stop = StopFlag()
        previous = _install_stop_handlers(stop)
        try:
            ended = _run_trials(p, executor, data, metrics, writer, finished, stop, tell, bench["summary_metrics"])
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
        status = "interrupted" if stop.requested else "finished"
        bench.update(status=status, **{status: utc_now()})
        atomic_write_json(out / MANIFEST, bench)
        _write_page(out, tell)
        tell(BenchFinished(status, ended))
        if stop.requested:
            raise BenchInterrupted(stop.signal, out)
        return BenchOutcome(writer.frame(), out, status, p.budget.measure, bench["summary_metrics"])
    finally:
        if executor is not None:
            executor.close()  # workers started early for trials that never came
        lock.release()
        if not started:  # refused before writing: leave no trace, not even the lock file or a new folder
            lock.path.unlink(missing_ok=True)
            if created and out.is_dir() and not any(out.iterdir()):
                out.rmdir()


def _write_page(out: Path, tell: OnEvent) -> None:
    """The bench's report page (ganzoo.page): a page that cannot be drawn costs the bench nothing but a warning."""
    try:
        tell(Message(f"report page: {write_page([out])}"))
    except Exception as exc:
        tell(
            Message(
                f"the report page could not be written ({type(exc).__name__}: {exc}); `ganzoo report {out}` tries again",
                "warning",
            )
        )


def _tell_start(p: Plan, data: Any, *, resuming: bool, tell: OnEvent) -> None:
    """What the bench is about to do, and what it leaves out and why."""
    verb = "resuming" if resuming else "ganzoo bench"
    tell(
        Message(
            f"{verb}: {len(p.runs)} trial(s) on {data.name} ({data.split} split, {len(data)} samples, "
            f"{data.info.describe()}), budget {p.budget.text} each, device {p.device}"
        )
    )
    if p.config.preset:
        rec = preset_record(p.config)
        tell(Message(f"preset {rec['name']} ({rec['paper']}): {rec['protocol']}"))
        if rec["overrides"]:
            tell(Message(f"overridden: {', '.join(rec['overrides'])}", "warning"))
        if rec["margin_rule"]:
            tell(Message(f"a match with the paper is claimed by an equivalence test (TOST): {rec['margin_rule']}"))
        if rec["deviations"]:
            tell(Message(f"where ganzoo departs from the paper: {rec['deviations']}", "note"))
    for name, why in p.left_out.items():
        tell(Message(f"left out: {name}: {why}", "note"))
    for name, why in p.metrics_left_out.items():  # those made for other data are only recorded
        entry = registry.metrics.entry(name)
        if entry.error or entry.obj.applies_to(p.info):
            tell(Message(f"metric left out: {name}: {why}", "warning"))
    if not p.metrics:
        tell(Message("no metric can score this dataset: the bench records losses and sample sheets only", "warning"))
    tell(
        Message(
            "preparing metrics (the dataset classifier is trained once and cached)..."
            if p.config.features == "classifier"
            else f"preparing metrics (the real images' {p.config.features} features are computed once and cached)..."
        )
    )


def _run_trials(
    p: Plan,
    executor: Any,
    data: Any,
    metrics: dict,
    writer: ResultsWriter,
    finished: set[str],
    stop: StopFlag,
    tell: OnEvent,
    summary_metrics: list[str],
) -> dict[str, str]:
    """Hand the unfinished trials to the executor and apply what comes back: rows to the writer, files
    into each trial's folder (atomically), progress to ``tell`` (and TensorBoard). Returns each trial's status."""
    specs = {spec.run_id: spec for spec in p.runs}
    board = None
    if (
        p.config.tensorboard
    ):  # a trial that ran before continues from its checkpoint (or from step 0): purge what came after
        resumed_at = {}
        for s in p.runs:
            if s.run_id not in finished and s.folder.exists():
                state = load_checkpoint(s.folder / CHECKPOINT, quiet=True)
                resumed_at[s.run_id] = state["spent"]["steps"] if state else -1
        board = Board(p.out, resumed_at)
    ended = {run_id: "finished before" for run_id in finished}
    several = p.workers > 1 or p.executor != "local"
    tell(
        TrialsStarting(
            [TrialLine(s.run_id, s.label, s.run_id in finished) for s in p.runs],
            p.budget.left(Spent()),
            f"{executor.name}: {p.workers} trial(s) at a time, {p.threads} CPU thread(s) each" if several else "",
            (summary_metrics or [""])[0],
        )
    )
    jobs = [job_for(spec) for spec in p.runs if spec.run_id not in finished]
    summary = set(summary_metrics)

    def handle(event: TrialEvent) -> None:
        run_id = event.run_id
        if isinstance(event, RowsWritten):
            writer.add(event.rows)
            scored = {r.metric: r.value for r in event.rows if r.metric != "status"}
            if scored:
                tell(TrialScored(run_id, event.rows[0].step, scored))
            if board is not None:
                board.rows(run_id, event.rows)
        elif isinstance(event, FilesChanged):
            folder = specs[run_id].folder
            # the checkpoint last: one in place means the sheets and config.json it follows are too, so a
            # kill between two of these writes resumes from the checkpoint before, which writes them again
            for name, blob in sorted(event.files.items(), key=lambda item: item[0] == CHECKPOINT):
                if blob is None:
                    (folder / name).unlink(missing_ok=True)
                else:
                    atomic_write_bytes(folder / name, blob)
            if board is not None:
                board.files(run_id, event.files)
        elif isinstance(event, StepsDone):
            spent, losses = event.spent, event.losses
            tell(TrialProgress(run_id, p.budget.fraction(spent), spent.steps, p.budget.left(spent), losses))
            if board is not None:
                board.losses(run_id, spent.steps, losses)
        elif isinstance(event, TrialEnded):
            payload = event.result
            ended[run_id] = payload.status
            if payload.status == "failed" and not any(r.run_id == run_id and r.metric == "status" for r in writer.rows):
                writer.add(
                    [specs[run_id].status_row(data, payload.spent, 0.0, payload.error)]
                )  # the worker died before it could say so
            tell(TrialDone(run_id, payload.status, payload.error))
            if board is not None and payload.status == "ok":
                spec = specs[run_id]
                finals = {r.metric: r.value for r in writer.rows if r.run_id == run_id and r.metric in summary}
                board.finished(
                    run_id,
                    {"variant": spec.plugin, "divergence": spec.divergence, "seed": spec.seed, **spec.build.given()},
                    finals,
                )

    try:
        executor.run(jobs, data, metrics, stop, handle)
    finally:
        if board is not None:
            board.close()
    return ended
