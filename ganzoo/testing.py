"""The plugin conformance kit: checks that a plugin keeps ganzoo's contract, for plugin authors' own
test suites and for ``ganzoo check NAME``.

A check is a function of the plugin's registered name (or of a :class:`Configured` name: the plugin
with parameters, such as a packed GAN); it raises :class:`CheckFailed` naming the broken
contract, or :class:`CheckSkipped` saying why it cannot run here (no CUDA, no data files). Checks look
plugins up by name when they run, never when tests are collected, so a broken unrelated plugin fails
its own checks and nothing else::

    from ganzoo.testing import parametrize_with_checks

    @parametrize_with_checks("variants", ["mygan"])
    def test_mygan_keeps_the_contract(plugin, check):
        check(plugin)

The checks per kind (``CHECKS``) follow scikit-learn's ``check_estimator``: small, named, and each
about one rule — shapes, dtypes and devices; class attributes; determinism under a seed; generation
from the given generator only; a saved and restored state giving the identical next step; a short
learning check on a tiny dataset; mixed precision on CUDA where there is one.
"""

from __future__ import annotations

import copy
import io
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import torch

from ganzoo import registry
from ganzoo.data import BatchSampler, Data, DataKind, DatasetInfo
from ganzoo.metrics.base import HIGHER, LOWER, Samples
from ganzoo.results import Row
from ganzoo.variant import Variant


class Configured(str):
    """A registered plugin's name with parameters the checks build it with instead of its defaults (a
    variant's constructor and training parameters; a divergence's or metric's constructor arguments):
    ``check(Configured("gan", pack=4))`` checks a packed GAN. Everywhere a name goes it is the name; it
    shows as ``gan[pack=4]``."""

    params: dict[str, Any]

    def __new__(cls, name: str, **params: Any) -> Configured:
        obj = super().__new__(cls, name)
        obj.params = params
        return obj

    def __repr__(self) -> str:
        return f"{str(self)}[{','.join(f'{k}={v}' for k, v in self.params.items())}]"


def params_of(name: str) -> dict[str, Any]:
    """The parameters a :class:`Configured` name carries (none for a plain name)."""
    return dict(getattr(name, "params", {}))


class CheckFailed(AssertionError):
    """A plugin broke a rule of ganzoo's contract; the message names the rule."""


class CheckSkipped(Exception):
    """A check cannot run here (no CUDA, data files missing); the message says why."""


@dataclass(frozen=True)
class Check:
    kind: str
    name: str
    fn: Callable[[str], None]

    def __call__(self, plugin: str) -> None:
        self.fn(plugin)

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip().splitlines()[0]


CHECKS: dict[str, list[Check]] = {kind: [] for kind in registry.REGISTRIES}


def _check(kind: str) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
    def add(fn: Callable[[str], None]) -> Callable[[str], None]:
        CHECKS[kind].append(Check(kind, fn.__name__.removeprefix("check_"), fn))
        return fn

    return add


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise CheckFailed(message)


def _require_description(cls: type, name: str) -> None:
    _require(
        isinstance(cls.description, str) and cls.description.strip() != "",
        f"{name}: give the class a one-line `description`",
    )


def _plugin(kind: str, name: str) -> Any:
    try:
        return registry.REGISTRIES[kind].get(name)
    except registry.PluginError as exc:
        raise CheckFailed(str(exc)) from None


# -- stand-in data: tiny, offline, with structure a learning check can see --------------------------


def _points() -> Data:
    """2-D points around (3, -2): away from the origin, where an untrained G puts its samples."""
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(2, (512,), generator=gen)
    x = (
        torch.tensor([3.0, -2.0])
        + 0.5 * torch.randn(512, 2, generator=gen)
        + torch.stack([y.float(), -y.float()], 1) * 0.5
    )
    return Data(name="kit-points", info=_POINTS_INFO, x=x, y=y, split="train", source="ganzoo.testing stand-in")


