"""``ganzoo score``: the bench's metrics on samples ganzoo did not necessarily make.

SAMPLES is a folder of images, an ``.npy``/``.npz`` array, a ganzoo run folder (its generator draws ``n``
samples from a fixed seed) or ``module:callable`` (called with a count, returning images). The reference
is a dataset plugin (then every metric a bench would compute on it, with the same reference set), a folder
or array of images, or reference statistics saved by ``--save-reference`` (clean-fid's custom statistics
in spirit: a named reference without its images).

Every input is read and checked before anything is computed or written, so a bad one costs a second and
one line. The numbers are the bench's own (:func:`ganzoo.metrics.fidelity.fidelity_values`), with how
sure they are beside them: a bootstrap interval over the generated samples, and FID∞ on request.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganzoo import registry
from ganzoo.config import FEATURE_SPACES, BenchConfig, BenchInputError, DataSource, default_cache_dir, split_dataset
from ganzoo.data import Data, DataKind, DatasetInfo
from ganzoo.evaluation import NOISE_SEED, generate, prepare_metrics, score as score_metrics
from ganzoo.factory import VariantSpec, check_source, create_variant, dataset_info, load_checked
from ganzoo.metrics.base import EvalOptions, Samples
from ganzoo.metrics.features import FeatureSpace, FeatureSpaceError, pretrained_space
from ganzoo.metrics.fidelity import Reference, fid_from_features, fidelity_values, kid_of
from ganzoo.plan import choose_metrics
from ganzoo.results import atomic_write_bytes, load_weights, read_json_object

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
MIN_SAMPLES = 10  # fewer, and precision/recall (k=3), density/coverage (k=5) and the covariance mean little
STATS_FORMAT = "ganzoo-reference-1"
COLUMNS = [
    "samples",
    "samples_sha256",
    "reference_set",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "detail",
    "features",
    "features_sha256",
    "reference",
    "reference_images",
    "generated_images",
    "resize",
]


class ScoreInputError(BenchInputError):
    """A SAMPLES or --reference that cannot be scored; the message names it and says why."""


@dataclass
class Images:
    """Samples in ganzoo's form (float in [-1, 1], N x C x H x W; N x D points from a run on points), where
    they came from, and a digest of their content."""

    x: Tensor
    what: str
    y: Tensor | None = None
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.x.contiguous().numpy().tobytes()).hexdigest()


# -- reading samples ----------------------------------------------------------------------------------


def _from_uint8(a: np.ndarray, what: str) -> Tensor:
    """N x H x W x C (or N x H x W) uint8 -> float [-1, 1], N x C x H x W."""
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4 or a.shape[-1] not in (1, 3):
        raise ScoreInputError(
            f"{what}: uint8 arrays must be N x H x W x C with C 1 or 3 (or N x H x W), got shape {a.shape}"
        )
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float() / 127.5 - 1


def as_images(a: Any, what: str) -> Tensor:
    """An array or tensor of images in either form ganzoo reads: N x H x W x C uint8, or N x C x H x W float
    in [-1, 1]; anything else is a ScoreInputError naming what it got."""
    if isinstance(a, Tensor):
        a = a.detach().cpu().numpy()
    if not isinstance(a, np.ndarray):
        raise ScoreInputError(f"{what} gave a {type(a).__name__}, not an array of images")
    if a.dtype == np.uint8:
        return _from_uint8(a, what)
    if not np.issubdtype(a.dtype, np.floating):
        raise ScoreInputError(
            f"{what}: images must be uint8 (N x H x W x C) or float in [-1, 1] (N x C x H x W), got {a.dtype}"
        )
    if a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ScoreInputError(f"{what}: float images must be N x C x H x W with C 1 or 3, got shape {a.shape}")
    if not np.isfinite(a).all() or a.min() < -1.001 or a.max() > 1.001:
        raise ScoreInputError(
            f"{what}: float images must be finite and in [-1, 1], got values in [{np.nanmin(a):.3g}, {np.nanmax(a):.3g}]"
        )
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).clamp(-1, 1)


def read_folder(folder: Path) -> Tensor:
    """Every image under ``folder`` (sorted by path), decoded by PIL as RGB or grey; they must share one
    size and mode, since a batch of features is one tensor."""
    from PIL import Image

    files = sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ScoreInputError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    arrays, first = [], None
    for f in files:
        try:
            with Image.open(f) as im:
                im = im.convert("L" if im.mode in ("1", "L", "I;16", "I") else "RGB")
                a = np.asarray(im)
        except Exception as exc:
            raise ScoreInputError(f"{f} cannot be read as an image ({type(exc).__name__}: {exc})") from None
        if first is None:
            first = (f, a.shape)
        elif a.shape != first[1]:
            raise ScoreInputError(
                f"{folder} mixes image sizes or modes: {first[0].name} is {_shape(first[1])}, {f.name} is {_shape(a.shape)}; "
                "resize them to one size first"
            )
        arrays.append(a)
    return _from_uint8(np.stack(arrays), str(folder))


def _shape(s: tuple[int, ...]) -> str:
    return f"{s[1]}x{s[0]} {'grey' if len(s) == 2 else 'RGB'}"


def read_array(path: Path) -> Tensor:
    try:
        loaded = np.load(path, allow_pickle=False)  # never unpickle a file handed to us
    except Exception as exc:
        raise ScoreInputError(
            f"{path} cannot be read as a numpy array without unpickling ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            key = next((k for k in ("images", "x", "arr_0") if k in keys), keys[0] if len(keys) == 1 else None)
            if key is None:
                raise ScoreInputError(
                    f"{path} holds arrays {keys}; name the images 'images', 'x' or 'arr_0', or save only them"
                )
            loaded = loaded[key]
    return as_images(loaded, str(path))


def is_run_folder(path: Path) -> bool:
    return (
        path.is_dir()
        and (path / "config.json").is_file()
        and "variant_plugin" in read_json_object(path / "config.json")
    )


def generate_from_run(folder: Path, n: int, seed: int, device: torch.device, data_dir: Path | None = None) -> Images:
    """``n`` samples of a ganzoo run's final generator, from noise seeded ``NOISE_SEED + seed`` (labels drawn
    uniformly over the classes for a conditional variant). Its weights load with ``weights_only=True``."""
    config = read_json_object(folder / "config.json")
    if not (folder / "weights.pt").is_file():
        status = config.get("status", "unknown")
        raise ScoreInputError(
            f"run folder {folder} has no weights.pt (its status: {status}); finish it with ganzoo bench --resume, "
            "or score a finished run"
        )
    try:
        dataset = config["dataset"]["name"]
        info = dataset_info(dataset, data_dir)
        divergence = config["divergence"]
        params = config.get("recipe", {}).get("divergence_params", {})
        spec = VariantSpec(
            config["variant"], config["variant_plugin"], divergence, config.get("hparams", {}), divergence_params=params
        )
        variant = create_variant(spec, info).variant
    except BenchInputError as exc:
        raise ScoreInputError(f"run folder {folder}: {exc}") from None
    except Exception as exc:
        raise ScoreInputError(
            f"run folder {folder}: its variant cannot be built again from config.json ({type(exc).__name__}: {exc})"
        ) from None
    if variant.translates:
        raise ScoreInputError(
            f"run folder {folder} holds a translation variant ({config['variant_plugin']}); its bench scores its "
            "translations, ganzoo score draws from generators of noise"
        )
    try:
        state = load_weights(folder / "weights.pt")
        for name, net in variant.generators().items():
            net.load_state_dict(state["generators"][name])
    except Exception as exc:
        raise ScoreInputError(
            f"{folder / 'weights.pt'} cannot be loaded safely into {config['variant_plugin']}'s generator "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
        ) from None
    variant = variant.to(device)
    variant.train(False)
    gen = torch.Generator().manual_seed(NOISE_SEED + seed)
    y = torch.randint(info.num_classes, (n,), generator=gen) if variant.conditional and info.num_classes else None
    with torch.no_grad():
        x = generate(variant, n, gen, y)
    return Images(x, f"run {config.get('run_id', folder.name)}: {n} samples, seed {seed}", y)


def call_generator(target: str, n: int) -> Tensor:
    """``module:callable`` called with ``n``: the images it returns, checked."""
    module_name, _, attr = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        raise ScoreInputError(
            f"{target!r} cannot be imported ({type(exc).__name__}: {exc}); give MODULE:CALLABLE on the Python path"
        ) from None
    if not callable(fn):
        raise ScoreInputError(f"{target!r} is a {type(fn).__name__}, not a callable")
    try:
        out = fn(n)
    except Exception as exc:
        raise ScoreInputError(f"{target}({n}) raised {type(exc).__name__}: {exc}") from None
    x = as_images(out, f"{target}({n})")
    if len(x) != n:
        raise ScoreInputError(f"{target}({n}) returned {len(x)} images, not {n}")
    return x


def read_samples(spec: str, *, n: int, seed: int, device: torch.device, data_dir: Path | None = None) -> Images:
    """SAMPLES as the command line names it; a ScoreInputError (one line) for anything that cannot be scored."""
    path = Path(spec)
    if is_run_folder(path):
        return generate_from_run(path, n, seed, device, data_dir)
    if path.is_dir():
        return Images(read_folder(path), f"folder {path.name}")
    if path.is_file():
        if path.suffix not in (".npy", ".npz"):
            raise ScoreInputError(f"{spec}: a file of samples must be .npy or .npz (or give a folder of images)")
        return Images(read_array(path), f"array {path.name}")
    if ":" in spec and not path.exists():
        return Images(call_generator(spec, n), f"{spec}({n})")
    raise ScoreInputError(
        f"{spec!r} is neither a folder of images, an .npy/.npz array, a ganzoo run folder nor MODULE:CALLABLE"
    )


# -- references ---------------------------------------------------------------------------------------


@dataclass
class ReferenceSet:
    """The real side: a loaded dataset (with every metric a bench computes on it), or images from a folder or
    array, or saved statistics (``data`` None)."""

    spec: str
    data: Data | None = None
    saved: dict[str, Any] = field(default_factory=dict)  # from --reference STATS.npz


def is_stats_file(path: Path) -> bool:
    if path.suffix != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as z:
            return {"mu", "sigma"} <= set(z.keys())
    except Exception:
        return False


def read_reference(spec: str, *, data_dir: Path | None, split: str, download: bool) -> ReferenceSet:
    path = Path(spec)
    if is_stats_file(path):
        with np.load(path, allow_pickle=False) as z:
            saved = {k: z[k] for k in z.keys()}
        if str(saved.get("format", "")) != STATS_FORMAT:
            raise ScoreInputError(
                f"--reference {spec}: mean and covariance without ganzoo's record of their feature space; save "
                "reference statistics with ganzoo score ... --save-reference FILE.npz"
            )
        return ReferenceSet(spec, saved=saved)
    if path.exists():
        x = read_folder(path) if path.is_dir() else read_array(path)
        info = DatasetInfo(DataKind.UNCONDITIONAL, tuple(x.shape[1:]))
        return ReferenceSet(
            spec, Data(name=f"reference:{path.name}", info=info, x=x, y=None, split="all", source=str(path.resolve()))
        )
    if split_dataset(spec)[0] not in registry.datasets.names():
        raise ScoreInputError(
            f"--reference {spec!r} is neither a folder, an array, saved statistics (.npz) nor an installed dataset "
            f"({', '.join(registry.datasets.names())})"
        )
    source = DataSource(spec, data_dir, split, download)
    check_source(source)  # a bad argument, --data-dir or split in one line, before loading
    return ReferenceSet(spec, load_checked(source))


# -- how sure a number is ----------------------------------------------------------------------------


def frechet_fast(fake: Tensor, ref_mu: Tensor, ref_sigma: Tensor, sqrt_ref: Tensor) -> float:
    """FID with the reference's covariance square root computed once (``sqrt_ref``): tr sqrt(S_r S_f) =
    tr sqrt(A S_f A) for A = S_r^(1/2), a symmetric matrix whose eigenvalues eigh finds quickly. Used for the
    bootstrap rounds; the reported value is torch-fidelity's (the tests hold the two equal)."""
    fake = fake.double()
    mu = fake.mean(0)
    centred = fake - mu
    sigma = centred.T @ centred / (len(fake) - 1)
    inner = torch.linalg.eigvalsh(sqrt_ref @ sigma @ sqrt_ref).clamp(min=0).sqrt().sum()
    return float(((mu - ref_mu) ** 2).sum() + torch.trace(ref_sigma) + torch.trace(sigma) - 2 * inner)


