"""Steps per second of ganzoo's training loop against a bare hand-written PyTorch loop, same DCGAN,
same batch, same device, measured in one process with the trials interleaved.

ganzoo's figure is the real thing: `ganzoo bench` with a step budget, its speed read from the
device seconds it records (training only, evaluation excluded). The bare loop is the PyTorch DCGAN
example's loop (BCE-with-logits, D's fake batch made without a graph, no freezing of D during G's
update) with the same amount of work as ganzoo's: fresh noise for G's update, as in Algorithm 1 of
Goodfellow et al. 2014, where the example reuses D's fake batch.

    python benchmarks/overhead.py --steps 500 --repeats 3 --device auto
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo import registry
from ganzoo.config import BenchConfig
from ganzoo.device import resolve_device, synchronize
from ganzoo.results import read_results
from ganzoo.runner import run_bench


def bare_loop(data_x: torch.Tensor, steps: int, batch: int, device: torch.device, seed: int) -> float:
    """Seconds for ``steps`` DCGAN updates written by hand."""
    torch.manual_seed(seed)
    info = registry.datasets.get("digits").info
    model = registry.variants.get("dcgan")(info=info, divergence=registry.divergences.get("nonsaturating")())
    G, D, z_dim = model.G.to(device), model.D.to(device), model.z_dim
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    x = data_x.to(device)
    ones, zeros = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)
    gen = torch.Generator().manual_seed(seed)
    synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        real = x[torch.randint(len(x), (batch,), generator=gen).to(device)]
        # (1) D
        with torch.no_grad():
            fake = G(torch.randn(batch, z_dim, device=device))
        loss_d = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(D(fake), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # (2) G, on fresh noise as in Goodfellow et al.'s Algorithm 1 (and in ganzoo)
        loss_g = F.binary_cross_entropy_with_logits(D(G(torch.randn(batch, z_dim, device=device))), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    synchronize(device)
    return time.perf_counter() - t0


def ganzoo_loop(steps: int, batch: int, device: str, seed: int, workdir: Path) -> float:
    out = workdir / f"bench-{time.perf_counter_ns()}"
    config = BenchConfig(
        variants=["dcgan"],
        dataset="digits",
        budget=f"{steps}steps",
        eval_every=f"{steps}steps",
        seeds=[seed],
        batch_size=batch,
        device=device,
        out=out,
    )
    df = run_bench(config).frame
    return (
        float(read_results(out).query("metric == 'loss_d'")["device_seconds"].max()) if not df.empty else float("nan")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = resolve_device(args.device)
    data = registry.datasets.get("digits").load(name="digits", data_dir=None, split="all", download=False)
    bare, zoo = [], []
    with tempfile.TemporaryDirectory() as tmp:
        ganzoo_loop(20, args.batch, str(device), 0, Path(tmp))  # warm-up: classifier cache, kernels
        bare_loop(data.x, 20, args.batch, device, 0)
        for r in range(args.repeats):
            bare.append(args.steps / bare_loop(data.x, args.steps, args.batch, device, r))
            zoo.append(args.steps / ganzoo_loop(args.steps, args.batch, str(device), r, Path(tmp)))
    result = {
        "device": str(device)
        + (
            f" ({torch.cuda.get_device_name(device)})"
            if device.type == "cuda"
            else f" ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
        ),
        "torch": torch.__version__,
        "steps": args.steps,
        "batch": args.batch,
        "repeats": args.repeats,
        "bare_steps_per_s": [round(v, 1) for v in bare],
        "ganzoo_steps_per_s": [round(v, 1) for v in zoo],
        "ratio_of_medians": round(statistics.median(zoo) / statistics.median(bare), 3),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
