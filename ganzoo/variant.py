"""The one interface every GAN variant implements.

A variant owns its networks and says, for one batch, what D minimises and what G minimises. The
trainer owns the alternation: it fixes G and updates D ``d_steps`` times, then fixes D and updates G.
The same shape covers every seed variant:

- conditions ride in the :class:`~ganzoo.data.Batch` (``y`` for a class or target domain, ``source``
  for a source image), and a variant draws the batch it needs in :meth:`Variant.next_batch`;
- several networks per player are dicts (CycleGAN: two generators, two discriminators);
- extra loss terms are more entries in :attr:`StepOutput.losses` (cycle, reconstruction,
  classification, pulling-away), all summed and backpropagated, each logged under its name.

See docs/architecture.md for how each seed variant maps onto it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ganzoo.data import Batch, BatchSampler, DataKind, DatasetInfo
from ganzoo.divergence import Divergence
from ganzoo.params import keyword_params


class IncompatibleData(ValueError):
    """A variant cannot train on a dataset; raised before anything is loaded or trained."""


OPTIMIZERS = ("adam", "rmsprop")
NOISE = ("normal", "uniform")  # z ~ N(0, I), or U[-1, 1] (DCGAN's and PacGAN's Stacked MNIST protocol)
# alternating: Goodfellow et al.'s Algorithm 1 (fix G, update D; then fix D, update G); simultaneous: both
# players' gradients at the same parameters from one batch and one z, then both optimizer steps (the
# update of ALI's and PacGAN's 2-D code)
UPDATES = ("alternating", "simultaneous")
# Training hyper-parameters every variant takes, whether or not its constructor names them: a
# divergence's Recipe and ``--set`` reach them through Variant.set_training. Values are the types.
TRAINING_PARAMS: dict[str, type] = {"d_steps": int, "g_steps": int, "optimizer": str, "lr": float, "beta1": float,
                                    "beta2": float, "z_dist": str, "update": str, "same_z": bool}


def pack_samples(x: Tensor, m: int) -> Tensor:
    """PacGAN's packing (Lin et al. 2018): ``m`` consecutive samples joined along their first feature axis,
    (n, C, ...) -> (n / m, m * C, ...), so D judges m samples at once and sees a collapsed G's lack of
    variety. Real and fake batches are packed separately: every pack is all real or all fake."""
    if m == 1:
        return x
    if x.shape[0] % m:
        raise ValueError(f"a batch of {x.shape[0]} samples cannot be packed in groups of {m}")
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


def unpack_samples(x: Tensor, m: int) -> Tensor:
    """The inverse of :func:`pack_samples`: (n / m, m * C, ...) -> (n, C, ...)."""
    if m == 1:
        return x
    return x.reshape(x.shape[0] * m, x.shape[1] // m, *x.shape[2:])


class Pack(nn.Module):
    """Put in front of a D built for ``m`` times the input channels (or features): packs its input."""

    def __init__(self, m: int) -> None:
        super().__init__()
        if not isinstance(m, int) or m < 1:
            raise ValueError(f"pack must be a positive integer, got {m!r}")
        self.m = m

    def forward(self, x: Tensor) -> Tensor:
        return pack_samples(x, self.m)


class SplitBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm (1-D or 2-D input alike) whose training statistics come from each of ``groups``
    consecutive equal slices of the batch on its own, with the running averages moved once per call by
    the mean of the slices' statistics: G run separately on each of a PacGAN step's m noise batches
    (PacGAN's released code calls G once per noise batch and averages the m BatchNorm updates), in one
    forward pass.

    ``groups`` is 1 (exactly torch's BatchNorm) unless the owner sets it; evaluation uses the running
    averages either way. Parameters and buffers are torch's BatchNorm's, so earlier weights load."""

    def __init__(self, num_features: int, *, momentum: float = 0.1, eps: float = 1e-5) -> None:
        if not 0 < momentum <= 1:
            raise ValueError(f"BatchNorm momentum must be in (0, 1], got {momentum!r}")
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.groups = 1

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() not in (2, 3, 4):
            raise ValueError(f"expected 2-D, 3-D or 4-D input, got {x.dim()}-D")

    def forward(self, x: Tensor) -> Tensor:
        m = self.groups
        if m == 1 or not self.training:
            return super().forward(x)
        if x.shape[0] % m:
            raise ValueError(f"a batch of {x.shape[0]} cannot be split into {m} noise batches for G's BatchNorm")
        xs = x.reshape(m, x.shape[0] // m, *x.shape[1:])  # -> groups x n x C (x H x W)
        dims = (1, *range(3, xs.dim()))  # each group's samples (and positions), per channel
        mean = xs.mean(dim=dims, keepdim=True)
        var = xs.var(dim=dims, unbiased=False, keepdim=True)
        shape = (1, 1, -1, *[1] * (xs.dim() - 3))
        y = (xs - mean) / torch.sqrt(var + self.eps) * self.weight.reshape(shape) + self.bias.reshape(shape)
        with torch.no_grad():
            count = xs[0].numel() // xs.shape[2]
            momentum = float(self.momentum)  # type: ignore[arg-type]
            self.running_mean.mul_(1 - momentum).add_(mean.flatten(1).mean(0), alpha=momentum)
            unbiased = var.flatten(1) * count / max(count - 1, 1)
            self.running_var.mul_(1 - momentum).add_(unbiased.mean(0), alpha=momentum)
            self.num_batches_tracked.add_(1)
        return y.reshape(x.shape)


def split_noise_batches(net: nn.Module, m: int) -> None:
    """Make every :class:`SplitBatchNorm` in ``net`` take its statistics per noise batch (``m`` of them)."""
    for module in net.modules():
        if isinstance(module, SplitBatchNorm):
            module.groups = m


def interleave_packs(x: Tensor, m: int) -> Tensor:
    """G's output for ``m`` noise batches laid end to end (batch 0, batch 1, ...) reordered so that each pack
    of ``m`` consecutive samples takes one sample from every noise batch, as PacGAN joins its m generator
    outputs: pack j = (G(z_1)_j, ..., G(z_m)_j)."""
    if m == 1:
        return x
    return x.reshape(m, x.shape[0] // m, *x.shape[1:]).transpose(0, 1).reshape(x.shape)


@dataclass(frozen=True)
class Progress:
    """Where the trial stands, set before every step: what a variant's schedules read (a loss weight that
    fades, instance noise annealed to zero, a learning rate that decays). It is derived from the budget
    spent, which checkpoints keep, so a resumed trial sees what an uninterrupted one would.
    ``seconds`` is current under a seconds budget, else as of the last evaluation point."""

    step: int = 0  # steps done before this one
    images: int = 0  # real images learned from so far
    seconds: float = 0.0
    fraction: float = 0.0  # of the budget spent, 0 at the start and 1 at the end


@dataclass
class SampleSheet:
    """A picture of what a variant makes, drawn its own way (InfoGAN's latent traversals, one row per
    code): images in [-1, 1] laid out ``nrow`` to a row with optional row labels, or 2-D points."""

    x: Tensor
    nrow: int = 8
    row_labels: list[str] | None = None


@dataclass
class StepOutput:
    """What one player's update produced: ``losses`` are summed and backpropagated, ``stats`` only logged."""

    losses: dict[str, Tensor]
    stats: dict[str, Tensor] = field(default_factory=dict)

    @property
    def total(self) -> Tensor:
        terms = list(self.losses.values())
        if not terms:
            raise ValueError("a step produced no loss terms")
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total


class Variant:
    """Base class of variant plugins (entry-point group ``ganzoo.variants``).

    Subclasses build their networks in ``__init__`` (keyword-only hyper-parameters with defaults) and
    implement :meth:`discriminator_loss`, :meth:`generator_loss` and :meth:`generate`.
    """

    description: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    default_divergence: ClassVar[str] = "nonsaturating"
    data_kinds: ClassVar[frozenset[DataKind]] = frozenset({DataKind.UNCONDITIONAL, DataKind.LABELLED})
    d_steps: int = 1  # D updates per G update: the class default, copied per instance in __init__
    pack: int = 1  # PacGAN's packing: D judges this many samples at once, and a batch is batch_size packs
    conditional: ClassVar[bool] = False  # generate() uses y; the runner then draws y from the real labels
    adversarial: ClassVar[bool] = True  # False for baselines without D (d_steps = 0, divergence "none")
    translates: ClassVar[bool] = False  # maps images between domains: evaluated through translate(), not generate()
    # True when the variant's paper fixed its own training recipe with its default divergence (StarGAN
    # with WGAN-GP): the divergence's Recipe then applies only when the user picks another divergence
    own_recipe: ClassVar[bool] = False
    # True when generator_loss passes D's scores on real data to the divergence (see adversarial_g), so
    # divergences that need them (relativistic ones) can be paired with this variant
    real_scores_for_g: ClassVar[bool] = False

    def __init__(self, *, info: DatasetInfo, divergence: Divergence | None, batch_size: int = 64) -> None:
        self.info = info
        self.divergence = divergence
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size
        self.device = torch.device("cpu")
        self.d_steps = type(self).d_steps  # per instance: a divergence's recipe or --set may change it
        self.g_steps = 1  # G updates per step (PacGAN's Stacked MNIST protocol takes 2)
        self.optimizer = "adam"
        self.beta2 = 0.999
        self.z_dist = "normal"
        self.update = "alternating"
        self.same_z = False  # G's updates in a step reuse the noise its (last) D update drew, and its real batch
        self.progress = Progress()  # set by the trainer's loop before each step
        self._tape: _NoiseTape | None = None

    @classmethod
    def constructor_params(cls) -> dict[str, Any]:
        """Keyword-only constructor hyper-parameters and their defaults (what ``--set`` can name)."""
        return keyword_params(cls.__init__, skip=("info", "divergence"))

    def set_training(self, **values: Any) -> None:
        """Set training hyper-parameters (:data:`TRAINING_PARAMS`) after construction, checked:
        the optimizers are built from them when training starts."""
        for key, value in values.items():
            if key not in TRAINING_PARAMS:
                raise ValueError(f"{key!r} is not a training hyper-parameter ({', '.join(TRAINING_PARAMS)})")
            if key == "d_steps" and (int(value) != value or value < (1 if self.adversarial else 0)):
                raise ValueError(f"d_steps must be an integer of at least {1 if self.adversarial else 0}, got {value!r}")
            if key == "g_steps" and (int(value) != value or value < 1):
                raise ValueError(f"g_steps must be an integer of at least 1, got {value!r}")
            if key == "update" and value not in UPDATES:
                raise ValueError(f"update must be one of {', '.join(UPDATES)}, got {value!r}")
            if key == "same_z" and not isinstance(value, bool):
                raise ValueError(f"same_z must be true or false, got {value!r}")
            if key == "z_dist" and value not in NOISE:
                raise ValueError(f"z_dist must be one of {', '.join(NOISE)}, got {value!r}")
            if key == "optimizer" and value not in OPTIMIZERS:
                raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {value!r}")
            if key == "lr" and not (math.isfinite(value) and value > 0):
                raise ValueError(f"lr must be a positive finite number, got {value!r}")
            if key in ("beta1", "beta2") and not (0 <= value < 1):
                raise ValueError(f"{key} must be in [0, 1), got {value!r}")
            setattr(self, key, value)

    # -- what the runner checks and records ---------------------------------------------------
    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        """Raise :class:`IncompatibleData` naming the dataset and what this variant needs."""
        if info.kind not in cls.data_kinds:
            allowed = ", ".join(sorted(k.value for k in cls.data_kinds))
            raise IncompatibleData(f"dataset {name!r} is {info.kind.value}; this variant needs {allowed} data")

    def hparams(self) -> dict[str, Any]:
        """The resolved hyper-parameters, recorded in each run's config.json: the constructor's arguments
        (as the instance holds them, under the same names) and the training hyper-parameters; not every
        public attribute, which would record counters and derived values."""
        names = [*self.constructor_params(), *TRAINING_PARAMS]
        return {k: getattr(self, k) for k in names if isinstance(getattr(self, k, None), (int, float, str, bool, tuple, list))}

    def estimate_label(self) -> str | None:
        """What the logged ``divergence`` estimate measures: the divergence's ``estimate_unit``, except that
        with packing D tells apart distributions of packs, so a JSD(P||Q) bound becomes one of
        JSD(P^m||Q^m), between the distributions of m independent samples (Lin et al. 2018, section 4)."""
        unit = None if self.divergence is None else self.divergence.estimate_unit
        if unit is None or self.pack == 1:
            return unit
        m = self.pack
        packed = unit.replace("(P||Q)", f"(P^{m}||Q^{m})").replace("(P, Q)", f"(P^{m}, Q^{m})")
        return f"{packed}, between distributions of packs of {m} samples" if packed != unit else \
            f"{unit}, measured between distributions of packs of {m} samples, not of single samples"

    # -- the players ------------------------------------------------------------------------------
    def generators(self) -> dict[str, nn.Module]:
        return {"G": self.G}  # type: ignore[attr-defined]

    def discriminators(self) -> dict[str, nn.Module]:
        return {"D": self.D}  # type: ignore[attr-defined]

    def optimizers(self) -> tuple[torch.optim.Optimizer | None, torch.optim.Optimizer]:
        """(D optimizer, G optimizer); each covers all networks of its player (no D: None).

        By default Adam(``self.lr``, betas=(``self.beta1``, ``self.beta2``)) per player, the DCGAN
        recipe the GAN papers share, or RMSProp(``self.lr``) (WGAN's); a variant with other needs
        overrides this."""
        def make(params: list[nn.Parameter]) -> torch.optim.Optimizer:
            if self.optimizer == "rmsprop":
                return torch.optim.RMSprop(params, self.lr)  # type: ignore[attr-defined]
            return torch.optim.Adam(params, self.lr, betas=(self.beta1, self.beta2))  # type: ignore[attr-defined]

        d = [p for net in self.discriminators().values() for p in net.parameters()]
        g = [p for net in self.generators().values() for p in net.parameters()]
        return (make(d) if d else None), make(g)

    def training_state(self) -> dict[str, Any]:
        """Everything the variant itself changes while training, for a checkpoint: by default every
        network's state_dict. A variant with more state (CycleGAN's image buffers, a schedule's counter)
        extends the dict; values must be tensors, numbers, strings, lists, dicts or None, so that the
        checkpoint loads with ``weights_only=True``."""
        return {"generators": {k: m.state_dict() for k, m in self.generators().items()},
                "discriminators": {k: m.state_dict() for k, m in self.discriminators().items()}}

    def load_training_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`training_state` returned, so the next step is the one an uninterrupted run takes."""
        for kind, nets in (("generators", self.generators()), ("discriminators", self.discriminators())):
            for name, net in nets.items():
                net.load_state_dict(state[kind][name])

    def to(self, device: torch.device) -> Variant:
        self.device = device
        for net in (*self.generators().values(), *self.discriminators().values()):
            net.to(device)
        return self

    def train(self, mode: bool = True) -> None:
        for net in (*self.generators().values(), *self.discriminators().values()):
            net.train(mode)

    # -- one step ---------------------------------------------------------------------------------
    def next_batch(self, sampler: BatchSampler) -> Batch:
        """Draw what one update needs: ``batch_size`` packs of ``pack`` samples (PacGAN keeps the number of
        D's inputs); translation variants override this to draw two domains."""
        return sampler.sample(self.batch_size * self.pack)

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        raise NotImplementedError

    def generator_loss(self, batch: Batch) -> StepOutput:
        raise NotImplementedError

    def joint_losses(self, batch: Batch) -> tuple[StepOutput, StepOutput]:
        """Both players' losses at the same parameters, from one batch and one draw of noise: what the
        ``simultaneous`` update differentiates (D's loss by D's parameters, G's by G's). By default
        :meth:`discriminator_loss`, then :meth:`generator_loss` replaying the noise the first drew; a
        variant that can share the forward pass (G once, D over both batches) overrides this, see
        :meth:`adversarial_joint`."""
        with self.noise_tape() as tape:
            d_out = self.discriminator_loss(batch)
        with self.noise_tape(replay=tape):
            g_out = self.generator_loss(batch)
        return d_out, g_out

    @torch.no_grad()
    def generate(self, n: int, *, generator: torch.Generator | None = None, y: Tensor | None = None) -> Tensor:
        """``n`` samples on this variant's device; ``y`` is the condition where the variant takes one."""
        raise NotImplementedError

    @torch.no_grad()
    def sample_sheet(self, *, generator: torch.Generator) -> SampleSheet | None:
        """The picture saved at each evaluation point; None (the default) draws ganzoo's own: a row of 8 per
        class for conditional variants on image data, else 64 samples (a scatter over the data for points).
        Draw noise from ``generator`` only, so the sheet shows the same z at every point of a run."""
        return None

    # -- translation variants (``translates = True``) ---------------------------------------------
    def translation_pairs(self) -> list[tuple[int, int]]:
        """The (source domain, target domain) pairs this variant translates between."""
        raise NotImplementedError

    @torch.no_grad()
    def translate(self, x: Tensor, *, source: int, target: int) -> Tensor:
        """Images ``x`` of domain ``source`` rendered in domain ``target``, on this variant's device."""
        raise NotImplementedError

    # -- helpers for subclasses ---------------------------------------------------------------------
    def noise(self, n: int, dim: int, *, generator: torch.Generator | None = None) -> Tensor:
        """Noise of ``self.z_dist``; drawn from ``generator`` (on its own device) when given, so evaluation
        noise stays fixed across a run without disturbing the training RNG."""
        tape = getattr(self, "_tape", None) if generator is None else None
        if tape is not None and tape.replaying:
            z = tape.next(n, dim)
            if z is not None:
                return z
        z = self.draw_noise(n, dim, generator)
        while tape is not None:  # a fresh draw belongs to every block recording around it
            if not tape.replaying:
                tape.draws.append(z)
            tape = tape.parent
        return z

    def draw_noise(self, n: int, dim: int, generator: torch.Generator | None) -> Tensor:
        """One fresh draw of :meth:`noise` (what a test replaces to feed chosen noise)."""
        device = self.device if generator is None else generator.device
        if getattr(self, "z_dist", "normal") == "uniform":
            z = torch.rand(n, dim, generator=generator, device=device) * 2 - 1
        else:
            z = torch.randn(n, dim, generator=generator, device=device)
        return z.to(self.device)

    @contextmanager
    def noise_tape(self, replay: _NoiseTape | None = None) -> Iterator[_NoiseTape]:
        """Record the training noise :meth:`noise` draws inside the block, or (``replay``) hand back what
        an earlier block drew, draw by draw, where the count and size match (a fresh draw otherwise): how
        one z reaches both players' losses (the simultaneous update, ``same_z``)."""
        outer = getattr(self, "_tape", None)
        tape = _NoiseTape([], parent=outer) if replay is None else _NoiseTape(replay.draws, replaying=True, parent=outer)
        self._tape = tape
        try:
            yield tape
        finally:
            self._tape = outer

    def adversarial_g(self, critic: Callable[[Tensor], Tensor], fake_x: Tensor, real_x: Tensor | None = None) -> Tensor:
        """The divergence's G loss for one critic: its scores on ``fake_x``, and on ``real_x`` where the
        divergence needs them (relativistic losses compare the two; D is frozen, so they only shape G's
        gradient). A variant that calls this with ``real_x`` sets ``real_scores_for_g = True``."""
        real = critic(real_x) if self.divergence.needs_real_scores and real_x is not None else None
        return self.divergence.g_loss(critic(fake_x), real)

    def critic_penalty(self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor) -> Tensor | None:
        """The divergence's penalty on the critic, on what the critic scores: with packing, packs. D scores a
        pack of m samples as one input, so a gradient penalty (WGAN-GP) interpolates pack with pack (one
        epsilon per pack) and takes the gradient's norm over the whole pack: the divergence is handed the
        packed batches and a critic that takes packs, and its per-input rule becomes the per-pack rule."""
        m = self.pack
        if m == 1:
            return self.divergence.penalty(critic, real_x, fake_x)
        return self.divergence.penalty(lambda packs: critic(unpack_samples(packs, m)),
                                       pack_samples(real_x, m), pack_samples(fake_x, m))

    def adversarial_joint(self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor, *,
                          together: bool = True) -> tuple[StepOutput, StepOutput]:
        """Both players' adversarial losses from one pass: ``fake_x`` carries G's graph, and the critic scores
        the real and the fake batch in one call (``together``; PacGAN's 2-D code) or in two (a critic with
        BatchNorm, whose statistics must stay per batch). For :meth:`joint_losses`: the trainer takes D's
        loss by D's parameters only, so D's loss needs no detached copy of the fakes."""
        if together:
            scores = critic(torch.cat([real_x, fake_x]))
            real, fake = scores[: len(scores) // 2], scores[len(scores) // 2:]
        else:
            real, fake = critic(real_x), critic(fake_x)
        g_loss = self.divergence.g_loss(fake, real if self.divergence.needs_real_scores else None)
        return self._d_output(critic, real_x, fake_x, real, fake), StepOutput(losses={"adv": g_loss})

    def adversarial_d(self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor, *,
                      real_scores: Tensor | None = None) -> StepOutput:
        """The divergence's D loss, its penalty and its estimate, for one critic on one pair of batches.
        ``real_scores``: the critic's scores on ``real_x`` when the variant already has them (StarGAN's D
        scores and classifies real images in one pass)."""
        real = critic(real_x) if real_scores is None else real_scores
        return self._d_output(critic, real_x, fake_x, real, critic(fake_x))

    def _d_output(self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor, real: Tensor, fake: Tensor) -> StepOutput:
        """D's loss from its scores, its penalty on the critic, and the estimate the scores imply."""
        out = StepOutput(losses={"adv": self.divergence.d_loss(real, fake)})
        penalty = self.critic_penalty(critic, real_x, fake_x)
        if penalty is not None:
            out.losses["penalty"] = penalty
        estimate = self.divergence.estimate(real.detach(), fake.detach())
        if estimate is not None:
            out.stats["divergence"] = estimate
        return out


@dataclass
class _NoiseTape:
    """Noise drawn in one block of a step (see :meth:`Variant.noise_tape`)."""

    draws: list[Tensor]
    replaying: bool = False
    parent: _NoiseTape | None = None  # the block this one is nested in
    position: int = 0

    def next(self, n: int, dim: int) -> Tensor | None:
        if self.position < len(self.draws) and tuple(self.draws[self.position].shape) == (n, dim):
            self.position += 1
            return self.draws[self.position - 1]
        return None
