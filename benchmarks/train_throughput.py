"""Training throughput on MNIST: the seeds-style loop against lesson 05's, factor by factor.

Everything lesson 05 decides is read from ``notebooks/05_computer_vision.ipynb`` itself:
its CNN (``TinyVGG`` and the ``conv_block`` it is built from), the per-sample ``transform``
(``ToTensor`` then ``Normalize`` with the training split's mean and standard deviation),
the training split, ``make_train_loader``, ``on_device`` (channels-last on a CPU), the
batch size and the learning rate. The script runs exactly the notebook statements that
define those names, found by name (see :func:`lesson05`), so it cannot drift from the
lesson.

Five ways train the lesson's CNN on the lesson's 90 % training split, with the same
optimizer (Adam at the lesson's learning rate) and the same number of optimizer steps.
Each differs from the one before it in one thing only, so each factor is measured alone:

1. ``seeds-style``: the per-sample pipeline (PIL image -> ``ToTensor`` -> ``Normalize``,
   the lesson's own ``transform``), batches of 32, and a hand-written loop that calls
   ``.item()`` on every batch for a running loss and accuracy, as the seed notes do;
2. ``no .item()``: the same loader, trained by ``helpers.engine`` (sums stay on the
   device, read once per pass): what the per-batch ``.item()`` costs;
3. ``tensor path``: the lesson's decoded-once ``TensorDataset`` (``make_train_loader(32)``;
   on CUDA it also pins memory, as the lesson does): what the data path costs;
4. ``batch 128``: ``make_train_loader()`` with the lesson's batch size: what the batch
   size buys;
5. ``notebook 05``: as 4, with the lesson's ``on_device`` (channels-last weights on a
   CPU): the lesson's way, complete.

Every way draws its batches from one loader whose generator is seeded once, so each pass
over the data is shuffled afresh. The timed steps run in 10 chunks, the ways taking turns,
so that a burst of load from another program slows all of them alike; images per second is
the median over the chunks. Images are counted as they are served (a short last batch
counts for what it holds). No accuracy is compared here: with equal steps the ways see
different numbers of images. ``benchmarks/time_to_accuracy.py`` measures what a learner
waits for, the time to a target accuracy.

The last line is ``ratio: X``, notebook 05's images per second over the seeds-style's.

    python benchmarks/train_throughput.py            # 400 steps each way
    python benchmarks/train_throughput.py --steps 20 # a quick look
    python benchmarks/train_throughput.py --steps 1 --warmup 0  # does it run at all?

The data root is ``TUTORIAL_DATA_DIR`` (or ``data/``), as for the notebooks; MNIST is
downloaded there when missing, as the lesson does.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import io
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing helpers

from helpers import fit, get_device, set_seed  # noqa: E402

NOTEBOOK = REPO / "notebooks" / "05_computer_vision.ipynb"
SEEDS_BATCH_SIZE = 32  # what the seed notes use
WARMUP_STEPS = 5  # untimed steps first: the first calls choose and build kernels
CHUNKS = 10  # the timed steps run in chunks, the ways taking turns


# --- lesson 05, read from the notebook ---------------------------------------------------

def _bound_names(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds: definitions, imports and plain assignments."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return set()


def _free_names(node: ast.stmt) -> set[str]:
    """Names a statement reads from the notebook's globals (over-approximated for bodies:
    names a function binds itself, its arguments included, are left out)."""
    loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    local: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            local |= {a.arg for a in ast.walk(sub.args) if isinstance(a, ast.arg)}
            if not isinstance(sub, ast.Lambda):
                local |= {n.id for n in ast.walk(sub) if isinstance(n, ast.Name)
                          and isinstance(n.ctx, ast.Store)}
        elif isinstance(sub, ast.comprehension):
            local |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # default values and decorators are read at definition time, from the globals
        outer = [*node.decorator_list]
        if not isinstance(node, ast.ClassDef):
            outer += [*node.args.defaults, *node.args.kw_defaults]
        loaded |= {n.id for d in outer if d is not None for n in ast.walk(d)
                   if isinstance(n, ast.Name)}
    return loaded - local - set(dir(builtins))


def _notebook_statements(notebook: Path) -> list[tuple[str, ast.stmt]]:
    """Every top-level statement of the notebook's code cells, in order, with its cell."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    statements = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics: nothing the recipe can need
            continue
        statements += [(f"{notebook.name}, cell {index}", stmt) for stmt in tree.body]
    return statements


