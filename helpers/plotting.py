"""Every figure that more than one notebook draws.

Each function accepts PyTorch tensors (on any device, any dtype including bfloat16) or
NumPy arrays, returns the matplotlib ``Figure`` it drew on, and puts back whatever it
changed (a model's device and train/eval mode). Input is checked before anything is
drawn, and a figure made here is closed again if drawing fails, so an error never leaves
a blank or half-drawn figure under the traceback.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.device import mode_restored

ArrayLike = torch.Tensor | np.ndarray | Sequence[Any]


def to_numpy(x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a NumPy array: tensors are detached and copied to the CPU first.

    Tensor dtypes NumPy lacks (``bfloat16``, the float8 types) become ``float32``.
    """
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu().resolve_conj().resolve_neg()
        try:
            return t.numpy()
        except TypeError:  # "Got unsupported ScalarType BFloat16" and the like
            if t.is_floating_point():
                return t.float().numpy()
            raise
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"expected a torch.Tensor, a NumPy array or a list, got {type(x).__name__}")


@contextmanager
def _new_or_given_axes(ax: Axes | None, figsize: tuple[float, float]) -> Iterator[tuple[Figure, Axes]]:
    """Yield ``(figure, axes)``: ``ax`` and its figure, or a new figure that is closed
    again if drawing on it fails (a figure the caller gave is never closed)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        with _closed_on_error(fig):
            yield fig, ax
    else:
        yield ax.get_figure(), ax


@contextmanager
def _closed_on_error(fig: Figure) -> Iterator[None]:
    try:
        yield
    except BaseException:
        plt.close(fig)
        raise


def _class_labels(y: ArrayLike, name: str = "y") -> np.ndarray:
    """``y`` flattened to int64 class labels; raise unless every value is a whole number >= 0.

    Integer and bool arrays pass; float arrays pass when every value is whole (0., 1., 2.).
    """
    values = to_numpy(y).reshape(-1)
    if values.dtype == np.bool_:
        return values.astype(np.int64)
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        raise TypeError(f"{name} must hold integer class labels, got dtype {values.dtype}")
    if np.issubdtype(values.dtype, np.floating):
        bad = ~np.isfinite(values) | (values != np.round(values))
        if bad.any():
            raise ValueError(
                f"{name} must hold whole-number class labels (0, 1, 2, ...), got "
                f"{values[bad][0].item()!r}; round probabilities to labels first"
            )
    if len(values) and values.min() < 0:
        raise ValueError(f"{name} must hold class labels 0, 1, 2, ..., got {values.min().item()!r}")
    return values.astype(np.int64)


def _points_and_labels(
    X: ArrayLike, y: ArrayLike, class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X`` is ``(N, 2)``, ``y`` has N whole-number labels >= 0 and every label has
    a name in ``class_names`` (when given); return both as arrays."""
    X_np = to_numpy(X)
    if X_np.ndim != 2 or X_np.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {tuple(X_np.shape)}")
    y_np = _class_labels(y)
    if len(y_np) != len(X_np):
        raise ValueError(f"X has {len(X_np)} points but y has {len(y_np)} labels")
    if class_names is not None and len(y_np) and int(y_np.max()) >= len(class_names):
        raise ValueError(
            f"class_names has {len(class_names)} names but y holds label {int(y_np.max())}"
        )
    return X_np.astype(np.float64, copy=False), y_np


def _class_colors(n_classes: int) -> list:
    """The colour of each class 0..n_classes-1: tab10's, cycling past ten classes."""
    cmap = plt.get_cmap("tab10")
    return [cmap(k % 10) for k in range(n_classes)]


def _scatter_classes(
    ax: Axes, X_np: np.ndarray, y_np: np.ndarray, class_names: Sequence[str] | None, size: float
) -> None:
    """Scatter the points of each class in that class's colour, with a legend entry.

    The colour follows the label's value, not its position among the labels present, so a
    class keeps its colour in every figure: binary labels (0 and 1 only) are blue and red,
    matching the blue-to-red shading of ``plot_decision_boundary``; more classes use tab10,
    as its multi-class shading does.
    """
    labels = np.unique(y_np)
    binary = set(labels.tolist()) <= {0, 1}
    colors = _class_colors(int(labels.max()) + 1) if len(labels) else []
    for label in labels:
        mask = y_np == label
        color = ("tab:blue", "tab:red")[int(label)] if binary else colors[int(label)]
        name = class_names[int(label)] if class_names is not None else f"class {int(label)}"
        ax.scatter(X_np[mask, 0], X_np[mask, 1], s=size, color=color, label=name,
                   edgecolors="white", linewidths=0.3)


