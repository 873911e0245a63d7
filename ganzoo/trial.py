"""One trial: a variant x divergence x seed trained until the budget is spent, evaluated on schedule,
checkpointed, and resumable from its last checkpoint.

:func:`run_trial` is all an executor needs: it reads the trial's spec, the loaded data and the prepared metrics,
writes only inside the trial's own folder (``runs/<run_id>/``), and hands its result rows to ``emit``;
whoever called it decides where rows go. Its outcome is a :class:`TrialResult` (``ok``, ``failed`` or
``interrupted``), never an exception, and its status row records the step, images and seconds it reached.

A checkpoint holds everything the next step depends on: every network (``Variant.training_state``,
which variants extend), the optimizers and gradient scalers, the RNG states training draws from (torch
CPU and CUDA, the batch sampler's generator and permutations), the budget spent, the evaluation schedule
and the loss meter. It is written atomically at every evaluation point (and every ``--checkpoint-every``),
loaded with ``weights_only=True``, and dropped when the trial finishes unless ``--keep-checkpoints``.
"""

from __future__ import annotations

import math
import signal
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo.budget import EvalSchedule, Spent
from ganzoo.data import BatchSampler, Data
from ganzoo.device import DeviceClock
from ganzoo.evaluation import evaluate
from ganzoo.factory import Built, create_variant
from ganzoo.metrics.base import Metric
from ganzoo.results import (
    Row,
    atomic_torch_save,
    atomic_write_json,
    atomic_write_text,
    environment,
    read_json_object,
    torch_load_reason,
    utc_now,
)
from ganzoo.trainer import Trainer
from ganzoo.trial_spec import TrialSpec
from ganzoo.variant import Progress, StepOutput, Variant

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = 1
FINITE_EVERY = 10  # steps between checks for a non-finite loss: one device sync per 10 steps, not per step


class StopFlag:
    """Set from a signal handler (or, in a worker process, an event the bench sets): the trial in
    progress stops at the end of its current step."""

    def __init__(self, shared: Any = None) -> None:
        self.signal: int | None = None
        # in pool workers, a lock-free shared byte the driver sets: a worker killed while reading it
        # cannot leave a lock held (as it could with a multiprocessing.Event)
        self.shared = shared

    @property
    def requested(self) -> bool:
        return self.signal is not None or (self.shared is not None and bool(self.shared.value))


@dataclass
class TrialResult:
    status: str  # "ok" | "failed" | "interrupted"
    spent: Spent
    error: str = ""


class LossMeter:
    """Mean of each logged loss since the last evaluation, summed on the device in one stacked add per
    step (no per-step sync). Per-term losses are logged only when a player has several terms."""

    def __init__(self) -> None:
        self.keys: list[str] | None = None
        self.sums: torch.Tensor | None = None
        self.count = 0

    def add(self, d: StepOutput | None, g: StepOutput) -> None:
        values: dict[str, torch.Tensor] = {}
        for prefix, out in (("d", d), ("g", g)):
            if out is None:
                continue
            values[f"loss_{prefix}"] = out.total
            if len(out.losses) > 1:
                values.update({f"loss_{prefix}_{k}": v for k, v in out.losses.items()})
            values.update(out.stats)
        stacked = torch.stack([v.detach().float() for v in values.values()])
        if self.keys is not None and list(values) != self.keys:
            raise ValueError(f"logged losses changed between steps: {self.keys} then {list(values)}")
        self.keys = list(values)
        self.sums = stacked if self.sums is None else self.sums + stacked
        self.count += 1

    def finite(self) -> bool:
        """Whether every loss since the last evaluation was finite (one sync)."""
        return self.sums is None or bool(torch.isfinite(self.sums).all())

    def pop(self) -> dict[str, float]:
        if self.sums is None or self.keys is None:
            return {}
        out = dict(zip(self.keys, (self.sums / self.count).tolist()))
        self.sums, self.count = None, 0
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"keys": self.keys, "sums": None if self.sums is None else self.sums.cpu(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any], device: torch.device) -> None:
        self.keys, self.count = state["keys"], state["count"]
        self.sums = None if state["sums"] is None else state["sums"].to(device)


class CheckpointWarning(UserWarning):
    """A checkpoint could not be used: the trial starts again from step 0."""


