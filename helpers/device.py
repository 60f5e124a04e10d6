"""Device choice and seeding.

Taught in 00_tensors (devices, reproducibility) and used by every later notebook.
"""

from __future__ import annotations

import random

import numpy as np
import torch

_MAX_SEED = 2**32 - 1


def _check_seed(seed: object) -> int:
    # bool is an int subclass; True as a seed is almost always a mistake.
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r})")
    if not 0 <= int(seed) <= _MAX_SEED:
        raise ValueError(f"seed must be between 0 and {_MAX_SEED}, got {seed}")
    return int(seed)


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
    :func:`seeded_generator`. Taught in 00_tensors ("Reproducibility").

    Args:
        seed: an integer between 0 and 2**32 - 1.

    Raises:
        TypeError: if ``seed`` is not an integer.
        ValueError: if ``seed`` is out of range.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # the CPU generator and, lazily, every CUDA device's
    torch.cuda.manual_seed_all(seed)
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
    generator.manual_seed(_check_seed(seed))
    return generator


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoader worker processes.

    PyTorch seeds each worker's torch generator; this seeds NumPy and ``random`` in the
    worker from it too, so augmentations that use them are reproducible.
    Taught in 06_custom_datasets ("Worker processes").
    """
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