def _reference_moments(ref: Reference) -> tuple[Tensor, Tensor, Tensor]:
    """The reference's mean, covariance and covariance square root (once per command), for :func:`frechet_fast`."""
    mu = torch.as_tensor(ref.stats["mu"], dtype=torch.float64)
    sigma = torch.as_tensor(ref.stats["sigma"], dtype=torch.float64)
    return mu, sigma, _sqrt_psd(sigma)


def _sqrt_psd(sigma: Tensor) -> Tensor:
    vals, vecs = torch.linalg.eigh(sigma)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


@dataclass
class Certainty:
    """95% intervals per value, from half-samples of the generated samples."""

    low: dict[str, float]
    high: dict[str, float]
    rounds: int


def bootstrap(
    fake: Tensor,
    ref: Reference,
    rounds: int,
    seed: int = 0,
    level: float = 0.95,
    values: dict[str, float] | None = None,
) -> Certainty:
    """How much FID (and KID, where the reference has features) moves with the draw of generated samples:
    ``rounds`` half-samples drawn without replacement, each value's deviations from their mean put around
    the full-sample value. Half-sampling without replacement has the full sample's variance (the finite-
    population factor 1 - m/n halves the variance of a half-size set), and draws no sample twice: resampling
    with replacement repeats samples, which KID's unbiased estimator counts as pairs of identical images and
    FID's covariance as fewer, so both drift upwards. Centring keeps out FID's bias in N (FID∞ measures it)."""
    mu_r, sigma_r, root = _reference_moments(ref)
    gen = torch.Generator().manual_seed(seed)
    m = len(fake) // 2
    draws: dict[str, list[float]] = {"fid": []}
    if ref.features is not None:
        draws["kid"] = []
    for _ in range(rounds):
        half = fake[torch.randperm(len(fake), generator=gen)[:m]]
        draws["fid"].append(frechet_fast(half, mu_r, sigma_r, root))
        if ref.features is not None:
            draws["kid"].append(kid_of(half, ref))
    values = values or {
        "fid": fid_from_features(fake, ref.stats),
        **({"kid": kid_of(fake, ref)} if ref.features is not None else {}),
    }
    tail = (1 - level) / 2 * 100
    low = {k: values[k] + float(np.percentile(v, tail) - np.mean(v)) for k, v in draws.items()}
    high = {k: values[k] + float(np.percentile(v, 100 - tail) - np.mean(v)) for k, v in draws.items()}
    return Certainty(low, high, rounds)


