"""Every registered variant, on every dataset it accepts: the alternation. Shapes, generation from the given
generator, reproducibility and state round trips are the conformance kit's (tests/test_kit.py)."""

import pytest
import torch

from ganzoo import DataKind, DatasetInfo, IncompatibleData, registry
from ganzoo.data import BatchSampler
from ganzoo.factory import VariantSpec, create_variant
from ganzoo.trainer import Trainer

DATASETS = ["digits", "ring8", "digits-domains"]


def cases():
    for v in registry.variants.names():
        for d in DATASETS:
            cls, info = registry.variants.get(v), registry.datasets.get(d).info
            try:
                cls.check_data(d, info)
            except IncompatibleData:
                continue
            yield v, d


def build(variant, dataset, seed=0):
    data = registry.datasets.get(dataset).load(name=dataset, data_dir=None, split="auto", download=False)
    torch.manual_seed(seed)
    cls = registry.variants.get(variant)
    built = create_variant(
        VariantSpec(variant, variant, cls.default_divergence if cls.adversarial else "none", {"batch_size": 16}),
        data.info,
    )
    return (
        built.variant,
        Trainer(built.variant, BatchSampler(data, seed=seed, device=torch.device("cpu")), built.training),
        data,
    )


def params(nets):
    return [p.detach().clone() for n in nets for p in n.parameters()]


@pytest.mark.parametrize("variant, dataset", list(cases()))
def test_trainer_fixes_g_while_d_learns_and_d_while_g_learns(variant, dataset):
    v, trainer, _ = build(variant, dataset)
    g_nets, d_nets = list(v.generators().values()), list(v.discriminators().values())
    seen, drawn = [], []

    def spy(name, fn):
        def wrapped(batch):
            drawn.append(batch.images)
            out = fn(batch)
            seen.append(
                (
                    name,
                    any(p.requires_grad for n in g_nets for p in n.parameters()),
                    any(p.requires_grad for n in d_nets for p in n.parameters()),
                    out.total.requires_grad,
                )
            )
            return out

        return wrapped

    v.discriminator_loss = spy("D", v.discriminator_loss)
    v.generator_loss = spy("G", v.generator_loss)
    g0, d0 = params(g_nets), params(d_nets)
    d_out, g_out, images = trainer.step()
    # k D updates with G frozen, then one G update with D frozen; both losses carry gradients
    d_steps = trainer.training.d_steps
    assert seen == [("D", False, True, True)] * d_steps + [("G", True, False, True)]
    assert images == (sum(drawn[:-1]) if d_steps else drawn[-1])  # real images shown to D (G's batch without D)
    assert images >= v.batch_size * max(d_steps, 1)
    assert all(torch.isfinite(t) for t in g_out.losses.values())
    if v.adversarial:
        assert all(torch.isfinite(t) for t in d_out.losses.values())
        assert any(not torch.equal(a, b) for a, b in zip(d0, params(d_nets)))
    else:
        assert d_out is None and not d_nets
    assert any(not torch.equal(a, b) for a, b in zip(g0, params(g_nets)))


@pytest.mark.parametrize("size", [8, 16, 28, 32, 64])
def test_dcgan_adapts_to_image_size(size):
    info = DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(3, size, size))
    v = registry.variants.get("dcgan")(info=info, divergence=registry.divergences.get("nonsaturating")())
    x = v.generate(2)
    assert x.shape == (2, 3, size, size)
    assert v.D(x).shape == (2, 1)


@pytest.mark.parametrize(
    "info, match",
    [
        (DatasetInfo(kind=DataKind.LABELLED, shape=(2,), num_classes=8, bounded=False), "needs images"),
        (DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(1, 30, 30)), "got 30x30"),
        (DatasetInfo(kind=DataKind.DOMAINS, shape=(1, 8, 8), num_classes=2, domains=("a", "b")), "domains"),
    ],
)
def test_dcgan_refuses_data_it_cannot_train_on(info, match):
    with pytest.raises(IncompatibleData, match=match):
        registry.variants.get("dcgan").check_data("x", info)