def _images32() -> Data:
    """3x32x32 images in two classes (a bright square top-left or bottom-right, on noise): for networks written
    for CIFAR-10's size (SNGAN's)."""
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(2, (256,), generator=gen)
    x = 0.1 * torch.randn(256, 3, 32, 32, generator=gen) - 0.5
    for i, label in enumerate(y.tolist()):
        at = 4 if label == 0 else 20
        x[i, :, at : at + 8, at : at + 8] += 1.0
    return Data(
        name="kit-images32", info=_IMAGES32_INFO, x=x.clamp(-1, 1), y=y, split="train", source="ganzoo.testing stand-in"
    )


def _registered_data(name: str) -> Data:
    from ganzoo.config import BenchConfig
    from ganzoo.factory import load_data

    return load_data(BenchConfig(dataset=name))


_POINTS_INFO = DatasetInfo(kind=DataKind.LABELLED, shape=(2,), num_classes=2, bounded=False)
_IMAGES32_INFO = DatasetInfo(kind=DataKind.LABELLED, shape=(3, 32, 32), num_classes=2)
# the kit's tiny datasets, in the order tried: (name, info, loader); infos are known before loading
_KIT_DATA = (
    ("kit-points", lambda: _POINTS_INFO, _points),
    ("digits", lambda: registry.datasets.get("digits").info, lambda: _registered_data("digits")),
    (
        "digits-domains",
        lambda: registry.datasets.get("digits-domains").info,
        lambda: _registered_data("digits-domains"),
    ),
    ("kit-images32", lambda: _IMAGES32_INFO, _images32),
)


def _first_fitting(why_not: Callable[[str, DatasetInfo], str | None], what: str) -> Data:
    """The first kit dataset ``why_not`` has no objection to (loaded only then); else a skip listing them."""
    reasons = []
    for name, info, load in _KIT_DATA:
        reason = why_not(name, info())
        if reason is None:
            return load()
        reasons.append(reason)
    raise CheckSkipped(f"none of the kit's datasets suits this {what}: " + "; ".join(reasons))


def stand_in_data(cls: type) -> Data:
    """The first of the kit's tiny datasets the variant accepts: labelled 2-D points, scikit-learn's
    8x8 digits, the four digit domains, or labelled 32x32 RGB images."""
    from ganzoo.variant import IncompatibleData

    def why_not(name: str, info: DatasetInfo) -> str | None:
        try:
            cls.check_data(name, info)
            return None
        except IncompatibleData as exc:
            return str(exc)

    return _first_fitting(why_not, "variant")


def _build(name: str, data: Data, seed: int = 0, **settings: Any) -> Any:
    """The variant and its training settings (a :class:`ganzoo.factory.Built`), as a bench builds them."""
    from ganzoo.factory import VariantSpec, create_variant

    cls = _plugin("variants", name)
    torch.manual_seed(seed)
    divergence = cls.default_divergence if cls.adversarial else "none"
    return create_variant(
        VariantSpec(str(name), str(name), divergence, {"batch_size": 16, **params_of(name), **settings}), data.info
    )


def _evaluating(name: str) -> tuple[Data, Any]:
    """The kit's stand-in data for the variant, and the variant built on it, in eval mode."""
    data = stand_in_data(_plugin("variants", name))
    variant = _build(name, data).variant
    variant.train(False)
    return data, variant


def _params(variant: Any) -> dict[str, torch.Tensor]:
    nets = {**variant.generators(), **variant.discriminators()}
    return {f"{n}.{k}": v.detach().clone() for n, net in nets.items() for k, v in net.state_dict().items()}


def _generate(variant: Any, data: Data, n: int, gen: torch.Generator) -> torch.Tensor:
    if variant.translates:
        source, target = variant.translation_pairs()[0]
        x = data.floats(data.y == source)[:n]
        return variant.translate(x.to(variant.device), source=source, target=target)
    y = (torch.arange(n) % data.info.num_classes).to(variant.device) if variant.conditional else None
    return variant.generate(n, generator=gen, y=y)


