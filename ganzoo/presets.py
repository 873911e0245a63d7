"""Presets: a paper's protocol as one bench, with the numbers the paper published beside it.

``ganzoo bench --preset pacgan-ring`` runs what PacGAN (Lin et al. 2018) ran for its Table 1: the same
dataset, networks, optimiser, batch, loss, training length, number of trials and metric protocol.
Options given beside ``--preset`` override it (``--budget``, ``--seeds``, ``--set``, ...); bench.json
records the preset, every override and the published rows, and ``ganzoo table --published`` prints
ganzoo's rows beside the paper's in the same columns.

Every published number here carries its source (paper and table); none is typed in from memory of a
figure. Where a protocol cannot be followed (a dataset ganzoo does not ship), the preset says so in
``deviations`` and the bench prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganzoo.config import BenchConfig, BenchInputError, Settings, split_variant


@dataclass(frozen=True)
class Published:
    """One published number: a variant's metric as the paper reports it (mean and standard error)."""

    variant: str  # the label the preset gives the variant (gan, pacgan4)
    metric: str  # ganzoo's metric name (modes, hq_share, reverse_kl, ...)
    mean: float
    se: float | None  # the "±" the paper prints; None where it gives none
    source: str  # paper and table
    dataset: str = ""  # filled from the preset
    # what the "±" is: "se", a standard error of the mean over the paper's trials (a comparison tests against it);
    # "as published", a spread the paper does not define (shown as printed, tested against nothing)
    spread: str = "se"
    trials: int | None = None  # the paper's number of trials behind the mean (the test's degrees of freedom)

    def as_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "metric": self.metric,
            "mean": self.mean,
            "se": self.se,
            "source": self.source,
            "dataset": self.dataset,
            "spread": self.spread,
            "trials": self.trials,
        }


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    paper: str
    options: dict[str, Any]  # BenchConfig fields the paper pins
    published: tuple[Published, ...] = ()
    protocol: str = ""  # what the paper pinned, in words
    deviations: str = ""  # where ganzoo cannot follow it, in words
    needs: str = ""  # what a user must have (both MNIST splits, the Inception weights)
    sweep: tuple[str, int] | None = None  # (search space, samples per variant x divergence): the preset runs a sweep
    rerun_seeds: int = 0  # a sweep's best setting is then rerun over this many seeds (--rerun-best 0-N)
    # per metric, the largest gap from a published mean still called a match (an equivalence test's margin), and why
    # those sizes; a metric without one gets no verdict ("no margin stated")
    margins: tuple[tuple[str, float], ...] = ()
    margin_rule: str = ""
    # the preset's settings beat a divergence's paper recipe (a study that trained every loss with one recipe)
    over_recipe: bool = False
    # metric parameters the protocol pins (the sample counts of the rows it cites): metric -> {parameter: value}
    metric_settings: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def config(self, **overrides: Any) -> BenchConfig:
        """The preset's bench with ``overrides`` (BenchConfig fields) on top. The preset's per-variant values
        go to ``preset_settings``, below a divergence's recipe and the user's ``--set`` (``settings``): a
        divergence swept under a preset trains with its own paper's recipe. The overrides (all but ``out``)
        are recorded as the command line spells them."""
        overrides.setdefault("preset_overrides", override_flags({k: v for k, v in overrides.items() if k != "out"}))
        opts = dict(self.options)
        hp = {v: dict(s) for v, s in opts.pop("settings", {}).items()}
        if overrides.get("variants"):  # the preset's labels stand for its settings: --variants gan,pacgan4
            labels = {split_variant(item)[0]: item for item in opts["variants"]}
            overrides["variants"] = [labels.get(item, item) for item in overrides["variants"]]
            kept = {split_variant(item)[0] for item in overrides["variants"]}
            hp = {v: s for v, s in hp.items() if v in kept}
        if "budget" in overrides and "eval_every" not in overrides and opts.get("eval_every"):
            overrides["eval_every"] = _rescaled_every(opts["budget"], opts["eval_every"], overrides["budget"])
        if self.metric_settings:  # below the user's --set for the same metric
            given = overrides.get("settings") or {}
            pinned = {m: dict(values) for m, values in self.metric_settings}
            overrides["settings"] = {
                **given,
                **{m: {**values, **given.get(m, {})} for m, values in pinned.items()},
            }
        return BenchConfig(**{**opts, **overrides, "preset_settings": hp, "preset": self.name})

    def published_metrics(self) -> list[str]:
        """The metrics the paper's table prints, in its order."""
        return list(dict.fromkeys(p.metric for p in self.published))

    def published_rows(self) -> list[dict[str, Any]]:
        margins = dict(self.margins)
        return [
            {**p.as_json(), "dataset": p.dataset or self.options["dataset"], "margin": margins.get(p.metric)}
            for p in self.published
        ]


