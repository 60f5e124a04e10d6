"""Time to a test accuracy (97 % by default) on MNIST: the seeds' recipe against lesson 05's.

What a learner waits for is not images per second but the time until the model is good
enough. This script measures the wall-clock time, training plus the evaluations needed to
know the target is reached, until the official 10,000 MNIST test images are classified
with at least the target accuracy (97 % by default), for two recipes:

- ``seeds recipe``: the one the seed notes and the most popular tutorial use, written out
  here: a TinyVGG with 10 hidden channels (two blocks of conv 3x3, padding 1 -> ReLU ->
  conv -> ReLU -> max pool, then a linear classifier; no batch norm), SGD at learning rate
  0.1, batches of 32 from ``datasets.MNIST(transform=ToTensor())`` (PIL image -> tensor per
  sample, no normalisation), ``.item()`` on every batch for a running loss and accuracy;
  trained on all the training images of the data root (the offline mirror's 5,000), and
  evaluated the same way (per sample, batches of 32, ``.item()`` per batch).
- ``lesson 05``: exactly what ``notebooks/05_computer_vision.ipynb`` teaches, read from the
  notebook (``benchmarks/train_throughput.py``'s ``lesson05`` runs the notebook statements
  that define it): its ``TinyVGG``, ``on_device``, training split (90 % of the images; the
  other 10 % are its validation set), normalisation, ``make_train_loader``, and its
  ``train`` function (optimizer, learning rate, schedule, number of epochs, ``fit``). The
  only change: where ``train`` evaluates on the validation set after each epoch, the
  script evaluates on the test set (the lesson's ``test_loader``), one epoch at a time.

Both are evaluated after every epoch; a run stops at the first epoch whose test accuracy
(correct samples over all samples, for both) reaches the target, or at the cap: the
``--max-epochs`` option, and for lesson 05 also the lesson's own number of epochs (its
learning-rate schedule ends there). Loading the data and building the model are not timed.
Each recipe runs once per seed (the seed sets the weights and the shuffling; the lesson's
train/validation split stays the lesson's), and the recipes take turns, so that load from
other programs hits both alike. The median time is reported with the range. The last line
is ``ratio: X``, the seeds recipe's median time over lesson 05's; a recipe that does not
reach the target within the cap in most runs is reported as such on that line.

    python benchmarks/time_to_accuracy.py                    # seeds 0 1 2, up to 10 epochs
    python benchmarks/time_to_accuracy.py --threads 1       # on a machine others keep busy
    python benchmarks/time_to_accuracy.py --seeds 0 --max-epochs 1 --train-images 256 \
        --test-images 256                                     # smoke test: does it run?

The data root is ``TUTORIAL_DATA_DIR`` (or ``data/``), as for the notebooks.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent))  # train_throughput, beside this file
from train_throughput import (  # noqa: E402
    NOTEBOOK,
    add_threads_option,
    apply_threads,
    lesson05,
    load_average,
)

from helpers import data_root, fit, get_device, set_seed  # noqa: E402  (path set just above)

TEST_IMAGES = 10_000  # the official MNIST test set
LESSON_NAMES = ("train", "TinyVGG", "on_device", "test_loader", "X_train", "EPOCHS",
                "SEED", "datasets")


# --- the seeds' recipe, written out --------------------------------------------------------

class SeedsTinyVGG(nn.Module):
    """The TinyVGG of the seed notes and CNN Explainer: padding 1, no batch norm."""

    def __init__(self, hidden: int = 10, num_classes: int = 10):
        super().__init__()

        def block(in_channels: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(in_channels, hidden, kernel_size=3, padding=1), nn.ReLU(),
                nn.Conv2d(hidden, hidden, kernel_size=3, padding=1), nn.ReLU(),
                nn.MaxPool2d(2))

        self.block_1, self.block_2 = block(1), block(hidden)  # 28 -> 14 -> 7
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(hidden * 7 * 7, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.block_2(self.block_1(x)))


def seeds_train_epoch(model, loader, loss_fn, optimizer, device) -> None:
    """The seeds' training loop: ``.item()`` on every batch, accuracy averaged over batches."""
    model.train()
    train_loss, train_acc = 0.0, 0.0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        y_pred = model(X)
        loss = loss_fn(y_pred, y)
        train_loss += loss.item()
        train_acc += (y_pred.argmax(dim=1) == y).sum().item() / len(y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def seeds_test_accuracy(model, loader, loss_fn, device) -> float:
    """The seeds' evaluation loop (``.item()`` per batch); accuracy counted over samples, as
    for lesson 05, so that both are judged alike (the seeds average over batches)."""
    model.eval()
    test_loss, correct, seen = 0.0, 0, 0
    with torch.inference_mode():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            logits = model(X)
            test_loss += loss_fn(logits, y).item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            seen += len(y)
    return correct / seen


# --- one run of each recipe ------------------------------------------------------------

@dataclass
class Run:
    """One recipe, one seed: the test accuracy and elapsed time after each epoch."""

    recipe: str
    seed: int
    accuracy: list[float] = field(default_factory=list)
    elapsed: list[float] = field(default_factory=list)

    def reached(self, target: float) -> bool:
        return bool(self.accuracy) and self.accuracy[-1] >= target

    def seconds(self, target: float) -> float:
        return self.elapsed[-1] if self.reached(target) else math.inf


def run_seeds_recipe(seed: int, data: dict, device, target: float, max_epochs: int) -> Run:
    set_seed(seed)
    model = SeedsTinyVGG().to(device)
    loader = DataLoader(data["seeds_train"], batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    run = Run("seeds recipe", seed)
    start = time.perf_counter()
    for _ in range(max_epochs):
        seeds_train_epoch(model, loader, loss_fn, optimizer, device)
        run.accuracy.append(seeds_test_accuracy(model, data["seeds_test"], loss_fn, device))
        run.elapsed.append(time.perf_counter() - start)
        if run.accuracy[-1] >= target:
            break
    return run


def run_lesson_recipe(seed: int, lesson, device, target: float, max_epochs: int) -> Run:
    """Lesson 05's own ``train(model)``, its ``fit`` run one epoch at a time on the test set."""
    run = Run("lesson 05", seed)
    clock: dict[str, float] = {}

    def fit_epoch_by_epoch(model, train_loader, loss_fn, optimizer, epochs, device,
                           eval_loader=None, **options):
        if eval_loader is None:
            raise SystemExit("lesson 05's train() no longer evaluates after each epoch: "
                             "update benchmarks/time_to_accuracy.py")
        options["progress"] = False
        for _ in range(min(epochs, max_epochs)):
            history = fit(model, train_loader, loss_fn, optimizer, 1, device, eval_loader,
                          **options)  # a scheduler, if any, steps once after the epoch
            run.accuracy.append(history["eval_acc"][-1])
            run.elapsed.append(time.perf_counter() - clock["start"])
            if run.accuracy[-1] >= target:
                break
        return history

    names = lesson.globals
    names.update(fit=fit_epoch_by_epoch, val_loader=lesson.test_loader, SEED=seed)
    set_seed(seed)  # as the lesson does before building each model
    model = lesson.on_device(lesson.TinyVGG())
    clock["start"] = time.perf_counter()
    lesson.train(model)
    return run


# --- data, summary, options --------------------------------------------------------------

def load_data(lesson, test_images: int, train_images: int) -> dict:
    """The seeds' per-sample datasets, and the lesson's test loader cut to ``test_images``
    (and both training sets to ``train_images``, when not 0)."""
    to_tensor = transforms.ToTensor()  # the seeds' v1 transform; lesson 05 uses v2
    seeds_train = lesson.datasets.MNIST(data_root(), train=True, transform=to_tensor)
    if train_images:
        seeds_train = Subset(seeds_train, range(min(train_images, len(seeds_train))))
        names = lesson.globals  # what the lesson's make_train_loader reads
        names["X_train"], names["y_train"] = (names["X_train"][:train_images],
                                              names["y_train"][:train_images])
        lesson.X_train = names["X_train"]
    seeds_test = lesson.datasets.MNIST(data_root(), train=False, transform=to_tensor)
    keep = range(min(test_images, len(seeds_test)))
    lesson_test = lesson.test_loader
    if len(keep) < len(lesson_test.dataset):
        lesson.test_loader = DataLoader(Subset(lesson_test.dataset, keep),
                                        batch_size=lesson_test.batch_size,
                                        pin_memory=lesson_test.pin_memory)
    return {
        "seeds_train": seeds_train,
        "seeds_test": DataLoader(Subset(seeds_test, keep), batch_size=32),
    }


def describe(run: Run, target: float) -> str:
    per_epoch = run.elapsed[-1] / len(run.elapsed)
    outcome = (f"reached {run.accuracy[-1]:.4f} after {epochs(len(run.accuracy))}"
               if run.reached(target) else
               f"did not reach {target:.2%} in {epochs(len(run.accuracy))} (best "
               f"{max(run.accuracy):.4f})")
    return (f"{run.recipe:<12} seed {run.seed}: {outcome}, {run.elapsed[-1]:6.1f} s "
            f"({per_epoch:.1f} s per epoch) | accuracy by epoch "
            f"{[round(a, 4) for a in run.accuracy]}")


def summarise(runs: list[Run], target: float) -> dict:
    """Median and range of the time to target; the median is infinite when most runs
    did not reach it (a run that did not reach counts as infinitely slow)."""
    times = [r.seconds(target) for r in runs]
    reached = [r for r in runs if r.reached(target)]
    summary = {"median": statistics.median(times), "min": min(times), "max": max(times),
               "reached": len(reached), "runs": len(runs),
               "epochs": statistics.median(len(r.accuracy) for r in runs),
               "per_epoch": statistics.median(r.elapsed[-1] / len(r.elapsed) for r in runs),
               "ran": statistics.median(r.elapsed[-1] for r in runs)}
    name = runs[0].recipe
    span = (f"median {summary['median']:.1f} s (range {summary['min']:.1f}-{summary['max']:.1f} s)"
            if math.isfinite(summary["median"]) else "median: did not reach the target")
    print(f"{name:<12}: {span}, reached in {len(reached)} of {len(runs)} runs | median "
          f"epochs {summary['epochs']:g}, {summary['per_epoch']:.1f} s per epoch "
          "(training + test evaluation)")
    return summary


def epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


def epoch_count(summary: dict) -> str:
    """The median number of epochs run, marked when most runs stopped at the cap unreached."""
    reached = math.isfinite(summary["median"])
    return f"{summary['epochs']:g}" + ("" if reached else " (cap, target not reached)")


def ratio_line(seeds: dict, lesson: dict, target: float, seeds_cap: int, lesson_cap: int) -> str:
    if not math.isfinite(lesson["median"]):
        return (f"ratio: none (lesson 05's recipe did not reach {target:.2%} within "
                f"{epochs(lesson_cap)} in most runs)")
    if not math.isfinite(seeds["median"]):
        return (f"ratio: > {seeds['ran'] / lesson['median']:.2f} (the seeds recipe did not "
                f"reach {target:.2%} within {epochs(seeds_cap)} in most runs; the time it "
                "ran is used)")
    return f"ratio: {seeds['median'] / lesson['median']:.2f}"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="The data root is TUTORIAL_DATA_DIR (or data/ in the repository).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="one run of each recipe per seed (default: 0 1 2)")
    parser.add_argument("--target", type=float, default=0.97,
                        help="test accuracy to reach, between 0 and 1 (default: 0.97)")
    parser.add_argument("--max-epochs", type=int, default=10,
                        help="epoch cap for each run; lesson 05 also stops at its own number "
                             "of epochs (default: 10)")
    parser.add_argument("--test-images", type=int, default=TEST_IMAGES,
                        help="evaluate on the first N test images only: for a quick smoke "
                             f"test, not a measurement (default: all {TEST_IMAGES:,})")
    parser.add_argument("--train-images", type=int, default=0,
                        help="train on the first N images only (the lesson on the first N "
                             "of its training split): for a quick smoke test, not a "
                             "measurement (default: 0, all of them)")
    add_threads_option(parser)
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK,
                        help="the lesson to read the recipe from (default: %(default)s)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser()
    args = parser.parse_args(argv)
    apply_threads(parser, args.threads)
    if args.train_images < 0:
        parser.error("--train-images must be 0 (all) or more")
    if args.max_epochs < 1:
        parser.error("--max-epochs must be at least 1")
    if not 0 < args.target <= 1:
        parser.error("--target must be above 0 and at most 1")
    if args.test_images < 1:
        parser.error("--test-images must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    lesson = lesson05(LESSON_NAMES, args.notebook)
    device = get_device()
    data = load_data(lesson, args.test_images, args.train_images)
    test_count = len(data["seeds_test"].dataset)
    print(f"device: {device} | torch {torch.__version__} | CPU threads: "
          f"{torch.get_num_threads()} | load average: {load_average()}")
    print(f"training images: seeds recipe {len(data['seeds_train']):,}, lesson 05 "
          f"{len(lesson.X_train):,} (its training split) | test images: {test_count:,}"
          + ("" if test_count == TEST_IMAGES and not args.train_images
             else " | NOT a measurement: fewer images, a smoke test"))
    print(f"target: {args.target:.2%} | seeds: {args.seeds} | cap: {epochs(args.max_epochs)} "
          f"(lesson 05: at most its {lesson.EPOCHS})")
    runs: dict[str, list[Run]] = {"seeds recipe": [], "lesson 05": []}
    for seed in args.seeds:  # the recipes take turns: load from elsewhere hits both alike
        for run in (run_seeds_recipe(seed, data, device, args.target, args.max_epochs),
                    run_lesson_recipe(seed, lesson, device, args.target, args.max_epochs)):
            runs[run.recipe].append(run)
            print(describe(run, args.target), flush=True)
    print(f"load average after: {load_average()}")
    seeds, lesson_summary = (summarise(runs[name], args.target) for name in runs)
    print(f"where the gain comes from: median epochs {epoch_count(seeds)} -> "
          f"{epoch_count(lesson_summary)}, seconds per epoch {seeds['per_epoch']:.1f} -> "
          f"{lesson_summary['per_epoch']:.1f} (x{seeds['per_epoch'] / lesson_summary['per_epoch']:.2f})")
    print(ratio_line(seeds, lesson_summary, args.target, args.max_epochs,
                     min(args.max_epochs, lesson.EPOCHS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