# -- variants -------------------------------------------------------------------------------------


@_check("variants")
def check_class_attributes(name: str) -> None:
    """description, paper and data_kinds are declared; the default divergence is installed."""
    cls = _plugin("variants", name)
    _require_description(cls, name)
    _require(isinstance(cls.paper, str), f"{name}: `paper` must be a string (the paper the variant follows, or '')")
    _require(
        bool(cls.data_kinds) and all(isinstance(k, DataKind) for k in cls.data_kinds),
        f"{name}: `data_kinds` must be a non-empty set of ganzoo.DataKind, got {cls.data_kinds!r}",
    )
    if cls.adversarial:
        _require(
            cls.default_divergence in registry.divergences.names(),
            f"{name}: default_divergence {cls.default_divergence!r} is not an installed divergence",
        )


@_check("variants")
def check_hyperparameters(name: str) -> None:
    """Constructor hyper-parameters are keyword-only with int, float, str or bool defaults (what --set can reach)."""
    import inspect

    cls = _plugin("variants", name)
    for k, p in inspect.signature(cls.__init__).parameters.items():
        if k in ("self", "info", "divergence") or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        _require(p.kind is p.KEYWORD_ONLY, f"{name}.__init__: {k!r} must be keyword-only (put it after `*`)")
        _require(
            p.default is not p.empty,
            f"{name}.__init__: {k!r} needs a default, so a bench can build the variant unasked",
        )
        _require(
            isinstance(p.default, (int, float, str, bool)),
            f"{name}.__init__: {k!r} defaults to {p.default!r}; --set can only give ints, floats, strings and bools",
        )


@_check("variants")
def check_generate_shape_dtype_device(name: str) -> None:
    """generate (or translate) returns n finite float32 samples of the dataset's shape on the variant's device."""
    data, variant = _evaluating(name)
    out = _generate(variant, data, 10, torch.Generator().manual_seed(0))
    _require(isinstance(out, torch.Tensor), f"{name}: generate must return a tensor, got {type(out).__name__}")
    _require(
        tuple(out.shape) == (10, *data.info.shape),
        f"{name}: generate(10) gave shape {tuple(out.shape)}, expected {(10, *data.info.shape)}",
    )
    _require(out.dtype == torch.float32, f"{name}: samples must be float32, got {out.dtype}")
    _require(out.device == variant.device, f"{name}: samples are on {out.device}, the variant on {variant.device}")
    _require(bool(torch.isfinite(out).all()), f"{name}: generated samples hold NaN or inf")
    if data.info.bounded:
        _require(
            out.abs().max() <= 1 + 1e-5,
            f"{name}: images must lie in [-1, 1] (Tanh output), got max |x| {float(out.abs().max()):.3f}",
        )


def _drawn_twice(draw: Callable[[torch.Generator], Any]) -> tuple[Any, Any, bool]:
    """``draw`` twice from a generator seeded alike, and whether the first draw touched torch's global RNG."""
    state = torch.get_rng_state()
    a = draw(torch.Generator().manual_seed(7))
    touched = not torch.equal(state, torch.get_rng_state())
    return a, draw(torch.Generator().manual_seed(7)), touched


@_check("variants")
def check_generation_uses_the_given_generator_only(name: str) -> None:
    """The same generator seed gives the same samples, and generating leaves torch's global RNG alone."""
    data, variant = _evaluating(name)
    a, b, touched = _drawn_twice(lambda gen: _generate(variant, data, 8, gen))
    _require(
        not touched,
        f"{name}: generate drew from torch's global RNG; draw noise "
        "from the `generator` argument (self.noise(..., generator=generator))",
    )
    _require(torch.equal(a, b), f"{name}: the same generator seed gave different samples")


