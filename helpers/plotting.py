"""The figures the lessons draw again and again. Each function accepts tensors (on any
device) or NumPy arrays, checks them before drawing, and returns its matplotlib ``Figure``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.device import mode_restored, require_int

ArrayLike = torch.Tensor | np.ndarray | Sequence[Any]


def to_numpy(x: ArrayLike) -> np.ndarray:
    """``x`` as a NumPy array on the CPU; a CPU tensor's array shares its memory, except for
    bfloat16 and float8 (NumPy lacks them: a float32 copy). Taught in 00_tensors (NumPy interop)."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        if t.is_floating_point() and t.dtype not in (torch.float16, torch.float32, torch.float64):
            t = t.float()  # bfloat16 and float8 have no NumPy dtype
        return t.numpy()
    if isinstance(x, (np.ndarray, list, tuple)):
        return np.asarray(x)
    raise TypeError(f"expected a torch.Tensor, a NumPy array or a list, got {type(x).__name__}")


@contextmanager
def _figure(figsize, nrows=1, ncols=1, suptitle=None, ax=None) -> Iterator[tuple[Figure, list]]:
    """``ax``'s figure, or a new one, laid out at the end and closed if drawing fails."""
    if ax is not None:
        yield ax.get_figure(), [ax]
        return
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    try:
        yield fig, list(axes.flat)
        if suptitle:
            fig.suptitle(suptitle)
        fig.tight_layout()  # labels inside the canvas, also where it is saved as is
    except BaseException:
        plt.close(fig)
        raise


def _one_value_each(values: ArrayLike, name: str, hint: str = "") -> np.ndarray:
    """``values`` flattened, if it holds one value per sample: shape (N,) or (N, 1)."""
    array = to_numpy(values)
    if array.ndim > 2 or (array.ndim == 2 and array.shape[1] != 1):
        raise ValueError(f"{name} must hold one value per sample, shape (N,) or (N, 1), "
                         f"got {tuple(array.shape)}{hint}")
    return array.reshape(-1)


def _class_labels(y: ArrayLike, name: str = "y") -> np.ndarray:
    """``y``, one label per sample ((N,) or (N, 1)), as int64 labels, whole numbers >= 0."""
    values = _one_value_each(y, name, "; from (N, C) logits or one-hot rows take .argmax(dim=1)")
    if values.dtype.kind not in "biuf":  # bool, integers, floats
        raise TypeError(f"{name} must hold integer class labels, got dtype {values.dtype}")
    as_float = values.astype(np.float64)
    bad = ~np.isfinite(as_float) | (as_float != np.round(as_float)) | (as_float < 0)
    if bad.any():
        raise ValueError(f"{name} must hold class labels 0, 1, 2, ... (whole numbers), got "
                         f"{values[bad][0].item()!r}; from (N, C) logits take .argmax(dim=1), "
                         "from probabilities of class 1 (p > 0.5)")
    return values.astype(np.int64)


def _points_and_labels(X: ArrayLike, y: ArrayLike, class_names: Sequence[str] | None):
    X_np = to_numpy(X)
    if X_np.ndim != 2 or X_np.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {tuple(X_np.shape)}")
    if not np.isfinite(X_np).all():
        raise ValueError("X holds NaN or inf: such points have no place on the plane")
    y_np = _class_labels(y)
    if len(y_np) != len(X_np):
        raise ValueError(f"X has {len(X_np)} points but y has {len(y_np)} labels")
    if class_names is not None and len(y_np) and y_np.max() >= len(class_names):
        raise ValueError(f"class_names has {len(class_names)} names but y holds label {y_np.max()}")
    return X_np.astype(np.float64), y_np


def _class_colors(n: int) -> list:  # two classes: blue and red, the ends of the binary shading
    return ["tab:blue", "tab:red"] if n <= 2 else [plt.get_cmap("tab10")(k % 10) for k in range(n)]


