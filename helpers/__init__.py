"""Shared code of the PyTorch tutorial notebooks. Each name says in its docstring which
notebook teaches what it does."""

from helpers.data import DownloadError, data_root, download_and_extract, sha256_of
from helpers.device import get_device, seed_worker, seeded_generator, set_seed
from helpers.engine import count_correct, fit, predict, test_step, train_step
from helpers.plotting import (
    confusion_counts,
    plot_classes_2d,
    plot_confusion_matrix,
    plot_decision_boundaries,
    plot_decision_boundary,
    plot_history,
    plot_image_grid,
    plot_predictions,
    to_numpy,
)

__all__ = [
    "DownloadError",
    "confusion_counts",
    "count_correct",
    "data_root",
    "download_and_extract",
    "fit",
    "get_device",
    "plot_classes_2d",
    "plot_confusion_matrix",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_history",
    "plot_image_grid",
    "plot_predictions",
    "predict",
    "seed_worker",
    "seeded_generator",
    "set_seed",
    "sha256_of",
    "test_step",
    "to_numpy",
    "train_step",
]
