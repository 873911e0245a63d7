"""Device choice and a training clock that counts device time, not host time.

CUDA kernels run asynchronously: reading the host clock right after a step measures the launch, not
the work. The clock synchronises before every reading on CUDA, so device seconds include every
kernel queued by the training steps and nothing queued by evaluation.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import torch


class DeviceError(ValueError):
    pass


def resolve_device(spec: str) -> torch.device:
    """``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``; an unusable choice is an error."""
    spec = spec.strip().lower()
    if spec == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    m = re.fullmatch(r"cuda(?::(\d+))?", spec)
    if not m:
        raise DeviceError(f"invalid device {spec!r}: use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise DeviceError(
            f"device {spec!r} asked for, but torch sees no CUDA device (torch {torch.__version__}); use --device cpu"
        )
    index = int(m.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise DeviceError(f"device {spec!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) exist")
    return torch.device("cuda", index)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class DeviceClock:
    """Accumulates device seconds over start/stop segments."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.total = 0.0
        self._t0: float | None = None

    def start(self) -> None:
        synchronize(self.device)  # work queued before (evaluation) is not ours to count
        self._t0 = time.perf_counter()

    def read(self) -> float:
        """Seconds so far, including the running segment (synchronises on CUDA)."""
        if self._t0 is None:
            return self.total
        synchronize(self.device)
        return self.total + time.perf_counter() - self._t0

    def stop(self) -> float:
        self.total = self.read()
        self._t0 = None
        return self.total


# what each extra trial process costs on a GPU beyond its tensors (the CUDA context and allocator slack), and the
# share of the free memory trials may fill
CUDA_CONTEXT_BYTES = 600 * 2**20
MEMORY_HEADROOM = 0.8
MAX_TRIALS_PER_DEVICE = 8


def trials_per_device(free_bytes: int, footprint_bytes: int, trials: int, cap: int = MAX_TRIALS_PER_DEVICE) -> int:
    """How many trials of a measured peak footprint share one GPU: as many as fit in ``MEMORY_HEADROOM`` of its free
    memory, each with its own CUDA context, at most ``cap`` (where benchmarks/gpu.py found that adding trials stops
    paying on small networks) and never more than there are trials; at least one."""
    per_trial = max(1, footprint_bytes) + CUDA_CONTEXT_BYTES
    fits = int(MEMORY_HEADROOM * free_bytes // per_trial)
    return max(1, min(cap, trials, fits))


def step_footprint(step: Callable[[], object], device: torch.device) -> int:
    """Peak bytes allocated on the CUDA ``device`` while ``step`` runs (a training step at the real batch size)."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    step()
    torch.cuda.synchronize(device)
    return max(0, torch.cuda.max_memory_allocated(device) - base)