def _scatter_classes(ax, X, y, class_names, n_classes: int, size: float) -> None:
    colors = _class_colors(n_classes)  # by label value: a class keeps its colour everywhere
    for label in np.unique(y):
        name = class_names[label] if class_names is not None else f"class {label}"
        ax.scatter(X[y == label, 0], X[y == label, 1], s=size, color=colors[label], label=name,
                   edgecolors="white", linewidths=0.3)


def plot_classes_2d(X: ArrayLike, y: ArrayLike, *, title: str | None = None,
                    class_names: Sequence[str] | None = None) -> Figure:
    """Scatter 2-D points ``X`` (N, 2) coloured by their class labels ``y``, with a legend.
    Taught in 02_xor_classifier."""
    X_np, y_np = _points_and_labels(X, y, class_names)
    with _figure((5, 5)) as (fig, (ax,)):
        _scatter_classes(ax, X_np, y_np, class_names, int(y_np.max(initial=0)) + 1, size=14)
        ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title or "")
        ax.legend(loc="best", fontsize="small")
    return fig


@torch.no_grad()
def plot_decision_boundary(model: torch.nn.Module, X: ArrayLike, y: ArrayLike, *,
                           ax: Axes | None = None, title: str | None = None,
                           class_names: Sequence[str] | None = None,
                           resolution: int = 200) -> Figure:
    """Shade the plane by what ``model`` predicts (one logit: P(class 1), black line at 0.5;
    C logits: the argmax), points on top. The grid runs on the model's device and dtype in eval
    mode; each submodule's mode is put back. Taught in 02_xor_classifier."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    resolution = require_int(resolution, "resolution", minimum=2)
    X_np, y_np = _points_and_labels(X, y, class_names)
    if not len(X_np):
        raise ValueError("X holds no points: nothing sets the plotted range")
    first = next(iter([*model.parameters(), *model.buffers()]), torch.zeros(()))
    dtype = first.dtype if first.is_floating_point() else torch.float32
    (x_min, y_min), (x_max, y_max) = X_np.min(axis=0) - 0.25, X_np.max(axis=0) + 0.25
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution),
                         np.linspace(y_min, y_max, resolution))
    grid = torch.from_numpy(np.column_stack([xx.ravel(), yy.ravel()])).to(first.device, dtype)
    with mode_restored(model, training=False):
        logits = model(grid)
    shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
    if isinstance(shape, str) or len(shape) not in (1, 2) or shape[0] != len(grid):
        raise ValueError(f"model must map (N, 2) points to (N,), (N, 1) or (N, C) logits; "
                         f"for {len(grid)} points it returned {shape}")
    logits = logits.float().cpu()
    binary = logits.ndim == 1 or logits.shape[1] == 1
    n_classes = 2 if binary else logits.shape[1]
    names = [f"class {k}" for k in range(n_classes)] if class_names is None else class_names
    if len(names) < n_classes:
        raise ValueError(f"class_names needs {n_classes} names, one per class the model "
                         f"predicts; got {len(names)}")
    n_colors = max(n_classes, int(y_np.max()) + 1)
    with _figure((5.8, 5), ax=ax) as (fig, (ax,)):
        if binary:
            p = torch.sigmoid(logits.reshape(-1)).numpy().reshape(xx.shape)
            shading = ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.3)
            ax.contour(xx, yy, p, levels=[0.5], colors="black", linewidths=1)
            bar = fig.colorbar(shading, ax=ax, fraction=0.046, pad=0.04, label=f"P({names[1]})")
            bar.set_ticks([0, 0.25, 0.5, 0.75, 1])
            bar.ax.axhline(0.5, color="black", linewidth=1)
        else:
            shading = ax.contourf(xx, yy, logits.argmax(dim=1).numpy().reshape(xx.shape),
                                  levels=np.arange(n_classes + 1) - 0.5,
                                  colors=_class_colors(n_colors)[:n_classes], alpha=0.35)
            bar = fig.colorbar(shading, ax=ax, fraction=0.046, pad=0.04, label="predicted class")
            bar.set_ticks(np.arange(n_classes), labels=[str(n) for n in names[:n_classes]])
        _scatter_classes(ax, X_np, y_np, class_names, n_colors, size=12)
        ax.set(xlim=(x_min, x_max), ylim=(y_min, y_max), xlabel="$x_1$", ylabel="$x_2$",
               title=title or "")
        ax.legend(loc="best", fontsize="small")
    return fig


_SPLIT_COLORS = {"test": "tab:green", "validation": "tab:orange"}


def plot_predictions(train_x: ArrayLike, train_y: ArrayLike, test_x: ArrayLike,
                     test_y: ArrayLike, predictions: ArrayLike | None = None, *,
                     title: str | None = None, split: str = "test") -> Figure:
    """Scatter 1-D regression data, training and test, and optionally the predictions on the
    test inputs; one value per sample each. ``split="validation"`` labels the second set so,
    in orange. Taught in 03_workflow_regression."""
    if split not in _SPLIT_COLORS:
        raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
    tx, ty = _one_value_each(train_x, "train_x"), _one_value_each(train_y, "train_y")
    vx, vy = _one_value_each(test_x, "test_x"), _one_value_each(test_y, "test_y")
    p = None if predictions is None else _one_value_each(predictions, "predictions")
    for a, b, name_a, name_b in ((tx, ty, "train_x", "train_y"), (vx, vy, "test_x", "test_y"),
                                 (vx, vx if p is None else p, "test_x", "predictions")):
        if len(a) != len(b):
            raise ValueError(f"{name_a} has {len(a)} values but {name_b} has {len(b)}")
    with _figure((7, 4.5)) as (fig, (ax,)):
        ax.scatter(tx, ty, s=12, c="tab:blue", label="training data")
        ax.scatter(vx, vy, s=12, c=_SPLIT_COLORS[split], label=f"{split} data")
        if p is not None:  # crosses: a prediction on its target does not hide the point
            ax.scatter(vx, p, s=36, c="tab:red", marker="x", label="predictions")
        ax.set(xlabel="x", ylabel="y", title=title or "")
        ax.legend(loc="best")
    return fig


def plot_history(history: Mapping[str, Sequence[float]], *, title: str | None = None) -> Figure:
    """Plot per-epoch curves from epoch 1: keys with ``"loss"`` on the left, with ``"acc"`` on
    the right. Taught in 02_xor_classifier; ``fit`` returns such a dict."""
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict of lists, got {type(history).__name__}")
    panels = [(name, keys) for name, part in (("loss", "loss"), ("accuracy", "acc"))
              if (keys := [k for k in history if part in k])]
    if not panels:
        raise ValueError(f"history needs keys containing 'loss' or 'acc', got {sorted(history)}")
    try:
        panels = [(name, {k: list(map(float, history[k])) for k in keys}) for name, keys in panels]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"history's values must be lists of numbers ({exc})") from exc
    if empty := [k for _, curves in panels for k, values in curves.items() if not values]:
        raise ValueError(f"history[{empty[0]!r}] is empty: no epoch to plot")
    with _figure((5.5 * len(panels), 4), 1, len(panels), title) as (fig, axes):
        for ax, (name, curves) in zip(axes, panels, strict=True):
            for key, values in curves.items():
                ax.plot(range(1, len(values) + 1), values,
                        marker="o" if len(values) <= 30 else None, markersize=3, label=key)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
            ax.set(xlabel="epoch", ylabel=name)
            ax.legend(loc="best")
            ax.grid(alpha=0.3)
    return fig


def _image_array(img: Any, index: int) -> np.ndarray:
    """One image as an HW or HWC array that ``imshow`` draws as meant."""
    if isinstance(img, torch.Tensor):
        if img.ndim == 3 and img.shape[0] not in (1, 3, 4):
            raise ValueError(f"image {index} is a tensor of shape {tuple(img.shape)}; tensors "
                             "must be CHW or HW (an HWC tensor needs .permute(2, 0, 1))")
        img = to_numpy(img.permute(1, 2, 0) if img.ndim == 3 else img)  # tensors are CHW
    else:
        if hasattr(img, "convert") and img.mode not in ("L", "RGB", "RGBA"):  # PIL palette...
            img = img.convert("RGB")
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3, 4):
            img = img.transpose(1, 2, 0)  # a CHW array
    img = img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] not in (3, 4)):
        raise ValueError(f"image {index} has shape {img.shape}; expected HW, CHW or HWC")
    if img.dtype == np.bool_:
        img = img.astype(np.float32)  # False / True: black / white on [0, 1]
    if np.issubdtype(img.dtype, np.integer):
        return np.clip(img, 0, 255).astype(np.uint8)
    if not np.issubdtype(img.dtype, np.floating):
        raise TypeError(f"image {index} has dtype {img.dtype}; expected numbers")
    if img.size and img.max() > 1 and np.array_equal(img, np.round(img)):
        raise ValueError(f"image {index} is a float image of whole numbers up to {img.max():g}, a "
                         "0-255 image; floats are drawn on [0, 1]: divide it by 255 or pass uint8")
    return np.clip(img, 0.0, 1.0)


def plot_image_grid(images: ArrayLike | Sequence[Any], titles: Sequence[str] | None = None, *,
                    ncols: int = 5, title_colors: Sequence[str] | None = None,
                    figsize_per_image: float = 1.8, suptitle: str | None = None) -> Figure:
    """Show images (an (N, C, H, W) or (N, H, W) tensor or array, or a list of CHW tensors, HWC or
    CHW arrays, PIL images) in a grid, with optional coloured titles. Integers are drawn on 0-255,
    floats and bools on [0, 1], grey on that fixed scale. Taught in 05_computer_vision."""
    if not isinstance(images, (torch.Tensor, np.ndarray, list, tuple)):
        raise TypeError(f"images must be a tensor, an array or a list, got {type(images).__name__}")
    items = list(images)
    if not items:
        raise ValueError("images is empty: nothing to show")
    for name, values in (("titles", titles), ("title colors", title_colors)):
        if values is not None and len(values) != len(items):
            raise ValueError(f"got {len(items)} images but {len(values)} {name}")
    ncols = min(require_int(ncols, "ncols", minimum=1), len(items))
    arrays = [_image_array(img, i) for i, img in enumerate(items)]
    nrows = -(-len(arrays) // ncols)  # rounded up
    size = (figsize_per_image * ncols, figsize_per_image * nrows + 0.3)
    with _figure(size, nrows, ncols, suptitle) as (fig, axes):
        for ax in axes:
            ax.axis("off")
        for i, image in enumerate(arrays):  # grey on a fixed scale, not stretched to min-max
            grey = {"cmap": "gray", "vmin": 0, "vmax": 1.0 if image.dtype.kind == "f" else 255}
            axes[i].imshow(image, **(grey if image.ndim == 2 else {}))
            if titles is not None:
                axes[i].set_title(titles[i], fontsize=9,
                                  color=title_colors[i] if title_colors is not None else "black")
    return fig


def confusion_counts(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """The (num_classes, num_classes) confusion matrix of checked labels, rows true, columns
    predicted, every class listed (sklearn's ``confusion_matrix``). Taught in 04_classification."""
    from sklearn.metrics import confusion_matrix
    num_classes = require_int(num_classes, "num_classes", minimum=1)
    t, p = _class_labels(y_true, "y_true"), _class_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} labels but y_pred has {len(p)}")
    if len(t) and max(t.max(), p.max()) >= num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {max(t.max(), p.max())}")
    return confusion_matrix(t, p, labels=np.arange(num_classes))


def plot_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, class_names: Sequence[str], *,
                          title: str | None = None) -> Figure:
    """Draw the confusion counts as a seaborn heatmap (rows: true class, columns: predicted).
    Taught in 04_classification."""
    import seaborn as sns  # only this figure needs it
    if len(class_names) < 2:
        raise ValueError(f"need at least 2 class names, got {list(class_names)}")
    counts = confusion_counts(y_true, y_pred, len(class_names))
    size = max(4.0, 0.6 * len(class_names) + 2)
    with _figure((size, size * 0.85)) as (fig, (ax,)):
        sns.heatmap(counts, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax, square=True,
                    xticklabels=class_names, yticklabels=class_names)
        ax.set(xlabel="predicted", ylabel="true", title=title or "")
    return fig

