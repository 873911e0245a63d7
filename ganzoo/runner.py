"""``ganzoo bench`` as a library function: plan, lock the output folder, load the data, prepare the
metrics once, run every trial, and keep ``bench.json`` saying where the bench stands.

Data flows one way: :mod:`ganzoo.plan` resolves the config, :mod:`ganzoo.trial` trains one trial and
hands back rows, and this module alone writes the folder's shared files (``results.csv``, ``bench.json``).
A bench can be resumed after any kill (``--resume DIR``): finished trials are kept, unfinished ones
continue from their last checkpoint, the rest start. Ctrl-C or SIGTERM stop the trial in progress at
the end of its step, checkpoint it, and leave the bench resumable.
"""

from __future__ import annotations

import inspect
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ganzoo import __version__, presets, registry
from ganzoo.budget import Spent
from ganzoo.evaluation import prepare_metrics
from ganzoo.lock import LockHeld, OutLock
from ganzoo.config import MACHINE_OPTIONS, NO_DIVERGENCE, BenchConfig, BenchInputError, split_dataset
from ganzoo.factory import load_data
from ganzoo.plan import Plan, clear_out, eval_options, plan
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
    source_sha256,
    utc_now,
)
from ganzoo.executor import executor_for, job_for
from ganzoo.trial import CHECKPOINT, StopFlag, finished_files_in_place, load_checkpoint, run_dir, status_row

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
    return {"name": pr.name, "paper": pr.paper, "protocol": pr.protocol, "deviations": pr.deviations,
            "overrides": list(config.preset_overrides), "published": pr.published_rows()}


def plugin_source(obj: type) -> Path | None:
    """The code a plugin class runs: its top-level package's folder (so helpers in sibling modules count,
    as the shared networks beside the built-in variants do), or its module file; None when it was
    defined where there is no file (a notebook, exec'd code)."""
    top = sys.modules.get(obj.__module__.split(".")[0])
    if top is not None and getattr(top, "__path__", None):
        return Path(list(top.__path__)[0])
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return None
    return Path(source) if source else None


def code_fingerprint(p: Plan) -> dict[str, Any]:
    """What produced the numbers: ganzoo's version and source, and each plugin in use with its package
    and the sha256 of its source (an editable or VCS install keeps its version while its code changes)."""
    import ganzoo
    import ganzoo_plugins

    used = [("variants", v) for v in sorted({p.plugin(r.variant) for r in p.runs})]
    used += [("divergences", d) for d in sorted({r.divergence for r in p.runs} - {NO_DIVERGENCE})]
    used += [("datasets", split_dataset(p.config.dataset)[0])]
    used += [("metrics", m) for m in p.metrics]
    plugins, hashed = {}, {}  # built-ins share a package: each folder is read once
    for kind, name in used:
        entry = registry.REGISTRIES[kind].entry(name)
        source = plugin_source(registry.REGISTRIES[kind].get(name))
        if source is not None and source not in hashed:
            hashed[source] = source_sha256([source])
        plugins[f"{kind[:-1]}:{name}"] = {"package": entry.package, "source_sha256": hashed.get(source)}
    roots = [Path(ganzoo.__file__).parent, Path(ganzoo_plugins.__file__).parent]
    return {"ganzoo": __version__, "ganzoo_source_sha256": source_sha256(roots), "plugins": plugins}


def fingerprint_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    if old.get("ganzoo") != new["ganzoo"]:
        changes.append(f"ganzoo {old.get('ganzoo')} -> {new['ganzoo']}")
    elif old.get("ganzoo_source_sha256") != new["ganzoo_source_sha256"]:
        changes.append("ganzoo's source code changed")
    for key in sorted(set(old.get("plugins", {})) | set(new["plugins"])):
        a, b = old.get("plugins", {}).get(key), new["plugins"].get(key)
        if a is None or b is None:
            changes.append(f"{key} {'added' if a is None else 'removed'}")
        elif a["package"] != b["package"]:
            changes.append(f"{key}: {a['package']} -> {b['package']}")
        elif a["source_sha256"] != b["source_sha256"]:
            changes.append(f"{key}: source code changed")
    return changes


