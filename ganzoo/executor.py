"""Where trials run: in this process, in a local pool of worker processes, or as Ray tasks. One interface,
and every executor runs the same function, :func:`execute`, so results do not depend on which ran them
(on CPU, value for value, for the same seeds and the same threads per trial: torch's CPU kernels sum in
an order that depends on the thread count).

A worker never needs the results folder: it trains in a folder of its own and streams back, as events,
the rows (at every evaluation point) and the trial's files (after every checkpoint and at the end); the
driver alone writes ``--out``. A Ray cluster whose nodes share no file system works, and a worker that dies
leaves the driver its last checkpoint: the trial is started again from it (up to ``max_retries`` times,
then recorded as failed), and ``--resume`` continues it after the driver itself dies. Metric preparation
(the feature classifier, real statistics) happens once, in the driver; workers get the cached files
(through the shared cache locally, through Ray's object store remotely) and never train them again.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import os
import tempfile
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ganzoo.budget import Spent
from ganzoo.events import FilesChanged, RowsWritten, StepsDone, TrialEnded, TrialEvent
from ganzoo.plan import Plan
from ganzoo.trial import CHECKPOINT, CheckpointWarning, StopFlag, TrialResult, run_trial
from ganzoo.trial_spec import TrialSpec


@dataclass
class TrialJob:
    """One trial as a worker receives it: its self-contained spec and the files the driver holds for it
    (its checkpoint and config.json, to resume from)."""

    spec: TrialSpec
    files: dict[str, bytes]


def job_for(spec: TrialSpec) -> TrialJob:
    files = {
        name: (spec.folder / name).read_bytes()
        for name in (CHECKPOINT, "config.json")
        if (spec.folder / name).is_file()
    }
    return TrialJob(spec, files if CHECKPOINT in files else {})


class Driver:
    """The driver's side of the one event protocol every executor speaks: each event goes to the runner's
    ``handle``; a trial counts as done once its final status row (or its TrialEnded event) arrived, so a worker
    that dies between the two never runs it twice; and the one retry rule: a trial whose worker died starts
    again from the latest checkpoint the driver holds, up to ``max_retries`` times, then is recorded failed."""

    def __init__(self, max_retries: int, jobs: list[TrialJob], handle: Callable[[TrialEvent], None]) -> None:
        self.max_retries, self.handle = max_retries, handle
        self.done: set[str] = set()
        self.attempts = {job.spec.run_id: 0 for job in jobs}

    def __call__(self, event: TrialEvent) -> None:
        if isinstance(event, TrialEnded) or (isinstance(event, RowsWritten) and event.final):
            self.done.add(event.run_id)
        self.handle(event)

    def failed(self, run_id: str, detail: str) -> None:
        self(TrialEnded(run_id, TrialResult("failed", Spent(), detail)))

    def again(self, job: TrialJob, what: str) -> TrialJob | None:
        """The job to start again after ``what`` (its worker, its Ray task) died, or None: out of retries,
        recorded failed."""
        run_id = job.spec.run_id
        self.attempts[run_id] += 1
        if self.attempts[run_id] > self.max_retries:
            self.failed(run_id, f"{what} died {self.attempts[run_id]} times")
            return None
        return job_for(job.spec)


def execute(job: TrialJob, data: Any, metrics: dict, send: Callable[[TrialEvent], None], stop: StopFlag) -> TrialResult:
    """Run one trial in a folder of its own and send everything it produces back through ``send``."""
    spec = job.spec
    with tempfile.TemporaryDirectory(prefix=f"ganzoo-{spec.run_id}-") as tmp:
        folder = Path(tmp)
        shipped: dict[str, int] = {}  # file -> mtime when last sent
        for name, blob in job.files.items():  # what the driver already holds: sent back only once changed
            (folder / name).write_bytes(blob)
            shipped[str(folder / name)] = (folder / name).stat().st_mtime_ns

        def ship() -> None:
            changed = {}
            for f in folder.rglob("*"):
                if f.is_file() and not f.name.startswith(".") and shipped.get(str(f)) != f.stat().st_mtime_ns:
                    shipped[str(f)] = f.stat().st_mtime_ns
                    changed[str(f.relative_to(folder))] = f.read_bytes()
            if changed:
                send(FilesChanged(spec.run_id, changed))

        held: list = []  # status rows: sent once the trial's files are, so no status row precedes its weights

        def emit(rows: list) -> None:
            held.extend(r for r in rows if r.metric == "status")
            rest = [r for r in rows if r.metric != "status"]
            if rest:
                send(RowsWritten(spec.run_id, rest))

        try:
            with warnings.catch_warnings():  # a refused checkpoint: the driver said so, naming the run's own file
                warnings.simplefilter("ignore", CheckpointWarning)
                result = run_trial(
                    spec,
                    data,
                    metrics,
                    emit,
                    stop=stop,
                    on_progress=lambda spent, losses: send(StepsDone(spec.run_id, spent, losses)),
                    folder=folder,
                    on_checkpoint=ship,
                )
        finally:
            ship()
            if held:
                send(RowsWritten(spec.run_id, held))
        if not (folder / CHECKPOINT).exists():  # a finished trial dropped it: the driver drops its copy too
            send(FilesChanged(spec.run_id, {CHECKPOINT: None}))
    send(TrialEnded(spec.run_id, result))
    return result


class InProcess:
    """Trials one after another in this process (the default)."""

    name = "in-process"

    def __init__(self, p: Plan) -> None:
        self.p = p

    def prestart(self) -> None:
        """Nothing to start ahead: the trials run here."""

    def close(self) -> None:
        pass

    def run(
        self, jobs: list[TrialJob], data: Any, metrics: dict, stop: StopFlag, handle: Callable[[TrialEvent], None]
    ) -> None:
        previous = torch.get_num_threads()
        torch.set_num_threads(self.p.threads)
        try:  # nothing to retry here: a dying trial takes this process with it
            for job in jobs:
                if stop.requested:
                    return
                execute(job, data, metrics, handle, stop)
        finally:
            torch.set_num_threads(previous)


# -- a local pool of processes -----------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(
    source: Any,
    options: Any,
    cache_dir: Path,
    slots: Any,
    channels: list,
    threads: int,
    stop_byte: Any,
    prepared: Any = None,
) -> None:
    """Each worker: its slot (a device and a pipe of its own to the driver), its threads, the data and the
    (cached) metrics, once. Started while the driver still prepares the metrics (``prepared`` unset), a worker
    imports what it needs meanwhile and waits for the driver's cache before reading it."""
    import signal

    from ganzoo import registry
    from ganzoo.evaluation import prepare_metrics
    from ganzoo.factory import load_data

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver owns Ctrl-C and tells workers through stop_byte
    _exit_with_parent()
    torch.set_num_threads(threads)
    slot, device = slots.get()
    for reg in registry.REGISTRIES.values():  # the plugins' own imports, while the driver works
        reg.names()
    if prepared is not None:
        prepared.wait()
    if stop_byte.value:  # the bench ended before its trials started
        return
    data = load_data(source)
    _worker.update(
        device=torch.device(device),
        data=data,
        send=channels[slot].send,
        stop=StopFlag(stop_byte),
        metrics=prepare_metrics(data, torch.device(device), cache_dir, options),
    )


