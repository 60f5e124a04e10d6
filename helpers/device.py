"""Device choice, seeding, and a model's train/eval mode put back after use.

Taught in 00_tensors (devices, reproducibility) and used by every later notebook.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

_MAX_SEED = 2**32 - 1


def require_int(value: object, name: str, minimum: int | None = None,
                maximum: int | None = None) -> int:
    """The one integer check of ``helpers``: ``value`` as an ``int`` (Python or NumPy
    integers; ``bool`` is refused, ``True`` as a count is a mistake).

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: it lies outside ``minimum .. maximum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if minimum is not None and maximum is not None:
            expected = f"between {minimum} and {maximum}"
        else:
            expected = f">= {minimum}" if minimum is not None else f"<= {maximum}"
        raise ValueError(f"{name} must be an int {expected}, got {value}")
    return value


def _seed_as_uint32(seed: object) -> int:
    return require_int(seed, "seed", minimum=0, maximum=_MAX_SEED)


def get_device() -> torch.device:
    """Return the best device available: CUDA, then Apple's MPS, then the CPU.

    Taught in 00_tensors ("Devices"). Notebooks call it once in their setup cell and move
    models and data with ``.to(device)``.

    Returns:
        ``torch.device("cuda")``, ``torch.device("mps")`` or ``torch.device("cpu")``.
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_seed(seed: int = 42) -> None:
    """Seed every random number generator a lesson touches, in one call.

    Seeds Python's ``random``, NumPy's global generator and PyTorch on the CPU and on all
    GPUs, and asks cuDNN for deterministic kernels (``deterministic=True``,
    ``benchmark=False``). DataLoaders that shuffle still need their own generator: see
    :func:`seeded_generator`. DataLoader worker processes need nothing more: PyTorch seeds
    ``random``, torch and NumPy in each worker from the loader's own seed.
    Taught in 00_tensors ("Reproducibility").

    Args:
        seed: an integer between 0 and 2**32 - 1.

    Raises:
        TypeError: if ``seed`` is not an integer.
        ValueError: if ``seed`` is out of range.
    """
    seed = _seed_as_uint32(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # the CPU generator (and, in current PyTorch, the GPUs too)
    torch.cuda.manual_seed_all(seed)  # said explicitly: lazily applied if CUDA starts later
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def seeded_generator(seed: int = 42) -> torch.Generator:
    """Return a CPU ``torch.Generator`` seeded with ``seed``.

    Pass it to ``DataLoader(..., shuffle=True, generator=...)`` or ``random_split`` so the
    shuffling order is the same on every run, whatever else drew random numbers before.
    Taught in 00_tensors ("Reproducibility") and 02_xor_classifier ("DataLoader").

    Raises:
        TypeError: if ``seed`` is not an integer.
        ValueError: if ``seed`` is out of range.
    """
    generator = torch.Generator()
    generator.manual_seed(_seed_as_uint32(seed))
    return generator


@contextmanager
def mode_restored(model: torch.nn.Module, training: bool | None = None) -> Iterator[None]:
    """Within the ``with`` block, ``model`` may change mode; afterwards every submodule's
    train/eval flag is what it was before, even after an error.

    With ``training=False`` (``True``) the model is switched to eval (train) mode for the
    block. Flags are restored one submodule at a time, so a model that keeps a part in eval
    mode on purpose (a frozen BatchNorm) gets exactly that back. Used by the evaluation
    loops of ``helpers.engine`` and by ``helpers.plotting.plot_decision_boundary``; what
    ``model.eval()`` changes is taught in 03_workflow_regression.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    flags = [(module, module.training) for module in model.modules()]
    try:
        if training is not None:
            model.train(training)
        yield
    finally:
        for module, flag in flags:
            module.training = flag