def _machine_options(recorded: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Where a resumed bench reads, caches and connects comes from this command line, never from the
    results folder (which may be copied or crafted): the cache falls back to the default, and a bench that
    read its data from a folder or ran on a Ray cluster must be told again."""
    out = {k: given.get(k) for k in MACHINE_OPTIONS}
    for key, flag in (("data_dir", "--data-dir"), ("ray_address", "--ray-address")):
        if recorded.get(key) is not None and out[key] is None:
            raise BenchInputError(f"this bench ran with {flag} {recorded[key]}; a results folder does not choose where ganzoo "
                                  f"reads or connects, so give it again: ganzoo bench --resume DIR {flag} ...")
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}


def _manifest_to_resume(out: Path) -> dict[str, Any]:
    try:
        manifest = read_manifest(Path(out)) if Path(out).is_dir() else None
    except ResultsFileError as exc:
        raise BenchInputError(str(exc)) from None
    if manifest is None:
        raise BenchInputError(f"--resume {str(out)!r}: no {MANIFEST} there, so no bench to resume")
    return manifest


def _kept_rows(p: Plan) -> tuple[list[Row], set[str]]:
    """The rows a resumed bench keeps, and the trials that are finished (ok or failed). An unfinished
    trial keeps its rows up to its checkpoint; without one it starts again."""
    out = Path(p.config.out)
    try:
        df = read_results(out)
    except ResultsFileError:
        return [], set()
    status = df[df["metric"] == "status"].groupby("run_id").last()
    folders = {spec.run_id: run_dir(p, spec) for spec in p.runs}

    def done(run_id: str, row: pd.Series) -> bool:
        if row["value"] == 1:  # ok, believed only with its files in place: a kill between the row and the files
            return run_id not in folders or finished_files_in_place(folders[run_id])  # (or a copy without them) continues
        return not str(row["detail"]).startswith("interrupted")  # failed

    finished = {r for r, row in status.iterrows() if done(r, row)}
    keep = df["run_id"].isin(finished)
    for spec in p.runs:
        if spec.run_id in finished:
            continue
        state = load_checkpoint(run_dir(p, spec) / CHECKPOINT, quiet=True)  # the trial itself says it restarts
        if state is not None:
            keep |= (df["run_id"] == spec.run_id) & (df["metric"] != "status") & (df["step"] <= state["spent"]["steps"])
    return rows_from_frame(df[keep]), finished


def _install_stop_handlers(stop: StopFlag) -> dict[int, Any]:
    """First Ctrl-C / SIGTERM: stop after the current step. A second: stop now (KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.signal = signum

    return {s: signal.signal(s, handler) for s in EXIT_CODES}


def run_bench(config: BenchConfig | None = None, *, console: Console | None = None, resume: Path | None = None,
              allow_code_change: bool = False, machine: dict[str, Any] | None = None) -> pd.DataFrame:
    """Plan, load, train and evaluate every trial; returns the tidy results table (also on disk).
    ``resume``: a bench folder to continue, with the config it recorded, but ``machine``'s (this command
    line's) ``cache_dir``, ``data_dir`` and ``ray_address``."""
    manifest = None
    if resume is not None:
        manifest = _manifest_to_resume(resume)
        config = BenchConfig.from_json({**manifest["config"], "out": str(resume), "force": False,
                                        **_machine_options(manifest["config"], machine or {})})
    assert config is not None
    p = plan(config, resuming=resume is not None)
    out = Path(config.out)
    created = not out.exists()
    lock = OutLock(out)
    try:
        note = lock.acquire()
    except (LockHeld, OSError) as exc:
        raise BenchInputError(str(exc) if isinstance(exc, LockHeld) else f"--out {str(out)!r} cannot be written: {exc}") from None
    started = False
    try:
        if note and console is not None:
            console.print(f"[yellow]{note}[/]")
        if manifest is None and config.force:
            clear_out(out)
        remove_torn_writes(out)
        try:
            data = load_data(config)
        except (FileNotFoundError, ValueError) as exc:  # the dataset's own account of what is missing or wrong
            raise BenchInputError(f"dataset {config.dataset!r} could not be loaded: {exc}") from None
        except Exception as exc:  # a plugin's bug: name it and its package, in one line
            entry = registry.datasets.entry(split_dataset(config.dataset)[0])
            raise BenchInputError(f"dataset {config.dataset!r} ({entry.target} from {entry.package}) failed to load"
                                  f"{registry.where(exc)}: {type(exc).__name__}: {exc}") from None
        fingerprint = code_fingerprint(p)
        p.code = fingerprint  # each trial's config.json records its own plugins' part
        if manifest is not None:
            changes = fingerprint_changes(manifest.get("code", {}), fingerprint)
            if changes and not allow_code_change:
                raise BenchInputError(f"--resume {str(out)!r}: the code differs from what produced its results ({'; '.join(changes)}); "
                                      "pass --allow-code-change to resume anyway")
        if console is not None:
            verb = "resuming" if manifest is not None else "ganzoo bench"
            console.print(f"[bold]{verb}[/]: {len(p.runs)} trial(s) on {data.name} ({data.split} split, {len(data)} samples, "
                          f"{data.info.describe()}), budget {p.budget.text} each, device {p.device}")
            if config.preset:
                rec = preset_record(config)
                console.print(f"preset [bold]{rec['name']}[/] ({rec['paper']}): {rec['protocol']}")
                if rec["overrides"]:
                    console.print(f"[yellow]overridden[/]: {', '.join(rec['overrides'])}")
                if rec["deviations"]:
                    console.print(f"[dim]where ganzoo departs from the paper: {rec['deviations']}[/]")
            for name, why in p.left_out.items():
                console.print(f"[dim]left out: {name}: {why}[/]")
            for name, why in p.metrics_left_out.items():  # those made for other data are only recorded
                entry = registry.metrics.entry(name)
                if entry.error or entry.obj.applies_to(p.info):
                    console.print(f"[yellow]metric left out: {name}: {why}[/]")
            if not p.metrics:
                console.print("[yellow]no metric can score this dataset: the bench records losses and sample sheets only[/]")
            console.print("preparing metrics (the dataset classifier is trained once and cached)...")
        metrics = prepare_metrics(data, p.device, p.cache_dir, eval_options(p))
        kept, finished = _kept_rows(p) if manifest is not None else ([], set())
        started = True  # from here on the folder holds this bench
        writer = ResultsWriter(out, kept, order=[r.run_id for r in p.runs])
        bench = {
            "ganzoo_bench": 1, "config": config.to_json(), "runs": [r.run_id for r in p.runs],
            "dataset": {"name": data.name, "split": data.split, "source": data.source},
            "metric_directions": {k: v for m in metrics.values() for k, v in type(m).directions.items()},
            "summary_metrics": list(dict.fromkeys(k for m in metrics.values() for k in type(m).summary_values())),
            "environment": environment(p.device), "code": fingerprint, "status": "running",
            "started": manifest["started"] if manifest else utc_now(),
            "resumed": [*(manifest or {}).get("resumed", []), *([{"time": utc_now(), "code_changes": changes}] if manifest else [])],
        }
        if p.left_out:
            bench["left_out"] = p.left_out
        if p.metrics_left_out:
            bench["metrics_left_out"] = p.metrics_left_out
        if config.preset:
            bench["preset"] = preset_record(config)
        atomic_write_json(out / MANIFEST, bench)  # first: a kill before it leaves no bench here, so the same command starts it again
        writer.flush()
        stop = StopFlag()
        previous = _install_stop_handlers(stop)
        try:
            _run_trials(p, data, metrics, writer, finished, stop, console)
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
        bench.update(status="interrupted" if stop.requested else "finished", **{"interrupted" if stop.requested else "finished": utc_now()})
        atomic_write_json(out / MANIFEST, bench)
        if stop.requested:
            raise BenchInterrupted(stop.signal, out)
        return writer.frame()
    finally:
        lock.release()
        if not started:  # refused before writing: leave no trace, not even the lock file or a new folder
            lock.path.unlink(missing_ok=True)
            if created and out.is_dir() and not any(out.iterdir()):
                out.rmdir()


def _run_trials(p: Plan, data: Any, metrics: dict, writer: ResultsWriter, finished: set[str], stop: StopFlag,
                console: Console | None) -> None:
    """Hand the unfinished trials to the executor and apply what comes back: rows to the writer, files
    into each trial's folder (atomically), progress to the display."""
    executor = executor_for(p)
    progress, tasks = None, {}
    if console is not None:
        progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("step {task.fields[step]}"),
                            TextColumn("{task.fields[losses]}"), TextColumn("{task.fields[left]}"), TimeElapsedColumn(),
                            console=console)
        progress.start()
        if p.workers > 1 or p.config.executor != "local":
            console.print(f"{executor.name}: {p.workers} trial(s) at a time, {p.threads} CPU thread(s) each")
    labels = {s.run_id: f"{s.variant}/{s.divergence} seed {s.seed}" for s in p.runs}
    try:
        for spec in p.runs:
            if progress is not None:
                done = spec.run_id in finished
                tasks[spec.run_id] = progress.add_task(f"[dim]{labels[spec.run_id]} (finished before)" if done else labels[spec.run_id],
                                                       total=1.0, completed=1.0 if done else 0.0, step="-" if done else 0,
                                                       losses="", left="" if done else p.budget.left(Spent()))
        jobs = [job_for(p, spec, p.devices[0]) for spec in p.runs if spec.run_id not in finished]

        def handle(event: tuple[str, str, Any]) -> None:
            kind, run_id, payload = event
            if kind == "rows":
                writer.add(payload)
            elif kind == "files":
                folder = Path(p.config.out) / "runs" / run_id
                # the checkpoint last: one in place means the sheets and config.json it follows are too, so a
                # kill between two of these writes resumes from the checkpoint before, which writes them again
                for name, blob in sorted(payload.items(), key=lambda item: item[0] == CHECKPOINT):
                    if blob is None:
                        (folder / name).unlink(missing_ok=True)
                    else:
                        atomic_write_bytes(folder / name, blob)
            elif progress is not None and kind == "progress":
                spent, text = payload
                progress.update(tasks[run_id], completed=p.budget.fraction(spent), step=spent.steps, left=p.budget.left(spent), losses=text)
            elif progress is not None and kind == "done" and payload.status != "ok":
                colour = "red" if payload.status == "failed" else "yellow"
                progress.update(tasks[run_id], description=f"[{colour}]{labels[run_id]} {payload.status}", left=payload.error[:60])
            if kind == "done" and payload.status == "failed" and not any(r.run_id == run_id and r.metric == "status" for r in writer.rows):
                spec = next(s for s in p.runs if s.run_id == run_id)  # the worker died before it could say so
                writer.add([status_row(p, spec, data, payload.spent, 0.0, payload.error)])

        executor.run(jobs, data, metrics, stop, handle)
    finally:
        if progress is not None:
            progress.stop()

