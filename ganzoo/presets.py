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
    se: float | None  # standard error of the mean over the paper's trials; None where it gives none
    source: str  # paper and table
    dataset: str = ""  # filled from the preset

    def as_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "metric": self.metric,
            "mean": self.mean,
            "se": self.se,
            "source": self.source,
            "dataset": self.dataset,
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
        return BenchConfig(**{**opts, **overrides, "preset_settings": hp, "preset": self.name})

    def published_rows(self) -> list[dict[str, Any]]:
        return [{**p.as_json(), "dataset": p.dataset or self.options["dataset"]} for p in self.published]


def override_flags(overrides: dict[str, Any]) -> list[str]:
    """BenchConfig fields given beside a preset, as ``ganzoo bench`` options (``--set V.P=X`` per value):
    what bench.json records and the bench prints as overridden."""
    shown = []
    for k, v in overrides.items():
        flag = "--" + k.replace("_", "-")
        if k == "settings":
            shown += Settings.flags(v)
        elif isinstance(v, bool):
            shown.append(flag)
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


_T1 = "PacGAN (Lin et al. 2018), Table 1"
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
        for p in (Published(v, "stacked_modes", m, m_se, _T2), Published(v, "stacked_kl", kl, kl_se, _T2))
    )


def _table1(rows: dict[str, tuple[float, ...]]) -> tuple[Published, ...]:
    """PacGAN's Table 1 rows: variant -> (modes, s.e., high-quality share, s.e., reverse KL, s.e.)."""
    metrics = ("modes", "hq_share", "reverse_kl")
    return tuple(
        Published(v, m, vals[2 * i], vals[2 * i + 1], _T1) for v, vals in rows.items() for i, m in enumerate(metrics)
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
                {"gan": (6.3, 0.5, 0.982, 0.002, 0.45, 0.09), "pacgan4": (7.8, 0.1, 0.959, 0.014, 0.07, 0.02)}
            ),
            protocol="G 4x400 ReLU+BatchNorm (statistics per noise batch of 100, running averages at momentum 0.05), z 2-D "
            "Gaussian; D 3 maxout layers (200 units, 5 pieces); N(0, 0.02) init; Adam(1e-4, beta1=0.8); batch 100 packs; "
            "non-saturating loss; both players stepped at once from one forward pass; 400,000 iterations; 10 trials; "
            "modes, high-quality share (within 3 std of a centre) and reverse KL on 2,500 samples",
            deviations="PacGAN2/3 rows of Table 1 are not recorded (their numbers could not be checked against a copy of the "
            "table here); G's hidden layers keep a bias (BatchNorm cancels it)",
        ),
        Preset(
            "pacgan-grid",
            "GAN and PacGAN2/3/4 on the 25-mode grid, PacGAN's protocol",
            "Lin et al. 2018, PacGAN",
            _pacgan_2d("grid25"),
            published=_table1(
                {"gan": (17.3, 0.8, 0.948, 0.007, 0.70, 0.07), "pacgan4": (24.8, 0.2, 0.936, 0.006, 0.04, 0.01)}
            ),
            protocol="as pacgan-ring, on 25 Gaussians at {-4,-2,0,2,4}^2 with std 0.05",
            deviations="as pacgan-ring: PacGAN2/3 rows not recorded; G's hidden layers keep a bias",
        ),
        Preset(
            "pacgan-stacked-mnist",
            "DCGAN and PacDCGAN2/3/4 on Stacked MNIST (1,000 modes), PacGAN's protocol",
            "Lin et al. 2018, PacGAN; Srivastava et al. 2017, VEEGAN",
            dict(
                dataset="stacked-mnist",
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
            protocol="128k triples from all 70k MNIST digits; DCGAN-tensorflow's G (linear to 2x2x512, four 5x5 stride-2 "
            "transposed convolutions, about 4.5M parameters) and D (four 5x5 stride-2 convolutions, 64-512 channels); "
            "G once per noise batch; z ~ U[-1, 1]; Adam(2e-4, beta1=0.5); batch 64; one D update and two G updates per "
            "iteration from the same z; 100,000 iterations; 26,000 samples scored by an MNIST classifier",
            deviations="the classifier is ganzoo's, trained on the training digits; the m BatchNorm updates of G's m calls are "
            "averaged into one (the TensorFlow code applies them one after another)",
            needs="both MNIST splits (--data-dir with the four idx files, or internet for the download)",
        ),
        Preset(
            "lucic-mnist",
            "GAN losses on MNIST under Lucic et al.'s protocol (Inception FID)",
            "Lucic et al. 2018, Are GANs Created Equal?",
            dict(
                dataset="mnist",
                variants=["dcgan"],
                divergences=["minimax", "nonsaturating", "least-squares", "wasserstein", "wasserstein-gp"],
                budget="1200kimg",
                eval_every="300kimg",
                seeds=[0],
                batch_size=64,
                features="inception",
            ),
            protocol="per loss, 100 settings sampled from the wide range (learning rate, Adam's beta1, D steps per G step, "
            "BatchNorm in D, the loss's own parameter), each trained once; Inception FID between 10,000 generated and "
            "10,000 real images; 20 epochs (1.2M images); batch 64; then the best setting over more seeds "
            "(ganzoo bench --rerun-best SEEDS --from-sweep RESULTS)",
            deviations="ganzoo's DCGAN stands in for the paper's InfoGAN-style networks (its D switches to layer norm under "
            "WGAN-GP, as that recipe asks); FID uses 5,000 against 5,000 images (ganzoo's fidelity metric); "
            "Fashion-MNIST is not a built-in dataset; the wide range's loss-specific parameters are ganzoo's "
            "(each divergence's search_space); no published numbers are recorded (the paper's tables could not be read "
            "where this preset was written, and no number is typed from memory)",
            needs="the Inception weights (internet, or --inception-weights PATH) and the MNIST training split",
            sweep=("lucic-wide", 100),
        ),
    ]
}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise BenchInputError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return PRESETS[name]
