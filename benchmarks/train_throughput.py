"""Training throughput on MNIST: the seeds-style loop against the way lesson 05 teaches.

Each way trains notebook 05's CNN (its class is read from the notebook, so this measures
the model the lesson teaches) for the same number of optimizer steps, on the same device,
with the same optimizer (Adam, learning rate 3e-3):

- seeds-style: ``datasets.MNIST(transform=ToTensor())`` decoded image by image in the
  DataLoader (PIL image -> tensor for every sample, every epoch), batches of 32, and
  ``.item()`` on every batch for a running loss and accuracy.
- notebook 05: MNIST decoded once into a uint8 tensor, scaled and normalised in one
  vectorised operation, served by a ``TensorDataset`` in batches of 128, trained with
  ``helpers.engine.fit`` (sums stay on the device; ``.item()`` once per call, not per
  batch), with the CNN's weights channels-last on a CPU and a cosine learning-rate
  schedule (over the 10 chunks below, as the lesson's is over its epochs).

A third way sits in between, to show where the speed-up comes from: the seeds' batches of
32 and memory order, fed the notebook's ready tensors through ``helpers.engine``. Its
speed over the seeds-style loop is what the data pipeline buys; the notebook way's speed
over it is what the batch size and channels-last memory buy.

The timed steps run in 10 chunks, the ways taking turns, so that a burst of load from
another program slows all of them alike; images per second is the median over the chunks (the
overall figure is printed too). Then each model's accuracy on the official 10,000 test
images is measured the same way, counting samples. The last line is ``ratio: X``, the
notebook way's images per second over the seeds-style loop's. Images are counted as they
are served, so the short last batch of each pass counts for what it holds. With the same
number of steps the notebook way sees about 4 times as many images (its batches are 4
times larger).

Run it on a machine as quiet as you can make it:

    python benchmarks/train_throughput.py            # 400 steps each way
    python benchmarks/train_throughput.py --steps 100

The data root is ``TUTORIAL_DATA_DIR`` (or ``data/``), as for the notebooks; MNIST is
downloaded there when missing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import datasets, transforms

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing helpers

from helpers import data_root, evaluate, fit, get_device, seeded_generator, set_seed  # noqa: E402

NOTEBOOK = REPO / "notebooks" / "05_computer_vision.ipynb"
SEEDS_BATCH_SIZE = 32  # what the seed notes use
NOTEBOOK_BATCH_SIZE = 128  # what lesson 05 recommends on a CPU
LEARNING_RATE = 3e-3  # lesson 05's Adam learning rate, used by every way
WARMUP_STEPS = 5  # untimed steps first: the first calls choose and build kernels
CHUNKS = 10  # the timed steps run in chunks, the ways taking turns


def notebook_cnn_class(notebook: Path = NOTEBOOK) -> type[nn.Module]:
    """Return the ``TinyVGG`` class defined in notebook 05 (its one cell that defines it)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    found = [s for s in sources if "class TinyVGG(nn.Module)" in s]
    if len(found) != 1:
        raise SystemExit(f"expected one cell defining TinyVGG in {notebook}, found {len(found)}")
    namespace: dict = {"torch": torch, "nn": nn}
    exec(compile(found[0], f"{notebook.name}:TinyVGG", "exec"), namespace)
    return namespace["TinyVGG"]