def lesson05(names: Iterable[str], notebook: Path = NOTEBOOK) -> SimpleNamespace:
    """Run the notebook statements that define ``names``, and what they need, in order.

    A program slice: for every name wanted, the statement that binds it (its last binding
    before the statement that needs it; for the names asked for, the last in the
    notebook), then the same for every global name that statement reads, recursively.
    Those statements run in notebook order (prints, asserts and plots are never part of
    the slice, unless a definition includes them), and the names come back as attributes,
    with ``globals``, the dict the lesson's functions look their global names up in.
    A name the notebook no longer defines stops the script with a message naming it.
    """
    statements = _notebook_statements(notebook)
    binders: dict[str, list[int]] = {}
    for position, (_, stmt) in enumerate(statements):
        for name in _bound_names(stmt):
            binders.setdefault(name, []).append(position)

    chosen: set[int] = set()
    wanted = [(name, len(statements)) for name in names]
    while wanted:
        name, before = wanted.pop()
        earlier = [p for p in binders.get(name, []) if p < before]
        later = [p for p in binders.get(name, []) if p >= before]
        if not earlier and not later:
            if before == len(statements):
                raise SystemExit(f"{notebook} no longer defines {name!r}, which the benchmark "
                                 "reads from it: update benchmarks/ to the lesson")
            continue  # a builtin, or a name bound only inside a loop or block
        position = earlier[-1] if earlier else later[0]  # a function may use a later global
        if position in chosen:
            continue
        chosen.add(position)
        wanted += [(free, position) for free in _free_names(statements[position][1])]

    namespace: dict = {"__name__": "lesson05"}
    with contextlib.redirect_stdout(io.StringIO()):
        for position in sorted(chosen):
            where, stmt = statements[position]
            module = ast.Module(body=[stmt], type_ignores=[])
            exec(compile(module, where, "exec"), namespace)
    return SimpleNamespace(**{name: namespace[name] for name in names}, globals=namespace)


LESSON_NAMES = ("TinyVGG", "on_device", "per_sample_data", "train_idx",
                "make_train_loader", "BATCH_SIZE", "LEARNING_RATE", "SEED")


# --- the five ways -----------------------------------------------------------------------

def seeds_style_pass(model, batches, optimizer, loss_fn, device) -> None:
    """The loop of the seed notes: ``.item()`` on every batch, accuracy averaged over batches."""
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


def engine_pass(model, batches, optimizer, loss_fn, device) -> None:
    """Lesson 05's loop: ``helpers.engine.fit`` for one pass over the batches given."""
    fit(model, batches, loss_fn, optimizer, 1, device, progress=False)


