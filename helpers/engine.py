"""The training loop of lessons 02-04, written once; taught in 05_computer_vision (12-14).

Checks sit at the edges, so a GPU never waits mid-pass: the first batch is checked at once,
later losses and labels stay on the device and are read at the end of the pass. Accuracy is
tracked by default (class-index targets with ``(N, C)`` logits, or 0/1 targets with one
logit per sample); pass ``track_accuracy=False`` for anything else, such as regression.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import nn

from helpers.device import mode_restored, require_int, require_number
from helpers.notebook import progress_bar

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_ACCURACY_HINT = (
    "Accuracy is tracked by default and needs classification outputs: integer class targets "
    "with (N, C) logits, or 0/1 targets with one logit per sample. For regression or any "
    "other task, pass track_accuracy=False."
)


def _check_arguments(model: Any, loaders: dict[str, Any], loss_fn: Any = None,
                     optimizer: Any = None, device: Any = "cpu", *,
                     needs_loss: bool = True) -> torch.device:
    """Check what a pass needs before the first batch; return ``device`` as a torch.device."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, loader in loaders.items():
        if not isinstance(loader, Iterable):
            raise TypeError(f"{name} must be an iterable of (inputs, targets), "
                            f"got {type(loader).__name__}")
    if needs_loss and (not callable(loss_fn) or isinstance(loss_fn, type)):
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
    """Check shapes only (no device read); True for one logit per sample, False for (N, C)."""
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(f"logits and targets must be tensors, got {type(logits).__name__} "
                        f"and {type(targets).__name__}")
    def shapes() -> str:  # made only for an error: this check runs on every batch
        return f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)}"

    if logits.ndim == 0 or targets.ndim == 0 or logits.shape[0] != targets.shape[0]:
        raise ValueError(f"{shapes()} must hold the same number of samples (first dimension)")
    if logits.ndim > 2:
        raise ValueError(f"logits must have shape (N,), (N, 1) or (N, C), got {tuple(logits.shape)}")
    if logits.ndim == 1 or logits.shape[1] == 1:
        if targets.shape != logits.shape and targets.ndim != 1:
            raise ValueError(f"{shapes()} do not match: with one logit per sample, targets must "
                             "have shape (N,) or the logits' shape")
        return True
    if targets.ndim != 1:
        raise ValueError(f"{shapes()}: (N, C) logits need targets of class indices, shape (N,) "
                         "(one-hot or probability targets are not class labels)")
    return False