def plot_classes_2d(
    X: ArrayLike,
    y: ArrayLike,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Scatter 2-D points coloured by class, with a legend.

    Taught in 02_xor_classifier; used again in 04_classification.

    Args:
        X: points, shape ``(N, 2)``.
        y: integer (or whole-number float) class labels, shape ``(N,)`` or ``(N, 1)``.
        ax: an Axes to draw on; a new figure is made when ``None``.
        title: the Axes title.
        class_names: a name per class, in label order.

    Raises:
        ValueError: if ``X`` is not ``(N, 2)``, ``y`` has another length, a label is
            negative or not a whole number, or a label has no name in ``class_names``.
    """
    X_np, y_np = _points_and_labels(X, y, class_names)
    own_figure = ax is None
    with _new_or_given_axes(ax, (5, 5)) as (fig, ax):
        _scatter_classes(ax, X_np, y_np, class_names, size=14)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        if title:
            ax.set_title(title)
        ax.legend(loc="best", fontsize="small")
        if own_figure:  # labels inside the canvas, also where it is saved as is (TensorBoard)
            fig.tight_layout()
    return fig


def _model_device_and_dtype(model: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    """Where the model's first parameter (or buffer) lives, and the float dtype to feed it."""
    tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
    device = tensor.device if tensor is not None else torch.device("cpu")
    dtype = tensor.dtype if tensor is not None and tensor.is_floating_point() else torch.float32
    return device, dtype


@torch.no_grad()
def plot_decision_boundary(
    model: torch.nn.Module,
    X: ArrayLike,
    y: ArrayLike,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    class_names: Sequence[str] | None = None,
    resolution: int = 200,
    margin: float = 0.25,
    colorbar: bool = True,
) -> Figure:
    """Colour the input plane by what ``model`` predicts there, and draw the points on top.

    A model with one output is read as binary (a logit: the shading is the sigmoid
    probability of class 1, read off a colour bar, and the black line is where it crosses
    0.5); a model with C > 1 outputs is read as C-class logits (the shading is the argmax,
    in the colours of the points, and the colour bar names the classes). The grid is
    evaluated on the model's own device and dtype, in eval mode; the model stays where it
    is and every submodule's train/eval mode is put back afterwards.

    Taught in 02_xor_classifier; used again in 04_classification.

    Args:
        model: maps a ``(N, 2)`` float tensor to ``(N,)``, ``(N, 1)`` or ``(N, C)`` logits.
        X: the points, shape ``(N, 2)``; they also set the plotted range.
        y: their labels.
        ax: an Axes to draw on; a new figure is made when ``None``.
        title: the Axes title.
        class_names: a name per class, in label order (the legend and the colour bar).
        resolution: grid points per axis.
        margin: how far past the data the plane extends.
        colorbar: draw a colour bar beside the plane: the probability scale ``P(class 1)``
            (binary; its black tick marks 0.5, the line) or the colour of each class.

    Raises:
        TypeError / ValueError: not a model, bad points or labels (as
            :func:`plot_classes_2d`), a resolution below 2, or outputs of another shape.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    X_np, y_np = _points_and_labels(X, y, class_names)
    if not len(X_np):
        raise ValueError("X holds no points: nothing sets the plotted range")
    device, dtype = _model_device_and_dtype(model)

    (x_min, y_min), (x_max, y_max) = X_np.min(axis=0) - margin, X_np.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution),
                         np.linspace(y_min, y_max, resolution))
    grid = torch.from_numpy(np.column_stack([xx.ravel(), yy.ravel()])).to(device, dtype)
    with mode_restored(model, training=False):
        logits = model(grid)
    if not isinstance(logits, torch.Tensor) or logits.ndim not in (1, 2) \
            or logits.shape[0] != len(grid):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(
            f"model must map (N, 2) points to (N,), (N, 1) or (N, C) logits; "
            f"for {len(grid)} points it returned {shape}"
        )
    logits = logits.float().cpu()
    binary = logits.ndim == 1 or logits.shape[1] == 1
    if binary:
        values = torch.sigmoid(logits.reshape(-1)).numpy().reshape(xx.shape)
    else:
        values = logits.argmax(dim=1).numpy().reshape(xx.shape)
        n_classes = logits.shape[1]

    own_figure = ax is None
    with _new_or_given_axes(ax, (5.8, 5)) as (fig, ax):
        if binary:
            shading = ax.contourf(xx, yy, values, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                                  alpha=0.3)
            ax.contour(xx, yy, values, levels=[0.5], colors="black", linewidths=1)
        else:
            shading = ax.contourf(xx, yy, values, levels=np.arange(n_classes + 1) - 0.5,
                                  colors=_class_colors(n_classes), alpha=0.35)
        _scatter_classes(ax, X_np, y_np, class_names, size=12)
        if colorbar:
            bar = fig.colorbar(shading, ax=ax, fraction=0.046, pad=0.04)
            if binary:
                has_name = class_names is not None and len(class_names) > 1
                bar.set_label(f"P({class_names[1] if has_name else 'class 1'})")
                bar.set_ticks([0, 0.25, 0.5, 0.75, 1])
                bar.ax.axhline(0.5, color="black", linewidth=1)
            else:
                names = (list(class_names)[:n_classes]
                         if class_names is not None and len(class_names) >= n_classes
                         else [f"class {k}" for k in range(n_classes)])
                bar.set_label("predicted class")
                bar.set_ticks(np.arange(n_classes))
                bar.set_ticklabels([str(name) for name in names])
        ax.set_xlim(x_min, x_max)
        ax.set_ylim(y_min, y_max)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.legend(loc="best", fontsize="small")
        if title:
            ax.set_title(title)
        if own_figure:  # labels inside the canvas, also where it is saved as is (TensorBoard)
            fig.tight_layout()
    return fig


def plot_predictions(
    train_x: ArrayLike,
    train_y: ArrayLike,
    test_x: ArrayLike,
    test_y: ArrayLike,
    predictions: ArrayLike | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Plot a 1-D regression problem: training data, test data and (optionally) predictions.

    Taught in 03_workflow_regression.

    Args:
        train_x, train_y: training inputs and targets, each with N values.
        test_x, test_y: test inputs and targets.
        predictions: the model's outputs at ``test_x``, or ``None``.
    """
    tx, ty = to_numpy(train_x).reshape(-1), to_numpy(train_y).reshape(-1)
    vx, vy = to_numpy(test_x).reshape(-1), to_numpy(test_y).reshape(-1)
    if len(tx) != len(ty):
        raise ValueError(f"train_x has {len(tx)} values but train_y has {len(ty)}")
    if len(vx) != len(vy):
        raise ValueError(f"test_x has {len(vx)} values but test_y has {len(vy)}")
    p = None if predictions is None else to_numpy(predictions).reshape(-1)
    if p is not None and len(p) != len(vx):
        raise ValueError(f"predictions has {len(p)} values but test_x has {len(vx)}")
    with _new_or_given_axes(ax, (7, 4.5)) as (fig, ax):
        ax.scatter(tx, ty, s=12, c="tab:blue", label="training data")
        ax.scatter(vx, vy, s=12, c="tab:green", label="test data")
        if p is not None:
            # crosses, so a prediction that hits its target does not hide the test point
            ax.scatter(vx, p, s=36, c="tab:red", marker="x", label="predictions")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        if title:
            ax.set_title(title)
        ax.legend(loc="best")
    return fig


def plot_history(
    history: Mapping[str, Sequence[float]],
    *,
    title: str | None = None,
) -> Figure:
    """Plot per-epoch curves from a history dict: losses on the left, accuracies on the right.

    Keys containing ``"loss"`` go to the loss panel, keys containing ``"acc"`` to the
    accuracy panel (which is left out when there are none). The x-axis is the epoch, from 1.
    Taught in 02_xor_classifier; ``helpers.engine.fit`` returns such a dict (05).

    Args:
        history: e.g. ``{"train_loss": [...], "eval_loss": [...], "train_acc": [...]}``.
        title: the figure title.
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict of lists, got {type(history).__name__}")
    loss_keys = [k for k in history if "loss" in k]
    acc_keys = [k for k in history if "acc" in k]
    if not loss_keys and not acc_keys:
        raise ValueError(
            f"history needs keys containing 'loss' or 'acc', got {sorted(history)}"
        )
    curves = {}
    for key in loss_keys + acc_keys:
        try:
            curves[key] = [float(v) for v in history[key]]
        except (TypeError, ValueError) as exc:
            raise TypeError(f"history[{key!r}] must be a list of numbers ({exc})") from exc
    panels = [("loss", loss_keys), ("accuracy", acc_keys)]
    panels = [(name, keys) for name, keys in panels if keys]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    with _closed_on_error(fig):
        for ax, (name, keys) in zip(axes[0], panels, strict=True):
            for key in keys:
                values = curves[key]
                ax.plot(range(1, len(values) + 1), values,
                        marker="o" if len(values) <= 30 else None, markersize=3, label=key)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
            ax.set_ylabel(name)
            ax.legend(loc="best")
            ax.grid(alpha=0.3)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig


def _image_array(img: Any, index: int) -> np.ndarray:
    """One image as an HW or HWC array that ``imshow`` draws as meant; raise if it is none."""
    if isinstance(img, torch.Tensor):
        img = to_numpy(img)
        if img.ndim == 3:  # tensors are CHW
            img = img.transpose(1, 2, 0)
    else:
        if hasattr(img, "getbands") and hasattr(img, "convert"):  # a PIL image
            if img.mode not in ("L", "RGB", "RGBA"):  # palette, 1-bit, CMYK, 16-bit ...
                img = img.convert("RGB")
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3, 4):
            img = img.transpose(1, 2, 0)  # a CHW array -> HWC
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] not in (3, 4)):
        raise ValueError(f"image {index} has shape {img.shape}; expected HW, CHW or HWC")
    if img.dtype == np.bool_:
        img = img.astype(np.float32)
    if np.issubdtype(img.dtype, np.floating):
        return np.clip(img, 0.0, 1.0)
    if np.issubdtype(img.dtype, np.integer):
        return np.clip(img, 0, 255).astype(np.uint8)
    raise TypeError(f"image {index} has dtype {img.dtype}; expected numbers")


def plot_image_grid(
    images: ArrayLike | Sequence[Any],
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 5,
    title_colors: Sequence[str] | None = None,
    cmap: str | None = None,
    figsize_per_image: float = 1.8,
    suptitle: str | None = None,
) -> Figure:
    """Show images in a grid with optional titles (coloured, e.g. green right / red wrong).

    Accepts a ``(N, C, H, W)`` or ``(N, H, W)`` tensor or array, or a list of CHW tensors,
    HWC or CHW arrays or PIL images. Single-channel images are drawn in grey on a fixed
    scale, black = 0 and white = 1 (floats) or 255 (integers), so a faint digit looks faint
    rather than stretched to full contrast. Float images are clipped to [0, 1] (un-normalise
    them first), integer images to [0, 255]. Taught in 05_computer_vision; used in
    06_custom_datasets.

    Raises:
        TypeError / ValueError: not images, no images, or titles/colours of another length.
    """
    if isinstance(images, (torch.Tensor, np.ndarray)):
        items = [images[i] for i in range(len(images))]
    elif isinstance(images, Sequence) and not isinstance(images, (str, bytes)):
        items = list(images)
    else:
        raise TypeError(f"images must be a tensor, an array or a list, got {type(images).__name__}")
    if not items:
        raise ValueError("images is empty: nothing to show")
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"got {len(items)} images but {len(titles)} titles")
    if title_colors is not None and len(title_colors) != len(items):
        raise ValueError(f"got {len(items)} images but {len(title_colors)} title colors")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    arrays = [_image_array(img, i) for i, img in enumerate(items)]
    ncols = min(ncols, len(arrays))
    nrows = -(-len(arrays) // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(figsize_per_image * ncols, figsize_per_image * nrows + 0.3))
    with _closed_on_error(fig):
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i >= len(arrays):
                continue
            img = arrays[i]
            if img.ndim == 2:  # a fixed grey scale, not stretched to this image's min and max
                vmax = 1.0 if np.issubdtype(img.dtype, np.floating) else 255
                ax.imshow(img, cmap=cmap or "gray", vmin=0, vmax=vmax)
            else:
                ax.imshow(img)
            if titles is not None:
                color = title_colors[i] if title_colors is not None else "black"
                ax.set_title(titles[i], fontsize=9, color=color)
        if suptitle:
            fig.suptitle(suptitle)
        fig.tight_layout()
    return fig


def confusion_counts(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Return the ``(num_classes, num_classes)`` confusion matrix: rows true, columns predicted.

    Taught in 04_classification.

    Raises:
        ValueError: labels of different lengths, or a label that is not a whole number in
            ``0 .. num_classes - 1`` (0.7 is refused, not truncated to 0).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    t = _class_labels(y_true, "y_true")
    p = _class_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} labels but y_pred has {len(p)}")
    if len(t) and max(t.max(), p.max()) >= num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {max(t.max(), p.max()).item()}")
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def plot_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    class_names: Sequence[str],
    *,
    normalize: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the confusion matrix as a seaborn heatmap (rows: true class, columns: predicted).

    With ``normalize=True`` each row is divided by its total, so the diagonal is the recall
    of each class. Taught in 04_classification; used again in 05_computer_vision.
    """
    import seaborn as sns  # imported here: only this figure needs it

    if len(class_names) < 2:
        raise ValueError(f"need at least 2 class names, got {list(class_names)}")
    counts = confusion_counts(y_true, y_pred, len(class_names))
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        values = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        fmt = ".2f"
    else:
        values, fmt = counts, "d"
    size = max(4.0, 0.6 * len(class_names) + 2)
    with _new_or_given_axes(ax, (size, size * 0.85)) as (fig, ax):
        sns.heatmap(values, annot=True, fmt=fmt, cmap="Blues", cbar=False, ax=ax, square=True,
                    xticklabels=class_names, yticklabels=class_names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        if title:
            ax.set_title(title)
    return fig


def plot_decision_boundaries_side_by_side(
    models: Mapping[str, torch.nn.Module],
    X: ArrayLike,
    y: ArrayLike,
    *,
    class_names: Sequence[str] | None = None,
    resolution: int = 200,
    suptitle: str | None = None,
) -> Figure:
    """Draw several models' decision boundaries side by side, one panel per model.

    Each panel is :func:`plot_decision_boundary` on the same points, titled with the model's
    key and with its own colour bar, so what different models learned can be compared at a
    glance. Every model keeps its device and train/eval mode. Taught in 04_classification.

    Args:
        models: ``{"title": model, ...}``, drawn left to right in that order.
        X: the points, shape ``(N, 2)``.
        y: their labels.
        class_names: a name per class, in label order (the legends).
        resolution: grid points per axis in each panel.
        suptitle: a title above all panels.
    """
    if not isinstance(models, Mapping):
        raise TypeError(f"models must be a dict of title -> model, got {type(models).__name__}")
    if not models:
        raise ValueError("models is empty: nothing to draw")
    for name, model in models.items():
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"models[{name!r}] must be a torch.nn.Module, got {type(model).__name__}"
            )
    _points_and_labels(X, y, class_names)
    fig, axes = plt.subplots(1, len(models), figsize=(5.4 * len(models), 4.6), squeeze=False)
    with _closed_on_error(fig):
        for ax, (name, model) in zip(axes[0], models.items(), strict=True):
            plot_decision_boundary(model, X, y, ax=ax, title=str(name), class_names=class_names,
                                   resolution=resolution)
        if suptitle:
            fig.suptitle(suptitle)
        fig.tight_layout()
    return fig
