"""GAN: Goodfellow et al. 2014, "Generative Adversarial Nets".

Multilayer perceptrons for both players. The paper's D used maxout units and dropout; by default ganzoo
uses LeakyReLU, the common modern stand-in, with BatchNorm in G (see ``mlp_generator``), and keeps the
paper's game (``minimax``) as the default divergence so the saturation it describes can be seen.

Every knob a published MLP protocol pins is a hyper-parameter, so a preset can rebuild the paper's
networks: depth and width per player, G's activation, maxout units in D, N(0, 0.02) initialisation and
PacGAN's packing (``pack``: D judges that many samples at once), and how G's BatchNorm learns under
packing: ``g_per_noise_batch`` runs G on each of the m noise batches of ``batch_size`` on its own, as
PacGAN's code does, so its statistics come from ``batch_size`` samples, not ``batch_size * m``;
``g_bn_momentum`` is the running averages' step (PacGAN's blocks code: 0.05; torch: 0.1).
``ganzoo bench --preset pacgan-ring`` sets them to PacGAN's 2-D protocol, with the simultaneous update.
"""

from __future__ import annotations

from torch import nn

from ganzoo import DatasetInfo, Divergence, Packing
from ganzoo_plugins.variants.mlp_nets import init_normal, mlp_discriminator, mlp_generator
from ganzoo_plugins.variants.noise_gan import NoiseGAN

INITS = ("default", "normal")


class GAN(NoiseGAN):
    """MLP generator and discriminator (Goodfellow et al. 2014); with ``pack`` > 1, PacGAN (Lin et al. 2018)."""

    description = "MLP G and D; the original GAN (pack=m: PacGAN)"
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets"
    default_divergence = "minimax"

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 64,
        z_dim: int = 64,
        hidden: int = 256,
        lr: float = 2e-4,
        beta1: float = 0.5,
        g_layers: int = 2,
        d_layers: int = 2,
        d_hidden: int = 0,
        activation: str = "leaky_relu",
        d_maxout: int = 0,
        init: str = "default",
        pack: int = 1,
        g_per_noise_batch: bool = False,
        g_bn_momentum: float = 0.1,
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.z_dim, self.hidden, self.lr, self.beta1 = z_dim, hidden, lr, beta1
        self.g_layers, self.d_layers, self.d_hidden, self.activation = g_layers, d_layers, d_hidden, activation
        self.d_maxout, self.init, self.pack = d_maxout, init, pack
        self.g_per_noise_batch, self.g_bn_momentum = g_per_noise_batch, g_bn_momentum
        self.packing = Packing(pack, g_per_noise_batch)
        G = mlp_generator(z_dim, hidden, info, layers=g_layers, activation=activation, bn_momentum=g_bn_momentum)
        self.G = self.packing.generator(G)
        self.D = self.packing.discriminator(
            [nn.Flatten(), mlp_discriminator(d_hidden or hidden, info, layers=d_layers, maxout=d_maxout, pack=pack)]
        )
        if init == "normal":
            self.G.apply(init_normal)
            self.D.apply(init_normal)
