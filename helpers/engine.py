"""A tiny training engine: the loops notebooks 02-04 write by hand, written once.

Taught in 05_computer_vision (sections 15-17: the loop written once more, then
``helpers.engine``); the loops it packages are explained step by step in 02_xor_classifier
and 03_workflow_regression.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from helpers.notebook import progress_bar

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def count_correct(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Return how many predictions are right, as a 0-dim tensor on the logits' device.

    Binary when ``logits`` has one value per sample (shape ``(N,)`` or ``(N, 1)``): a
    logit above 0 means class 1. Multi-class when it has shape ``(N, C)``: the argmax.
    Returning a tensor (not a Python number) avoids a GPU sync per batch.
    Taught in 02_xor_classifier and 04_classification.

    Raises:
        ValueError: if the number of samples differs or the shapes do not fit either case.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            f"logits and targets must be tensors, got {type(logits).__name__} "
            f"and {type(targets).__name__}"
        )
    if logits.ndim == 0 or logits.shape[0] != targets.reshape(-1).shape[0]:
        raise ValueError(
            f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)} "
            "must hold the same number of samples"
        )
    if logits.ndim == 1 or (logits.ndim == 2 and logits.shape[1] == 1):
        preds = (logits.reshape(-1) > 0).long()
    elif logits.ndim == 2:
        preds = logits.argmax(dim=1)
    else:
        raise ValueError(f"logits must have shape (N,), (N, 1) or (N, C), got {tuple(logits.shape)}")
    return (preds == targets.reshape(-1).long()).sum()


def _check_model_loader_device(model: Any, loader: Any, device: Any) -> torch.device:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(loader, Iterable):
        raise TypeError(f"loader must be an iterable of (inputs, targets), got {type(loader).__name__}")
    try:
        return torch.device(device)
    except (TypeError, RuntimeError) as exc:
        raise TypeError(f"device must be a torch.device or a string like 'cpu', got {device!r}") from exc


def _batches(loader: Iterable, device: torch.device):
    non_blocking = device.type == "cuda"
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError("each batch must be a pair (inputs, targets)")
        inputs, targets = batch
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


def _per_sample(
    total_loss: torch.Tensor, correct: torch.Tensor, seen: int, track_accuracy: bool
) -> dict[str, float]:
    """Turn the sums of one pass into per-sample means: the only ``.item()`` calls of a pass."""
    if seen == 0:
        raise ValueError("the loader yielded no samples")
    result = {"loss": total_loss.item() / seen}
    if track_accuracy:
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
    Taught in 05_computer_vision (and, by hand, in 02_xor_classifier).
    """
    device = _check_model_loader_device(model, loader, device)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    model.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for inputs, targets in _batches(loader, device):
        logits = model(inputs)
        loss = _mean_loss(loss_fn, logits, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        n = targets.shape[0]
        total_loss += loss.detach() * n
        if track_accuracy:
            correct += count_correct(logits.detach(), targets)
        seen += n
    return _per_sample(total_loss, correct, seen, track_accuracy)


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

    The model's train/eval mode is put back afterwards. Taught in 05_computer_vision.
    """
    device = _check_model_loader_device(model, loader, device)
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    try:
        for inputs, targets in _batches(loader, device):
            logits = model(inputs)
            n = targets.shape[0]
            total_loss += _mean_loss(loss_fn, logits, targets) * n
            if track_accuracy:
                correct += count_correct(logits, targets)
            seen += n
    finally:
        model.train(was_training)
    return _per_sample(total_loss, correct, seen, track_accuracy)




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

    Moves ``model`` to ``device``, shows a tqdm progress bar over the epochs (with the latest
    numbers), and returns the per-epoch history that ``helpers.plotting.plot_history`` draws:
    ``train_loss`` and ``train_acc``, plus ``eval_loss`` and ``eval_acc`` with an eval loader
    (the ``acc`` lists only when ``track_accuracy``). A ``scheduler`` (for example
    ``CosineAnnealingLR(optimizer, T_max=epochs)``) is stepped once after each epoch;
    ``ReduceLROnPlateau`` gets the epoch's eval loss (the train loss without an eval loader).
    ``.item()`` is called a few times per epoch, never per batch. Taught in 05_computer_vision.

    Raises:
        TypeError / ValueError: bad arguments, with what was expected and what came.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    device = _check_model_loader_device(model, train_loader, device)
    # Check everything before the first epoch, so a typo does not cost a training run.
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, like nn.CrossEntropyLoss(), got {loss_fn!r}")
    if eval_loader is not None and not isinstance(eval_loader, Iterable):
        raise TypeError(
            f"eval_loader must be an iterable of (inputs, targets) or None, "
            f"got {type(eval_loader).__name__}"
        )
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
    bar = progress_bar(range(1, epochs + 1), desc="epochs", disable=not progress)
    for _ in bar:
        train = train_one_epoch(model, train_loader, loss_fn, optimizer, device,
                           track_accuracy=track_accuracy)
        for name, value in train.items():
            history[f"train_{name}"].append(value)
        if eval_loader is not None:
            evaluation = evaluate(model, eval_loader, loss_fn, device,
                                   track_accuracy=track_accuracy)
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

    Runs in eval and inference mode and puts the model's mode back. Taught in
    05_computer_vision (confusion matrix, most confused pairs).
    """
    device = _check_model_loader_device(model, loader, device)
    was_training = model.training
    model.eval()
    all_logits, all_targets = [], []
    try:
        for inputs, targets in _batches(loader, device):
            all_logits.append(model(inputs))  # kept on the device: one copy at the end
            all_targets.append(targets)
    finally:
        model.train(was_training)
    if not all_logits:
        raise ValueError("the loader yielded no samples")
    return torch.cat(all_logits).cpu(), torch.cat(all_targets).cpu()
