"""Compute budgets: every variant in a bench trains until the same budget is spent.

Three measures are tracked for every run and recorded at every evaluation point; the budget names
the one that stops training:

- ``2000steps``: generator updates (each preceded by the variant's k discriminator updates);
- ``50kimg``: real images shown to the discriminator (StyleGAN's kimg convention);
- ``300s``, ``5m``, ``1h``: device seconds spent training, evaluation excluded, measured with CUDA
  synchronisation so queued kernels are counted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_UNITS = {
    "steps": ("steps", 1),
    "step": ("steps", 1),
    "img": ("images", 1),
    "kimg": ("images", 1_000),
    "mimg": ("images", 1_000_000),
    "s": ("seconds", 1),
    "sec": ("seconds", 1),
    "m": ("seconds", 60),
    "min": ("seconds", 60),
    "h": ("seconds", 3600),
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")
FORMS = "steps (2000steps), images seen (50kimg, 1mimg) or device seconds (300s, 5m, 1h)"


class BudgetError(ValueError):
    pass


@dataclass(frozen=True)
class Spent:
    steps: int = 0
    images: int = 0
    seconds: float = 0.0

    def of(self, measure: str) -> float:
        return getattr(self, measure)


@dataclass(frozen=True)
class Budget:
    measure: str  # "steps" | "images" | "seconds"
    amount: float
    text: str

    @classmethod
    def parse(cls, text: str) -> Budget:
        m = _PATTERN.match(text.lower())
        if not m or m.group(2) not in _UNITS:
            raise BudgetError(f"invalid budget {text!r}: give a number and a unit, as {FORMS}")
        measure, scale = _UNITS[m.group(2)]
        amount = float(m.group(1)) * scale
        if amount <= 0:
            raise BudgetError(f"invalid budget {text!r}: it must be greater than zero")
        if measure != "seconds":
            if not amount.is_integer():
                raise BudgetError(f"invalid budget {text!r}: {measure} must be a whole number")
            amount = int(amount)
        return cls(measure, amount, text.strip())

    @property
    def is_time(self) -> bool:
        return self.measure == "seconds"

    def spent(self, s: Spent) -> bool:
        return s.of(self.measure) >= self.amount

    def fraction(self, s: Spent) -> float:
        return min(1.0, s.of(self.measure) / self.amount)

    def split(self, parts: int) -> Budget:
        """This budget divided in ``parts``: the default evaluation interval."""
        amount = self.amount / parts
        if self.measure != "seconds":
            amount = max(1, math.ceil(amount))
        return Budget(self.measure, amount, f"{self.text}/{parts}")

    def left(self, s: Spent) -> str:
        rest = max(0.0, self.amount - s.of(self.measure))
        return {"steps": f"{int(rest)} steps", "images": f"{int(rest)} img", "seconds": f"{rest:.0f}s"}[
            self.measure
        ] + " left"


class EvalSchedule:
    """Evaluation at the start, every ``interval`` of its measure, and at the end of training."""

    def __init__(self, interval: Budget) -> None:
        self.interval = interval
        self._next = interval.amount

    @property
    def next_at(self) -> float:
        """Where the next point falls (checkpointed, so a resumed trial keeps the same schedule)."""
        return self._next

    @next_at.setter
    def next_at(self, value: float) -> None:
        self._next = value

    def due(self, s: Spent) -> bool:
        if s.of(self.interval.measure) >= self._next:
            while self._next <= s.of(self.interval.measure):
                self._next += self.interval.amount
            return True
        return False