def _rescaled_every(budget: str, every: str, given: str) -> str | None:
    """The preset's evaluation points, as many of them, over a budget the user gave: 400,000 steps evaluated every
    100,000, shortened to 300 steps, is evaluated every 75 (before: every 100,000, so only at the two ends). None
    (a quarter of the budget) where the units differ or the budget does not parse (the planner then says why)."""
    from ganzoo.budget import Budget, BudgetError

    try:
        old, step, new = Budget.parse(budget), Budget.parse(every), Budget.parse(given)
    except BudgetError:
        return None
    if not (old.measure == step.measure == new.measure):
        return None
    amount = new.amount * step.amount / old.amount
    unit = {"steps": "steps", "images": "img", "seconds": "s"}[new.measure]
    return f"{max(1, round(amount)) if new.measure != 'seconds' else amount:g}{unit}"


# options given beside a preset that change what is compared with its published numbers (how long, how many trials,
# how the networks and metrics are set); the rest (variants kept, machine and output options) do not
PROTOCOL_OPTIONS = (
    "budget",
    "seeds",
    "batch_size",
    "settings",
    "divergences",
    "dataset",
    "split",
    "features",
    "metrics",
)


def protocol_overrides(flags: list[str]) -> list[str]:
    """The recorded overrides (``--budget 300steps``, ``--set gan.lr=0.001``) that change the published protocol."""

    def option(flag: str) -> str:
        name = flag.split()[0].lstrip("-").replace("-", "_")
        return "settings" if name == "set" else name

    return [f for f in flags if option(f) in PROTOCOL_OPTIONS]


def override_flags(overrides: dict[str, Any]) -> list[str]:
    """BenchConfig fields given beside a preset, as ``ganzoo bench`` options (``--set V.P=X`` per value):
    what bench.json records and the bench prints as overridden."""
    shown = []
    for k, v in overrides.items():
        flag = "--" + k.replace("_", "-")
        if k == "settings":
            shown += Settings.flags(v)
        elif isinstance(v, bool):
            shown.append(flag if v else "--no-" + k.replace("_", "-"))
        else:
            shown.append(f"{flag} {','.join(map(str, v)) if isinstance(v, list) else v}")
    return shown


# PacGAN's 2-D protocol, from its released code (synthetic_data_experiments/2D*_GAN&PacGAN/config.py and
# pacgan_task.py, pacgan/bricks.py): G 4 x 400 ReLU with BatchNorm, 2-D N(0, I) noise; D 3 maxout layers
# of 200 units, 5 pieces; N(0, 0.02) init; Adam(1e-4, beta1 0.8); batch 100 (packs, so D sees 100 m
# samples); the non-saturating loss; 400 epochs of 100,000 samples = 400,000 iterations; 10 trials. The
# update is ALI's ali_algorithm: both players' gradients from one forward pass (D scores the real and the
# fake batch in one call), both steps at once. G runs once per noise batch of 100 (m calls), and the m
# BatchNorm updates are averaged and applied with momentum 0.05.
_PACGAN_MLP = {
    "z_dim": "2",
    "hidden": "400",
    "g_layers": "4",
    "activation": "relu",
    "d_hidden": "200",
    "d_layers": "3",
    "d_maxout": "5",
    "init": "normal",
    "lr": "1e-4",
    "beta1": "0.8",
    "batch_size": "100",
    "update": "simultaneous",
    "g_per_noise_batch": "true",
    "g_bn_momentum": "0.05",
}
_PACKS = (1, 2, 3, 4)


