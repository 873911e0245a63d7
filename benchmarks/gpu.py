"""Trials per device: the aggregate training speed of k trials sharing one device, each its own process with its own
random state, against k times one trial's, for DCGAN on MNIST-shaped images and SNGAN's ResNet on CIFAR-shaped ones,
with AMP off and on (CUDA only), and whether a shared trial computes exactly what it computes alone.

    python benchmarks/gpu.py                      # the first CUDA device, about 4 minutes on an H100
    python benchmarks/gpu.py --device cpu         # the same table on this machine's cores (AMP rows left out)
    python benchmarks/gpu.py --trials 1,2 --seconds 3 --workloads dcgan-mnist   # a quick look

Each case starts k fresh processes. Each builds its variant through ganzoo's own factory and Trainer (the code a
bench trains with), runs ``--check-steps`` steps from seed 0 and reports a checksum of G's weights (the "same as
alone" column compares it with the one-trial case: deterministic algorithms are on, so on CUDA it should match),
warms up, waits until all k are ready, then counts the steps it makes in ``--seconds`` seconds of wall time. Prints
one markdown table: steps per second summed over the k trials, per trial, the ratio to k times the one-trial speed
(the target is at least 0.8 up to the k where doubling adds less than 10%), and the peak memory of one trial.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORKLOADS = {
    # name: (variant, divergence, image shape, settings)
    "dcgan-mnist": ("dcgan", "nonsaturating", (1, 28, 28), {"batch_size": 64}),
    "sngan-cifar": ("sngan", "hinge", (3, 32, 32), {"batch_size": 64}),
}


def _trial(workload: str, device: str, amp: bool, threads: int, check_steps: int, seconds: float, speed: dict, ready,
           go, out) -> None:  # fmt: skip
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    from ganzoo import Data, DataKind, DatasetInfo
    from ganzoo.data import BatchSampler
    from ganzoo.executor import _exit_with_parent

    _exit_with_parent()  # a driver stopped mid-case leaves no trial waiting for its signal
    from ganzoo.factory import VariantSpec, create_variant
    from ganzoo.trainer import Trainer

    torch.set_num_threads(1)  # the checked steps at one thread, so CPU sums add up in one order whatever k is
    torch.use_deterministic_algorithms(True, warn_only=True)
    dev = torch.device(device)
    variant_name, divergence, shape, settings = WORKLOADS[workload]
    info = DatasetInfo(DataKind.LABELLED, shape, num_classes=10)
    gen = torch.Generator().manual_seed(1)
    data = Data(
        name=workload,
        info=info,
        x=torch.rand(2048, *shape, generator=gen) * 2 - 1,
        y=torch.randint(10, (2048,), generator=gen),
        split="train",
        source="random",
    )
    torch.manual_seed(0)
    built = create_variant(VariantSpec(variant_name, variant_name, divergence, settings), info)
    variant = built.variant.to(dev)
    for net in [*variant.generators().values(), *variant.discriminators().values()]:
        if speed.get("channels_last"):
            net.to(memory_format=torch.channels_last)
        if speed.get("compile"):
            net.compile()
    trainer = Trainer(variant, BatchSampler(data, seed=0, device=dev), built.training, amp=amp)
    for _ in range(check_steps):
        trainer.step()
    digest = hashlib.sha256(
        b"".join(p.detach().float().cpu().numpy().tobytes() for p in variant.G.parameters())
    ).hexdigest()[:12]
    torch.set_num_threads(threads)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    for _ in range(3):  # warm-up beyond the checked steps (allocator, cuDNN's choices)
        trainer.step()
    ready.put(1)
    go.wait()
    steps, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        trainer.step()
        steps += 1
        if dev.type == "cuda" and steps % 10 == 0:
            torch.cuda.synchronize(dev)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elapsed = time.perf_counter() - began
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else float("nan")
    out.put((steps / elapsed, peak, digest))


def run_case(workload: str, device: str, amp: bool, k: int, args: argparse.Namespace) -> dict:
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    cores = os.cpu_count() or 1
    threads = max(1, cores // k) if device == "cpu" else 1
    speed = {"channels_last": args.channels_last, "compile": args.compile}
    procs = [
        ctx.Process(
            target=_trial,
            args=(workload, device, amp, threads, args.check_steps, args.seconds, speed, ready, go, out),
        )
        for _ in range(k)
    ]
    for p in procs:
        p.start()
    for _ in range(k):
        ready.get(timeout=args.timeout)
    go.set()
    results = [out.get(timeout=args.timeout + args.seconds) for _ in range(k)]
    for p in procs:
        p.join()
    rates = [r[0] for r in results]
    return {
        "total": sum(rates),
        "per_trial": sum(rates) / k,
        "peak_mib": max(r[1] for r in results),
        "digests": {r[2] for r in results},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    ap.add_argument("--trials", default="1,2,4,8", help="trials per device to try, comma-separated")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument(
        "--seconds", type=float, default=None, help="timed seconds per case (default: 5 on CUDA, 20 on CPU)"
    )
    ap.add_argument("--check-steps", type=int, default=3, help="steps from seed 0 before the weights' checksum")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()
    import torch

    on_cuda = args.device.startswith("cuda")
    if on_cuda and not torch.cuda.is_available():
        sys.exit("no CUDA device here: run with --device cpu for this machine's figures")
    args.seconds = args.seconds or (5.0 if on_cuda else 20.0)
    name = torch.cuda.get_device_name(torch.device(args.device)) if on_cuda else platform.processor() or "CPU"
    trials = [int(t) for t in args.trials.split(",")]
    print(
        f"device: {args.device} ({name}), torch {torch.__version__}, {os.cpu_count()} CPU cores, "
        f"{args.seconds:g} s timed per case, channels_last={args.channels_last}, compile={args.compile}"
    )
    print("| workload | amp | trials | steps/s, all trials | steps/s per trial | vs k x one trial | peak MiB per trial "
          "| same weights as alone |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for workload in args.workloads.split(","):
        for amp in (False, True) if on_cuda else (False,):
            solo = None
            for k in trials:
                started = time.perf_counter()
                r = run_case(workload, args.device, amp, k, args)
                if solo is None:
                    solo = r
                ratio = r["total"] / (k * solo["per_trial"])
                same = "yes" if r["digests"] == solo["digests"] and len(r["digests"]) == 1 else "no"
                peak = "-" if r["peak_mib"] != r["peak_mib"] else f"{r['peak_mib']:.0f}"
                print(
                    f"| {workload} | {'on' if amp else 'off'} | {k} | {r['total']:.2f} | {r['per_trial']:.2f} | "
                    f"{ratio:.2f} | {peak} | {same} |",
                    flush=True,
                )
                print(f"  ({workload}, amp {amp}, k={k}: {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
