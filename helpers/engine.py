"""A tiny training engine: the loops notebooks 02-04 write by hand, written once.

Taught in 05_computer_vision (sections 15-17: the loop written once more, then
``helpers.engine``); the loops it packages are explained step by step in 02_xor_classifier
and 03_workflow_regression.

Accuracy is tracked by default, for classification: integer class targets with ``(N, C)``
logits, or 0/1 targets (integer or float) with one logit per sample. Anything else
(regression targets, one-hot or soft targets, outputs that cannot be class scores) raises
a ``ValueError`` that says to pass ``track_accuracy=False``.

Numbers are read from the device a fixed few times per pass over a loader, never once per
batch (each read makes a GPU finish its queued work): the first batch of each pass is
checked at once, later batches are checked on the device and reported at the end of the
pass, naming the batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
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


# --- checks of the arguments, named for what they check ----------------------------------

def _require_module(model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _require_loader(loader: Any, name: str = "loader") -> None:
    if not isinstance(loader, Iterable):
        raise TypeError(
            f"{name} must be an iterable of (inputs, targets), got {type(loader).__name__}"
        )


def _require_loss_fn(loss_fn: Any) -> None:
    if not callable(loss_fn) or isinstance(loss_fn, type):
        raise TypeError(f"loss_fn must be callable, like nn.CrossEntropyLoss(), got {loss_fn!r}")


def _require_optimizer_of(optimizer: Any, model: nn.Module) -> None:
    """``optimizer`` is a torch optimizer holding at least one of ``model``'s parameters."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    own = {id(p) for p in model.parameters()}
    if not any(id(p) in own for group in optimizer.param_groups for p in group["params"]):
        raise ValueError(
            "optimizer holds none of this model's parameters: create it from "
            "model.parameters() of the model being trained"
        )


def _as_device(device: Any) -> torch.device:
    try:
        return torch.device(device)
    except (TypeError, RuntimeError) as exc:
        raise TypeError(f"device must be a torch.device or a string like 'cpu', got {device!r}") from exc


# --- accuracy --------------------------------------------------------------------------------

def _is_binary(logits: torch.Tensor, targets: torch.Tensor) -> bool:
    """Check the shapes of logits and targets; return True for one logit per sample.

    Raises:
        TypeError: not tensors.
        ValueError: shapes that are not (N,)/(N, 1) logits with (N,) or same-shape targets,
            or (N, C) logits with (N,) targets.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            f"logits and targets must be tensors, got {type(logits).__name__} "
            f"and {type(targets).__name__}"
        )
    shapes = f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)}"
    if logits.ndim == 0 or targets.ndim == 0 or logits.shape[0] != targets.shape[0]:
        raise ValueError(f"{shapes} must hold the same number of samples (first dimension)")
    if logits.ndim > 2:
        raise ValueError(f"logits must have shape (N,), (N, 1) or (N, C), got {tuple(logits.shape)}")
    if logits.ndim == 1 or logits.shape[1] == 1:
        if targets.shape != logits.shape and targets.ndim != 1:
            raise ValueError(
                f"{shapes} do not match: with one logit per sample, targets must have shape "
                f"(N,) or the logits' shape"
            )
        return True
    if targets.ndim != 1:
        raise ValueError(
            f"{shapes}: (N, C) logits need targets of class indices, shape (N,) "
            "(one-hot or probability targets are not class labels)"
        )
    return False


def _bad_label_mask(logits: torch.Tensor, targets: torch.Tensor, binary: bool) -> torch.Tensor:
    """Per sample, on the device: True where the target is no class label for these logits
    (not a whole number, outside 0/1 or [0, C)) or the sample's logits hold NaN."""
    t = targets.reshape(-1)
    if t.dtype == torch.bool:
        bad = torch.zeros_like(t)
    elif t.is_floating_point():
        bad = ~torch.isfinite(t) | (t != torch.round(t))
    elif t.is_complex():
        raise TypeError(f"targets must hold class labels, got dtype {t.dtype}")
    else:
        bad = torch.zeros(t.shape, dtype=torch.bool, device=t.device)
    if t.dtype != torch.bool:
        high = 1 if binary else logits.shape[1] - 1
        bad = bad | (t < 0) | (t > high)
    if logits.is_floating_point() or logits.is_complex():
        nan = torch.isnan(logits)
        bad = bad | (nan if logits.ndim == 1 else nan.any(dim=1))
    return bad


