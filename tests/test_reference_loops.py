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

from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganzoo import Batch, presets
from ganzoo.factory import Built, VariantSpec, create_variant
from ganzoo.plan import plan
from ganzoo.trainer import Trainer

STEPS = 20
BATCH = 25  # packs per batch in the ring checks (the preset's 100, cut with --set to keep the suite quick)


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
    drawn up front, in order, so ganzoo and the reference see the same ones. A feed may hold more than a
    correct run takes, so that a scheme drawing more batches per step ends elsewhere instead of running out."""

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


def _preset_variant(tmp_path: Path, preset: str, label: str, **given: str) -> Built:
    """The preset's variant ``label`` as a bench builds it (the preset's values, then ``given`` as --set)."""
    cfg = presets.get(preset).config(
        out=tmp_path / "bench", variants=[label], seeds=[0], settings={label: given} if given else {}
    )
    p = plan(cfg)
    torch.manual_seed(0)
    return create_variant(p.runs[0].build, p.info)


def _train_ganzoo(built: Built, feed: Feed | None, steps: int = STEPS) -> Trainer:
    """``steps`` of ganzoo's trainer on the feed's batches and noise (``feed=None``: the noise the variant
    draws itself from the global RNG, and the feed set on the trainer's sampler beforehand)."""
    if feed is not None:
        built.variant.noise = feed.draw  # type: ignore[method-assign]
    trainer = Trainer(built.variant, feed, built.training)  # type: ignore[arg-type]
    for _ in range(steps):
        trainer.step()
    return trainer


# -- the reference: PacGAN's 2-D networks and update, in plain torch --------------------------------------


def _linear(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return h @ w.T + b


class RefPacGAN2D:
    """PacGAN's 2-D GAN from its description. Parameters are plain tensors: G = 4 x (linear, BatchNorm,
    ReLU) + linear; D = 3 maxout layers (a linear map to units x pieces; unit k is the max of its
    ``pieces`` consecutive outputs, ganzoo's weight layout, since the weights are shared) + linear."""

    def __init__(
        self,
        g_state: dict[str, torch.Tensor],
        d_state: dict[str, torch.Tensor],
        m: int,
        *,
        lr: float = 1e-4,
        beta1: float = 0.8,
        momentum: float = 0.05,
        pieces: int = 5,
    ) -> None:
        self.m, self.momentum, self.pieces = m, momentum, pieces
        g = [t.detach().clone() for t in g_state.values()]
        # per hidden layer: linear weight, bias, BN weight, bias, running mean, running var, batches tracked
        self.g_layers = [g[i : i + 7] for i in range(0, 28, 7)]
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

    def step(
        self, real: torch.Tensor, z: torch.Tensor, *, simultaneous: bool = True, per_noise_batch: bool = True
    ) -> None:
        real_packs = real.reshape(-1, 2 * self.m)  # m consecutive real samples per pack
        if simultaneous:  # one forward pass, both gradients at the same parameters, both steps
            fake = self.generator(z, per_noise_batch)
            scores = self.discriminator(torch.cat([real_packs, fake]))
            r, f = scores[: len(real_packs)], scores[len(real_packs) :]
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


def _ring_feed(m: int, steps: int = STEPS, batch: int = BATCH, repeat: int = 1) -> Feed:
    """``steps`` real batches of ring8 points and noise batches; ``repeat``: each handed out that many times
    in a row (an alternating step takes one for D's update and one for G's)."""
    gen = torch.Generator().manual_seed(1)
    angles = torch.randint(8, (steps, batch * m), generator=gen) * (2 * torch.pi / 8)
    real = torch.stack([2 * torch.cos(angles), 2 * torch.sin(angles)], -1) + 0.02 * torch.randn(
        steps, batch * m, 2, generator=gen
    )
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
    built = _preset_variant(tmp_path, "pacgan-ring", label, batch_size=str(BATCH))
    v = built.variant
    assert (built.training.update, v.g_per_noise_batch, v.g_bn_momentum, v.pack, v.batch_size) == (
        "simultaneous",
        True,
        0.05,
        m,
        BATCH,
    )
    g0 = {k: t.clone() for k, t in v.G.state_dict().items()}
    d0 = {k: t.clone() for k, t in v.D.state_dict().items() if k.endswith(("weight", "bias"))}
    long = _ring_feed(m, steps=2 * STEPS)  # the reference takes the first STEPS batches and noise, one of each a step
    ref = _run_reference(g0, d0, m, Feed(long.batches[:STEPS], long.noise[:STEPS]))
    _train_ganzoo(built, _ring_feed(m, steps=2 * STEPS))
    assert _max_gap(_ganzoo_state(v), _reference_state(ref)) < 1e-9

    # the classic wrong versions end elsewhere on the same feed: alternating updates (two batches a step, where
    # the paper takes one); G's BatchNorm over 100 m samples
    wrong = [{"update": "alternating"}] + ([{"g_per_noise_batch": "false"}] if m > 1 else [])
    for given in wrong:
        w = _preset_variant(tmp_path / "wrong", "pacgan-ring", label, batch_size=str(BATCH), **given)
        _train_ganzoo(w, _ring_feed(m, steps=2 * STEPS))
        assert _max_gap(_ganzoo_state(w.variant), _reference_state(ref)) > 1e-3, given


def test_simultaneous_steps_use_one_set_of_parameters(tmp_path: Path) -> None:
    """After one simultaneous step, G's update equals the gradient at D's old parameters: the step is the
    same whichever player the trainer steps first (it cannot see the other's new weights)."""
    built = _preset_variant(tmp_path, "pacgan-ring", "gan", batch_size=str(BATCH))
    v = built.variant
    feed = _ring_feed(1, steps=1)
    d_before = {k: t.clone() for k, t in v.D.state_dict().items()}
    _train_ganzoo(built, feed, steps=1)
    g_after = [t.clone() for t in v.G.parameters()]
    other = _preset_variant(tmp_path / "b", "pacgan-ring", "gan", batch_size=str(BATCH))
    w = other.variant
    w.D.load_state_dict(d_before)
    feed = _ring_feed(1, steps=1)
    w.noise = feed.draw  # type: ignore[method-assign]
    trainer = Trainer(w, feed, other.training)  # type: ignore[arg-type]
    trainer.d_opt, trainer.g_opt = trainer.g_opt, trainer.d_opt  # step order swapped: G's optimizer first
    trainer.step()
    assert all(torch.equal(a, b) for a, b in zip(g_after, w.G.parameters()))


# -- WGAN-GP under packing: the penalty per pack ---------------------------------------------------------


def _reference_pack_penalty(
    critic_on_packs, real_packs: torch.Tensor, fake_packs: torch.Tensor, weight: float = 10.0
) -> torch.Tensor:
    """Gulrajani et al.'s penalty on what the critic scores: one epsilon per pack, the gradient's norm over
    the whole pack."""
    eps = torch.rand(len(real_packs), 1)
    x_hat = (eps * real_packs + (1 - eps) * fake_packs).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic_on_packs(x_hat).sum(), x_hat, create_graph=True)
    return weight * ((grad.norm(dim=1) - 1) ** 2).mean()


def _packed_wgan_gp(tmp_path: Path, m: int):
    cfg = presets.get("pacgan-ring").config(
        out=tmp_path / "gp", variants=[f"pacgan{m}"], divergences=["wasserstein-gp"], seeds=[0]
    )
    p = plan(cfg)
    built = create_variant(p.runs[0].build, p.info)
    return built.variant, built


def test_packed_wgan_gp_penalty_is_per_pack(tmp_path: Path) -> None:
    m = 4
    v, built = _packed_wgan_gp(tmp_path, m)
    assert (
        built.record["won"]["lr"] == "recipe" and built.training.beta1 == 0.0 and built.training.d_steps == 5
    )  # the recipe beats the preset
    gen = torch.Generator().manual_seed(0)
    w1, w2 = torch.randn(16, 2 * m, generator=gen), torch.randn(16, generator=gen)
    critic_on_packs = lambda packs: torch.tanh(packs @ w1.T) @ w2  # noqa: E731  a non-linear critic of packs
    samples_critic = lambda x: critic_on_packs(x.reshape(len(x) // m, 2 * m))  # noqa: E731
    real, fake = torch.randn(40 * m, 2, generator=gen), torch.randn(40 * m, 2, generator=gen)
    torch.manual_seed(5)
    ours = v.critic_penalty(samples_critic, real, fake)
    torch.manual_seed(5)
    expected = _reference_pack_penalty(critic_on_packs, real.reshape(40, 2 * m), fake.reshape(40, 2 * m))
    assert float(ours) == pytest.approx(float(expected), rel=1e-10)

    # the wrong version: epsilon and the norm per sample, as an unpacked critic would have them
    torch.manual_seed(5)
    eps = torch.rand(len(real), 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(samples_critic(x_hat).sum(), x_hat, create_graph=True)
    per_sample = 10.0 * ((grad.norm(dim=1) - 1) ** 2).mean()
    assert abs(float(per_sample) - float(expected)) > 1e-2


def test_packed_wgan_gp_scores_a_unit_norm_critic_of_packs_zero(tmp_path: Path) -> None:
    """A linear critic whose gradient over the pack has norm exactly 1 is 1-Lipschitz: penalty 0; one with
    norm sqrt(m) per pack (norm 1 per sample) is not: penalty 10 (sqrt(m) - 1)^2."""
    m = 4
    v, _ = _packed_wgan_gp(tmp_path, m)
    real, fake = torch.randn(8 * m, 2), torch.randn(8 * m, 2)
    w = torch.randn(2 * m)
    for scale, expected in ((1 / w.norm(), 0.0), (m**0.5 / w.norm(), 10.0 * (m**0.5 - 1) ** 2)):
        linear = lambda x, s=scale: x.reshape(len(x) // m, 2 * m) @ (w * s)  # noqa: E731
        assert float(v.critic_penalty(linear, real, fake)) == pytest.approx(expected, abs=1e-9)


# -- Stacked MNIST: DCGAN-tensorflow's networks, one D update and two G updates from one z -----------------


class RefStackedDCGAN:
    """PacGAN's Stacked MNIST DCGAN (DCGAN-tensorflow) from its description, on tensors taken in the
    order of the shared state dicts. G: linear to 512 x 2 x 2, BatchNorm, ReLU; 5x5 stride-2 transposed
    convolutions to 4, 7, 14 and 28 pixels (BatchNorm and ReLU between, tanh out); once per noise batch,
    the m outputs joined along channels. D: 5x5 stride-2 convolutions (BatchNorm from the second, leaky
    ReLU 0.2) and a linear score, called on the real and on the fake batch apart. Adam(2e-4, 0.5)."""

    SIDES = (2, 4, 7, 14, 28)

    def __init__(self, g_state: dict[str, torch.Tensor], d_state: dict[str, torch.Tensor], m: int) -> None:
        self.m = m
        self.g = {k: t.detach().clone() for k, t in g_state.items()}
        self.d = {k: t.detach().clone() for k, t in d_state.items()}
        self.g_params = [t.requires_grad_(True) for k, t in self.g.items() if k.endswith(("weight", "bias"))]
        self.d_params = [t.requires_grad_(True) for k, t in self.d.items() if k.endswith(("weight", "bias"))]
        self.g_opt = torch.optim.Adam(self.g_params, 2e-4, betas=(0.5, 0.999))
        self.d_opt = torch.optim.Adam(self.d_params, 2e-4, betas=(0.5, 0.999))

    @staticmethod
    def _groups(state: dict[str, torch.Tensor]) -> list[list[torch.Tensor]]:
        """The state's tensors grouped by layer (the prefix before the last dot), in order."""
        out: dict[str, list[torch.Tensor]] = {}
        for k, t in state.items():
            out.setdefault(k.rsplit(".", 1)[0], []).append(t)
        return list(out.values())

    def _bn(self, chunks: list[torch.Tensor], layer: list[torch.Tensor], momentum: float = 0.1) -> list[torch.Tensor]:
        gamma, beta, r_mean, r_var, _ = layer
        outs, means, vars_ = [], [], []
        for a in chunks:
            mu, var = a.mean((0, 2, 3)), a.var((0, 2, 3), unbiased=False)
            outs.append(
                (a - mu[:, None, None]) / torch.sqrt(var[:, None, None] + 1e-5) * gamma[:, None, None]
                + beta[:, None, None]
            )
            means.append(mu.detach())
            vars_.append(a.detach().var((0, 2, 3), unbiased=True))
        with torch.no_grad():
            r_mean.mul_(1 - momentum).add_(torch.stack(means).mean(0), alpha=momentum)
            r_var.mul_(1 - momentum).add_(torch.stack(vars_).mean(0), alpha=momentum)
        return outs

    def generator(self, z: torch.Tensor) -> torch.Tensor:
        layers = self._groups(self.g)
        lin, bn0, convs = layers[0], layers[1], layers[2:]
        chunks = [(_linear(c, *lin)).reshape(len(c), 512, 2, 2) for c in z.chunk(self.m)]
        chunks = [F.relu(c) for c in self._bn(chunks, bn0)]
        for i in range(4):
            w, b = convs[2 * i]
            side = self.SIDES[i + 1]
            chunks = [
                F.conv_transpose2d(c, w, b, stride=2, padding=2, output_padding=side - 2 * c.shape[-1] + 1)
                for c in chunks
            ]
            chunks = (
                [torch.tanh(c) for c in chunks] if i == 3 else [F.relu(c) for c in self._bn(chunks, convs[2 * i + 1])]
            )
        return torch.cat(chunks, dim=1)  # pack j = the j-th image of every noise batch, channel after channel

    def discriminator(self, x: torch.Tensor) -> torch.Tensor:
        layers = self._groups(self.d)
        h, i = x, 0
        for k in range(4):
            w, b = layers[i]
            h = F.conv2d(h, w, b, stride=2, padding=2)
            i += 1
            if k:
                gamma, beta, r_mean, r_var, _ = layers[i]
                h = F.batch_norm(h, r_mean, r_var, gamma, beta, training=True, momentum=0.1)
                i += 1
            h = F.leaky_relu(h, 0.2)
        return _linear(h.flatten(1), *layers[i])[:, 0]

    def step(self, real: torch.Tensor, z: torch.Tensor, g_noise: list[torch.Tensor]) -> None:
        real_packs = real.reshape(len(real) // self.m, 3 * self.m, 28, 28)
        d_loss = (
            F.softplus(-self.discriminator(real_packs)).mean()
            + F.softplus(self.discriminator(self.generator(z).detach())).mean()
        )
        self.d_opt.zero_grad()
        d_loss.backward(inputs=self.d_params)
        self.d_opt.step()
        for zg in g_noise:  # two G updates; the paper's code feeds both the D update's z
            g_loss = F.softplus(-self.discriminator(self.generator(zg))).mean()
            self.g_opt.zero_grad()
            g_loss.backward(inputs=self.g_params)
            self.g_opt.step()


def _stacked_batches(m: int, batch: int, steps: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(2)
    return [torch.rand(batch * m, 3, 28, 28, generator=gen) * 2 - 1 for _ in range(steps)]


def _paper_noise(m: int, batch: int, steps: int, seed: int = 11) -> list[torch.Tensor]:
    """The paper's z ~ U[-1, 1], one draw of batch x 100 per iteration, from torch's global RNG seeded as ganzoo's run."""
    torch.manual_seed(seed)
    return [torch.rand(batch * m, 100) * 2 - 1 for _ in range(steps)]


def _train_on_own_noise(built: Built, batches: list[torch.Tensor], steps: int, seed: int = 11, **training) -> None:
    """ganzoo's trainer on fed real batches, the variant drawing its own noise from the global RNG."""
    trainer = Trainer(built.variant, Feed(batches, []), replace(built.training, **training))  # type: ignore[arg-type]
    torch.manual_seed(seed)
    for _ in range(steps):
        trainer.step()


@pytest.mark.parametrize("label,m", [("dcgan", 1), ("pacdcgan2", 2)])
def test_pacgan_stacked_mnist_matches_the_papers_loop(tmp_path: Path, label: str, m: int) -> None:
    from ganzoo.data import DataKind, DatasetInfo
    from ganzoo.params import typed
    from ganzoo.training import TRAINING_PARAMS
    from ganzoo_plugins.variants.dcgan import DCGAN

    cfg = presets.get("pacgan-stacked-mnist").config(out=tmp_path / "bench", variants=[label], seeds=[0])
    given = {k: v for k, v in cfg.preset_settings[label].items()}
    info = DatasetInfo(kind=DataKind.LABELLED, shape=(3, 28, 28), num_classes=1000, tags=frozenset({"stacked-digits"}))
    preset = {**typed(given, DCGAN.constructor_params(), "dcgan", also=TRAINING_PARAMS), "batch_size": 4}

    def build() -> Built:
        torch.manual_seed(0)
        return create_variant(VariantSpec(label, "dcgan", "nonsaturating", preset=preset), info)

    built = build()
    v, t = built.variant, built.training
    assert (v.g_layers, v.d_layers, t.g_steps, t.same_z, v.z_dist, t.lr, t.beta1) == (
        4,
        4,
        2,
        True,
        "uniform",
        2e-4,
        0.5,
    )
    assert 4.4e6 < sum(p.numel() for p in v.G.parameters()) < 4.6e6
    ref = RefStackedDCGAN(v.G.state_dict(), v.D.state_dict(), m)
    real = _stacked_batches(m, 4, 2)
    for x, z in zip(real, _paper_noise(m, 4, 2)):
        ref.step(x, z, [z, z])  # one D update and two G updates, all from the D update's z
    _train_on_own_noise(built, real, steps=2)
    assert _max_gap([*v.G.state_dict().values(), *v.D.state_dict().values()], [*ref.g.values(), *ref.d.values()]) < 1e-9

    # the wrong versions end elsewhere: each G update on a fresh z (and batch); z ~ U[0, 1] instead of U[-1, 1]
    w = build()
    _train_on_own_noise(w, [x for x in real for _ in range(3)], steps=2, same_z=False)
    assert _max_gap([*w.variant.G.state_dict().values()], [*ref.g.values()]) > 1e-4
    w = build()
    w.variant.noise = lambda n, dim, generator=None: torch.rand(n, dim, generator=generator)  # type: ignore[method-assign]
    _train_on_own_noise(w, real, steps=2)
    assert _max_gap([*w.variant.G.state_dict().values()], [*ref.g.values()]) > 1e-4


def test_a_simultaneous_trial_resumed_mid_interval_equals_the_uninterrupted_one(tmp_path: Path) -> None:
    """The update scheme, same_z and G's per-noise-batch BatchNorm survive a checkpoint: a pacgan-ring PacGAN4
    trial stopped between evaluation points and resumed ends with the uninterrupted trial's weights."""
    import signal

    from ganzoo.factory import load_data
    from ganzoo.results import load_weights
    from ganzoo.trial import StopFlag, run_trial

    torch.set_default_dtype(torch.float32)  # as a bench runs

    def trial(out: Path, stop_at: int | None = None):
        cfg = presets.get("pacgan-ring").config(
            out=out,
            variants=["pacgan4"],
            seeds=[0],
            budget="16steps",
            eval_every="8steps",
            metrics=["modes"],
            settings={"pacgan4": {"batch_size": "10", "same_z": "true"}},
        )
        p = plan(cfg)
        data = load_data(cfg)
        metrics = _metrics(p, data)
        stop = StopFlag()

        def progress(spent, losses):
            if stop_at is not None and spent.steps >= stop_at:
                stop.signal = signal.SIGINT

        first = run_trial(p.runs[0], data, metrics, lambda rows: None, stop=stop, on_progress=progress)
        if stop_at is not None:
            assert first.status == "interrupted" and first.spent.steps == 10
            assert run_trial(p.runs[0], data, metrics, lambda rows: None).status == "ok"
        return load_weights(out / "runs" / p.runs[0].run_id / "weights.pt")

    a, b = trial(tmp_path / "a"), trial(tmp_path / "b", stop_at=10)
    for player in a:
        for net in a[player]:
            for k, v in a[player][net].items():
                assert torch.equal(v, b[player][net][k]), (net, k)


def _metrics(p, data):
    from ganzoo.evaluation import prepare_metrics

    return prepare_metrics(data, p.device, p.cache_dir, p.evaluation)