def _exit_with_parent() -> None:
    """A worker whose driver was killed (SIGKILL leaves no time to shut the pool down) ends within a second instead
    of waiting forever on its task queue: the driver keeps every checkpoint, so nothing a worker holds is lost."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="ganzoo-parent-watch", daemon=True).start()


def _ready() -> None:
    """A task that only makes the pool start a worker."""


def _pool_trial(job: TrialJob) -> str:
    try:
        job = replace(job, spec=job.spec.on(_worker["device"]))
        execute(job, _worker["data"], _worker["metrics"], _worker["send"], _worker["stop"])
    except Exception:  # execute reports a trial's own failures; anything else must still reach the driver
        _worker["send"](TrialEnded(job.spec.run_id, TrialResult("failed", Spent(), traceback.format_exc(limit=3))))
    return job.spec.run_id


class LocalPool:
    """Trials in worker processes on this machine (spawn: CUDA cannot be re-initialised in forked ones).

    Each worker sends its events through a pipe of its own, whose other ends only the driver holds once
    the workers have started: a worker killed in the middle of a message leaves a pipe the driver reads as
    closed, never a shared queue that blocks every other worker's events (and no manager process, which
    under spawn would import the whole program again before the first trial starts)."""

    name = "local pool"

    def __init__(self, p: Plan) -> None:
        self.p = p
        self._ctx = mp.get_context("spawn")
        self._stop_byte = self._ctx.RawValue("b", 0)
        self._early: tuple[ProcessPoolExecutor, list, Any] | None = None

    def prestart(self) -> None:
        """Start the workers now, while the driver prepares the metrics, where the machine has cores the workers'
        threads leave free: their imports (torch, the plugins) then overlap the driver's work instead of following
        it; each waits for the driver's cache before reading it (see :meth:`run`). Where the workers fill every core
        they would only compete with it (2 workers on 2 cores, a cold cache: 13.7 s against 11.6 s,
        benchmarks/README.md), so they start after, as before."""
        if (os.cpu_count() or 1) <= len(self.p.devices) * self.p.threads:
            return
        prepared = self._ctx.Event()
        pool, pipes = self._start(prepared)
        for _ in self.p.devices:  # one task per worker starts them all
            pool.submit(_ready)
        self._early = (pool, pipes, prepared)

    def close(self) -> None:
        """Let workers started early and never used go (the bench ended before its trials)."""
        if self._early is not None:
            pool, pipes, prepared = self._early
            self._stop_byte.value = 1
            prepared.set()
            pool.shutdown(wait=True, cancel_futures=True)
            for r, w in pipes:
                r.close()
                w.close()
            self._early = None

    def _start(self, prepared: Any = None) -> tuple[ProcessPoolExecutor, list]:
        slots = self._ctx.SimpleQueue()
        pipes = [self._ctx.Pipe(duplex=False) for _ in self.p.devices]
        for i, d in enumerate(self.p.devices):
            slots.put((i, str(d)))
        pool = ProcessPoolExecutor(
            max_workers=len(self.p.devices),
            mp_context=self._ctx,
            initializer=_init_worker,
            initargs=(
                self.p.source,
                self.p.evaluation,
                self.p.cache_dir,
                slots,
                [w for _, w in pipes],
                self.p.threads,
                self._stop_byte,
                prepared,
            ),
        )
        return pool, pipes

    def run(
        self, jobs: list[TrialJob], data: Any, metrics: dict, stop: StopFlag, handle: Callable[[TrialEvent], None]
    ) -> None:
        stop_byte = self._stop_byte
        driver = Driver(self.p.max_retries, jobs, handle)
        pending = list(jobs)
        while pending:
            if self._early is not None:  # the workers started while the metrics were prepared: the cache is ready
                pool, pipes, prepared = self._early
                self._early = None
                prepared.set()
            else:
                pool, pipes = self._start()
            futures = {pool.submit(_pool_trial, job): job for job in pending}  # starts every worker
            for _, w in pipes:
                w.close()
            readers = [r for r, _ in pipes]
            broken = False
            while futures:
                if stop.requested:
                    stop_byte.value = 1
                finished, _ = wait(list(futures), timeout=0.2, return_when=FIRST_COMPLETED)
                _events(readers, driver)
                for f in finished:
                    job = futures.pop(f)
                    try:
                        f.result()
                    except BrokenProcessPool:
                        broken = True
                    except Exception:  # the job itself could not be run (not unpickled, say): one failed trial
                        _events(readers, driver)
                        if job.spec.run_id not in driver.done:
                            driver.failed(job.spec.run_id, traceback.format_exc(limit=3))
            pool.shutdown(wait=True, cancel_futures=True)
            _events(readers, driver, until_closed=True)
            pending = [j for j in pending if j.spec.run_id not in driver.done]
            if not broken or stop.requested:
                break
            # a worker died: continue its trials from the checkpoints the driver holds
            pending = [again for job in pending if (again := driver.again(job, "its worker")) is not None]


def _events(readers: list, driver: Driver, until_closed: bool = False) -> None:
    """Everything the workers have sent so far; with ``until_closed`` (the pool has shut down), everything
    until each pipe's end, a message cut short by a dying worker included (it is dropped)."""
    while readers:
        ready = mp.connection.wait(readers, timeout=None if until_closed else 0)
        if not ready:
            return
        for r in ready:
            try:
                event = r.recv()
            except (EOFError, OSError):
                readers.remove(r)
                r.close()
                continue
            driver(event)


