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

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganzoo.config import BenchConfig, BenchInputError, default_cache_dir
from ganzoo.data import DatasetInfo
from ganzoo.evaluation import prepare_metrics
from ganzoo.evaluation import score as score_metrics
from ganzoo.metrics.base import EvalOptions, Samples
from ganzoo.metrics.features import FeatureSpace, FeatureSpaceError, pretrained_space
from ganzoo.metrics.fidelity import Reference, fidelity_values
from ganzoo.metrics.intervals import bootstrap, fid_infinity
from ganzoo.plan import choose_metrics
from ganzoo.results import atomic_write_bytes
from ganzoo.score_inputs import (
    Images,
    ReferenceSet,
    read_reference,
    read_samples,
)
from ganzoo.score_request import MIN_SAMPLES, STATS_FORMAT, ScoreInputError, ScoreRequest, check_request

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


# -- reading samples ----------------------------------------------------------------------------------


# -- references ---------------------------------------------------------------------------------------


# -- how sure a number is ----------------------------------------------------------------------------


# -- the whole command ---------------------------------------------------------------------------------


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
    try:
        infinity = (
            fid_infinity(fake, reference, seed=req.seed, least=MIN_SAMPLES)
            if req.fid_infinity and reference is not None
            else None
        )
    except ValueError as exc:
        raise ScoreInputError(str(exc)) from None
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
                certain.detail() if certain and name in certain.low else provenance.get("detail", ""),
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
