"""Shared code of the PyTorch tutorial notebooks. Each name says in its docstring which
notebook teaches what it does."""

from helpers.data import DownloadError, data_root, download_and_extract, sha256_of
from helpers.device import get_device, seed_worker, seeded_generator, set_seed
from helpers.engine import count_correct, evaluate, fit, predict, train_one_epoch
from helpers.notebook import CaughtError, expect_error, progress_bar
from helpers.plotting import (
    confusion_counts,
    plot_classes_2d,
    plot_confusion_matrix,
    plot_decision_boundaries_side_by_side,
    plot_decision_boundary,
    plot_history,
    plot_image_grid,
    plot_predictions,
    to_numpy,
)

__all__ = [
    "CaughtError",
    "confusion_counts",
    "count_correct",
    "data_root",
    "download_and_extract",
    "DownloadError",
    "evaluate",
    "expect_error",
    "fit",
    "get_device",
    "plot_classes_2d",
    "plot_confusion_matrix",
    "plot_decision_boundaries_side_by_side",
    "plot_decision_boundary",
    "plot_history",
    "plot_image_grid",
    "plot_predictions",
    "predict",
    "progress_bar",
    "seed_worker",
    "seeded_generator",
    "set_seed",
    "sha256_of",
    "to_numpy",
    "train_one_epoch",
]