def read_checkpoint(path: Path) -> tuple[dict[str, Any] | None, str]:
    """A trial's checkpoint and ``""``, or None and why it cannot be used (``""`` when there is none): a foreign
    pickle or a truncated file is refused by ``weights_only=True``, with torch's own warnings kept quiet (the
    reason is said once, by whoever reports it)."""
    if not path.is_file():
        return None, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        return None, f"it cannot be loaded safely ({type(exc).__name__}: {torch_load_reason(exc)})"
    if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
        return state, ""
    return None, f"it is not a ganzoo checkpoint of format {CHECKPOINT_FORMAT}"


def refused_message(path: Path, why: str) -> str:
    return f"{path}: {why}; the trial starts again from step 0"


def load_checkpoint(path: Path, *, quiet: bool = False) -> dict[str, Any] | None:
    """:func:`read_checkpoint`'s state; a refused one is a :class:`CheckpointWarning` unless ``quiet`` (a bench's
    driver says it in one line, naming the run's own file, and its workers stay quiet)."""
    state, why = read_checkpoint(path)
    if why and not quiet:
        warnings.warn(refused_message(path, why), CheckpointWarning, stacklevel=2)
    return state


def finished_files_in_place(folder: Path) -> bool:
    """Whether a finished trial's files are there: its weights and a config.json that says it finished."""
    return (folder / "weights.pt").is_file() and read_json_object(folder / "config.json").get("status") == "ok"


@dataclass
class Checkpoint:
    """Everything the next step depends on, written atomically to ``path`` and read back with
    ``weights_only=True``: the variant's training state, the optimizers and scalers, the sampler, the loss
    meter, the budget spent, both schedules and the RNG states training draws from."""

    path: Path
    spec: TrialSpec
    variant: Variant
    trainer: Trainer
    sampler: BatchSampler
    meter: LossMeter
    schedule: EvalSchedule
    saves: EvalSchedule | None
    on_saved: Callable[[], None] | None = None

    def save(self, spent: Spent) -> None:
        devices = [self.spec.device] if self.spec.device.type == "cuda" else []
        atomic_torch_save(
            {
                "format": CHECKPOINT_FORMAT,
                "run_id": self.spec.run_id,
                "spent": {"steps": spent.steps, "images": spent.images, "seconds": spent.seconds},
                "next_eval": self.schedule.next_at,
                "next_save": None if self.saves is None else self.saves.next_at,
                "variant": self.variant.training_state(),
                "trainer": self.trainer.state_dict(),
                "sampler": self.sampler.state_dict(),
                "meter": self.meter.state_dict(),
                "rng": {"torch": torch.get_rng_state(), "cuda": [torch.cuda.get_rng_state(d) for d in devices]},
            },
            self.path,
        )
        if self.on_saved is not None:
            self.on_saved()

    def restore(self) -> Spent | None:
        """Load the checkpoint into every part, returning the budget it had spent; None when there is none."""
        state = load_checkpoint(self.path)
        if state is None:
            return None
        self.variant.load_training_state(state["variant"])
        self.trainer.load_state_dict(state["trainer"])
        self.sampler.load_state_dict(state["sampler"])
        self.meter.load_state_dict(state["meter"], self.spec.device)
        self.schedule.next_at = state["next_eval"]
        if self.saves is not None and state["next_save"] is not None:
            self.saves.next_at = state["next_save"]
        torch.set_rng_state(state["rng"]["torch"])
        if self.spec.device.type == "cuda" and state["rng"]["cuda"]:
            torch.cuda.set_rng_state(state["rng"]["cuda"][0], self.spec.device)
        return Spent(**state["spent"])