def count_correct(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """How many predictions are right, as a 0-dim tensor on the logits' device.

    One logit per sample, ``(N,)`` or ``(N, 1)``: above 0 means class 1, against 0/1 targets.
    ``(N, C)`` logits: the argmax, against class indices ``(N,)``. Only shapes are checked
    (nothing waits for the device), so a target that is no class counts as wrong.
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
    """A batch as (inputs, targets) on ``device``."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2 or \
            not isinstance(batch[0], torch.Tensor) or not isinstance(batch[1], torch.Tensor):
        got = f"({', '.join(type(t).__name__ for t in batch)})" \
            if isinstance(batch, (tuple, list)) else type(batch).__name__
        raise TypeError(f"each batch must be a pair of tensors (inputs, targets), got {got}")
    cuda = device.type == "cuda"  # copies from pinned memory may then overlap compute
    return batch[0].to(device, non_blocking=cuda), batch[1].to(device, non_blocking=cuda)


def _nonfinite(kind: str, value: float, place: str, later: bool) -> FloatingPointError:
    training = kind == "training"  # evaluation changes no weight, and has no learning rate
    weights = "; the weights are likely not finite either" if training else ""
    found = f" (found when the pass ended: losses are read from the device then{weights})" \
        if later else ""
    return FloatingPointError(
        f"the {kind} loss is {value} at {place}{found}. Training cannot go on from a non-finite "
        "loss: check the inputs and targets for NaN or inf (torch.isfinite(x).all())"
        + (", and try a smaller learning rate." if training else "."))


def _check_labels(logits: torch.Tensor, targets: torch.Tensor, track_accuracy: bool,
                  place: str) -> tuple[bool, int]:
    """Check a first batch's labels before the loss sees them (on CUDA, a label that is no
    class would stop the loss kernel with a device-side assert); return (binary, classes)."""
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
              where: str = "") -> dict[str, float]:
    """One pass, training with an optimizer, else evaluating. Sums stay on the device,
    weighted by batch size, and are read at the end (the sums once, the labels once)."""
    kind = "training" if optimizer is not None else "evaluation"
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    losses, all_targets = [], []  # kept on the device, looked at after the pass
    seen = 0
    for i, batch in enumerate(loader, start=1):
        inputs, targets = _pair(batch, device)
        logits = model(inputs)
        if i == 1:
            binary, classes = _check_labels(logits, targets, track_accuracy, f"{where}batch 1")
        try:
            loss = loss_fn(logits, targets)
        except (IndexError, RuntimeError) as exc:  # the CPU loss refusing a label that is no class
            if track_accuracy and (problem := _label_problem(targets, binary, classes)):
                raise ValueError(f"targets are not class labels at {where}batch {i}: "
                                 f"{problem}. {_ACCURACY_HINT}") from exc
            raise
        if i == 1:
            _check_loss(loss, kind, f"{where}batch 1")
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
        raise ValueError("the loader yielded no samples" + (f" in {where[:-2]}" if where else ""))
    wide = _wide(device)
    sums = torch.stack([loss_sum.to(wide), correct.to(wide)]).tolist()  # one read
    if not math.isfinite(sums[0]):
        values = torch.stack(losses).tolist()
        bad = next((i for i, v in enumerate(values, 1) if not math.isfinite(v)), None)
        place = f"{where}batch {bad}" if bad else f"the sum over {where[:-2] or 'the pass'}"
        raise _nonfinite(kind, values[bad - 1] if bad else sums[0], place, later=True)
    result = {"loss": sums[0] / seen}
    if track_accuracy:
        if problem := _label_problem(torch.cat(all_targets), binary, classes):
            bad = next(i for i, t in enumerate(all_targets, 1)
                       if _label_problem(t, binary, classes))
            raise ValueError(f"targets are not class labels at {where}batch {bad}: {problem}. "
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

    The lesson's loop: forward, loss, zero the gradients, backward, step; loss and accuracy
    averaged over samples, not batches. A model wholly in eval mode is put in training mode;
    one found training keeps each submodule's flag (a frozen batch norm stays frozen).
    Raises ValueError for targets that are no class labels (with ``track_accuracy``) and
    FloatingPointError for a non-finite loss. Only batch 1 is checked before its loss: on
    CUDA, a later label out of range stops the loss kernel first (a device-side assert).
    Taught in 05_computer_vision.
    """
    device = _check_arguments(model, {"loader": loader}, loss_fn, optimizer, device)
    _train_mode(model)
    return _run_pass(model, loader, loss_fn, device, optimizer, track_accuracy)


@torch.inference_mode()
def evaluate(model: nn.Module, loader: Iterable, loss_fn: LossFn, device: torch.device | str,
             *, track_accuracy: bool = True) -> dict[str, float]:
    """Evaluate ``model`` on ``loader`` in eval and inference mode; return loss (and accuracy).

    Every submodule's mode is put back; raises as :func:`train_one_epoch`. Taught in
    05_computer_vision."""
    device = _check_arguments(model, {"loader": loader}, loss_fn, None, device)
    with mode_restored(model, training=False):
        return _run_pass(model, loader, loss_fn, device, None, track_accuracy)


def fit(model: nn.Module, train_loader: Iterable, loss_fn: LossFn,
        optimizer: torch.optim.Optimizer, epochs: int, device: torch.device | str,
        eval_loader: Iterable | None = None, *, track_accuracy: bool = True,
        progress: bool = True,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None) -> dict[str, list[float]]:
    """Train for ``epochs`` epochs, evaluating after each one when ``eval_loader`` is given.

    Moves ``model`` to ``device``, shows a progress bar, and returns the per-epoch history
    that ``plot_history`` draws: ``train_loss``, ``train_acc``, and with an eval loader
    ``eval_loss``, ``eval_acc`` (``acc`` only with ``track_accuracy``). ``scheduler`` is
    stepped after each epoch (``ReduceLROnPlateau`` with the eval loss, else the train loss).
    Each epoch trains as :func:`train_one_epoch`; afterwards every submodule's mode is what it
    was. The arguments and the eval loader's first batch are checked before training.
    Taught in 05_computer_vision.
    """
    epochs = require_int(epochs, "epochs", minimum=1)
    loaders = {"train_loader": train_loader, "eval_loader": eval_loader}
    device = _check_arguments(model, {k: v for k, v in loaders.items() if v is not None},
                              loss_fn, optimizer, device)
    for name, loader in loaders.items():  # read again each epoch (eval_loader: also at once)
        if isinstance(loader, Iterator) and (epochs > 1 or name == "eval_loader"):
            raise TypeError(f"{name} is a one-shot iterator ({type(loader).__name__}), but fit "
                            "reads it more than once: pass a DataLoader or a list of batches")
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
            # random state is put back (a DataLoader draws a seed from it): the run is the same.
            # no_grad, not inference_mode: a lazy layer made here must stay trainable
            with torch.no_grad(), mode_restored(model, training=False), \
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
                                         track_accuracy, f"epoch {epoch}, ").items():
                history[f"train_{name}"].append(value)
            if eval_loader is not None:
                with torch.inference_mode(), mode_restored(model, training=False):
                    for name, value in _run_pass(model, eval_loader, loss_fn, device, None,
                                                 track_accuracy, f"epoch {epoch}, ").items():
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
    """``(logits, targets)`` of a whole loader, concatenated, on the CPU; in eval and
    inference mode, every submodule's mode put back. They are inference tensors: ``.clone()``
    them to edit in place or to use them in autograd. Taught in 05_computer_vision."""
    device = _check_arguments(model, {"loader": loader}, device=device, needs_loss=False)
    all_logits, all_targets = [], []
    with mode_restored(model, training=False):
        for batch in loader:
            inputs, targets = _pair(batch, device)
            all_logits.append(model(inputs))  # kept on the device: one copy at the end
            all_targets.append(targets)
    if not all_logits:
        raise ValueError("the loader yielded no samples")
    return torch.cat(all_logits).cpu(), torch.cat(all_targets).cpu()


# --- reading a run: the series' overfitting rule, and an accuracy's uncertainty -------------


def overfits(history: dict[str, list[float]], gap: float = 0.10) -> bool:
    """The series' one test for overfitting, on a run's per-epoch losses.

    True when, at the last epoch of ``history`` (``"train_loss"`` and ``"eval_loss"`` lists,
    as :func:`fit` returns), the validation loss is more than the fraction ``gap`` above the
    training loss (0.10: over 1.1 times it), **and** above its own lowest value, **and** the
    training loss is below its value at that lowest epoch: validation worsening while
    training improves. Taught in 05_computer_vision (section 15).
    """
    losses = {}
    for key in ("train_loss", "eval_loss"):
        if not isinstance(history, dict) or key not in history:
            raise ValueError(f"history must be a dict with a list of losses under {key!r}, as "
                             "fit(..., eval_loader=...) returns")
        try:  # a number or a string alone is no list of losses
            losses[key] = [] if isinstance(history[key], str) else list(map(float, history[key]))
        except (TypeError, ValueError):
            losses[key] = []
        if not losses[key] or not all(math.isfinite(v) for v in losses[key]):
            raise ValueError(f"history[{key!r}] must be a non-empty list of finite losses, "
                             f"got {reprlib.repr(history[key])}")
    train, val = losses["train_loss"], losses["eval_loss"]
    if len(train) != len(val):
        raise ValueError(f"history has {len(train)} training losses but {len(val)} validation losses")
    if not 0 <= (gap := require_number(gap, "gap")) < math.inf:
        raise ValueError(f"gap must be a fraction >= 0 like 0.10, got {gap!r}")
    best = min(range(len(val)), key=val.__getitem__)  # the epoch of the lowest val. loss
    rising = val[-1] > val[best] and train[-1] < train[best]
    return val[-1] > (1 + gap) * train[-1] and rising


def accuracy_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of an accuracy of ``correct`` out of ``total``.

    ``z = 1.96`` gives a 95 % interval; unlike ``p ± z·sqrt(p(1-p)/n)`` it stays in [0, 1]
    and is not empty at 0 % or 100 %. Taught in 02_xor_classifier (the test set).
    """
    correct = require_int(correct, "correct", minimum=0)
    total = require_int(total, "total", minimum=1)
    if correct > total:
        raise ValueError(f"correct must be at most total ({total}), got {correct}")
    if not 0 < (z := require_number(z, "z")) < math.inf:
        raise ValueError(f"z must be a positive number like 1.96, got {z!r}")
    p, n = correct / total, total
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
