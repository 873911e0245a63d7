"""Plugins written against the public API before the trainer owned the training settings and the batch carried
its noise keep working: ``self.noise(...)`` in a loss is a fresh draw, ``set_training`` in ``__init__`` still
declares the variant's defaults (below ``--set``), and ``noise_tape`` is a no-op; the last two warn."""

from __future__ import annotations

import math
from contextlib import nullcontext

import pytest
import torch
from torch import nn

from ganzoo import StepOutput, Variant, registry
from ganzoo.data import BatchSampler
from ganzoo.factory import VariantSpec, create_variant
from ganzoo.trainer import Trainer


class OldStyleGAN(Variant):
    description = "a plugin as `ganzoo new` scaffolded it before batch.z"

    def __init__(self, *, info, divergence, batch_size=16, z_dim=8, hidden=32, lr=1e-3, beta1=0.5):
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.z_dim, self.hidden, self.lr, self.beta1 = z_dim, hidden, lr, beta1
        n = math.prod(info.shape)
        self.G = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, n), nn.Unflatten(1, info.shape))
        self.D = nn.Sequential(nn.Flatten(), nn.Linear(n, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
        self.set_training(d_steps=2)  # the old way to declare two D updates per step

    def discriminator_loss(self, batch):
        return self.adversarial_d(self.D, batch.x, self.G(self.noise(len(batch.x), self.z_dim)).detach())

    def generator_loss(self, batch):
        return StepOutput(
            losses={"adv": self.divergence.g_loss(self.D(self.G(self.noise(self.batch_size, self.z_dim))))}
        )

    def joint_losses(self, batch):
        with self.noise_tape() as tape:
            d_out = self.discriminator_loss(batch)
        with self.noise_tape(replay=tape):
            g_out = self.generator_loss(batch)
        return d_out, g_out

    @torch.no_grad()
    def generate(self, n, *, generator=None, y=None):
        return self.G(self.noise(n, self.z_dim, generator=generator))


@pytest.fixture
def old_style(fresh_registries):
    registry.variants.register("old-style", OldStyleGAN)
    yield registry.datasets.get("ring8").load(name="ring8", data_dir=None, split="auto", download=False)
    registry.variants.unregister("old-style")


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_an_old_style_plugin_trains_under_both_schemes_and_its_declared_d_steps_hold(old_style, update):
    data = old_style
    with pytest.warns(DeprecationWarning, match="set_training is deprecated"):
        built = create_variant(VariantSpec("old-style", "old-style", "nonsaturating", {"update": update}), data.info)
    assert built.training.d_steps == 2 and built.training.lr == 1e-3 and built.training.update == update
    v = built.variant
    before = [p.detach().clone() for p in (*v.G.parameters(), *v.D.parameters())]
    trainer = Trainer(v, BatchSampler(data, seed=0, device=torch.device("cpu")), built.training)
    with pytest.warns(DeprecationWarning, match="noise_tape") if update == "simultaneous" else nullcontext():
        d_out, g_out, images = trainer.step()
    assert images == 2 * 16 and torch.isfinite(d_out.total) and torch.isfinite(g_out.total)
    after = [p.detach() for p in (*v.G.parameters(), *v.D.parameters())]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))


def test_set_beats_what_an_old_style_plugin_declares(old_style):
    with pytest.warns(DeprecationWarning):
        built = create_variant(VariantSpec("old-style", "old-style", "nonsaturating", {"d_steps": 3}), old_style.info)
    assert built.training.d_steps == 3
