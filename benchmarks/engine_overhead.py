"""What ``helpers.engine.train_one_epoch`` costs over the loop lesson 05 writes by hand.

Both train the same model, from the same weights, on the same batches: 4,500 random
MNIST-shaped images (1 x 28 x 28, ten classes; the values do not matter for speed, so no
data is needed). The hand-written loop is lesson 05's own ``train_one_epoch``, read from
``notebooks/05_computer_vision.ipynb`` together with its models (``make_linear``,
``TinyVGG``) and ``on_device``, so the comparison cannot drift from the lesson. The engine
adds its checks (first batch at once, the rest summed on the device, read once per pass).

The two loops take turns, one epoch each (first one, then the other), ``--repeats`` times; each time is the median.
For each case a line with both times, then ``ratio: X``, the engine's time over the hand
loop's: the linear model at batch 32, then at batch 128, and lesson 05's CNN (batch 128)
last. Below 1.05 means the checks cost less than 5 %.

    python benchmarks/engine_overhead.py              # 7 repeats, 2 threads
    python benchmarks/engine_overhead.py --repeats 1  # does it run at all?
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the notebooks' kernels: no spinning
import torch  # noqa: E402
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train_throughput import lesson05  # noqa: E402

from helpers import engine, set_seed  # noqa: E402


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7,
                        help="epochs timed for each loop, taking turns (the median is shown)")
    parser.add_argument("--samples", type=int, default=4500, help="images per epoch")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser()
    args = parser.parse_args(argv)
    for name in ("repeats", "samples", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def time_case(make_model, batch_size: int, args, lesson) -> tuple[float, float]:
    """Median seconds per epoch of the hand loop and of the engine, on one case."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(args.samples, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (args.samples,), generator=g)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)
    device = torch.device("cpu")
    loss_fn = nn.CrossEntropyLoss()
    models, optimizers = {}, {}
    for way in ("hand", "engine"):
        set_seed(0)
        models[way] = lesson.on_device(make_model())
        optimizers[way] = torch.optim.SGD(models[way].parameters(), lr=0.01)
    loops = {
        "hand": lambda: lesson.train_one_epoch(models["hand"], loader, loss_fn,
                                               optimizers["hand"], device),
        "engine": lambda: engine.train_one_epoch(models["engine"], loader, loss_fn,
                                                 optimizers["engine"], device),
    }
    for loop in loops.values():  # a warm-up epoch each
        loop()
    times: dict[str, list[float]] = {"hand": [], "engine": []}
    for repeat in range(args.repeats):
        order = list(loops.items())
        for way, loop in order if repeat % 2 else order[::-1]:  # neither always goes first
            start = time.perf_counter()
            loop()
            times[way].append(time.perf_counter() - start)
    return statistics.median(times["hand"]), statistics.median(times["engine"])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    lesson = lesson05(["make_linear", "TinyVGG", "on_device", "train_one_epoch"])
    print(f"{args.samples} images per epoch, {args.threads} threads, median of "
          f"{args.repeats} epochs each")
    cases = [("linear model, batch 32", lesson.make_linear, 32),
             ("linear model, batch 128", lesson.make_linear, 128),
             ("lesson 05's CNN, batch 128", lesson.TinyVGG, 128)]
    for name, make_model, batch_size in cases:
        hand, eng = time_case(make_model, batch_size, args, lesson)
        print(f"{name}: hand-written loop {hand * 1000:.1f} ms, engine {eng * 1000:.1f} ms")
        print(f"ratio: {eng / hand:.2f}", flush=True)


if __name__ == "__main__":
    main()