def seeds_style_chunk(model, batches, optimizer, loss_fn, device, scheduler=None) -> None:
    """The loop of the seed notes: per-batch ``.item()``, accuracy averaged over batches."""
    train_loss, train_acc = 0.0, 0.0
    for X, y in batches:
        X, y = X.to(device), y.to(device)
        model.train()
        y_pred = model(X)
        loss = loss_fn(y_pred, y)
        train_loss += loss.item()  # waits for the device, every batch
        train_acc += (y_pred.argmax(dim=1) == y).sum().item() / len(y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def notebook_chunk(model, batches, optimizer, loss_fn, device, scheduler=None) -> None:
    """Lesson 05's way: ``helpers.engine.fit``, one chunk standing in for one epoch."""
    fit(model, batches, loss_fn, optimizer, 1, device, progress=False, scheduler=scheduler)


class Way:
    """One way of training: a model, its optimizer and batches, trained chunk by chunk."""

    def __init__(self, name, model, make_loader, batch_size, chunk_fn, device, loss_fn,
                 cosine_schedule=False):
        self.name, self.model, self.batch_size = name, model, batch_size
        self.optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        self.scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, CHUNKS)
                          if cosine_schedule else None)
        self.served = 0  # images handed out so far
        self.batches = self._serve(make_loader)
        self.chunk_fn, self.device, self.loss_fn = chunk_fn, device, loss_fn
        self.seconds: list[float] = []
        self.images: list[int] = []  # images served in each timed chunk

    def _serve(self, make_loader) -> Iterator:
        """Batches from fresh (reshuffled) passes over ``make_loader()``, for ever, counted."""
        while True:
            for X, y in make_loader():
                self.served += len(y)
                yield X, y

    def train(self, steps: int, timed: bool = True) -> None:
        served, start = self.served, time.perf_counter()
        self.chunk_fn(self.model, itertools.islice(self.batches, steps), self.optimizer,
                      self.loss_fn, self.device, self.scheduler if timed else None)
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        if timed:
            self.seconds.append(time.perf_counter() - start)
            self.images.append(self.served - served)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps each way")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK, help="where TinyVGG is defined")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    device = get_device()
    TinyVGG = notebook_cnn_class(args.notebook)
    root = data_root()
    loss_fn = nn.CrossEntropyLoss()
    on_cuda = device.type == "cuda"
    print(f"device: {device} | torch {torch.__version__} | CPU threads: "
          f"{torch.get_num_threads()} | load average: {os.getloadavg()[0]:.2f}")

    # --- the seeds-style pipeline: PIL image -> ToTensor for every sample -----------------
    to_tensor = transforms.ToTensor()
    seeds_train = datasets.MNIST(root, train=True, download=True, transform=to_tensor)
    seeds_test = datasets.MNIST(root, train=False, download=True, transform=to_tensor)

    def seeds_loader():
        return DataLoader(seeds_train, batch_size=SEEDS_BATCH_SIZE, shuffle=True,
                          generator=seeded_generator(args.seed))

    # --- the notebook's pipeline: decode once, normalise once, serve tensors --------------
    raw_train = datasets.MNIST(root, train=True, download=True)
    raw_test = datasets.MNIST(root, train=False, download=True)
    scaled = raw_train.data.unsqueeze(1).float().div(255)  # (N, 1, 28, 28) in [0, 1]
    mean, std = scaled.mean(), scaled.std()
    X_train = (scaled - mean) / std
    X_test = (raw_test.data.unsqueeze(1).float().div(255) - mean) / std

    def tensor_loader(batch_size):
        return lambda: DataLoader(TensorDataset(X_train, raw_train.targets),
                                  batch_size=batch_size, shuffle=True,
                                  generator=seeded_generator(args.seed), pin_memory=on_cuda)

    print(f"training images: {len(raw_train):,} | test images: {len(raw_test):,} | "
          f"{args.steps} steps each way")

    set_seed(args.seed)
    seeds_way = Way("seeds-style", TinyVGG().to(device), seeds_loader, SEEDS_BATCH_SIZE,
                    seeds_style_chunk, device, loss_fn)
    set_seed(args.seed)
    cnn = TinyVGG().to(device)
    if device.type == "cpu":  # as lesson 05's on_device(): channels-last weights on a CPU
        cnn = cnn.to(memory_format=torch.channels_last)
    notebook_way = Way("notebook 05", cnn, tensor_loader(NOTEBOOK_BATCH_SIZE),
                       NOTEBOOK_BATCH_SIZE, notebook_chunk, device, loss_fn, cosine_schedule=True)
    # In between, to split the gain: the seeds' batches of 32 and memory order, fed the
    # notebook's ready tensors through helpers.engine (no per-sample decoding, no per-batch
    # .item()). What is left between it and the seeds-style loop is the data pipeline.
    set_seed(args.seed)
    middle_way = Way("tensors, 32", TinyVGG().to(device), tensor_loader(SEEDS_BATCH_SIZE),
                     SEEDS_BATCH_SIZE, notebook_chunk, device, loss_fn)
    ways = [seeds_way, middle_way, notebook_way]

    for way in ways:  # untimed: the first steps choose and build kernels
        way.train(WARMUP_STEPS, timed=False)
    # Interleaved chunks: a burst of load from another program hits all ways alike.
    chunk_steps = [args.steps // CHUNKS + (i < args.steps % CHUNKS) for i in range(CHUNKS)]
    for steps in chunk_steps:
        if steps:
            for way in ways:
                way.train(steps)

    rates, accuracy = {}, {}
    test_sets = {"seeds-style": seeds_test,
                 "tensors, 32": TensorDataset(X_test, raw_test.targets),
                 "notebook 05": TensorDataset(X_test, raw_test.targets)}
    for way in ways:
        images, total = sum(way.images), sum(way.seconds)
        chunk_rates = [n / t for n, t in zip(way.images, way.seconds, strict=True)]
        rates[way.name] = statistics.median(chunk_rates)
        test = evaluate(way.model, DataLoader(test_sets[way.name], batch_size=1000), loss_fn,
                         device)
        accuracy[way.name] = test["acc"]
        print(f"{way.name:<12}: batch {way.batch_size:>3}, {images:>6,} images in "
              f"{total:6.2f} s = {images / total:7.0f} images/s (median of {len(chunk_rates)} "
              f"chunks: {rates[way.name]:7.0f}) | test accuracy {test['acc']:.4f}", flush=True)

    print(f"where the speed-up comes from: the data pipeline x"
          f"{rates['tensors, 32'] / rates['seeds-style']:.2f} (seeds-style -> tensors, 32), "
          f"batches of {NOTEBOOK_BATCH_SIZE} and memory order x"
          f"{rates['notebook 05'] / rates['tensors, 32']:.2f} (tensors, 32 -> notebook 05)")
    better = accuracy["notebook 05"] >= accuracy["seeds-style"]
    print(f"notebook 05's test accuracy is equal or better: {better} | "
          f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"ratio: {rates['notebook 05'] / rates['seeds-style']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