@dataclass
class Way:
    """One way of training: a model, its optimizer and a loader, trained chunk by chunk."""

    key: str
    label: str  # what this way changes, compared with the way before it
    model: nn.Module
    loader: DataLoader
    one_pass: Callable
    learning_rate: float
    served: int = 0  # images handed out so far
    seconds: list[float] = field(default_factory=list)
    images: list[int] = field(default_factory=list)  # images served in each timed chunk

    def __post_init__(self) -> None:
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.learning_rate)
        self.batches = self._serve()

    def _serve(self) -> Iterator:
        """Batches from pass after pass over the one loader (reshuffled each pass), counted."""
        while True:
            for X, y in self.loader:
                self.served += len(y)
                yield X, y

    def train(self, steps: int, loss_fn, device, timed: bool = True) -> None:
        served, start = self.served, time.perf_counter()
        self.one_pass(self.model, itertools.islice(self.batches, steps), self.optimizer,
                      loss_fn, device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if timed:
            self.seconds.append(time.perf_counter() - start)
            self.images.append(self.served - served)

    def rate(self) -> float:
        """Median images per second over the timed chunks."""
        return statistics.median(n / t for n, t in zip(self.images, self.seconds, strict=True))


def build_ways(lesson: SimpleNamespace, device: torch.device, seed: int) -> list[Way]:
    """The five ways, each one change away from the one before (see the module docstring)."""
    # the lesson's per-sample dataset (section 7), restricted to its training split
    per_sample_split = Subset(lesson.per_sample_data, lesson.train_idx)

    def per_sample_loader():
        return DataLoader(per_sample_split, batch_size=SEEDS_BATCH_SIZE, shuffle=True,
                          generator=torch.Generator().manual_seed(seed))

    def model(channels_last=False):
        set_seed(seed)
        return lesson.on_device(lesson.TinyVGG()) if channels_last else lesson.TinyVGG().to(device)

    cuda = " (+ pinned memory on CUDA)" if device.type == "cuda" else ""
    specs = [
        ("seeds-style", "per-sample transform, batch 32, .item() every batch",
         per_sample_loader(), seeds_style_pass, False),
        ("no .item()", "helpers.engine: no .item() per batch", per_sample_loader(),
         engine_pass, False),
        ("tensor path", f"decoded once, TensorDataset{cuda}",
         lesson.make_train_loader(SEEDS_BATCH_SIZE), engine_pass, False),
        ("batch 128", f"batch {lesson.BATCH_SIZE}", lesson.make_train_loader(), engine_pass,
         False),
        ("notebook 05", "on_device: channels-last weights on a CPU", lesson.make_train_loader(),
         engine_pass, True),
    ]
    return [Way(key, label, model(last), loader, one_pass, lesson.LEARNING_RATE)
            for key, label, loader, one_pass, last in specs]


# --- measuring and reporting -------------------------------------------------------------

def load_average() -> str:
    """The 1-minute load average, or 'n/a' where the system has none (Windows)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "n/a"


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=int, default=0,
        help="CPU threads for PyTorch (torch.set_num_threads); 0 keeps PyTorch's default, "
             "one per core. On a machine other programs keep busy, 1 gives steadier and "
             "often much faster figures: threads that wait for each other lose more than "
             "a second thread gains (default: 0)")


def apply_threads(parser: argparse.ArgumentParser, threads: int) -> None:
    if threads < 0:
        parser.error("--threads must be 0 (PyTorch's default) or more")
    if threads:
        torch.set_num_threads(threads)


def chunk_sizes(steps: int, chunks: int = CHUNKS) -> list[int]:
    """``steps`` split into ``chunks`` near-equal parts (empty parts dropped)."""
    return [n for n in (steps // chunks + (i < steps % chunks) for i in range(chunks)) if n]


def run(ways: list[Way], steps: int, warmup: int, loss_fn, device) -> None:
    """Warm every way up, then time the steps in interleaved chunks."""
    for way in ways:  # untimed: the first steps choose and build kernels
        if warmup:
            way.train(warmup, loss_fn, device, timed=False)
    for n in chunk_sizes(steps):  # a burst of load from elsewhere hits all ways alike
        for way in ways:
            way.train(n, loss_fn, device)


def report(ways: list[Way]) -> None:
    """One line per way, the factor each change measured, and the overall ratio last."""
    for way in ways:
        images, total = sum(way.images), sum(way.seconds)
        print(f"{way.key:<11} : {images:>6,} images in {total:6.2f} s, median "
              f"{way.rate():7.0f} images/s over {len(way.images)} chunks | {way.label}",
              flush=True)
    print("factors, each way over the one before it:")
    for before, after in itertools.pairwise(ways):
        print(f"  x{after.rate() / before.rate():.2f}  {after.label}")
    print(f"ratio: {ways[-1].rate() / ways[0].rate():.2f}")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="The data root is TUTORIAL_DATA_DIR (or data/ in the repository).")
    parser.add_argument("--steps", type=int, default=400,
                        help="timed optimizer steps for each way (default: 400)")
    parser.add_argument("--warmup", type=int, default=WARMUP_STEPS,
                        help="untimed steps for each way before timing starts (default: "
                             f"{WARMUP_STEPS})")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the models' weights and of the per-sample loaders' "
                             "shuffling; the tensor loaders are the lesson's own, seeded with "
                             "its SEED (default: 0)")
    add_threads_option(parser)
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK,
                        help="the lesson to read the recipe from (default: %(default)s)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser()
    args = parser.parse_args(argv)
    apply_threads(parser, args.threads)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    lesson = lesson05(LESSON_NAMES, args.notebook)
    device = get_device()
    print(f"device: {device} | torch {torch.__version__} | CPU threads: "
          f"{torch.get_num_threads()} | load average: {load_average()}")
    ways = build_ways(lesson, device, args.seed)
    print(f"training split: {len(lesson.train_idx):,} images (lesson 05's) | "
          f"{args.steps} timed steps each way, Adam lr {lesson.LEARNING_RATE}")
    run(ways, args.steps, args.warmup, nn.CrossEntropyLoss(), device)
    print(f"load average after: {load_average()}")
    report(ways)
    return 0


if __name__ == "__main__":
    sys.exit(main())