def _describe_bad_labels(logits: torch.Tensor, targets: torch.Tensor, binary: bool) -> str | None:
    """What is wrong with the values of one batch, or None (reads from the device)."""
    if (logits.is_floating_point() or logits.is_complex()) and bool(torch.isnan(logits).any()):
        return "logits contain NaN: no prediction can be read from them"
    bad = _bad_label_mask(logits, targets, binary)
    if not bool(bad.any()):
        return None
    example = targets.reshape(-1)[bad][0].item()
    expected = "0 or 1 (one logit per sample)" if binary else \
        f"whole numbers in [0, {logits.shape[1]}) (one per class of the (N, {logits.shape[1]}) logits)"
    return f"targets must be class labels, {expected}; got {example!r}"


def _correct_predictions(logits: torch.Tensor, targets: torch.Tensor, binary: bool) -> torch.Tensor:
    preds = (logits.reshape(-1) > 0) if binary else logits.argmax(dim=1)
    return (preds.long() == targets.reshape(-1).long()).sum()


def count_correct(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Return how many predictions are right, as a 0-dim tensor on the logits' device.

    Binary when ``logits`` has one value per sample (shape ``(N,)`` or ``(N, 1)``): a
    logit above 0 means class 1, and targets are 0/1 (integers, bools or floats) of shape
    ``(N,)`` or the logits' own shape. Multi-class when it has shape ``(N, C)``: the
    argmax, and targets are class indices ``0 .. C-1`` of shape ``(N,)``.
    Taught in 02_xor_classifier and 04_classification.

    Raises:
        TypeError: if either argument is not a tensor.
        ValueError: if the number of samples differs, the shapes do not fit either case
            (an ``(N, 1)`` with a ``(1, N)``, one-hot targets), the logits hold NaN, or a
            target is not a class label (a fraction like 0.5, a negative label, a label
            ``>= C``).
    """
    binary = _is_binary(logits, targets)
    problem = _describe_bad_labels(logits, targets, binary)
    if problem is not None:
        raise ValueError(problem)
    return _correct_predictions(logits, targets, binary)


# --- one pass over a loader ------------------------------------------------------------------

def _batches(loader: Iterable, device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    non_blocking = device.type == "cuda"
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError("each batch must be a pair (inputs, targets)")
        inputs, targets = batch
        if not isinstance(inputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
            raise TypeError(
                f"each batch must be a pair of tensors, got ({type(inputs).__name__}, "
                f"{type(targets).__name__})"
            )
        yield inputs.to(device, non_blocking=non_blocking), targets.to(device, non_blocking=non_blocking)


def _mean_loss(loss_fn: LossFn, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    loss = loss_fn(logits, targets)
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(
            f"loss_fn must return a 0-dim tensor, the mean loss of the batch, got {shape}; "
            "use a loss with reduction='mean' (the default)"
        )
    return loss


def _where(epoch: int | None, batch: int) -> str:
    return f"epoch {epoch}, batch {batch}" if epoch is not None else f"batch {batch}"


def _nonfinite_loss_error(kind: str, value: float, epoch: int | None, batch: int,
                          at_once: bool) -> FloatingPointError:
    if batch < 0:  # every batch was finite, their sum was not
        place = f"the {kind} loss summed over {'epoch ' + str(epoch) if epoch else 'the pass'}"
        what = f"{place} is {value}"
    else:
        what = f"the {kind} loss is {value} at {_where(epoch, batch)}"
    when = "" if at_once else (
        " (found at the end of the pass, which reads numbers from the device once; "
        "the weights are likely not finite either)"
    )
    return FloatingPointError(
        f"{what}{when}. Training cannot go on "
        "from a non-finite loss: check the inputs and targets for NaN or inf "
        "(torch.isfinite(x).all()), and try a smaller learning rate."
    )


def _run_pass(
    model: nn.Module,
    loader: Iterable,
    loss_fn: LossFn,
    device: torch.device,
    optimizer: torch.optim.Optimizer | None,
    track_accuracy: bool,
    epoch: int | None,
) -> dict[str, float]:
    """One pass over ``loader``: a training pass with an optimizer, else an evaluation.

    Loss and correct counts are summed on the device, weighted by batch size, and read
    once at the end, so a smaller last batch counts for what it is.
    """
    kind = "training" if optimizer is not None else "evaluation"
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    first_nonfinite = torch.full((), -1, device=device, dtype=torch.long)
    first_bad_labels = torch.full((), -1, device=device, dtype=torch.long)
    seen = 0
    for batch, (inputs, targets) in enumerate(_batches(loader, device), start=1):
        logits = model(inputs)
        loss = _mean_loss(loss_fn, logits, targets)
        if track_accuracy:
            try:
                binary = _is_binary(logits, targets)
            except ValueError as exc:
                raise ValueError(f"{exc}. {_ACCURACY_HINT}") from None
        if batch == 1:  # checked at once: most mistakes show in the first batch
            value = loss.item()
            if not math.isfinite(value):
                raise _nonfinite_loss_error(kind, value, epoch, batch, at_once=True)
            if track_accuracy:
                problem = _describe_bad_labels(logits.detach(), targets, binary)
                if problem is not None:
                    raise ValueError(f"{problem} ({_where(epoch, batch)}). {_ACCURACY_HINT}")
        else:  # checked on the device, read at the end of the pass
            unseen = first_nonfinite < 0
            first_nonfinite = torch.where(unseen & ~torch.isfinite(loss.detach()), batch,
                                          first_nonfinite)
            if track_accuracy:
                bad = _bad_label_mask(logits.detach(), targets, binary).any()
                first_bad_labels = torch.where((first_bad_labels < 0) & bad, batch,
                                               first_bad_labels)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        n = targets.shape[0]
        total_loss += loss.detach().float() * n
        if track_accuracy:
            correct += _correct_predictions(logits.detach(), targets, binary)
        seen += n
    if seen == 0:
        raise ValueError("the loader yielded no samples")
    loss_sum = total_loss.item()
    if not math.isfinite(loss_sum):
        bad_batch = int(first_nonfinite.item())
        raise _nonfinite_loss_error(kind, loss_sum, epoch, bad_batch, at_once=False)
    result = {"loss": loss_sum / seen}
    if track_accuracy:
        bad_batch = int(first_bad_labels.item())
        if bad_batch >= 0:
            raise ValueError(
                f"targets are not class labels for these logits, or the logits hold NaN, at "
                f"{_where(epoch, bad_batch)}. {_ACCURACY_HINT}"
            )
        result["acc"] = correct.item() / seen
    return result


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str,
    *,
    track_accuracy: bool = True,
) -> dict[str, float]:
    """Train ``model`` for one pass over ``loader``; return the mean loss (and accuracy).

    The loss is averaged over samples, not batches, so a smaller last batch counts for what
    it is. Loss and correct counts are summed on the device and read once at the end.
    Leaves the model in training mode (``model.train()``), as the hand-written loop does.
    Taught in 05_computer_vision (and, by hand, in 02_xor_classifier).

    Raises:
        TypeError / ValueError: bad arguments; targets that are not class labels while
            ``track_accuracy`` is on (see the module docstring).
        FloatingPointError: a batch's loss is NaN or infinite; the message names the batch.
    """
    _require_module(model)
    _require_loader(loader)
    _require_loss_fn(loss_fn)
    _require_optimizer_of(optimizer, model)
    device = _as_device(device)
    model.train()
    return _run_pass(model, loader, loss_fn, device, optimizer, track_accuracy, epoch=None)


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: LossFn,
    device: torch.device | str,
    *,
    track_accuracy: bool = True,
) -> dict[str, float]:
    """Evaluate ``model`` on ``loader`` in eval and inference mode; return loss (and accuracy).

    Every submodule's train/eval mode is put back afterwards. Taught in 05_computer_vision.

    Raises:
        TypeError / ValueError / FloatingPointError: as :func:`train_one_epoch`.
    """
    _require_module(model)
    _require_loader(loader)
    _require_loss_fn(loss_fn)
    device = _as_device(device)
    with mode_restored(model, training=False):
        return _run_pass(model, loader, loss_fn, device, None, track_accuracy, epoch=None)


def _require_epochs(epochs: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
        raise TypeError(f"epochs must be a positive int, got {type(epochs).__name__} ({epochs!r})")
    if epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")


def fit(
    model: nn.Module,
    train_loader: Iterable,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    device: torch.device | str,
    eval_loader: Iterable | None = None,
    *,
    track_accuracy: bool = True,
    progress: bool = True,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> dict[str, list[float]]:
    """Train for ``epochs`` epochs, evaluating after each one when ``eval_loader`` is given.

    Moves ``model`` to ``device``, shows a progress bar over the epochs (with the latest
    numbers), and returns the per-epoch history that ``helpers.plotting.plot_history`` draws:
    ``train_loss`` and ``train_acc``, plus ``eval_loss`` and ``eval_acc`` with an eval loader
    (the ``acc`` lists only when ``track_accuracy``). A ``scheduler`` (for example
    ``CosineAnnealingLR(optimizer, T_max=epochs)``) is stepped once after each epoch;
    ``ReduceLROnPlateau`` gets the epoch's eval loss (the train loss without an eval loader).
    ``.item()`` is called a few times per epoch, never per batch. Afterwards the model is
    back in the train/eval mode it was in before (every submodule's own flag).
    Taught in 05_computer_vision.

    Accuracy (on by default) is for classification: integer class targets with ``(N, C)``
    logits, or 0/1 targets with one output per sample. For regression, pass
    ``track_accuracy=False``; otherwise the first batch raises a ``ValueError`` saying so.

    Raises:
        TypeError / ValueError: bad arguments, with what was expected and what came; all
            are checked before the first epoch.
        FloatingPointError: the loss became NaN or infinite; the message names the epoch
            and batch, and training stops there.
    """
    _require_epochs(epochs)
    _require_module(model)
    _require_loader(train_loader, "train_loader")
    # Check everything before the first epoch, so a typo does not cost a training run.
    _require_optimizer_of(optimizer, model)
    _require_loss_fn(loss_fn)
    device = _as_device(device)
    if eval_loader is not None:
        _require_loader(eval_loader, "eval_loader")
    if scheduler is not None and not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        raise TypeError(
            f"scheduler must be a torch.optim.lr_scheduler object or None, "
            f"got {type(scheduler).__name__}"
        )
    if scheduler is not None and scheduler.optimizer is not optimizer:
        raise ValueError("scheduler was made for another optimizer than the one given")
    model.to(device)
    keys = ["train_loss"] + (["train_acc"] if track_accuracy else [])
    if eval_loader is not None:
        keys += ["eval_loss"] + (["eval_acc"] if track_accuracy else [])
    history: dict[str, list[float]] = {key: [] for key in keys}
    with mode_restored(model):
        bar = progress_bar(range(1, int(epochs) + 1), desc="epochs", disable=not progress)
        for epoch in bar:
            model.train()
            train = _run_pass(model, train_loader, loss_fn, device, optimizer, track_accuracy,
                              epoch=epoch)
            for name, value in train.items():
                history[f"train_{name}"].append(value)
            if eval_loader is not None:
                with torch.inference_mode(), mode_restored(model, training=False):
                    evaluation = _run_pass(model, eval_loader, loss_fn, device, None,
                                           track_accuracy, epoch=epoch)
                for name, value in evaluation.items():
                    history[f"eval_{name}"].append(value)
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(history["eval_loss" if eval_loader is not None else "train_loss"][-1])
            elif scheduler is not None:
                scheduler.step()
            bar.set_postfix({key: f"{values[-1]:.4f}" for key, values in history.items()})
    return history


@torch.inference_mode()
def predict(
    model: nn.Module, loader: Iterable, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(logits, targets)`` for a whole loader, concatenated, on the CPU.

    Runs in eval and inference mode and puts every submodule's mode back. Taught in
    05_computer_vision (confusion matrix, most confused pairs).
    """
    _require_module(model)
    _require_loader(loader)
    device = _as_device(device)
    all_logits, all_targets = [], []
    with mode_restored(model, training=False):
        for inputs, targets in _batches(loader, device):
            all_logits.append(model(inputs))  # kept on the device: one copy at the end
            all_targets.append(targets)
    if not all_logits:
        raise ValueError("the loader yielded no samples")
    return torch.cat(all_logits).cpu(), torch.cat(all_targets).cpu()


# --- reading a run: the series' overfitting rule, and an accuracy's uncertainty -------------

def _loss_list(history: Any, key: str) -> list[float]:
    if not isinstance(history, dict) or key not in history:
        raise ValueError(f"history must be a dict with a {key!r} list, like fit() returns")
    values = [float(v) for v in history[key]]
    if not values or not all(math.isfinite(v) for v in values):
        raise ValueError(f"history[{key!r}] must be a non-empty list of finite losses")
    return values


def overfits(history: dict[str, list[float]], gap: float = 0.10) -> bool:
    """The series' one test for overfitting, on the per-epoch losses of a run.

    True when, at the last epoch, the validation loss is more than ``gap`` (10 %) above
    the training loss, **and** above its own lowest value of the run, **and** the training
    loss has kept falling since the epoch of that lowest validation loss. A gap alone is
    the generalisation gap every model has; overfitting is validation getting worse while
    training gets better. Taught in 05_computer_vision ("Overfitting: one test for the
    whole series").

    Args:
        history: a dict with equally long ``"train_loss"`` and ``"eval_loss"`` lists, as
            :func:`fit` returns with an ``eval_loader``.
        gap: how far above the training loss the validation loss must be, as a fraction.

    Raises:
        ValueError: a missing, empty or non-finite loss list, lists of different lengths,
            or a negative ``gap``.
    """
    train, val = _loss_list(history, "train_loss"), _loss_list(history, "eval_loss")
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
    [0, 1] and is not empty at 0 % or 100 %. For example 99 right of 153 gives about
    (0.57, 0.72). Taught in 05_computer_vision (the test set, used once).

    Raises:
        TypeError: ``correct`` or ``total`` is not an integer.
        ValueError: ``total < 1``, ``correct`` outside ``0 .. total``, or ``z <= 0``.
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
