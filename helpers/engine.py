"""The training loop of lessons 02-04, written once.

Taught in 05_computer_vision (sections 12-14); the loops it packages are explained step by
step in 02_xor_classifier and 03_workflow_regression. Its checks sit at the edges, so a GPU
never waits in the middle of a pass: the first batch of each pass is checked at once; after
it, the loss and the labels stay on the device and are read at the end of the pass.

Accuracy is tracked by default, for classification: integer class targets with ``(N, C)``
logits, or 0/1 targets with one logit per sample. For anything else (regression, one-hot or
soft targets) pass ``track_accuracy=False``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from helpers.device import mode_restored, require_int
from helpers.notebook import progress_bar

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_ACCURACY_HINT = (
    "Accuracy is tracked by default and needs classification outputs: integer class targets "
    "with (N, C) logits, or 0/1 targets with one logit per sample. For regression or any "
    "other task, pass track_accuracy=False."
)


def _check_arguments(model: Any, loaders: dict[str, Any], loss_fn: Any = None,
                     optimizer: Any = None, device: Any = "cpu") -> torch.device:
    """Check what a pass needs before the first batch; return ``device`` as a torch.device."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, loader in loaders.items():
        if not isinstance(loader, Iterable):
            raise TypeError(f"{name} must be an iterable of (inputs, targets), "
                            f"got {type(loader).__name__}")
    if loss_fn is not None and (not callable(loss_fn) or isinstance(loss_fn, type)):
        raise TypeError(f"loss_fn must be callable, like nn.CrossEntropyLoss(), got {loss_fn!r}")
    if getattr(loss_fn, "reduction", "mean") != "mean":  # 'sum' would be reported N times too large
        raise ValueError(f"loss_fn must average over the batch (reduction='mean', the default), "
                         f"got reduction={loss_fn.reduction!r}")
    if optimizer is not None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        own = {id(p) for p in model.parameters()}
        if not any(id(p) in own for group in optimizer.param_groups for p in group["params"]):
            raise ValueError("optimizer holds none of this model's parameters: create it from "
                             "model.parameters() of the model being trained")
    try:
        return torch.device(device)
    except (TypeError, RuntimeError) as exc:
        raise TypeError(f"device must be a torch.device or a string like 'cpu', got {device!r}") from exc


# --- accuracy ------------------------------------------------------------------------------

def _is_binary(logits: torch.Tensor, targets: torch.Tensor) -> bool:
    """Check the shapes (never values: nothing is read from the device); True for one logit
    per sample, False for ``(N, C)`` logits with class-index targets."""
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(f"logits and targets must be tensors, got {type(logits).__name__} "
                        f"and {type(targets).__name__}")
    shapes = f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)}"
    if logits.ndim == 0 or targets.ndim == 0 or logits.shape[0] != targets.shape[0]:
        raise ValueError(f"{shapes} must hold the same number of samples (first dimension)")
    if logits.ndim > 2:
        raise ValueError(f"logits must have shape (N,), (N, 1) or (N, C), got {tuple(logits.shape)}")
    if logits.ndim == 1 or logits.shape[1] == 1:
        if targets.shape != logits.shape and targets.ndim != 1:
            raise ValueError(f"{shapes} do not match: with one logit per sample, targets must "
                             "have shape (N,) or the logits' shape")
        return True
    if targets.ndim != 1:
        raise ValueError(f"{shapes}: (N, C) logits need targets of class indices, shape (N,) "
                         "(one-hot or probability targets are not class labels)")
    return False


