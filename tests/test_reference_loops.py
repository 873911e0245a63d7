"""The presets run the papers' algorithms: each is checked against a short loop written here in plain torch
from the paper's (and its released code's) description, not from ganzoo's code, started from the same
initial weights and fed the same real batches and noise. Each check also runs the classic wrong version
and asserts that it does not match, so a test that cannot fail is caught.

PacGAN's 2-D protocol (Lin et al. 2018; ALI's ``ali_algorithm`` in the released code): G is run once per
noise batch of 100 (so BatchNorm sees 100 samples) and its m BatchNorm updates are averaged and applied
with momentum 0.05; pack j joins sample j of every noise batch; D scores the real and the fake batch in
one call; both players' gradients are taken at the same parameters and both Adam steps applied at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganzoo import Batch, presets
from ganzoo.plan import build_variant, plan
from ganzoo.trainer import Trainer

STEPS = 20


@pytest.fixture(autouse=True)
def float64():
    """In float32 two correct implementations drift apart within 20 steps (Adam turns rounding noise in
    near-zero gradients, such as those of a bias BatchNorm cancels, into steps of size lr); in float64
    they agree to 1e-13, so a tolerance of 1e-9 separates a different algorithm from rounding."""
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


class Feed:
    """Stands in for the batch sampler and for the variant's noise: hands out the batches and the noise
    drawn up front, in order, so ganzoo and the reference see the same ones."""

    def __init__(self, batches: list[torch.Tensor], noise: list[torch.Tensor]) -> None:
        self.batches, self.noise = list(batches), list(noise)
        self.batches_taken = self.noise_taken = 0

    def sample(self, n: int, label: int | None = None) -> Batch:
        x = self.batches[self.batches_taken]
        assert len(x) == n, f"asked for {n} real samples, the feed holds batches of {len(x)}"
        self.batches_taken += 1
        return Batch(x=x)

    def draw(self, n: int, dim: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = self.noise[self.noise_taken]
        assert tuple(z.shape) == (n, dim), f"asked for noise {(n, dim)}, the feed holds {tuple(z.shape)}"
        self.noise_taken += 1
        return z


def _preset_variant(tmp_path: Path, preset: str, label: str, **given: str):
    """The preset's variant ``label`` as a bench builds it (the preset's values, then ``given`` as --set)."""
    cfg = presets.get(preset).config(out=tmp_path / "bench", variants=[label], seeds=[0],
                                     hparams={label: given} if given else {})
    p = plan(cfg)
    torch.manual_seed(0)
    v, _ = build_variant(label, p.runs[0].divergence, p.info, p.hparams.get(label, {}), None, plugin=p.plugin(label),
                         preset=p.preset_hparams.get(label, {}))
    return v


def _train_ganzoo(v, feed: Feed, steps: int = STEPS) -> None:
    v.draw_noise = feed.draw  # type: ignore[method-assign]
    trainer = Trainer(v, feed)  # type: ignore[arg-type]
    for _ in range(steps):
        trainer.step()


# -- the reference: PacGAN's 2-D networks and update, in plain torch --------------------------------------

def _linear(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return h @ w.T + b


class RefPacGAN2D:
    """PacGAN's 2-D GAN from its description. Parameters are plain tensors: G = 4 x (linear, BatchNorm,
    ReLU) + linear; D = 3 maxout layers (a linear map to units x pieces; unit k is the max of its
    ``pieces`` consecutive outputs, ganzoo's weight layout, since the weights are shared) + linear."""

    def __init__(self, g_state: dict[str, torch.Tensor], d_state: dict[str, torch.Tensor], m: int, *,
                 lr: float = 1e-4, beta1: float = 0.8, momentum: float = 0.05, pieces: int = 5) -> None:
        self.m, self.momentum, self.pieces = m, momentum, pieces
        g = [t.detach().clone() for t in g_state.values()]
        # per hidden layer: linear weight, bias, BN weight, bias, running mean, running var, batches tracked
        self.g_layers = [g[i:i + 7] for i in range(0, 28, 7)]
        self.g_out = g[28:30]
        self.d = [t.detach().clone() for t in d_state.values()]
        self.g_params = [t for layer in self.g_layers for t in layer[:4]] + self.g_out
        for t in self.g_params + self.d:
            t.requires_grad_(True)
        self.g_opt = torch.optim.Adam(self.g_params, lr, betas=(beta1, 0.999))
        self.d_opt = torch.optim.Adam(self.d, lr, betas=(beta1, 0.999))

    def generator(self, z: torch.Tensor, per_noise_batch: bool = True) -> torch.Tensor:
        """G once per noise batch (``per_noise_batch``): BatchNorm statistics from each batch alone, the m
        updates of the running averages averaged, then applied with the momentum."""
        chunks = list(z.chunk(self.m)) if per_noise_batch else [z]
        for w, b, gamma, beta, r_mean, r_var, _ in self.g_layers:
            outs, means, vars_ = [], [], []
            for h in chunks:
                a = _linear(h, w, b)
                mu, var = a.mean(0), a.var(0, unbiased=False)
                outs.append(F.relu((a - mu) / torch.sqrt(var + 1e-5) * gamma + beta))
                means.append(mu.detach())
                vars_.append(a.detach().var(0, unbiased=True))
            with torch.no_grad():
                r_mean.mul_(1 - self.momentum).add_(torch.stack(means).mean(0), alpha=self.momentum)
                r_var.mul_(1 - self.momentum).add_(torch.stack(vars_).mean(0), alpha=self.momentum)
            chunks = outs
        outs = [_linear(h, *self.g_out) for h in chunks]
        # pack j = (G(z_1)_j, ..., G(z_m)_j): the m outputs side by side
        return torch.cat(outs, dim=1) if per_noise_batch else outs[0].reshape(-1, 2 * self.m)

    def discriminator(self, packs: torch.Tensor) -> torch.Tensor:
        h = packs
        for i in range(3):
            w, b = self.d[2 * i], self.d[2 * i + 1]
            h = _linear(h, w, b).reshape(len(h), -1, self.pieces).max(dim=2).values
        return _linear(h, self.d[6], self.d[7])[:, 0]

    def step(self, real: torch.Tensor, z: torch.Tensor, *, simultaneous: bool = True, per_noise_batch: bool = True) -> None:
        real_packs = real.reshape(-1, 2 * self.m)  # m consecutive real samples per pack
        if simultaneous:  # one forward pass, both gradients at the same parameters, both steps
            fake = self.generator(z, per_noise_batch)
            scores = self.discriminator(torch.cat([real_packs, fake]))
            r, f = scores[: len(real_packs)], scores[len(real_packs):]
            d_loss = F.softplus(-r).mean() + F.softplus(f).mean()
            g_loss = F.softplus(-f).mean()
            d_grads = torch.autograd.grad(d_loss, self.d, retain_graph=True)
            g_grads = torch.autograd.grad(g_loss, self.g_params)
            for t, gr in (*zip(self.d, d_grads), *zip(self.g_params, g_grads)):
                t.grad = gr
            self.d_opt.step()
            self.g_opt.step()
        else:
            raise NotImplementedError  # the reference is the paper's scheme only


def _ring_feed(m: int, steps: int = STEPS, batch: int = 100, repeat: int = 1) -> Feed:
    """``steps`` real batches of ring8 points and noise batches; ``repeat``: each handed out that many times
    in a row (an alternating step takes one for D's update and one for G's)."""
    gen = torch.Generator().manual_seed(1)
    angles = torch.randint(8, (steps, batch * m), generator=gen) * (2 * torch.pi / 8)
    real = torch.stack([2 * torch.cos(angles), 2 * torch.sin(angles)], -1) + 0.02 * torch.randn(steps, batch * m, 2, generator=gen)
    z = torch.randn(steps, batch * m, 2, generator=gen)
    return Feed([x for x in real for _ in range(repeat)], [n for n in z for _ in range(repeat)])


def _ganzoo_state(v) -> list[torch.Tensor]:
    return [*v.G.state_dict().values(), *v.D.state_dict().values()]


def _reference_state(ref: RefPacGAN2D) -> list[torch.Tensor]:
    return [*(t for layer in ref.g_layers for t in layer), *ref.g_out, *ref.d]


def _max_gap(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x.detach() - y.detach()).abs().max()) for x, y in zip(a, b) if x.is_floating_point())