class RunRecord:
    """A trial's config.json: what ran (settings, data, budget, metrics, code, machine), and how it ended."""

    def __init__(self, path: Path) -> None:
        self.path, self.values = path, {}  # type: ignore[var-annotated]

    def start(self, spec: TrialSpec, built: Built, data: Data, metrics: dict[str, Metric], settings: str) -> None:
        self.values = {
            "run_id": spec.run_id,
            "variant": spec.variant,
            "divergence": spec.divergence,
            "seed": spec.seed,
            "variant_plugin": spec.plugin,
            "variant_package": spec.packages["variant"],
            "divergence_package": spec.packages["divergence"],
            "hparams": built.settings(),
            "d_steps": built.training.d_steps,
            "recipe": built.record,
            "settings": settings,
            "divergence_estimate": built.variant.estimate_label(),
            "dataset": {
                "name": data.name,
                "split": data.split,
                "source": data.source,
                "size": len(data),
                "content_sha256": data.content_hash,
                "info": data.info.describe(),
                "package": spec.packages["dataset"],
            },
            "budget": spec.budget.text,
            "budget_measure": spec.budget.measure,
            "eval_every": spec.eval_every.text,
            "amp": spec.amp,
            "channels_last": spec.channels_last,
            "compile": spec.compile,
            "metrics": {k: m.provenance() for k, m in metrics.items()},
            "metric_params": {k: v for k, v in spec.evaluation.params.items() if k in metrics},
            "metric_packages": {k: v for k, v in spec.packages["metrics"].items() if k in metrics},
            "code": spec.code,
            "environment": environment(spec.device),
            "executor": spec.executor_note,
            "started": utc_now(),
            "status": "running",
        }
        atomic_write_json(self.path, self.values)

    def resumed(self, spent: Spent) -> None:
        self.values = read_json_object(self.path)
        self.values.update(
            status="running", resumed=[*self.values.get("resumed", []), {"at_step": spent.steps, "time": utc_now()}]
        )
        atomic_write_json(self.path, self.values)

    def update(self, **values: Any) -> None:
        if self.values:  # nothing to update before the record was started
            self.values.update(values)
            atomic_write_json(self.path, self.values)

    def ended(self, status: str, spent: Spent, **values: Any) -> None:
        self.update(
            status=status,
            finished=utc_now(),
            **values,
            spent={"steps": spent.steps, "images": spent.images, "device_seconds": spent.seconds},
        )


