"""Shared code of the PyTorch tutorial notebooks; each function's docstring says which
notebook teaches what it does. The plotting names are loaded on first use: ``import helpers`` alone
does not import pyplot (slow, and it picks a plotting backend) in code that draws nothing.
"""

import importlib
from typing import Any

from helpers.data import (
    DATASETS,
    DownloadError,
    data_root,
    download_and_extract,
    download_dataset,
    sha256_of,
)
from helpers.device import get_device, seeded_generator, set_seed
from helpers.engine import (
    accuracy_interval,
    count_correct,
    evaluate,
    fit,
    overfits,
    predict,
    train_one_epoch,
)
from helpers.notebook import CaughtError, expect_error, progress_bar

_PLOTTING_NAMES = (
    "confusion_counts", "plot_classes_2d", "plot_confusion_matrix",
    "plot_decision_boundaries_side_by_side", "plot_decision_boundary", "plot_history",
    "plot_image_grid", "plot_predictions", "to_numpy",
)

__all__ = [
    "accuracy_interval", "CaughtError", "count_correct", "data_root", "DATASETS",
    "download_and_extract", "download_dataset", "DownloadError", "evaluate", "expect_error",
    "fit", "get_device", "overfits", "predict", "progress_bar", "seeded_generator", "set_seed",
    "sha256_of", "train_one_epoch", *_PLOTTING_NAMES,
]


def __getattr__(name: str) -> Any:
    """Import ``helpers.plotting`` the first time one of its names is asked for."""
    if name != "plotting" and name not in _PLOTTING_NAMES:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    plotting = importlib.import_module("helpers.plotting")
    globals()[name] = value = plotting if name == "plotting" else getattr(plotting, name)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PLOTTING_NAMES) | {"plotting"})