def _pacgan_2d(dataset: str) -> dict[str, Any]:
    labels = ["gan" if m == 1 else f"pacgan{m}=gan" for m in _PACKS]
    hparams = {("gan" if m == 1 else f"pacgan{m}"): {**_PACGAN_MLP, "pack": str(m)} for m in _PACKS}
    return dict(
        dataset=dataset,
        variants=labels,
        divergences=["nonsaturating"],
        budget="400000steps",
        eval_every="100000steps",
        seeds=list(range(10)),
        settings=hparams,
    )


# the equivalence margins: each at most a third of the smallest GAN-to-PacGAN gap the paper reads as an effect (1.5
# modes on the ring, 6.5 on the grid, 0.35 and 0.57 nats of reverse KL; 921 Stacked MNIST modes, 4.4 nats), rounded
# down to a round number; the high-quality share, which packing barely moves, within 2 points
_PACGAN_MARGINS = (
    "a match lies within at most a third of the smallest GAN-to-PacGAN gap the paper reads as an effect, rounded down: "
    "ring 0.5 modes, grid 1 mode, 0.1 nats of reverse KL, Stacked MNIST 25 modes and 0.25 nats; the high-quality share "
    "within 2 points"
)
_T1 = "PacGAN (Lin et al. 2018), Table 1"  # every row as read in ../shared/published/pacgan-table1.csv
_T2 = "PacGAN (Lin et al. 2018), Table 2"
_V2 = "VEEGAN (Srivastava et al. 2017), Table 2"

# PacGAN's Stacked MNIST protocol (stacked_MNIST_experiments/VEEGAN_experiment/model.py, DCGAN-tensorflow):
# G a linear layer to 2x2x512, four 5x5 stride-2 transposed convolutions to 256, 128, 64 and 3 channels,
# BatchNorm and ReLU, tanh; G once per noise batch (m calls, joined along channels); D four 5x5 stride-2
# convolutions (64-512) and a linear score; z ~ U[-1, 1]^100; Adam(2e-4, beta1 0.5); batch 64; one D update
# then two G updates, all three from the same z.
_PACGAN_DCGAN = {
    "g_layers": "4",
    "d_layers": "4",
    "g_steps": "2",
    "same_z": "true",
    "z_dist": "uniform",
    "batch_size": "64",
    "lr": "2e-4",
    "beta1": "0.5",
    "g_per_noise_batch": "true",
}
_STACKED_PACKS = (1, 2, 3, 4)


def _table2(rows: dict[str, tuple[float, float, float, float]]) -> tuple[Published, ...]:
    """PacGAN's Table 2 rows: variant -> (modes, s.e., KL, s.e.)."""
    return tuple(
        p
        for v, (m, m_se, kl, kl_se) in rows.items()
        for p in (
            Published(v, "stacked_modes", m, m_se, _T2, trials=10),
            Published(v, "stacked_kl", kl, kl_se, _T2, trials=10),
        )
    )


def _table1(rows: dict[str, tuple[float, ...]]) -> tuple[Published, ...]:
    """PacGAN's Table 1 rows: variant -> (modes, s.e., high-quality share, s.e., reverse KL, s.e.)."""
    metrics = ("modes", "hq_share", "reverse_kl")
    return tuple(
        Published(v, m, vals[2 * i], vals[2 * i + 1], _T1, trials=10)
        for v, vals in rows.items()
        for i, m in enumerate(metrics)
    )


