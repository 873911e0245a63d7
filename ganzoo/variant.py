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

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ganzoo.data import Batch, BatchSampler, DataKind, DatasetInfo
from ganzoo.divergence import Divergence
from ganzoo.packing import (
    pack_samples,
    split_noise_batches,  # noqa: F401 (their old home)
    unpack_samples,
)
from ganzoo.params import keyword_params
from ganzoo.training import NOISE, OPTIMIZERS, TRAINING_PARAMS, UPDATES, check_z_dist  # noqa: F401 (their old home)


class IncompatibleData(ValueError):
    """A variant cannot train on a dataset; raised before anything is loaded or trained."""


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
    d_steps: ClassVar[int] = 1  # D updates per step unless the settings say otherwise (0: no D)
    pack: int = 1  # PacGAN's packing: D judges this many samples at once, and a batch is batch_size packs
    # every training batch carries noise z of (batch size, ``self.z_dim``) in ``batch.z``, drawn with the batch
    noise_in_batch: ClassVar[bool] = False
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
        self.z_dist = "normal"  # the noise's law, a setting every variant takes (TRAINING_PARAMS)
        self.progress = Progress()  # set by the trainer's loop before each step

    @classmethod
    def constructor_params(cls) -> dict[str, Any]:
        """Keyword-only constructor hyper-parameters and their defaults (what ``--set`` can name)."""
        return keyword_params(cls.__init__, skip=("info", "divergence"))

    def set_training(self, **values: Any) -> None:
        """Deprecated: the trainer owns the training settings (:class:`~ganzoo.training.Training`). Declare a
        default as a constructor argument (``lr=1e-3``) or class attribute (``d_steps = 5``) instead. Values set
        here still count as this variant's defaults, below ``--set``, a divergence's recipe and a preset."""
        warnings.warn(
            "Variant.set_training is deprecated: declare training defaults as constructor arguments or class "
            "attributes (d_steps = 5); --set, a divergence's recipe and a preset override them",
            DeprecationWarning,
            stacklevel=2,
        )
        unknown = [k for k in values if k not in TRAINING_PARAMS]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a training setting ({', '.join(TRAINING_PARAMS)})")
        if "z_dist" in values:
            self.z_dist = check_z_dist(values.pop("z_dist"))
        self.declared_training = {**getattr(self, "declared_training", {}), **values}

    @contextmanager
    def noise_tape(self, replay: Any = None) -> Iterator[None]:
        """Deprecated, and does nothing: the batch carries its noise (``batch.z``, with ``noise_in_batch = True``),
        and a scheme that reuses noise reuses the batch. Nothing is recorded or replayed behind a call."""
        warnings.warn(
            "Variant.noise_tape is deprecated and records nothing: set noise_in_batch = True and read batch.z",
            DeprecationWarning,
            stacklevel=3,
        )
        yield None

    # -- what the runner checks and records ---------------------------------------------------
    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        """Raise :class:`IncompatibleData` naming the dataset and what this variant needs."""
        if info.kind not in cls.data_kinds:
            allowed = ", ".join(sorted(k.value for k in cls.data_kinds))
            raise IncompatibleData(f"dataset {name!r} is {info.kind.value}; this variant needs {allowed} data")

    def hparams(self) -> dict[str, Any]:
        """The constructor's arguments as the instance holds them (under the same names) and its noise law,
        recorded in each run's config.json beside the training settings; not every public attribute, which
        would record counters and derived values."""
        names = [*self.constructor_params(), "z_dist"]
        return {
            k: getattr(self, k)
            for k in names
            if isinstance(getattr(self, k, None), (int, float, str, bool, tuple, list))
        }

    def estimate_label(self) -> str | None:
        """What the logged ``divergence`` estimate measures: the divergence's ``estimate_unit``, except that
        with packing D tells apart distributions of packs, so a JSD(P||Q) bound becomes one of
        JSD(P^m||Q^m), between the distributions of m independent samples (Lin et al. 2018, section 4)."""
        unit = None if self.divergence is None else self.divergence.estimate_unit
        if unit is None or self.pack == 1:
            return unit
        m = self.pack
        packed = unit.replace("(P||Q)", f"(P^{m}||Q^{m})").replace("(P, Q)", f"(P^{m}, Q^{m})")
        return (
            f"{packed}, between distributions of packs of {m} samples"
            if packed != unit
            else f"{unit}, measured between distributions of packs of {m} samples, not of single samples"
        )

    # -- the players ------------------------------------------------------------------------------
    def generators(self) -> dict[str, nn.Module]:
        return {"G": self.G}  # type: ignore[attr-defined]

    def discriminators(self) -> dict[str, nn.Module]:
        return {"D": self.D}  # type: ignore[attr-defined]

    def optimizers(self) -> tuple[torch.optim.Optimizer | None, torch.optim.Optimizer] | None:
        """None (the default): the trainer builds each player's optimizer from the training settings. A
        variant with other needs (the VAE's Adam over encoder and decoder) returns (D's or None, G's)."""
        return None

    def training_state(self) -> dict[str, Any]:
        """Everything the variant itself changes while training, for a checkpoint: by default every
        network's state_dict. A variant with more state (CycleGAN's image buffers, a schedule's counter)
        extends the dict; values must be tensors, numbers, strings, lists, dicts or None, so that the
        checkpoint loads with ``weights_only=True``."""
        return {
            "generators": {k: m.state_dict() for k, m in self.generators().items()},
            "discriminators": {k: m.state_dict() for k, m in self.discriminators().items()},
        }

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
        D's inputs), with their noise where the variant takes some (:attr:`noise_in_batch`); translation
        variants override this to draw two domains."""
        return self.with_noise(sampler.sample(self.batch_size * self.pack))

    def with_noise(self, batch: Batch) -> Batch:
        """``batch`` carrying a fresh draw of G's noise, one row per sample, when :attr:`noise_in_batch`."""
        if self.noise_in_batch:
            batch.z = self.noise(len(batch.x), self.z_dim)  # type: ignore[attr-defined]
        return batch

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        raise NotImplementedError

    def generator_loss(self, batch: Batch) -> StepOutput:
        raise NotImplementedError

    def joint_losses(self, batch: Batch) -> tuple[StepOutput, StepOutput]:
        """Both players' losses at the same parameters from one batch (and so one z, ``batch.z``): what the
        ``simultaneous`` update differentiates (D's loss by D's parameters, G's by G's). A variant that can
        share the forward pass (G once, D over both batches) overrides this, see :meth:`adversarial_joint`."""
        return self.discriminator_loss(batch), self.generator_loss(batch)

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
        """A fresh draw of ``n`` noise vectors of ``self.z_dist``: from ``generator`` (on its own device) when
        given, so evaluation noise stays fixed across a run without disturbing the training RNG. In a
        training step, read the batch's noise (``batch.z``) instead: it is what the scheme reuses."""
        device = self.device if generator is None else generator.device
        if self.z_dist == "uniform":
            z = torch.rand(n, dim, generator=generator, device=device) * 2 - 1
        else:
            z = torch.randn(n, dim, generator=generator, device=device)
        return z.to(self.device)

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
        return self.divergence.penalty(
            lambda packs: critic(unpack_samples(packs, m)), pack_samples(real_x, m), pack_samples(fake_x, m)
        )

    def adversarial_joint(
        self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor, *, together: bool = True
    ) -> tuple[StepOutput, StepOutput]:
        """Both players' adversarial losses from one pass: ``fake_x`` carries G's graph, and the critic scores
        the real and the fake batch in one call (``together``; PacGAN's 2-D code) or in two (a critic with
        BatchNorm, whose statistics must stay per batch). For :meth:`joint_losses`: the trainer takes D's
        loss by D's parameters only, so D's loss needs no detached copy of the fakes."""
        if together:
            scores = critic(torch.cat([real_x, fake_x]))
            real, fake = scores[: len(scores) // 2], scores[len(scores) // 2 :]
        else:
            real, fake = critic(real_x), critic(fake_x)
        g_loss = self.divergence.g_loss(fake, real if self.divergence.needs_real_scores else None)
        return self._d_output(critic, real_x, fake_x, real, fake), StepOutput(losses={"adv": g_loss})

    def adversarial_d(
        self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor, *, real_scores: Tensor | None = None
    ) -> StepOutput:
        """The divergence's D loss, its penalty and its estimate, for one critic on one pair of batches.
        ``real_scores``: the critic's scores on ``real_x`` when the variant already has them (StarGAN's D
        scores and classifies real images in one pass)."""
        real = critic(real_x) if real_scores is None else real_scores
        return self._d_output(critic, real_x, fake_x, real, critic(fake_x))

    def _d_output(
        self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor, real: Tensor, fake: Tensor
    ) -> StepOutput:
        """D's loss from its scores, its penalty on the critic, and the estimate the scores imply."""
        out = StepOutput(losses={"adv": self.divergence.d_loss(real, fake)})
        penalty = self.critic_penalty(critic, real_x, fake_x)
        if penalty is not None:
            out.losses["penalty"] = penalty
        estimate = self.divergence.estimate(real.detach(), fake.detach())
        if estimate is not None:
            out.stats["divergence"] = estimate
        return out