def fid_infinity(fake: Tensor, ref: Reference, points: int = 10, seed: int = 0) -> tuple[float, str]:
    """FID∞ (Chong & Forsyth 2020): FID at ``points`` sample counts from a fifth of the samples to all of them
    (each a seeded subset), a line fitted to FID against 1/N, and its value at 1/N = 0."""
    n = len(fake)
    lo = max(MIN_SAMPLES, n // 5)
    counts = sorted({int(c) for c in np.linspace(lo, n, points)})
    if len(counts) < 3:
        raise ScoreInputError(f"FID∞ needs at least 3 sample counts; {n} samples give {len(counts)}")
    gen = torch.Generator().manual_seed(seed)
    mu_r, sigma_r, root = _reference_moments(ref)
    fids = [frechet_fast(fake[torch.randperm(n, generator=gen)[:c]], mu_r, sigma_r, root) for c in counts]
    slope, intercept = np.polyfit(1.0 / np.array(counts), np.array(fids), 1)
    return (
        float(intercept),
        f"Chong & Forsyth 2020: FID at {len(counts)} sample counts {counts[0]}..{counts[-1]}, fitted to FID = FID∞ + k/N (k={slope:.4g})",
    )


# -- the whole command ---------------------------------------------------------------------------------


@dataclass
class ScoreRequest:
    samples: str
    reference: str
    features: str = "classifier"
    features_weights: Path | None = None
    metrics: list[str] | None = None
    n: int = 10_000
    seed: int = 0
    data_dir: Path | None = None
    split: str = "auto"
    download: bool = True
    cache_dir: Path | None = None
    device: str = "auto"
    bootstrap: int = 50
    fid_infinity: bool = False
    save_reference: Path | None = None
    reference_features: bool = True  # --save-reference also stores the features (KID, precision/recall, ...)


def check_request(req: ScoreRequest) -> None:
    """What needs no file read: one line for a bad value."""
    if req.features not in FEATURE_SPACES:
        raise ScoreInputError(f"unknown feature space {req.features!r} (known: {', '.join(FEATURE_SPACES)})")
    if req.n < MIN_SAMPLES:
        raise ScoreInputError(f"--n {req.n}: the metrics need at least {MIN_SAMPLES} samples")
    if req.bootstrap < 0:
        raise ScoreInputError(f"--bootstrap {req.bootstrap}: give a number of rounds, 0 for none")
    if req.save_reference is not None and Path(req.save_reference).suffix != ".npz":
        raise ScoreInputError(f"--save-reference {req.save_reference}: reference statistics are saved as .npz")


def run_score(req: ScoreRequest) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score SAMPLES against the reference: the tidy rows, and a record of what ran. Nothing is written but
    the caches and ``--save-reference`` (the CLI writes ``--out``)."""
    from ganzoo.device import resolve_device

    check_request(req)
    try:
        device = resolve_device(req.device)
    except ValueError as exc:
        raise ScoreInputError(str(exc)) from None
    cache_dir = Path(req.cache_dir or default_cache_dir())
    ref = read_reference(req.reference, data_dir=req.data_dir, split=req.split, download=req.download)
    samples = read_samples(req.samples, n=req.n, seed=req.seed, device=device, data_dir=req.data_dir)
    if len(samples.x) < MIN_SAMPLES:
        raise ScoreInputError(f"{req.samples} holds {len(samples.x)} samples; the metrics need at least {MIN_SAMPLES}")

    values: dict[str, tuple[float, dict]] = {}
    if ref.data is None:  # saved statistics: fidelity in the space they were saved in
        space, reference, note = _saved_reference(ref, req, cache_dir)
        _check_images(samples, space.name, None)
        fake = space.extract(samples.x, device)
        provenance = {
            **space.provenance(),
            "reference": note,
            "reference_images": int(ref.saved["count"]),
            "generated_images": len(fake),
        }
        values = {k: (v, provenance) for k, v in fidelity_values(fake, reference, device).items()}
    else:
        metrics, reference, space = _prepare(ref, req, samples, device, cache_dir)
        fidelity, fake = metrics.pop("fidelity", None), None
        if fidelity is not None:  # FidelityMetrics.compute, with the features kept for the intervals
            fake = space.extract(samples.x, device)
            provenance = fidelity.provenance()
            values = {k: (v, provenance) for k, v in fidelity_values(fake, reference, device).items()}
        values.update(score_metrics(metrics, lambda metric: Samples(samples.x, samples.y)))  # the dataset's own metrics
        values = {k: (v, {**p, "generated_images": len(samples.x)}) for k, (v, p) in values.items()}
        note = fidelity.provenance()["reference"] if fidelity is not None else ref.spec
    if req.save_reference is not None:
        if reference is None:
            raise ScoreInputError(
                "--save-reference: the reference has no fidelity features to save (choose --metrics fidelity)"
            )
        save_reference(Path(req.save_reference), space, reference, note, with_features=req.reference_features)

    certain = None
    if reference is not None and fake is not None and req.bootstrap:
        certain = bootstrap(
            fake,
            reference,
            req.bootstrap,
            seed=req.seed,
            values={k: values[k][0] for k in ("fid", "kid") if k in values},
        )
    infinity = fid_infinity(fake, reference, seed=req.seed) if req.fid_infinity and reference is not None else None
    rows = []
    for name, (value, provenance) in values.items():
        rows.append(
            _row(
                req,
                samples,
                name,
                value,
                provenance,
                certain.low.get(name) if certain else None,
                certain.high.get(name) if certain else None,
                f"95% interval over draws of the generated samples ({certain.rounds} half-samples, centred on the value)"
                if certain and name in certain.low
                else provenance.get("detail", ""),
            )
        )
    if infinity is not None:
        rows.append(_row(req, samples, "fid_infinity", infinity[0], values["fid"][1], None, None, infinity[1]))
    record = {
        "samples": samples.what,
        "samples_sha256": samples.sha256,
        "generated": len(samples.x),
        "reference": req.reference,
        "features": req.features,
        "device": str(device),
    }
    return rows, record


def _row(
    req: ScoreRequest,
    samples: Images,
    metric: str,
    value: float,
    provenance: dict,
    low: float | None,
    high: float | None,
    detail: str,
) -> dict[str, Any]:
    row = {
        "samples": samples.what,
        "samples_sha256": samples.sha256[:16],
        "reference_set": req.reference,
        "metric": metric,
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "detail": detail,
    }
    row.update(
        {
            k: provenance.get(k, "")
            for k in ("features", "features_sha256", "reference", "reference_images", "generated_images", "resize")
        }
    )
    return row


def _check_images(samples: Images, features: str, info: DatasetInfo | None) -> None:
    """Samples a feature space (and the dataset's own metrics) can take: a pretrained extractor takes grey or
    RGB images of any size; the dataset classifier and the dataset's own metrics take the dataset's shape."""
    shape = tuple(samples.x.shape[1:])
    if features != "classifier" or info is None:
        if len(shape) != 3 or shape[0] not in (1, 3):
            raise ScoreInputError(f"--features {features} takes grey or RGB images; the samples are {_describe(shape)}")
        return
    if shape != info.shape:
        raise ScoreInputError(
            f"the samples are {_describe(shape)}, the reference is {_describe(info.shape)}: the dataset's classifier "
            "and metrics need its shape (resize them, or score in a pretrained space: --features inception)"
        )


def _describe(shape: tuple[int, ...]) -> str:
    return f"{shape[0]}x{shape[1]}x{shape[2]} images" if len(shape) == 3 else f"{shape[0]}-D points"


def _prepare(
    ref: ReferenceSet, req: ScoreRequest, samples: Images, device: torch.device, cache_dir: Path
) -> tuple[dict, Reference | None, FeatureSpace | None]:
    """The metrics a bench would compute on the reference (their own reference sets), checked against the samples."""
    data = ref.data
    assert data is not None
    if req.features != "classifier" and not data.info.is_image:
        raise ScoreInputError(f"--features {req.features} needs images; the reference holds {data.info.describe()}")
    own_dataset = not data.name.startswith("reference:")
    config = BenchConfig(
        dataset=data.name,
        features=req.features,
        inception_weights=req.features_weights,
        metrics=req.metrics if own_dataset else (req.metrics or ["fidelity"]),
    )
    try:
        chosen, _ = choose_metrics(config, data.info)
    except BenchInputError as exc:
        raise ScoreInputError(str(exc)) from None
    if not chosen:
        raise ScoreInputError(
            f"no metric can score {req.reference} ({data.info.describe()}) in --features {req.features}"
        )
    needs_shape = any(m != "fidelity" for m in chosen) or req.features == "classifier"
    _check_images(samples, req.features, data.info if needs_shape else None)
    params = {} if own_dataset else {"fidelity": {"max_samples": max(len(data), MIN_SAMPLES)}}  # a folder: all of it
    metrics = prepare_metrics(
        data, device, cache_dir, EvalOptions(req.features, req.features_weights, tuple(chosen), params)
    )
    fidelity = metrics.get("fidelity")
    return metrics, (fidelity.ref if fidelity is not None else None), (fidelity.space if fidelity is not None else None)


def _saved_reference(ref: ReferenceSet, req: ScoreRequest, cache_dir: Path) -> tuple[FeatureSpace, Reference, str]:
    saved = ref.saved
    name = str(saved["features"])
    if name != req.features:
        raise ScoreInputError(
            f"--reference {ref.spec} was saved in feature space {name!r}; score in the same one: --features {name}"
        )
    if name == "classifier":
        raise ScoreInputError(
            f"--reference {ref.spec}: statistics in the classifier space need the dataset it was trained on; "
            "give --reference DATASET"
        )
    try:
        space = pretrained_space(name, req.features_weights, cache_dir)
    except FeatureSpaceError as exc:
        raise ScoreInputError(str(exc)) from None
    if str(saved["features_sha256"]) != space.weights_sha256[:16]:
        raise ScoreInputError(
            f"--reference {ref.spec} was saved with {name} weights {saved['features_sha256']}, these are "
            f"{space.weights_sha256[:16]}: the numbers would not compare"
        )
    if "real_features" in saved:  # the mean and covariance saved beside them are these features' own
        reference = Reference.of(torch.from_numpy(saved["real_features"]).double())
    else:
        reference = Reference({"mu": saved["mu"].astype(np.float64), "sigma": saved["sigma"].astype(np.float64)})
    return space, reference, f"{saved['reference']} (saved statistics {Path(ref.spec).name})"


def save_reference(path: Path, space: FeatureSpace, ref: Reference, note: str, *, with_features: bool) -> None:
    """Reference statistics as a small .npz (no pickles): FID's mean and covariance, the features where asked
    (KID, precision/recall, density/coverage need them), and the feature space they were computed in."""
    import io

    arrays: dict[str, Any] = {
        "format": np.array(STATS_FORMAT),
        "mu": ref.stats["mu"],
        "sigma": ref.stats["sigma"],
        "features": np.array(space.name),
        "features_sha256": np.array(space.weights_sha256[:16]),
        "resize": np.array(space.resize),
        "reference": np.array(note),
        "count": np.array(len(ref.features) if ref.features is not None else 0),
    }
    if with_features and ref.features is not None:
        arrays["real_features"] = ref.features.numpy()
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