_LUCIC = "Lucic et al. 2018, Table 2, as quoted by Zhang & Khoreva 2019 (Table 2) and Dai & Wipf 2019 (Table 1)"
# the best FID per loss, read from ../shared/published/lucic2018-best-fid.csv (tests/test_presets.py holds the two
# equal where that file is at hand): loss -> (FID, the "±" as printed)
_LUCIC_BEST_FID = {
    "mnist": {
        "minimax": (9.8, 0.9),
        "nonsaturating": (6.8, 0.5),
        "least-squares": (7.8, 0.6),
        "wasserstein": (6.7, 0.4),
        "wasserstein-gp": (20.3, 5.0),
    },
    "fashion-mnist": {
        "minimax": (29.6, 1.6),
        "nonsaturating": (26.5, 1.6),
        "least-squares": (30.7, 2.2),
        "wasserstein": (21.5, 1.6),
        "wasserstein-gp": (24.5, 2.1),
    },
    "cifar10": {
        "minimax": (72.7, 3.6),
        "nonsaturating": (58.5, 1.9),
        # the two quoting papers disagree on this row's spread (47.5 and 0.9): the value alone, marked in its source
        "least-squares": (87.1, None),
        "wasserstein": (55.2, 2.3),
        "wasserstein-gp": (55.8, 0.9),
    },
    "celeba": {  # WGAN-GP's value is left out: the quoting papers disagree on it (30.0 and 30.3)
        "minimax": (65.6, 4.2),
        "nonsaturating": (55.0, 3.3),
        "least-squares": (53.9, 2.8),
        "wasserstein": (41.3, 2.0),
    },
}


_MIMICRY = "Mimicry (Lee & Town 2020), README 'Baselines', CIFAR-10"
# read from ../shared/published/mimicry-cifar10.csv (tests/test_presets.py holds the two equal where that file is at
# hand): model label -> (IS, spread, FID, spread, KID, spread), each spread "as published"
_MIMICRY_CIFAR10 = {
    "wgan-gp": (7.33, 0.02, 22.29, 0.06, 0.0204, 0.0004),
    "sngan": (7.97, 0.06, 16.77, 0.04, 0.0125, 0.0001),
    "cgan-pd": (8.25, 0.13, 10.84, 0.03, 0.0070, 0.0001),
}
# Mimicry's recipe for every row: Adam(2e-4, (0, 0.9)), 5 D steps per G step, batch 64, the learning rate decayed
# linearly to 0 over 100,000 G steps, no moving average of G; WGAN-GP's row is the same ResNet pair without
# spectral normalisation, under the gradient penalty (lambda 10)
_MIMICRY_RECIPE = {
    "lr": "2e-4",
    "beta1": "0.0",
    "beta2": "0.9",
    "d_steps": "5",
    "batch_size": "64",
    "lr_decay": "linear",
    "ema": "0",
}


def _mimicry_rows() -> tuple[Published, ...]:
    return tuple(
        Published(label, metric, vals[2 * i], vals[2 * i + 1], _MIMICRY, spread="as published")
        for label, vals in _MIMICRY_CIFAR10.items()
        for i, metric in enumerate(("inception_score", "fid", "kid"))
    )


def _lucic_best_fid(dataset: str) -> tuple[Published, ...]:
    """The best FID per loss, beside the labels --rerun-best gives the best settings (lucic-gan-LOSS-best)."""
    return tuple(
        Published(
            f"lucic-gan-{loss}-best",
            "fid",
            fid,
            spread,
            _LUCIC + ("" if spread is not None else "; the quoting papers disagree on its spread (47.5 and 0.9)"),
            spread="as published",
        )
        for loss, (fid, spread) in _LUCIC_BEST_FID[dataset].items()
    )