def count_correct(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Return how many predictions are right, as a 0-dim tensor on the logits' device.

    One logit per sample (``(N,)`` or ``(N, 1)``): a logit above 0 means class 1, against 0/1
    targets. ``(N, C)`` logits: the argmax, against class indices of shape ``(N,)``. Only
    shapes are checked, so nothing waits for the device: a target that is no class (0.5, -1,
    C) never equals a prediction and counts as wrong (:func:`evaluate` checks the values).
    Taught in 02_xor_classifier and 04_classification.
    """
    binary = _is_binary(logits, targets)
    preds = (logits.reshape(-1) > 0) if binary else logits.argmax(dim=1)
    return (preds == targets.reshape(-1)).sum()


def _wide(device: torch.device) -> torch.dtype:
    """float64 for exact sums and counts, except on Apple's MPS, which has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


def _label_problem(targets: torch.Tensor, binary: bool, classes: int) -> str | None:
    """What is wrong with ``targets`` as class labels, or None (one read from the device)."""
    t = targets.reshape(-1).detach()
    if t.dtype == torch.bool or t.numel() == 0:
        return None
    low, high = torch.aminmax(t)
    frac = (t - t.round()).abs().amax() if t.is_floating_point() else torch.zeros_like(low)
    low, high, frac = torch.stack([low, high, frac]).to(_wide(t.device)).tolist()
    highest = 1 if binary else classes - 1
    if math.isnan(low + high + frac) or low < 0 or high > highest or frac > 0:
        expected = "0 or 1 (one logit per sample)" if binary else \
            f"whole numbers in [0, {classes}) (one per class of the (N, {classes}) logits)"
        return (f"targets must be class labels, {expected}; got values from {low:g} to "
                f"{high:g}" + (" with fractions" if frac > 0 else ""))
    return None


# --- one pass over a loader ----------------------------------------------------------------

def _pair(batch: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2 or \
            not all(isinstance(t, torch.Tensor) for t in batch):
        got = f"({', '.join(type(t).__name__ for t in batch)})" \
            if isinstance(batch, (tuple, list)) else type(batch).__name__
        raise TypeError(f"each batch must be a pair of tensors (inputs, targets), got {got}")
    inputs, targets = (t.to(device, non_blocking=device.type == "cuda") for t in batch)
    return inputs, targets


def _nonfinite(kind: str, value: float, place: str, later: bool) -> FloatingPointError:
    found = " (found at the end of the pass, which reads the device once; the weights are " \
        "likely not finite either)" if later else ""
    return FloatingPointError(
        f"the {kind} loss is {value} at {place}{found}. Training cannot go on from a non-finite "
        "loss: check the inputs and targets for NaN or inf (torch.isfinite(x).all()), and "
        "try a smaller learning rate.")


def _at(where: str | None, batch: int) -> str:
    return f"{where}, batch {batch}" if where else f"batch {batch}"


def _check_labels(logits: torch.Tensor, targets: torch.Tensor, track_accuracy: bool,
                  place: str) -> tuple[bool, int]:
    """Check a first batch's targets as class labels (one read), before the loss sees them:
    on CUDA a loss given a label that is no class stops the kernel with a device-side assert.
    Return (binary, classes)."""
    if not track_accuracy:
        return False, 0
    try:
        binary = _is_binary(logits, targets)
    except ValueError as exc:
        raise ValueError(f"{exc}. {_ACCURACY_HINT}") from None
    classes = 2 if binary else logits.shape[-1]
    if problem := _label_problem(targets, binary, classes):
        raise ValueError(f"{problem} ({place}). {_ACCURACY_HINT}")
    return binary, classes


def _check_loss(loss: Any, kind: str, place: str) -> None:
    """Check a first batch's loss: a 0-dim, finite mean (one read)."""
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a 0-dim tensor, the mean loss of the batch, got "
                         f"{got}; use a loss with reduction='mean' (the default)")
    if not math.isfinite(value := loss.item()):
        raise _nonfinite(kind, value, place, later=False)


def _run_pass(model: nn.Module, loader: Iterable, loss_fn: LossFn, device: torch.device,
              optimizer: torch.optim.Optimizer | None, track_accuracy: bool,
              where: str | None) -> dict[str, float]:
    """One pass: a training pass with an optimizer, else an evaluation. Loss and correct
    counts are summed on the device, weighted by batch size, and read at the end: the sums
    in one read, the labels' range in another."""
    kind = "training" if optimizer is not None else "evaluation"
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    losses, all_targets = [], []  # kept on the device, looked at after the pass
    seen = 0
    for batch, pair in enumerate(loader, start=1):
        inputs, targets = _pair(pair, device)
        logits = model(inputs)
        if batch == 1:
            binary, classes = _check_labels(logits, targets, track_accuracy, _at(where, 1))
        loss = loss_fn(logits, targets)
        if batch == 1:
            _check_loss(loss, kind, _at(where, 1))
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        losses.append(loss.detach())
        loss_sum += losses[-1] * len(targets)
        if track_accuracy:
            correct += count_correct(logits.detach(), targets)
            all_targets.append(targets.reshape(-1))
        seen += len(targets)
    if not losses:
        raise ValueError(f"the loader yielded no samples{' in ' + where if where else ''}")
    wide = _wide(device)
    sums = torch.stack([loss_sum.to(wide), correct.to(wide)]).tolist()  # one read
    if not math.isfinite(sums[0]):
        values = torch.stack(losses).tolist()
        bad = next((i for i, v in enumerate(values, 1) if not math.isfinite(v)), None)
        place = _at(where, bad) if bad else f"the sum over {where or 'the pass'}"
        raise _nonfinite(kind, values[bad - 1] if bad else sums[0], place, later=True)
    result = {"loss": sums[0] / seen}
    if track_accuracy:
        if problem := _label_problem(torch.cat(all_targets), binary, classes):
            bad = next(i for i, t in enumerate(all_targets, 1)
                       if _label_problem(t, binary, classes))
            raise ValueError(f"targets are not class labels at {_at(where, bad)}: {problem}. "
                             f"{_ACCURACY_HINT}")
        result["acc"] = sums[1] / seen
    return result


def _train_mode(model: nn.Module) -> None:
    """Switch a model found wholly in eval mode to training mode; a model found training
    keeps each submodule's own flag (a batch norm frozen in eval mode stays so)."""
    if not any(m.training for m in model.modules()):
        model.train()


def train_one_epoch(model: nn.Module, loader: Iterable, loss_fn: LossFn,
                    optimizer: torch.optim.Optimizer, device: torch.device | str, *,
                    track_accuracy: bool = True) -> dict[str, float]:
    """Train ``model`` for one pass over ``loader``; return the mean loss (and accuracy).

    The lesson's loop: forward, loss, zero the gradients, backward, step. The loss is
    averaged over samples, not batches, so a smaller last batch counts for what it is.
    A model found wholly in eval mode is switched to training mode; one found training keeps
    each submodule's own flag (a batch norm frozen in eval mode stays so). Taught in
    05_computer_vision (and, by hand, in 02_xor_classifier). Raises ValueError for targets
    that are no class labels (while ``track_accuracy`` is on) and FloatingPointError for a
    NaN or infinite loss.
    """
    device = _check_arguments(model, {"loader": loader}, loss_fn, optimizer, device)
    _train_mode(model)
    return _run_pass(model, loader, loss_fn, device, optimizer, track_accuracy, None)


@torch.inference_mode()
def evaluate(model: nn.Module, loader: Iterable, loss_fn: LossFn, device: torch.device | str,
             *, track_accuracy: bool = True) -> dict[str, float]:
    """Evaluate ``model`` on ``loader`` in eval and inference mode; return loss (and accuracy).

    Every submodule's mode is put back; raises as :func:`train_one_epoch`. Taught in
    05_computer_vision.
    """
    device = _check_arguments(model, {"loader": loader}, loss_fn, None, device)
    with mode_restored(model, training=False):
        return _run_pass(model, loader, loss_fn, device, None, track_accuracy, None)


def fit(model: nn.Module, train_loader: Iterable, loss_fn: LossFn,
        optimizer: torch.optim.Optimizer, epochs: int, device: torch.device | str,
        eval_loader: Iterable | None = None, *, track_accuracy: bool = True,
        progress: bool = True,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None) -> dict[str, list[float]]:
    """Train for ``epochs`` epochs, evaluating after each one when ``eval_loader`` is given.

    Moves ``model`` to ``device``, shows a progress bar over the epochs, and returns the
    per-epoch history that ``plot_history`` draws: ``train_loss`` and ``train_acc``, plus
    ``eval_loss`` and ``eval_acc`` with an eval loader (``acc`` only with ``track_accuracy``).
    A ``scheduler`` is stepped after each epoch; ``ReduceLROnPlateau`` gets the eval loss (the
    train loss without an eval loader). Each epoch trains as :func:`train_one_epoch` does;
    afterwards every submodule's mode is what it was. The arguments and the first batch of
    ``eval_loader`` are checked before the first epoch. Taught in 05_computer_vision.
    """
    epochs = require_int(epochs, "epochs", minimum=1)
    loaders = {"train_loader": train_loader, "eval_loader": eval_loader}
    device = _check_arguments(model, {k: v for k, v in loaders.items() if v is not None},
                              loss_fn, optimizer, device)
    if scheduler is not None:
        if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
            raise TypeError(f"scheduler must be a torch.optim.lr_scheduler object or None, "
                            f"got {type(scheduler).__name__}")
        if scheduler.optimizer is not optimizer:
            raise ValueError("scheduler was made for another optimizer than the one given")
    model.to(device)
    keys = ["loss", "acc"] if track_accuracy else ["loss"]
    splits = ["train", "eval"] if eval_loader is not None else ["train"]
    history: dict[str, list[float]] = {f"{s}_{k}": [] for s in splits for k in keys}
    with mode_restored(model):
        if eval_loader is not None:  # its first batch, before an epoch of training; the
            # random state is put back (a DataLoader draws a seed from it): the run is the same
            with torch.inference_mode(), mode_restored(model, training=False), \
                    torch.random.fork_rng(devices=[]):
                first = next(iter(eval_loader), None)
                if first is None:
                    raise ValueError("the loader yielded no samples (eval_loader)")
                inputs, targets = _pair(first, device)
                logits, place = model(inputs), "eval_loader, checked before training, batch 1"
                _check_labels(logits, targets, track_accuracy, place)
                _check_loss(loss_fn(logits, targets), "evaluation", place)
        _train_mode(model)  # as train_one_epoch; each eval pass puts the modes back
        for epoch in (bar := progress_bar(range(1, epochs + 1), desc="epochs",
                                          disable=not progress)):
            for name, value in _run_pass(model, train_loader, loss_fn, device, optimizer,
                                         track_accuracy, f"epoch {epoch}").items():
                history[f"train_{name}"].append(value)
            if eval_loader is not None:
                with torch.inference_mode(), mode_restored(model, training=False):
                    for name, value in _run_pass(model, eval_loader, loss_fn, device, None,
                                                 track_accuracy, f"epoch {epoch}").items():
                        history[f"eval_{name}"].append(value)
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(history["eval_loss" if eval_loader is not None else "train_loss"][-1])
            elif scheduler is not None:
                scheduler.step()
            bar.set_postfix({key: f"{values[-1]:.4f}" for key, values in history.items()})
    return history


@torch.inference_mode()
def predict(model: nn.Module, loader: Iterable,
            device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(logits, targets)`` for a whole loader, concatenated, on the CPU; in eval
    and inference mode, every submodule's mode put back. Taught in 05_computer_vision."""
    device = _check_arguments(model, {"loader": loader}, None, None, device)
    all_logits, all_targets = [], []
    with mode_restored(model, training=False):
        for pair in loader:
            inputs, targets = _pair(pair, device)
            all_logits.append(model(inputs))  # kept on the device: one copy at the end
            all_targets.append(targets)
    if not all_logits:
        raise ValueError("the loader yielded no samples")
    return torch.cat(all_logits).cpu(), torch.cat(all_targets).cpu()


# --- reading a run: the series' overfitting rule, and an accuracy's uncertainty -------------

def overfits(history: dict[str, list[float]], gap: float = 0.10) -> bool:
    """The series' one test for overfitting, on the per-epoch losses of a run.

    True when, at the last epoch of ``history`` (equally long ``"train_loss"`` and
    ``"eval_loss"`` lists, as :func:`fit` returns), the validation loss is more than ``gap``
    (10 %) above the training loss, **and** above its own lowest value of the run, **and**
    the training loss is lower than at the epoch of that lowest validation loss: validation
    getting worse while training gets better, not just the gap every model has. Taught in
    05_computer_vision (section 15, "Overfitting: the series' one rule").
    """
    losses = {}
    for key in ("train_loss", "eval_loss"):
        if not isinstance(history, dict) or key not in history:
            raise ValueError(f"history must be a dict with a {key!r} list, like fit() returns")
        losses[key] = [float(v) for v in history[key]]
        if not losses[key] or not all(math.isfinite(v) for v in losses[key]):
            raise ValueError(f"history[{key!r}] must be a non-empty list of finite losses")
    train, val = losses["train_loss"], losses["eval_loss"]
    if len(train) != len(val):
        raise ValueError(f"history has {len(train)} training losses but {len(val)} validation losses")
    if isinstance(gap, bool) or not isinstance(gap, (int, float)) or not 0 <= gap < math.inf:
        raise ValueError(f"gap must be a fraction >= 0 like 0.10, got {gap!r}")
    best = min(range(len(val)), key=val.__getitem__)  # the epoch of the lowest val. loss
    rising = val[-1] > val[best] and train[-1] < train[best]
    return val[-1] > (1 + gap) * train[-1] and rising


def accuracy_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of an accuracy of ``correct`` out of ``total``.

    With the default ``z = 1.96`` it is a 95 % interval: what the accuracy on all such
    data plausibly is, given this sample. Unlike ``p ± z·sqrt(p(1-p)/n)`` it stays inside
    [0, 1] and is not empty at 0 % or 100 %: 99 right of 153 gives about (0.57, 0.72).
    Taught in 02_xor_classifier (the test set, used once).
    """
    correct = require_int(correct, "correct", minimum=0)
    total = require_int(total, "total", minimum=1)
    if correct > total:
        raise ValueError(f"correct must be at most total ({total}), got {correct}")
    if isinstance(z, bool) or not isinstance(z, (int, float)) or not 0 < z < math.inf:
        raise ValueError(f"z must be a positive number like 1.96, got {z!r}")
    p, n = correct / total, total
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
