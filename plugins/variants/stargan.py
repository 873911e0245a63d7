"""StarGAN: Choi, Choi, Kim, Ha, Kim & Choo 2018, "StarGAN: Unified Generative Adversarial Networks
for Multi-Domain Image-to-Image Translation".

One generator for every pair of domains: G(x, c) takes the image with the target domain's one-hot code
tiled over it as extra channels. D has two heads on one PatchGAN trunk: real/fake scores per patch and
a domain classifier. D learns to classify real images' domains; G learns to make D classify its output
as the target, to fool the real/fake head, and to reconstruct the input from its output given the
source domain (lambda_rec * L1 cycle). Targets are the batch's own domains shuffled, as in the paper's
code. WGAN-GP by default with five D updates per G update, Adam(1e-4, beta1=0.5), lambda_cls=1,
lambda_rec=10. Domains here are exclusive (one per image), so the classification loss is softmax cross
entropy where the paper's CelebA attributes used per-attribute sigmoids.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo import Batch, DataKind, DatasetInfo, Divergence, StepOutput, Variant
from ganzoo_plugins.variants.translation_nets import check_image_side, init_weights, patch_trunk, resnet_generator


class StarDiscriminator(nn.Module):
    """PatchGAN trunk without normalisation (LeakyReLU 0.01, as the paper) -> (patch scores, domain logits)."""

    def __init__(self, channels: int, side: int, domains: int, ndf: int) -> None:
        super().__init__()
        self.trunk, c, s = patch_trunk(channels, side, ndf=ndf, norm=False, slope=0.01)
        self.src = nn.Conv2d(c, 1, 3, 1, 1)  # -> 1 x s x s real/fake scores
        self.cls = nn.Conv2d(c, domains, s)  # whole map -> domains x 1 x 1

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.trunk(x)
        return self.src(h), self.cls(h).flatten(1)


class StarGAN(Variant):
    """Multi-domain translation with one target-conditioned generator (Choi et al. 2018)."""

    description = "one generator for all domain pairs, D with real/fake and domain heads, reconstruction L1"
    paper = "Choi et al. 2018, StarGAN: Unified GANs for Multi-Domain Image-to-Image Translation"
    default_divergence = "wasserstein-gp"
    data_kinds = frozenset({DataKind.DOMAINS})
    d_steps = 5
    translates = True
    own_recipe = True  # the paper's Adam(1e-4, (0.5, 0.999)) and n_critic=5 with WGAN-GP, not WGAN-GP's own

    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        super().check_data(name, info)
        check_image_side("StarGAN", info)

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 32,
        ngf: int = 32,
        ndf: int = 32,
        lr: float = 1e-4,
        beta1: float = 0.5,
        cls_weight: float = 1.0,
        rec_weight: float = 10.0,
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.check_data("<given>", info)
        self.num_domains = len(info.domains)
        self.ngf, self.ndf, self.lr, self.beta1, self.cls_weight, self.rec_weight = (
            ngf,
            ndf,
            lr,
            beta1,
            cls_weight,
            rec_weight,
        )
        c, side = info.shape[0], info.shape[1]
        self.G = resnet_generator(c + self.num_domains, c, side, ngf=ngf, padding="zeros")
        self.D = StarDiscriminator(c, side, self.num_domains, ndf)
        self.G.apply(init_weights)
        self.D.apply(init_weights)

    def _g(self, x: Tensor, domain: Tensor) -> Tensor:
        code = F.one_hot(domain, self.num_domains).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return self.G(torch.cat([x, code], dim=1))

    def _critic(self, x: Tensor) -> Tensor:
        return self.D(x)[0].flatten()

    @staticmethod
    def _targets(y: Tensor) -> Tensor:
        return y[torch.randperm(len(y), device=y.device)]

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        with torch.no_grad():
            fake = self._g(batch.x, self._targets(batch.y))
        real_scores, real_logits = self.D(batch.x)  # one pass serves both heads
        out = self.adversarial_d(self._critic, batch.x, fake, real_scores=real_scores.flatten())
        out.losses["domain_cls"] = self.cls_weight * F.cross_entropy(real_logits, batch.y)
        return out

    def generator_loss(self, batch: Batch) -> StepOutput:
        target = self._targets(batch.y)
        fake = self._g(batch.x, target)
        scores, logits = self.D(fake)
        return StepOutput(
            losses={
                "adv": self.divergence.g_loss(scores.flatten()),
                "domain_cls": self.cls_weight * F.cross_entropy(logits, target),
                "reconstruction": self.rec_weight * F.l1_loss(self._g(fake, batch.y), batch.x),
            }
        )

    def translation_pairs(self) -> list[tuple[int, int]]:
        k = self.num_domains
        return [(s, t) for s in range(k) for t in range(k) if s != t]

    @torch.no_grad()
    def translate(self, x: Tensor, *, source: int, target: int) -> Tensor:
        x = x.to(self.device)
        return self._g(x, torch.full((len(x),), target, dtype=torch.long, device=self.device))