# -- Ray -----------------------------------------------------------------------------------------------


class RayTasks:
    """Trials as Ray tasks (``pip install "ganzoo[ray]"``): ``ray.remote`` with ``num_cpus`` = threads per
    trial and ``num_gpus`` a device's share; events come back through a Ray queue, the data and the cached
    metric files through the object store."""

    name = "ray"

    def __init__(self, p: Plan) -> None:
        self.p = p

    def prestart(self) -> None:
        """Nothing to start ahead: Ray's workers are its own (and the cache must exist before it is shipped)."""

    def close(self) -> None:
        pass

    def run(
        self, jobs: list[TrialJob], data: Any, metrics: dict, stop: StopFlag, handle: Callable[[TrialEvent], None]
    ) -> None:
        try:
            import ray
            from ray.util.queue import Queue
        except ImportError:
            raise RuntimeError('--executor ray needs Ray: pip install "ganzoo[ray]"') from None
        if not ray.is_initialized():
            ray.init(
                address=self.p.ray_address,
                include_dashboard=False,
                log_to_driver=False,
                num_cpus=None if self.p.ray_address else max(len(self.p.devices) * self.p.threads, 1),
            )
        events = Queue()
        cache = _cache_files(self.p.cache_dir, data, self.p.evaluation.features)
        data_ref, cache_ref = ray.put(data), ray.put(cache)
        gpu = self.p.devices[0].type == "cuda"
        # no task-level retries: a task that dies is started again here, from the latest checkpoint it shipped
        remote = ray.remote(
            num_cpus=self.p.threads,
            num_gpus=(1 / self.p.executor_note["trials_per_device"]) if gpu else 0,
            max_retries=0,
        )(_ray_trial)
        pending = {remote.remote(job, data_ref, cache_ref, events): job for job in jobs}
        driver = Driver(self.p.max_retries, jobs, handle)
        while pending:
            if stop.requested:
                for ref in pending:
                    ray.cancel(ref)
            ready, _ = ray.wait(list(pending), timeout=0.2, num_returns=1)
            _ray_events(events, driver)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    ray.get(ref)
                except Exception as exc:  # the task's worker died, its node was lost, or it was cancelled
                    _ray_events(events, driver)
                    if job.spec.run_id in driver.done or stop.requested:
                        continue
                    again = driver.again(job, f"its Ray task ({type(exc).__name__})")
                    if again is not None:
                        pending[remote.remote(again, data_ref, cache_ref, events)] = again
        _ray_events(events, driver)


