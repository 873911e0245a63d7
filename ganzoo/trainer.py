"""One training step, in one of three schemes chosen once from the trial's :class:`~ganzoo.training.Training`:

- :meth:`Trainer.alternating` (Goodfellow et al.'s Algorithm 1, the default): fix G and update D ``d_steps``
  times, then fix D and update G ``g_steps`` times;
- :meth:`Trainer.simultaneous` (ALI's and PacGAN's 2-D code): both players' gradients at the same
  parameters from one batch, then both optimizer steps; a recipe's extra D steps run alternately before
  it, extra G steps after it;
- :meth:`Trainer.generator_only` (the VAE baseline, no D).

Variants say what each player minimises for a batch; the trainer says when, with which player frozen
and under which precision. A batch carries its noise (``batch.z``), so "G reuses D's z" (``same_z``,
PacGAN's Stacked MNIST code) is G's updates reusing D's last batch. Mixed precision (``amp``) is CUDA-only:
fp16 autocast with one GradScaler per player, since each player's loss is scaled and stepped separately.

Two settings act around the step: ``lr_decay`` (:meth:`Trainer.anneal`, called with the budget's fraction
spent before each step) and ``ema`` (torch's ``AveragedModel`` of each generator, updated after the step;
:meth:`Trainer.evaluated` puts the average in G's place while evaluation samples).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ganzoo.data import Batch, BatchSampler
from ganzoo.training import Training
from ganzoo.variant import StepOutput, Variant


@dataclass
class StepResult:
    """What one step produced: each player's last output (D's is None without a D) and the real images
    learned from (shown to D, or to G when there is no D): the unit of an ``img`` budget."""

    d: StepOutput | None
    g: StepOutput
    images: int

    def __iter__(self):  # noqa: ANN204 - ``d_out, g_out, images = trainer.step()``, as before
        return iter((self.d, self.g, self.images))


def _set_trainable(nets: Iterable[nn.Module], flag: bool) -> None:
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


class Trainer:
    def __init__(self, variant: Variant, sampler: BatchSampler, training: Training, *, amp: bool = False) -> None:
        device = variant.device
        if amp and device.type != "cuda":
            raise ValueError(f"mixed precision (--amp) needs a CUDA device, got {device}")
        self.variant, self.sampler, self.training, self.amp, self.device = variant, sampler, training, amp, device
        self.d_nets = list(variant.discriminators().values())
        self.g_nets = list(variant.generators().values())
        self.d_params = [p for net in self.d_nets for p in net.parameters()]
        self.g_params = [p for net in self.g_nets for p in net.parameters()]
        own = variant.optimizers()
        if own is not None:
            self.d_opt, self.g_opt = own
        else:
            self.d_opt = training.optimizer_for(self.d_params) if self.d_params else None
            self.g_opt = training.optimizer_for(self.g_params)
        self.d_scaler = torch.amp.GradScaler("cuda", enabled=amp)
        self.g_scaler = torch.amp.GradScaler("cuda", enabled=amp)
        schemes: dict[str, Callable[[], StepResult]] = {
            "alternating": self.alternating,
            "simultaneous": self.simultaneous,
            "generator-only": self.generator_only,
        }
        self.ema = {
            name: torch.optim.swa_utils.AveragedModel(
                net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(training.ema), use_buffers=True
            )
            for name, net in (variant.generators().items() if training.ema else [])
        }
        self._scheme = schemes[training.scheme]
        self.step = self._averaged_step if self.ema else self._scheme

    def _averaged_step(self) -> StepResult:
        """The scheme's step, then each generator's moving average updated from its new weights."""
        result = self._scheme()
        for name, net in self.variant.generators().items():
            self.ema[name].update_parameters(net)
        return result

    def anneal(self, fraction: float) -> None:
        """Set each optimizer's learning rate for the step to come: lr x (1 - fraction of the budget spent) under
        a linear decay (Mimicry's), unchanged otherwise."""
        if self.training.lr_decay != "linear":
            return
        for opt in (self.d_opt, self.g_opt):
            for group in [] if opt is None else opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * max(0.0, 1.0 - fraction)

    @contextmanager
    def evaluated(self) -> Iterator[None]:
        """G as evaluation should see it: with ``ema``, the moving average's weights (and buffers) in G's place
        for the duration, G's own put back after; without it, G itself."""
        if not self.ema:
            yield
            return
        nets = self.variant.generators()
        kept = {name: {k: v.clone() for k, v in nets[name].state_dict().items()} for name in self.ema}
        for name, avg in self.ema.items():
            nets[name].load_state_dict(avg.module.state_dict())
        try:
            yield
        finally:
            for name, state in kept.items():
                nets[name].load_state_dict(state)

    # -- the three schemes -------------------------------------------------------------------------
    def alternating(self) -> StepResult:
        v, s, images = self.variant, self.training, 0
        # (1) Update D d_steps times, G fixed, each on a fresh batch
        self._freeze(g=True)
        for _ in range(s.d_steps):
            batch = v.next_batch(self.sampler)
            d_out = self._update_d(batch)
            images += batch.images
        # (2) Update G g_steps times, D fixed: on D's last batch (same_z) or a fresh one
        self._freeze(d=True)
        for _ in range(s.g_steps):
            batch = batch if s.same_z else v.next_batch(self.sampler)
            g_out = self._update_g(batch)
        return StepResult(d_out, g_out, images)

    def simultaneous(self) -> StepResult:
        v, s, images = self.variant, self.training, 0
        # (1) A recipe's extra D updates, G fixed
        self._freeze(g=True)
        for _ in range(s.d_steps - 1):
            batch = v.next_batch(self.sampler)
            self._update_d(batch)
            images += batch.images
        # (2) Both players from one forward pass at the same parameters, then both optimizer steps
        self._freeze()
        batch = v.next_batch(self.sampler)
        with self._autocast():
            d_out, g_out = v.joint_losses(batch)
        self._joint_update(d_out, g_out)
        v.divergence.after_d_step(self.d_nets)
        images += batch.images
        # (3) A protocol's extra G updates, D fixed
        self._freeze(d=True)
        for _ in range(s.g_steps - 1):
            batch = batch if s.same_z else v.next_batch(self.sampler)
            g_out = self._update_g(batch)
        return StepResult(d_out, g_out, images)

    def generator_only(self) -> StepResult:
        v, images = self.variant, 0
        self._freeze()
        for _ in range(self.training.g_steps):
            batch = v.next_batch(self.sampler)
            g_out = self._update_g(batch)
            images += batch.images
        return StepResult(None, g_out, images)

    # -- one update ----------------------------------------------------------------------------------
    def _update_d(self, batch: Batch) -> StepOutput:
        with self._autocast():
            out = self.variant.discriminator_loss(batch)
        self._apply(out, self.d_opt, self.d_scaler)
        self.variant.divergence.after_d_step(self.d_nets)
        return out

    def _update_g(self, batch: Batch) -> StepOutput:
        with self._autocast():
            out = self.variant.generator_loss(batch)
        self._apply(out, self.g_opt, self.g_scaler)
        return out

    def _apply(self, out: StepOutput, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler) -> None:
        opt.zero_grad(set_to_none=True)
        scaler.scale(out.total).backward()
        scaler.step(opt)
        scaler.update()

    def _joint_update(self, d_out: StepOutput, g_out: StepOutput) -> None:
        """Both players' gradients from the same graph at the same parameters (D's loss by D's parameters,
        G's by G's), then both optimizer steps: neither sees the other's update within the step."""
        d_grads = torch.autograd.grad(
            self.d_scaler.scale(d_out.total), self.d_params, retain_graph=True, allow_unused=True
        )
        g_grads = torch.autograd.grad(self.g_scaler.scale(g_out.total), self.g_params, allow_unused=True)
        for params, grads in ((self.d_params, d_grads), (self.g_params, g_grads)):
            for p, g in zip(params, grads):
                p.grad = g
        for opt, scaler in ((self.d_opt, self.d_scaler), (self.g_opt, self.g_scaler)):
            scaler.step(opt)
            scaler.update()

    def _freeze(self, *, d: bool = False, g: bool = False) -> None:
        """Make the named player's parameters constant (no gradient) and the other's trainable; neither named: both
        trainable (the simultaneous update's joint pass)."""
        _set_trainable(self.d_nets, not d)
        _set_trainable(self.g_nets, not g)

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp)

    # -- checkpoints ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Optimizer, gradient-scaler and moving-average states, for a checkpoint."""
        return {
            "d_opt": None if self.d_opt is None else self.d_opt.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "d_scaler": self.d_scaler.state_dict(),
            "g_scaler": self.g_scaler.state_dict(),
            "ema": {name: avg.state_dict() for name, avg in self.ema.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        if self.d_opt is not None:
            self.d_opt.load_state_dict(state["d_opt"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_scaler.load_state_dict(state["d_scaler"])
        self.g_scaler.load_state_dict(state["g_scaler"])
        for name, avg in self.ema.items():
            avg.load_state_dict(state["ema"][name])