# Lucic et al.'s training lengths as compare_gan v1's TuneParams sets them (src/generate_tasks_lib.py): epochs of its
# own epoch size (50,000 images for MNIST and Fashion-MNIST alike, 50,000 for CIFAR-10, 162,000 for CelebA) at
# batch 64, a checkpoint (an evaluation) every 5 epochs; dataset -> (the --dataset value, epochs, epoch images, what
# the images are)
_LUCIC_RUNS = {
    "mnist": ("mnist:unit-range", 20, 50_000, "MNIST's training split"),
    "fashion-mnist": ("fashion-mnist:unit-range", 20, 50_000, "Fashion-MNIST's training split"),
    "cifar10": ("cifar10:unit-range", 100, 50_000, "CIFAR-10's training split"),
    "celeba": (
        "celeba64:compare-gan,unit-range",
        40,
        162_000,
        "CelebA's training partition cut as compare_gan cut it (the central 160x160 of the aligned face, TF1's "
        "bilinear resize to 64x64: celeba64:compare-gan)",
    ),
}


def _lucic(dataset: str, extra: str = "") -> Preset:
    """Lucic et al.'s study on ``dataset``, as compare_gan v1 ran it."""
    spec, epochs, epoch, images = _LUCIC_RUNS[dataset]
    steps, every = epochs * epoch // 64, 5 * epoch // 64
    return Preset(
        f"lucic-{dataset}",
        f"GAN losses on {dataset} under Lucic et al.'s protocol (Inception FID)",
        "Lucic et al. 2018, Are GANs Created Equal?",
        dict(
            dataset=spec,
            variants=["lucic-gan"],
            divergences=["minimax", "nonsaturating", "least-squares", "wasserstein", "wasserstein-gp"],
            budget=f"{steps}steps",
            eval_every=f"{every}steps",
            seeds=[0],
            batch_size=64,
            features="inception",
        ),
        published=_lucic_best_fid(dataset),
        protocol=f"per loss, 100 settings of the wide range (learning rate log-uniform in [1e-5, 1e-2], Adam's beta1 "
        "uniform in [0, 1], 1-5 D steps per G step, BatchNorm in D on or off, WGAN's clip log-uniform in [1e-3, 1], "
        "WGAN-GP's lambda in [0.1, 100]), the first each loss's default setting; Adam(lr, (beta1, 0.999)) for every "
        "loss; compare_gan v1's InfoGAN-style G and D (lucic-gan), z of 64 from U[-1, 1], images in [0, 1] and G "
        f"ending in a sigmoid; batch 64; {images}; {epochs} epochs of {epoch:,} images ({steps:,} "
        f"steps), a checkpoint every 5 epochs ({every:,} steps); each setting judged by its best Inception FID over "
        "the checkpoints, between 10,000 generated and 10,000 real images; then the best setting of each loss over "
        "50 seeds (ganzoo bench --rerun-best 0-49 --from-sweep RESULTS), the published best FID beside it",
        deviations=f"{extra}under WGAN-GP a BatchNorm critic is refused (its penalty is per sample) where compare_gan's "
        "wide range trains one, so those draws are recorded and drawn again; FID uses 5,000 against 5,000 images "
        "(ganzoo's fidelity metric); torch's BatchNorm averages the unbiased batch variance (TensorFlow's the biased "
        "one) and D flattens channels first; DRAGAN and BEGAN are not built-in losses; the published '±' is not "
        "defined by the papers that quote it, so it is shown as published and no comparison is tested against it",
        needs="the Inception weights (internet, or --inception-weights PATH) and the training split",
        sweep=("lucic-wide", 100),
        rerun_seeds=50,
    )


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "pacgan-ring",
            "GAN and PacGAN2/3/4 on the 8-mode ring, PacGAN's protocol",
            "Lin et al. 2018, PacGAN",
            _pacgan_2d("ring8"),
            published=_table1(
                {
                    "gan": (6.3, 0.5, 0.982, 0.002, 0.45, 0.09),
                    "pacgan2": (7.9, 0.1, 0.956, 0.020, 0.07, 0.03),
                    "pacgan3": (7.8, 0.1, 0.977, 0.003, 0.10, 0.02),
                    "pacgan4": (7.8, 0.1, 0.959, 0.014, 0.07, 0.02),
                }
            ),
            protocol="G 4x400 ReLU+BatchNorm (statistics per noise batch of 100, running averages at momentum 0.05), z 2-D "
            "Gaussian; D 3 maxout layers (200 units, 5 pieces); N(0, 0.02) init; Adam(1e-4, beta1=0.8); batch 100 packs; "
            "non-saturating loss; both players stepped at once from one forward pass; 400,000 iterations; 10 trials; "
            "modes, high-quality share (within 3 std of a centre) and reverse KL on 2,500 samples",
            margins=(("modes", 0.5), ("hq_share", 0.02), ("reverse_kl", 0.1)),
            margin_rule=_PACGAN_MARGINS,
            deviations="G's hidden layers keep a bias (BatchNorm cancels it); the released code's BatchNorm uses eps 1e-4 "
            "and keeps a running average of the standard deviation, ganzoo's torch's eps 1e-5 and of the variance (only "
            "evaluation reads them; measured at 2,000 steps by benchmarks/pacgan_bn.py, they move a row's modes by up to "
            "3 and its high-quality share by up to 0.12: as much as the gaps Table 1 compares)",
        ),
        Preset(
            "pacgan-grid",
            "GAN and PacGAN2/3/4 on the 25-mode grid, PacGAN's protocol",
            "Lin et al. 2018, PacGAN",
            _pacgan_2d("grid25"),
            published=_table1(
                {
                    "gan": (17.3, 0.8, 0.948, 0.007, 0.70, 0.07),
                    "pacgan2": (23.8, 0.7, 0.913, 0.008, 0.13, 0.04),
                    "pacgan3": (24.6, 0.4, 0.942, 0.004, 0.06, 0.02),
                    "pacgan4": (24.8, 0.2, 0.936, 0.006, 0.04, 0.01),
                }
            ),
            protocol="as pacgan-ring, on 25 Gaussians at {-4,-2,0,2,4}^2 with std 0.05",
            margins=(("modes", 1.0), ("hq_share", 0.02), ("reverse_kl", 0.1)),
            margin_rule=_PACGAN_MARGINS,
            deviations="as pacgan-ring: G's hidden layers keep a bias; BatchNorm's eps and running average are torch's",
        ),
        Preset(
            "pacgan-stacked-mnist",
            "DCGAN and PacDCGAN2/3/4 on Stacked MNIST (1,000 modes), PacGAN's protocol",
            "Lin et al. 2018, PacGAN; Srivastava et al. 2017, VEEGAN",
            dict(
                dataset="stacked-mnist:unit-range",
                variants=["dcgan" if m == 1 else f"pacdcgan{m}=dcgan" for m in _STACKED_PACKS],
                divergences=["nonsaturating"],
                budget="100000steps",
                eval_every="25000steps",
                seeds=list(range(10)),
                settings={
                    ("dcgan" if m == 1 else f"pacdcgan{m}"): {**_PACGAN_DCGAN, "pack": str(m)} for m in _STACKED_PACKS
                },
            ),
            published=(
                Published("dcgan", "stacked_modes", 99.0, None, _V2),
                Published("dcgan", "stacked_kl", 3.40, None, _V2),
                *_table2(
                    {
                        "dcgan": (78.9, 6.46, 4.50, 0.127),
                        "pacdcgan2": (1000.0, 0.0, 0.06, 0.003),
                        "pacdcgan3": (1000.0, 0.0, 0.06, 0.003),
                        "pacdcgan4": (1000.0, 0.0, 0.07, 0.005),
                    }
                ),
            ),
            protocol="128k triples from all 70k MNIST digits, fed to D (and its classifier) in [0, 1] while G ends in "
            "tanh, as the released code does; DCGAN-tensorflow's G (linear to 2x2x512, four 5x5 stride-2 "
            "transposed convolutions, about 4.5M parameters) and D (four 5x5 stride-2 convolutions, 64-512 channels); "
            "G once per noise batch; z ~ U[-1, 1]; Adam(2e-4, beta1=0.5); batch 64; one D update and two G updates per "
            "iteration from the same z; 100,000 iterations; 26,000 samples scored by an MNIST classifier",
            margins=(("stacked_modes", 25.0), ("stacked_kl", 0.25)),
            margin_rule=_PACGAN_MARGINS,
            deviations="the classifier is ganzoo's, trained on the training digits; the m BatchNorm updates of G's m calls are "
            "averaged into one (the TensorFlow code applies them one after another)",
            needs="both MNIST splits (--data-dir with the four idx files, or internet for the download)",
        ),
        _lucic("mnist"),
        _lucic("fashion-mnist"),
        _lucic("cifar10"),
        _lucic(
            "celeba",
            extra="WGAN-GP's published best FID is left out, as the two quoting papers disagree on it (30.0 and 30.3); "
            "compare_gan read tensor2tensor's CelebA training shards, ganzoo the official training partition (162,770 "
            "faces); compare_gan kept the resized faces as floats, ganzoo rounds them to uint8 (at most half a grey "
            "level); ",
        ),
        Preset(
            "mimicry-cifar10",
            "WGAN-GP, SNGAN and cGAN-PD on CIFAR-10 as Mimicry trained them (IS, FID, KID at 50K samples)",
            "Lee & Town 2020, Mimicry; Miyato et al. 2018, SNGAN; Miyato & Koyama 2018, cGAN-PD",
            dict(
                dataset="cifar10",
                split="train",
                variants=["wgan-gp=sngan@wasserstein-gp", "sngan", "cgan-pd"],
                budget="100000steps",
                eval_every="100000steps",
                seeds=[0],
                batch_size=64,
                features="inception",
                settings={
                    "wgan-gp": {**_MIMICRY_RECIPE, "spectral_norm": "false"},
                    "sngan": dict(_MIMICRY_RECIPE),
                    "cgan-pd": dict(_MIMICRY_RECIPE),
                },
            ),
            published=_mimicry_rows(),
            over_recipe=True,
            metric_settings=(("fidelity", (("max_samples", "50000"),)),),
            protocol="CIFAR-10's training split (50,000 images, 32x32); SNGAN's ResNet pair (G 256 channels, D 128; "
            "Table 4), spectral normalisation in D for SNGAN and cGAN-PD (projection D, class-conditional BatchNorm in "
            "G), none for WGAN-GP (lambda 10); hinge loss for SNGAN and cGAN-PD; Adam(2e-4, (0, 0.9)); 5 D steps per G "
            "step; batch 64; 100,000 G steps with the learning rate decayed linearly to 0; no moving average of G; "
            "evaluated at the end: IS on 50,000 samples (10 splits), FID between 50,000 generated and the 50,000 "
            "training images, KID on the same sets",
            deviations="features are torch-fidelity's port of the Inception network (inception-v3-compat), Mimicry's "
            "are TensorFlow's original; KID on 10 subsets of 1,000 (torch-fidelity's maths; Mimicry's subset size is not "
            "stated); one seed, as the README's rows are one trained model each; G up-samples bilinearly, as Mimicry's "
            "code (the Chainer SNGAN code unpools); the published '±' is not defined by the README and looks like "
            "evaluation noise, so it is shown as published and tested against nothing",
            needs="CIFAR-10's binary version (--data-dir with cifar-10-batches-bin, or internet) and the Inception weights "
            "(internet, or --inception-weights PATH); a GPU: each row is 100,000 G steps of 5 D steps",
        ),
    ]
}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise BenchInputError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return PRESETS[name]