def _run_reference(v0_g: dict, v0_d: dict, m: int, feed: Feed) -> RefPacGAN2D:
    ref = RefPacGAN2D(v0_g, v0_d, m)
    for x, z in zip(feed.batches, feed.noise):
        ref.step(x, z)
    return ref


@pytest.mark.parametrize("label,m", [("gan", 1), ("pacgan4", 4)])
def test_pacgan_ring_matches_the_papers_loop(tmp_path: Path, label: str, m: int) -> None:
    v = _preset_variant(tmp_path, "pacgan-ring", label)
    assert (v.update, v.g_per_noise_batch, v.g_bn_momentum, v.pack) == ("simultaneous", True, 0.05, m)
    g0 = {k: t.clone() for k, t in v.G.state_dict().items()}
    d0 = {k: t.clone() for k, t in v.D.state_dict().items() if k.endswith(("weight", "bias"))}
    ref = _run_reference(g0, d0, m, _ring_feed(m))
    _train_ganzoo(v, _ring_feed(m))
    assert _max_gap(_ganzoo_state(v), _reference_state(ref)) < 1e-9

    # the classic wrong versions end elsewhere: alternating updates; G's BatchNorm over 100 m samples
    wrong = [{"update": "alternating"}] + ([{"g_per_noise_batch": "false"}] if m > 1 else [])
    for given in wrong:
        w = _preset_variant(tmp_path / "wrong", "pacgan-ring", label, **given)
        _train_ganzoo(w, _ring_feed(m, repeat=2 if given.get("update") == "alternating" else 1))
        assert _max_gap(_ganzoo_state(w), _reference_state(ref)) > 1e-3, given


def test_simultaneous_steps_use_one_set_of_parameters(tmp_path: Path) -> None:
    """After one simultaneous step, G's update equals the gradient at D's old parameters: the step is the
    same whichever player the trainer steps first (it cannot see the other's new weights)."""
    v = _preset_variant(tmp_path, "pacgan-ring", "gan")
    feed = _ring_feed(1, steps=1)
    d_before = {k: t.clone() for k, t in v.D.state_dict().items()}
    _train_ganzoo(v, feed, steps=1)
    g_after = [t.clone() for t in v.G.parameters()]
    w = _preset_variant(tmp_path / "b", "pacgan-ring", "gan")
    w.D.load_state_dict(d_before)
    trainer = Trainer(w, _ring_feed(1, steps=1))  # type: ignore[arg-type]
    trainer.d_opt, trainer.g_opt = trainer.g_opt, trainer.d_opt  # step order swapped: G's optimizer first
    w.draw_noise = _ring_feed(1, steps=1).draw  # type: ignore[method-assign]
    trainer.step()
    assert all(torch.equal(a, b) for a, b in zip(g_after, w.G.parameters()))
