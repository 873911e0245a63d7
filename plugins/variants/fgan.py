"""f-GAN: Nowozin, Cseke & Tomioka 2016. The architecture is GAN's MLP pair; what f-GAN adds is the
family of f-divergences (``fgan-kl``, ``fgan-reverse-kl``, ``fgan-pearson``, ``fgan-neyman``,
``fgan-hellinger``, ``fgan-js``, ``fgan-gan``), which are divergence plugins any variant can use.
This variant only makes ``fgan-js`` its default.
"""

from __future__ import annotations

from ganzoo_plugins.variants.gan import GAN


class FGAN(GAN):
    """GAN's MLPs trained by variational divergence minimisation (default: Jensen-Shannon)."""

    description = "MLP G and D for the f-divergences (--divergence fgan-*)"
    paper = "Nowozin, Cseke & Tomioka 2016, f-GAN"
    default_divergence = "fgan-js"
