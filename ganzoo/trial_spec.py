"""The contract between the planner and a trial: one :class:`TrialSpec` per trial, self-contained and
picklable. The planner (:mod:`ganzoo.plan`) makes them; the trial, the executors and evaluation read only
them, so nothing downstream calls back into the planner or reads the bench's config.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import torch

from ganzoo.budget import Budget, Spent
from ganzoo.config import DataSource
from ganzoo.factory import VariantSpec
from ganzoo.metrics.base import EvalOptions
from ganzoo.results import Row


class TrialKey(NamedTuple):
    """What names a trial: its variant label, divergence and seed."""

    variant: str
    divergence: str
    seed: int

    @property
    def run_id(self) -> str:
        """``<label>-<divergence>-s<seed>``: the trial's folder under ``runs/`` and its rows' ``run_id``."""
        return f"{self.variant}-{self.divergence}-s{self.seed}"


@dataclass(frozen=True)
class TrialSpec:
    """One trial, resolved and self-contained: what to build (the variant's plugin and every layer of its
    settings, typed), on which data, for how long, on which device and threads, where its files go and how
    it is evaluated, and the plugins' packages and code it runs. The trial, the executors and evaluation read
    only this: nothing goes back to the config or to the planner. It is run, checkpointed and resumed on
    its own, in ``runs/<run_id>/``."""

    variant: str  # the bench's label (the plugin's name unless --variants LABEL=VARIANT)
    divergence: str
    seed: int
    build: VariantSpec
    settings: str  # the results' ``settings`` column: what the variant was told beyond its defaults
    source: DataSource
    budget: Budget
    eval_every: Budget
    checkpoint_every: Budget | None
    device: torch.device
    threads: int
    amp: bool
    folder: Path  # runs/<run_id> under --out
    keep_checkpoints: bool
    evaluation: EvalOptions
    packages: dict[str, Any]  # the package providing each plugin: variant, divergence, dataset, metrics
    executor_note: dict[str, Any]  # where and how it runs, recorded in its config.json
    code: dict[str, Any]  # the part of the bench's code fingerprint this trial runs
    channels_last: bool = False  # the networks' weights in channels-last memory order (faster convolutions on GPUs)
    compile: bool = False  # each network compiled by torch.compile (its first step's warm-up recorded apart)

    @property
    def run_id(self) -> str:
        return TrialKey(self.variant, self.divergence, self.seed).run_id

    @property
    def plugin(self) -> str:
        """The installed variant this trial runs."""
        return self.build.plugin

    @property
    def label(self) -> str:
        return f"{self.variant}/{self.divergence} seed {self.seed}"

    def on(self, device: torch.device) -> TrialSpec:
        """The same trial on a worker's own device."""
        return replace(self, device=device)

    def row_keys(self, data: Any) -> dict[str, Any]:
        """The columns every row of this trial shares."""
        return dict(
            run_id=self.run_id,
            variant=self.variant,
            divergence=self.divergence,
            dataset=data.name,
            split=data.split,
            seed=self.seed,
            budget=self.budget.text,
            settings=self.settings,
        )

    def status_row(self, data: Any, spent: Spent, value: float, detail: str) -> Row:
        """This trial's status row (1 ok, 0 failed or interrupted), at the step, images and seconds it reached."""
        return Row(
            **self.row_keys(data),
            step=spent.steps,
            images_seen=spent.images,
            device_seconds=round(spent.seconds, 4),
            metric="status",
            value=value,
            detail=detail,
        )