def _ray_events(events: Any, driver: Driver) -> None:
    while not events.empty():
        driver(events.get())


def _cache_files(cache_dir: Path, data: Any, features: str) -> dict[str, bytes]:
    """The prepared metric files this bench uses (its dataset's classifiers and real features, and the
    Inception copy with ``--features inception``), for workers elsewhere: not the whole cache, which holds
    every dataset ever benched."""
    from ganzoo.metrics.classifier import safe_name

    prefixes = tuple(safe_name(d.name) for d in (data, data.base) if d is not None)
    files = [
        f for sub in ("classifiers", "features") for f in (cache_dir / sub).glob("*.pt") if f.name.startswith(prefixes)
    ]
    if features == "inception":
        files += list((cache_dir / "inception").glob("*.pt"))
    return {str(f.relative_to(cache_dir)): f.read_bytes() for f in files}


def _ray_trial(job: TrialJob, data: Any, cache: dict[str, bytes], events: Any) -> str:
    from ganzoo.evaluation import prepare_metrics

    spec = job.spec
    torch.set_num_threads(spec.threads)
    device = torch.device("cuda") if spec.device.type == "cuda" and torch.cuda.is_available() else torch.device("cpu")
    with tempfile.TemporaryDirectory(prefix="ganzoo-cache-") as tmp:
        for name, blob in cache.items():  # the driver's prepared files: nothing is trained again here
            path = Path(tmp) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
        metrics = prepare_metrics(data, device, Path(tmp), spec.evaluation)
        job = replace(job, spec=spec.on(device))
        execute(job, data, metrics, events.put, StopFlag())
    return job.spec.run_id


def executor_for(p: Plan) -> InProcess | LocalPool | RayTasks:
    if p.executor == "ray":
        return RayTasks(p)
    return LocalPool(p) if p.workers > 1 or p.executor == "pool" else InProcess(p)
