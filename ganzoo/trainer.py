"""The alternating update every variant shares: fix G and update D (k times), then fix D and update G.

Variants say what each player minimises; this loop decides when, with which parameters frozen, and
under which precision. Mixed precision (``amp``) is CUDA-only: fp16 autocast with one GradScaler per
player, since each player's loss is scaled and stepped separately.
"""

from __future__ import annotations

from collections.abc import Iterable

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

    def step(self) -> tuple[StepOutput | None, StepOutput, int]:
        """One step: ``d_steps`` D updates, then ``g_steps`` G updates (1 by default); returns both outputs (D's is None for a
        non-adversarial variant) and the real images learned from (shown to D, or to G without a D)."""
        v, images, d_out = self.variant, 0, None

        # (1) Discriminator: G fixed, k updates on fresh batches.
        _set_trainable(self.g_nets, False)
        _set_trainable(self.d_nets, True)
        for _ in range(v.d_steps):
            batch = v.next_batch(self.sampler)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
                d_out = v.discriminator_loss(batch)
            self._update(d_out, self.d_opt, self.d_scaler)
            v.divergence.after_d_step(self.d_nets)
            images += batch.images

        # (2) Generator: D fixed, g_steps updates (1 unless a protocol asks for more).
        _set_trainable(self.d_nets, False)
        _set_trainable(self.g_nets, True)
        for _ in range(v.g_steps):
            batch = v.next_batch(self.sampler)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
                g_out = v.generator_loss(batch)
            self._update(g_out, self.g_opt, self.g_scaler)
            if v.d_steps == 0:
                images += batch.images
        return d_out, g_out, images
