"""Device choice and seeding (taught in 00_tensors), plus two utilities the engine and the
plots share: a model's train/eval modes put back after use, and the number checks."""

from __future__ import annotations

import numbers
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

_MAX_SEED = 2**32 - 1


def require_int(value: object, name: str, minimum: int | None = None,
                maximum: int | None = None) -> int:
    """``value`` as an ``int`` (Python or NumPy; not ``bool``): TypeError for another type,
    ValueError outside ``minimum .. maximum``."""
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


def require_number(value: object, name: str) -> float:
    """``value`` as a ``float`` (a Python or NumPy int or float; not ``bool``), else TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    return float(value)


def get_device() -> torch.device:
    """The best device available: CUDA, then Apple's MPS, then the CPU. Taught in
    00_tensors ("Devices")."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_seed(seed: int = 42) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and all GPUs) with ``seed`` (an int
    in ``0 .. 2**32 - 1``) and ask cuDNN for deterministic kernels. A shuffling DataLoader
    still needs its own :func:`seeded_generator`. Taught in 00_tensors ("Reproducibility").
    """
    seed = require_int(seed, "seed", minimum=0, maximum=_MAX_SEED)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # the CPU generator (and, in current PyTorch, the GPUs too)
    torch.cuda.manual_seed_all(seed)  # said explicitly: lazily applied if CUDA starts later
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def seeded_generator(seed: int = 42) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``, for ``DataLoader(shuffle=True,
    generator=...)`` or ``random_split``: the same order on every run, whatever else drew
    random numbers before. Taught in 00_tensors and 02_xor_classifier ("DataLoader")."""
    return torch.Generator().manual_seed(require_int(seed, "seed", minimum=0, maximum=_MAX_SEED))


@contextmanager
def mode_restored(model: torch.nn.Module, training: bool | None = None) -> Iterator[None]:
    """Run the block with ``model`` in eval (``training=False``) or train mode, or as it is;
    afterwards, even after an error, every submodule's flag is what it was (a frozen batch
    norm stays frozen). ``model.eval()`` is taught in 02_xor_classifier."""
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