@_check("variants")
def check_sample_sheet(name: str) -> None:
    """A sample_sheet of its own, where given, is a SampleSheet of finite samples of the dataset's shape, drawn from
    the given generator only."""
    from ganzoo.variant import SampleSheet

    data, variant = _evaluating(name)
    a, b, touched = _drawn_twice(lambda gen: variant.sample_sheet(generator=gen))
    if a is None:
        raise CheckSkipped(f"{name} draws ganzoo's default sample sheet")
    _require(
        isinstance(a, SampleSheet),
        f"{name}: sample_sheet must return a ganzoo.SampleSheet or None, got {type(a).__name__}",
    )
    _require(
        tuple(a.x.shape[1:]) == tuple(data.info.shape),
        f"{name}: sheet samples have shape {tuple(a.x.shape[1:])}, the data {data.info.shape}",
    )
    _require(bool(torch.isfinite(a.x).all()), f"{name}: the sample sheet holds NaN or inf")
    _require(not touched, f"{name}: sample_sheet drew from torch's global RNG; draw from `generator`")
    _require(torch.equal(a.x, b.x), f"{name}: the same generator seed gave different sample sheets")
    _require(
        a.row_labels is None or len(a.row_labels) == -(-len(a.x) // a.nrow),
        f"{name}: give one row label per row of the sheet",
    )


def _trainer(built: Any, data: Data, seed: int = 0, amp: bool = False, **training: Any) -> Any:
    """A trainer for a built variant, its training settings changed where ``training`` says."""
    from ganzoo.trainer import Trainer

    variant = built.variant
    return Trainer(
        variant, BatchSampler(data, seed=seed, device=variant.device), replace(built.training, **training), amp=amp
    )


@_check("variants")
def check_training_is_deterministic_under_a_seed(name: str) -> None:
    """Two instances built and trained two steps under the same seed hold identical weights."""
    data = stand_in_data(_plugin("variants", name))
    runs = []
    for _ in range(2):
        built = _build(name, data, seed=3)
        torch.manual_seed(3)
        trainer = _trainer(built, data)
        for _ in range(2):
            trainer.step()
        runs.append(_params(built.variant))
    differ = [k for k in runs[0] if not torch.equal(runs[0][k], runs[1][k])]
    _require(not differ, f"{name}: the same seed gave different weights in {', '.join(differ[:3])}")


@_check("variants")
def check_state_restores_the_identical_next_step(name: str) -> None:
    """training_state() loads with weights_only=True, and a restored variant takes the step an uninterrupted one takes."""
    data = stand_in_data(_plugin("variants", name))
    built = _build(name, data)
    variant, trainer = built.variant, _trainer(built, data)
    for _ in range(2):
        trainer.step()
    buf = io.BytesIO()
    torch.save(
        {
            "variant": variant.training_state(),
            "trainer": trainer.state_dict(),
            "sampler": trainer.sampler.state_dict(),
            "rng": torch.get_rng_state(),
        },
        buf,
    )
    buf.seek(0)
    try:
        saved = torch.load(buf, weights_only=True)
    except Exception as exc:
        raise CheckFailed(
            f"{name}: training_state() must hold only tensors, numbers, strings, lists, dicts and None "
            f"(it is loaded with weights_only=True): {type(exc).__name__}: {exc}"
        ) from None
    trainer.step()
    expected = _params(variant)
    rebuilt = _build(name, data, seed=99)  # other initial weights: everything must come from the state
    again = rebuilt.variant
    again.load_training_state(copy.deepcopy(saved["variant"]))
    resumed = _trainer(rebuilt, data, seed=123)
    resumed.load_state_dict(saved["trainer"])
    resumed.sampler.load_state_dict(saved["sampler"])
    torch.set_rng_state(saved["rng"])
    resumed.step()
    got = _params(again)
    differ = [k for k in expected if not torch.allclose(expected[k], got[k], rtol=0, atol=0)]
    _require(
        not differ,
        f"{name}: after restoring its state the next step differs in {', '.join(differ[:3])}; "
        "put everything the variant changes while training into training_state()",
    )


def _hold_power_iterations(variant: Any) -> None:
    """Spectral normalisation's power iteration advances on every training-mode forward (torch's and Mimicry's
    count), so two passes over the same batch score with slightly different sigmas: held here, the losses compare."""
    from torch.nn.utils.parametrizations import _SpectralNorm

    for net in [*variant.generators().values(), *variant.discriminators().values()]:
        for m in net.modules():
            if isinstance(m, _SpectralNorm):
                m.eval()


@_check("variants")
def check_joint_losses_agree_with_the_separate_losses(name: str) -> None:
    """joint_losses (what the simultaneous update differentiates) gives the losses discriminator_loss and
    generator_loss give on the same batch and the same noise, and one simultaneous step moves both players."""
    cls = _plugin("variants", name)
    if not cls.adversarial:
        raise CheckSkipped(f"{name} has no discriminator, so no simultaneous update")
    data = stand_in_data(cls)
    built = _build(name, data)
    variant = built.variant
    batch = variant.next_batch(BatchSampler(data, seed=0, device=variant.device))
    totals = []
    for joint in (type(variant).joint_losses, Variant.joint_losses):
        v = copy.deepcopy(variant)  # BatchNorm's running averages move on each pass
        _hold_power_iterations(v)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(7)
            d_out, g_out = joint(v, batch)
        totals.append((d_out.total.item(), g_out.total.item()))
    (d1, g1), (d2, g2) = totals
    _require(
        abs(d1 - d2) <= 1e-4 * (1 + abs(d2)) and abs(g1 - g2) <= 1e-4 * (1 + abs(g2)),
        f"{name}: joint_losses gives D {d1:.6g} and G {g1:.6g}, but discriminator_loss and generator_loss on the same "
        f"batch and noise give D {d2:.6g} and G {g2:.6g}; read G's noise from the batch (batch.z)",
    )
    before = _params(variant)
    _trainer(built, data, update="simultaneous").step()
    after = _params(variant)
    for player, nets in (("G", variant.generators()), ("D", variant.discriminators())):
        keys = [f"{n}.{k}" for n, net in nets.items() for k, t in net.state_dict().items() if t.is_floating_point()]
        _require(
            any(not torch.equal(before[k], after[k]) for k in keys),
            f"{name}: a simultaneous step left {player} unchanged",
        )
        _require(
            all(torch.isfinite(after[k]).all() for k in keys),
            f"{name}: a simultaneous step made {player}'s weights non-finite",
        )


@_check("variants")
def check_hparams_record_the_constructor_arguments(name: str) -> None:
    """hparams() holds every constructor argument (kept as an attribute of the same name) and is JSON."""
    cls = _plugin("variants", name)
    data = stand_in_data(cls)
    hp = _build(name, data).variant.hparams()
    missing = [k for k in cls.constructor_params() if k not in hp]
    _require(
        not missing,
        f"{name}: hparams() lacks {', '.join(missing)}; keep each constructor argument as self.<name> "
        "so each run's config.json records what it ran with",
    )
    try:
        json.dumps(hp)
    except TypeError as exc:
        raise CheckFailed(f"{name}: hparams() must be JSON-serialisable: {exc}") from None


@_check("variants")
def check_learns_on_a_tiny_dataset(name: str) -> None:
    """150 steps move the samples' mean at least a third of the way towards the data's."""
    data = stand_in_data(_plugin("variants", name))
    built = _build(name, data, batch_size=32)
    built = _build(name, data, batch_size=32, lr=max(built.training.lr, 1e-3))
    variant = built.variant

    def gen() -> torch.Tensor:
        with torch.no_grad():
            return _generate(variant, data, 256, torch.Generator().manual_seed(1)).float()

    target = data.floats(None if not variant.translates else data.y == variant.translation_pairs()[0][1]).mean(0)
    variant.train(False)
    before = float((gen().mean(0) - target).norm())
    variant.train(True)
    trainer = _trainer(built, data)
    for _ in range(150):
        trainer.step()
    variant.train(False)
    after = float((gen().mean(0) - target).norm())
    _require(
        math.isfinite(after) and after <= before * 2 / 3,
        f"{name}: after 150 steps on {data.name} its samples' mean is {after:.3f} from the data's (at the start "
        f"{before:.3f}); it does not learn",
    )


@_check("variants")
def check_amp_on_cuda(name: str) -> None:
    """One mixed-precision step on CUDA gives finite losses (skipped without CUDA)."""
    cls = _plugin("variants", name)
    if not torch.cuda.is_available():
        raise CheckSkipped("no CUDA device here")
    data = stand_in_data(cls)
    built = _build(name, data)
    built.variant.to(torch.device("cuda"))
    d_out, g_out, _ = _trainer(built, data, amp=True).step()
    for out in (d_out, g_out):
        if out is not None:
            _require(bool(torch.isfinite(out.total)), f"{name}: a mixed-precision step gave a non-finite loss")


# -- divergences ----------------------------------------------------------------------------------


def _scores(*values: float) -> torch.Tensor:
    return torch.tensor(values, requires_grad=True)


@_check("divergences")
def check_divergence_attributes(name: str) -> None:
    """description is declared, and estimate_unit is set exactly when estimate() returns a value."""
    cls = _plugin("divergences", name)
    _require_description(cls, name)
    est = cls(**params_of(name)).estimate(torch.randn(8), torch.randn(8))
    _require(
        (est is None) == (cls.estimate_unit is None),
        f"{name}: estimate() returns {'nothing' if est is None else 'a value'} but estimate_unit is {cls.estimate_unit!r}",
    )


@_check("divergences")
def check_losses_are_finite_scalars_with_gradients(name: str) -> None:
    """d_loss and g_loss are finite scalars with finite gradients, for (N,) and (N, 1) scores, at logits up to ±50."""
    div = _plugin("divergences", name)(**params_of(name))
    for shape in ((4,), (4, 1)):
        r = _scores(0.3, -1.2, 2.0, 50.0).detach().reshape(shape).requires_grad_()
        f = _scores(-0.5, 0.1, -50.0, 1.5).detach().reshape(shape).requires_grad_()
        for what, loss in (("d_loss", div.d_loss(r, f)), ("g_loss", div.g_loss(f, r))):
            _require(loss.dim() == 0, f"{name}: {what} must be a scalar, got shape {tuple(loss.shape)}")
            _require(bool(torch.isfinite(loss)), f"{name}: {what} is not finite at scores ±50")
            grads = torch.autograd.grad(loss, [r, f], allow_unused=True)
            _require(
                all(g is None or bool(torch.isfinite(g).all()) for g in grads),
                f"{name}: {what}'s gradient is not finite",
            )


@_check("divergences")
def check_d_and_g_agree_on_which_way_is_real(name: str) -> None:
    """D's loss is lower when it scores real and fake apart one way, and G's loss is lower when fakes score that same way."""
    div = _plugin("divergences", name)(**params_of(name))
    hi, lo = _scores(2.0, 1.5, 2.5), _scores(-2.0, -1.5, -2.5)
    with torch.no_grad():
        real_high = float(div.d_loss(hi, lo)) < float(div.d_loss(lo, hi))
        g_wants_high = float(div.g_loss(hi, lo)) < float(div.g_loss(lo, lo))
    _require(
        real_high == g_wants_high,
        f"{name}: D is trained to score real samples {'high' if real_high else 'low'}, but G is "
        f"trained to make fakes score {'high' if g_wants_high else 'low'}: one of the losses has its sign flipped",
    )


# -- datasets -------------------------------------------------------------------------------------


@_check("datasets")
def check_dataset_info(name: str) -> None:
    """info is a DatasetInfo; description is declared; the splits name the ones load() takes."""
    cls = _plugin("datasets", name)
    _require(
        isinstance(getattr(cls, "info", None), DatasetInfo),
        f"{name}: `info` must be a ganzoo.DatasetInfo class attribute",
    )
    _require_description(cls, name)
    _require(
        bool(cls.splits) and all(isinstance(s, str) for s in cls.splits),
        f"{name}: `splits` must name at least one split",
    )


@_check("datasets")
def check_loaded_data_matches_its_info(name: str) -> None:
    """load() gives float32 samples of info.shape (in [-1, 1] when bounded) and labels in range, the same on every load."""
    from ganzoo.data import describe_dataset

    cls = _plugin("datasets", name)
    try:
        info = describe_dataset(cls, None, None)
    except ValueError as exc:
        raise CheckSkipped(
            f"{name} needs more than its name ({exc}); check a load with ganzoo.testing.check_data(data, info)"
        ) from None
    if cls.argument is not None:
        raise CheckSkipped(f"{name} takes an argument ({cls.argument}); check it with ganzoo.testing.check_data(...)")
    try:
        a = cls.load(name=name, data_dir=None, split="auto", download=False)
        b = cls.load(name=name, data_dir=None, split="auto", download=False)
    except FileNotFoundError as exc:
        raise CheckSkipped(f"{name} needs files that are not here: {exc}") from None
    check_data(a, info)
    _require(a.content_hash == b.content_hash, f"{name}: two loads gave different data; draw from a fixed seed")


def check_data(data: Data, info: DatasetInfo) -> None:
    """The rules every loaded dataset keeps, for datasets that need files or an argument to load."""
    _require(isinstance(data, Data), f"load() must return ganzoo.Data, got {type(data).__name__}")
    _require(
        tuple(data.x.shape[1:]) == tuple(info.shape),
        f"{data.name}: samples have shape {tuple(data.x.shape[1:])}, info says {info.shape}",
    )
    _require(
        data.x.dtype == torch.float32 or (data.x.dtype == torch.uint8 and info.is_image),
        f"{data.name}: samples must be float32 (or images as uint8 pixels), got {data.x.dtype}",
    )
    x = data.floats()  # once: a uint8 dataset is converted whole here
    _require(bool(torch.isfinite(x).all()), f"{data.name}: samples hold NaN or inf")
    if info.bounded:
        low, high = info.value_range
        _require(
            x.min() >= low - 1e-6 and x.max() <= high + 1e-6,
            f"{data.name}: bounded samples must lie in [{low:g}, {high:g}]",
        )
    if info.num_classes:
        _require(data.y is not None and data.y.dtype == torch.long, f"{data.name}: labelled data needs int64 labels")
        _require(
            int(data.y.min()) >= 0 and int(data.y.max()) < info.num_classes,
            f"{data.name}: labels must lie in [0, {info.num_classes}), got [{int(data.y.min())}, {int(data.y.max())}]",
        )


# -- metrics --------------------------------------------------------------------------------------

_ROW_COLUMNS = set(Row.__dataclass_fields__)


@_check("metrics")
def check_metric_attributes(name: str) -> None:
    """directions say lower or higher; description is declared."""
    cls = _plugin("metrics", name)
    _require_description(cls, name)
    bad = {k: v for k, v in cls.directions.items() if v not in (LOWER, HIGHER)}
    _require(not bad, f"{name}: directions must be 'lower' or 'higher', got {bad}")


def _metric_data(name: str) -> Data:
    """The first of the kit's datasets the metric can score, by the rule a bench uses (``check_data``)."""
    from ganzoo.evaluation import metric_unsuitable
    from ganzoo.metrics.base import EvalOptions

    return _first_fitting(lambda data_name, info: metric_unsuitable(name, info, EvalOptions()), "metric")


@_check("metrics")
def check_metric_values_on_real_samples(name: str) -> None:
    """On real samples: finite float values, the declared directions and summary among them, the same values twice,
    provenance as result columns."""
    from ganzoo.config import default_cache_dir

    cls = _plugin("metrics", name)
    data = _metric_data(name)
    if data.info.domains:
        raise CheckSkipped("translation metrics score translations; a translation variant's bench checks them")
    metric = cls(
        data=data, device=torch.device("cpu"), cache_dir=default_cache_dir(), **params_of(name)
    )  # a classifier it trains is cached, as in a bench
    _require(
        isinstance(metric.num_samples, int) and metric.num_samples > 0, f"{name}: num_samples must be a positive int"
    )
    n = min(metric.num_samples, len(data))
    samples = Samples(data.floats(slice(0, n)), None if data.y is None else data.y[:n])
    a, b = metric.compute(samples), metric.compute(samples)
    _require(
        isinstance(a, dict) and all(isinstance(v, float) for v in a.values()),
        f"{name}: compute() must return {{name: float}}, got {a!r}",
    )
    _require(all(math.isfinite(v) for v in a.values()), f"{name}: non-finite values on real samples: {a}")
    missing = [
        k
        for k in cls.directions
        if k not in a and not any(v.startswith(k + "/") for v in a) and k not in cls.conditional_values
    ]
    _require(not missing, f"{name}: directions name {missing}, which compute() does not return")
    unknown = [k for k in cls.summary_values() if k not in a]
    _require(not unknown, f"{name}: summary names {unknown}, which compute() does not return")
    _require(a == b, f"{name}: the same samples gave different values ({a} then {b})")
    extra = set(metric.provenance()) - _ROW_COLUMNS
    _require(
        not extra,
        f"{name}: provenance() keys {sorted(extra)} are not result columns ({', '.join(sorted(_ROW_COLUMNS))})",
    )


# -- running them ---------------------------------------------------------------------------------


def kind_of(name: str) -> str:
    """The plugin kind a name belongs to; a name two kinds share is an error naming both."""
    kinds = [k for k, reg in registry.REGISTRIES.items() if name in reg.names()]
    if not kinds:
        known = sorted({n for reg in registry.REGISTRIES.values() for n in reg.names()})
        raise ValueError(registry.unknown_message("plugin", name, known))
    if len(kinds) > 1:
        raise ValueError(f"{name!r} names a plugin of each of {', '.join(kinds)}; say which with --kind")
    return kinds[0]


@dataclass
class CheckResult:
    check: str
    status: str  # passed | failed | skipped
    message: str = ""


def run_checks(name: str, kind: str | None = None) -> list[CheckResult]:
    """Every check of the plugin's kind, each run on its own: a failure never stops the others. ``name``
    may be a :class:`Configured` name, checking the plugin with those parameters."""
    kind = kind or kind_of(name)
    results = []
    for check in CHECKS[kind]:
        try:
            check(name)
            results.append(CheckResult(check.name, "passed"))
        except CheckSkipped as exc:
            results.append(CheckResult(check.name, "skipped", str(exc)))
        except Exception as exc:  # a plugin that raises where it should not has failed the check
            message = str(exc) if isinstance(exc, CheckFailed) else f"{type(exc).__name__}{registry.where(exc)}: {exc}"
            results.append(CheckResult(check.name, "failed", message))
    return results


def parametrize_with_checks(kind: str, names: list[str], slow: Iterable[str] = ()) -> Any:
    """A pytest mark running every check of ``kind`` on each named plugin, one test per (plugin, check);
    the test function takes ``plugin`` and ``check`` and calls ``check(plugin)``. Skips become pytest
    skips. ``slow``: test ids (``NAME-CHECK``) to mark ``pytest.mark.slow``, for suites that deselect them."""
    import pytest

    slow = set(slow)

    def skipping(check: Check) -> Callable[[str], None]:
        def run(plugin: str) -> None:
            try:
                check(plugin)
            except CheckSkipped as exc:
                pytest.skip(str(exc))

        return run

    params = [
        pytest.param(
            n,
            skipping(c),
            id=f"{n!r}-{c.name}" if isinstance(n, Configured) else f"{n}-{c.name}",
            marks=[pytest.mark.slow] if f"{n}-{c.name}" in slow else [],
        )
        for n in names
        for c in CHECKS[kind]
    ]
    return pytest.mark.parametrize("plugin, check", params)
