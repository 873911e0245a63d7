"""The update schemes every variant shares, chosen per variant by its ``update`` setting.

- ``alternating`` (Goodfellow et al.'s Algorithm 1, the default): fix G and update D ``d_steps`` times,
  then fix D and update G ``g_steps`` times.
- ``simultaneous`` (ALI's and PacGAN's 2-D code): both players' gradients at the same parameters, from
  one real batch and one z (:meth:`Variant.joint_losses`), then both optimizer steps. A recipe's extra
  critic steps (``d_steps`` > 1) run alternately before it, extra G steps after it.

With ``same_z`` the G updates of a step reuse the noise and the real batch of the step's last D update
(PacGAN's Stacked MNIST code feeds one z to the D update and both G updates).

Variants say what each player minimises; this loop decides when, with which parameters frozen, and
under which precision. Mixed precision (``amp``) is CUDA-only: fp16 autocast with one GradScaler per
player, since each player's loss is scaled and stepped separately.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext

import torch
from torch import nn

from ganzoo.data import BatchSampler
from ganzoo.variant import StepOutput, Variant


def _set_trainable(nets: Iterable[nn.Module], flag: bool) -> None:
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


class Trainer:
    def __init__(self, variant: Variant, sampler: BatchSampler, *, amp: bool = False) -> None:
        device = variant.device
        if amp and device.type != "cuda":
            raise ValueError(f"mixed precision (--amp) needs a CUDA device, got {device}")
        self.variant, self.sampler, self.amp, self.device = variant, sampler, amp, device
        self.d_nets = list(variant.discriminators().values())
        self.g_nets = list(variant.generators().values())
        self.d_params = [p for net in self.d_nets for p in net.parameters()]
        self.g_params = [p for net in self.g_nets for p in net.parameters()]
        self.d_opt, self.g_opt = variant.optimizers()
        self.d_scaler = torch.amp.GradScaler("cuda", enabled=amp)
        self.g_scaler = torch.amp.GradScaler("cuda", enabled=amp)

    def state_dict(self) -> dict:
        """Optimizer and gradient-scaler states, for a checkpoint."""
        return {"d_opt": None if self.d_opt is None else self.d_opt.state_dict(), "g_opt": self.g_opt.state_dict(),
                "d_scaler": self.d_scaler.state_dict(), "g_scaler": self.g_scaler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if self.d_opt is not None:
            self.d_opt.load_state_dict(state["d_opt"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_scaler.load_state_dict(state["d_scaler"])
        self.g_scaler.load_state_dict(state["g_scaler"])

    def _update(self, out: StepOutput, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler) -> None:
        opt.zero_grad(set_to_none=True)
        scaler.scale(out.total).backward()
        scaler.step(opt)
        scaler.update()

    def _autocast(self):  # noqa: ANN202
        return torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp)

    def step(self) -> tuple[StepOutput | None, StepOutput, int]:
        """One step: ``d_steps`` D updates, then ``g_steps`` G updates (1 by default), alternating or
        simultaneous as the variant's ``update`` says; returns both outputs (D's is None for a
        non-adversarial variant) and the real images learned from (shown to D, or to G without a D)."""
        v = self.variant
        simultaneous = v.update == "simultaneous" and v.d_steps > 0
        images, d_out, g_out, tape, batch = 0, None, None, None, None

        # (1) Discriminator: G fixed, k updates on fresh batches (the last one joint, when simultaneous).
        _set_trainable(self.g_nets, False)
        _set_trainable(self.d_nets, True)
        for i in range(v.d_steps - 1 if simultaneous else v.d_steps):
            batch = v.next_batch(self.sampler)
            with self._autocast(), (v.noise_tape() if v.same_z and i == v.d_steps - 1 else nullcontext()) as recorded:
                d_out = v.discriminator_loss(batch)
            tape = recorded or tape
            self._update(d_out, self.d_opt, self.d_scaler)
            v.divergence.after_d_step(self.d_nets)
            images += batch.images
        g_updates = v.g_steps
        if simultaneous:
            _set_trainable(self.g_nets, True)
            batch = v.next_batch(self.sampler)
            with self._autocast(), v.noise_tape() as tape:
                d_out, g_out = v.joint_losses(batch)
            self._joint_update(d_out, g_out)
            v.divergence.after_d_step(self.d_nets)
            images += batch.images
            g_updates -= 1

        # (2) Generator: D fixed, g_steps updates (1 unless a protocol asks for more).
        _set_trainable(self.d_nets, False)
        _set_trainable(self.g_nets, True)
        for _ in range(g_updates):
            reuse = v.same_z and tape is not None
            batch = batch if reuse else v.next_batch(self.sampler)
            with self._autocast(), (v.noise_tape(replay=tape) if reuse else nullcontext()):
                g_out = v.generator_loss(batch)
            self._update(g_out, self.g_opt, self.g_scaler)
            if v.d_steps == 0:
                images += batch.images
        assert g_out is not None
        return d_out, g_out, images

    def _joint_update(self, d_out: StepOutput, g_out: StepOutput) -> None:
        """Both players' gradients from the same graph at the same parameters (D's loss by D's parameters,
        G's by G's), then both optimizer steps: neither sees the other's update within the step."""
        d_grads = torch.autograd.grad(self.d_scaler.scale(d_out.total), self.d_params, retain_graph=True, allow_unused=True)
        g_grads = torch.autograd.grad(self.g_scaler.scale(g_out.total), self.g_params, allow_unused=True)
        for params, grads in ((self.d_params, d_grads), (self.g_params, g_grads)):
            for p, g in zip(params, grads):
                p.grad = g
        for opt, scaler in ((self.d_opt, self.d_scaler), (self.g_opt, self.g_scaler)):
            scaler.step(opt)
            scaler.update()