def run_trial(
    spec: TrialSpec,
    data: Data,
    metrics: dict[str, Metric],
    emit: Callable[[list[Row]], None],
    *,
    stop: StopFlag | None = None,
    on_progress: Callable[[Spent, dict[str, float]], None] | None = None,
    folder: Path | None = None,
    on_checkpoint: Callable[[], None] | None = None,
) -> TrialResult:
    """Train, evaluate and checkpoint one trial, continuing from its checkpoint when it has one.

    ``folder``: where the trial's files go (default ``runs/<run_id>`` under ``--out``; a worker without the
    results folder uses a local one and ships its files back on ``on_checkpoint`` and at the end)."""
    folder = spec.folder if folder is None else Path(folder)
    base = spec.row_keys(data)
    spent, record = Spent(), RunRecord(folder / "config.json")

    def write(spent: Spent, values: dict[str, tuple[float, dict]]) -> None:
        emit(
            [
                Row(
                    **base,
                    step=spent.steps,
                    images_seen=spent.images,
                    device_seconds=round(spent.seconds, 4),
                    metric=k,
                    value=v,
                    **prov,
                )
                for k, (v, prov) in values.items()
            ]
        )

    try:
        torch.manual_seed(spec.seed)
        built = create_variant(spec.build, data.info)
        variant = built.variant.to(spec.device)
        variant.train(True)
        for net in [*variant.generators().values(), *variant.discriminators().values()]:
            if spec.channels_last:
                net.to(memory_format=torch.channels_last)
            if spec.compile:
                net.compile()  # in place: the state dict keeps its keys, so checkpoints and weights.pt read as before
        sampler = BatchSampler(data, seed=spec.seed, device=spec.device)
        trainer = Trainer(variant, sampler, built.training, amp=spec.amp)
        clock, meter, schedule = DeviceClock(spec.device), LossMeter(), EvalSchedule(spec.eval_every)
        checkpoint = Checkpoint(
            folder / CHECKPOINT,
            spec,
            variant,
            trainer,
            sampler,
            meter,
            schedule,
            EvalSchedule(spec.checkpoint_every) if spec.checkpoint_every else None,
            on_checkpoint,
        )
        estimate_label = variant.estimate_label()

        restored = checkpoint.restore()
        if restored is not None:
            spent = restored
            clock.total = spent.seconds
            record.resumed(spent)
        else:
            record.start(spec, built, data, metrics, base["settings"])
            with trainer.evaluated():
                write(spent, evaluate(variant, data, metrics, spec.seed, folder, 0, spec.run_id))
            checkpoint.save(spent)

        needs_clock = spec.budget.is_time or spec.eval_every.is_time
        longest, warmup = 0.0, None
        clock.start()
        while not spec.budget.spent(spent):
            if stop is not None and stop.requested:
                spent = Spent(spent.steps, spent.images, clock.stop())
                checkpoint.save(spent)
                detail = f"interrupted at step {spent.steps} ({_signal_name(stop.signal)})"
                emit([spec.status_row(data, spent, 0.0, detail)])
                record.update(status="interrupted", interrupted=utc_now())
                return TrialResult("interrupted", spent, detail)
            variant.progress = Progress(spent.steps, spent.images, spent.seconds, spec.budget.fraction(spent))
            trainer.anneal(variant.progress.fraction)
            if spec.compile and warmup is None:
                # the first compiled step builds the kernels: timed apart from the device seconds, and recorded
                clock.stop()
                lap = DeviceClock(spec.device)
                lap.start()
                d_out, g_out, images = trainer.step()
                warmup = lap.stop()
                record.update(compile_warmup_seconds=round(warmup, 3))
                clock.start()
            else:
                d_out, g_out, images = trainer.step()
            meter.add(d_out, g_out)
            before = spent.seconds
            spent = Spent(spent.steps + 1, spent.images + images, clock.read() if needs_clock else spent.seconds)
            longest = max(longest, spent.seconds - before)
            if spent.steps % FINITE_EVERY == 0 and not meter.finite():
                raise FloatingPointError(f"non-finite loss by step {spent.steps} (checked every {FINITE_EVERY} steps)")
            last = spec.budget.spent(spent)
            if schedule.due(spent) or last:
                spent = Spent(spent.steps, spent.images, clock.stop())
                losses = meter.pop()
                if not all(map(math.isfinite, losses.values())):
                    raise FloatingPointError(f"non-finite loss by step {spent.steps}: {losses}")
                logged = {k: (v, {"detail": estimate_label} if k == "divergence" else {}) for k, v in losses.items()}
                with trainer.evaluated():  # G's moving average, where the settings keep one
                    scores = evaluate(variant, data, metrics, spec.seed, folder, spent.steps, spec.run_id)
                write(spent, {**logged, **scores})
                checkpoint.save(spent)
                if not last:
                    clock.start()
            elif checkpoint.saves is not None and checkpoint.saves.due(spent):
                checkpoint.save(spent)
            if on_progress is not None and (spent.steps % 10 == 0 or last):
                on_progress(
                    spent, {**({} if d_out is None else {"loss_d": d_out.total.item()}), "loss_g": g_out.total.item()}
                )

        weights = {
            "generators": {k: m.state_dict() for k, m in variant.generators().items()},
            "discriminators": {k: m.state_dict() for k, m in variant.discriminators().items()},
        }
        if trainer.ema:  # the generators evaluation scored are the averages; the trained ones kept beside them
            weights["generators_trained"] = weights["generators"]
            weights["generators"] = {k: avg.module.state_dict() for k, avg in trainer.ema.items()}
        atomic_torch_save(weights, folder / "weights.pt")
        detail = "ok"
        overrun = spent.seconds - spec.budget.amount if spec.budget.is_time else 0.0
        if overrun > 0.01 * spec.budget.amount:  # a step that hung, or ran far longer than the others
            detail = f"ok; {overrun:.2f} s over the {spec.budget.text} budget (longest step {longest:.2f} s)"
        record.ended("ok", spent, budget_overrun_seconds=round(overrun, 4))
        emit([spec.status_row(data, spent, 1.0, detail)])
        if not spec.keep_checkpoints:
            (folder / CHECKPOINT).unlink(missing_ok=True)
        return TrialResult("ok", spent)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        atomic_write_text(folder / "error.txt", traceback.format_exc())
        record.ended("failed", spent, error=error)
        emit([spec.status_row(data, spent, 0.0, error)])
        return TrialResult("failed", spent, error)


def _signal_name(signum: int | None) -> str:
    try:
        return signal.Signals(signum).name if signum is not None else "stop requested"
    except ValueError:
        return f"signal {signum}"
