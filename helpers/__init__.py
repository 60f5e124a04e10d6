"""Shared code of the PyTorch tutorial notebooks; each function's docstring says which
notebook teaches what it does."""

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
from helpers.plotting import (
    confusion_counts,
    plot_classes_2d,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    plot_image_grid,
    plot_predictions,
    to_numpy,
)

__all__ = [
    "accuracy_interval", "CaughtError", "confusion_counts", "count_correct", "data_root",
    "DATASETS", "download_and_extract", "download_dataset", "DownloadError", "evaluate",
    "expect_error", "fit", "get_device", "overfits", "plot_classes_2d", "plot_confusion_matrix",
    "plot_decision_boundary", "plot_history", "plot_image_grid", "plot_predictions", "predict",
    "progress_bar", "seeded_generator", "set_seed", "sha256_of", "to_numpy", "train_one_epoch",
]
