"""TensorBoard while a bench runs (``--tensorboard``, ``pip install "ganzoo[tensorboard]"``): event files per run
under ``RESULTS/tensorboard/<run_id>/``, written by the driver from the events every executor sends, so a trial
in a pool worker or a Ray task shows up the same. ``tensorboard --logdir RESULTS`` shows the study.

- ``train/loss_d``, ``train/loss_g``: the losses every 10 steps;
- ``eval/<metric>``: every metric at each evaluation point, and ``eval/loss_*`` (each interval's mean) and
  ``eval/divergence`` (the estimate the D objective implies);
- ``samples``: the sample sheet of each evaluation point;
- the hyper-parameters and the final summary values (TensorBoard's HParams tab), when a run finishes.

A resumed trial purges what its previous attempt wrote after its checkpoint, so no step shows twice.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

BOARD_DIR = "tensorboard"
SHEET = re.compile(r"samples/step-(\d+)\.png$")


class Board:
    def __init__(self, out: Path, resumed_at: dict[str, int] | None = None) -> None:
        self.root = Path(out) / BOARD_DIR
        self.resumed_at = resumed_at or {}
        self.writers: dict[str, Any] = {}

    def _writer(self, run_id: str) -> Any:
        if run_id not in self.writers:
            from torch.utils.tensorboard import SummaryWriter

            at = self.resumed_at.get(run_id)
            self.writers[run_id] = SummaryWriter(
                log_dir=str(self.root / run_id), purge_step=None if at is None else at + 1
            )
        return self.writers[run_id]

    def losses(self, run_id: str, step: int, losses: dict[str, float]) -> None:
        w = self._writer(run_id)
        for k, v in losses.items():
            w.add_scalar(f"train/{k}", v, step)

    def rows(self, run_id: str, rows: list[Any]) -> None:
        w = self._writer(run_id)
        for r in rows:
            if r.metric != "status" and r.value == r.value:  # NaN: an error row, nothing to draw
                w.add_scalar(f"eval/{r.metric}", r.value, r.step)
        w.flush()

    def files(self, run_id: str, files: dict[str, bytes | None]) -> None:
        import numpy as np
        from PIL import Image

        for name, blob in sorted(files.items()):
            match = SHEET.search(name)
            if match and blob is not None:
                with Image.open(io.BytesIO(blob)) as im:
                    self._writer(run_id).add_image(
                        "samples", np.asarray(im.convert("RGB")), int(match.group(1)), dataformats="HWC"
                    )

    def finished(self, run_id: str, hparams: dict[str, Any], finals: dict[str, float]) -> None:
        w = self._writer(run_id)
        shown = {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in hparams.items()}
        w.add_hparams(shown, {f"final/{k}": v for k, v in finals.items() if v == v}, run_name="hparams")
        w.flush()

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        self.writers.clear()
