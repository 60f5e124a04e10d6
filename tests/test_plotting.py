"""Unit tests of helpers.plotting: each figure is drawn headless and inspected."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torch import nn  # noqa: E402

from helpers import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _points(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g) * 2 - 1
    y = (X[:, 0] > 0).long()
    return X, y


# --- to_numpy ------------------------------------------------------------------------------

def test_to_numpy_handles_tensors_arrays_and_lists():
    t = torch.ones(2, requires_grad=True)
    assert isinstance(plotting.to_numpy(t), np.ndarray)
    arr = np.zeros(3)
    assert plotting.to_numpy(arr) is arr
    assert plotting.to_numpy([1, 2]).tolist() == [1, 2]


def test_to_numpy_rejects_other_types():
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        plotting.to_numpy("abc")


# --- plot_classes_2d -----------------------------------------------------------------------

def test_plot_classes_2d_draws_one_collection_per_class():
    X, y = _points()
    fig = plotting.plot_classes_2d(X, y, title="t", class_names=["left", "right"])
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert len(ax.collections) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["left", "right"]
    assert ax.get_title() == "t"


def test_plot_classes_2d_accepts_numpy_and_an_existing_axes():
    X, y = _points()
    fig, ax = plt.subplots()
    assert plotting.plot_classes_2d(X.numpy(), y.numpy().astype(float), ax=ax) is fig


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (torch.zeros(5, 3), torch.zeros(5), r"shape \(N, 2\)"),
        (torch.zeros(5), torch.zeros(5), r"shape \(N, 2\)"),
        (torch.zeros(5, 2), torch.zeros(4), "5 points but y has 4"),
    ],
)
def test_plot_classes_2d_rejects_bad_shapes(X, y, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_classes_2d(X, y)


# --- plot_decision_boundary ----------------------------------------------------------------

def test_decision_boundary_binary_puts_the_line_where_the_model_says():
    X, y = _points()
    model = nn.Linear(2, 1)
    with torch.no_grad():  # logit = 10 * x1: the boundary is x1 = 0
        model.weight.copy_(torch.tensor([[10.0, 0.0]]))
        model.bias.zero_()
    fig = plotting.plot_decision_boundary(model, X, y, resolution=50, title="b")
    ax = fig.axes[0]
    assert ax.get_title() == "b"
    assert len(ax.collections) >= 3  # filled contours, the 0.5 line, the points


def test_decision_boundary_multiclass_and_restores_training_mode():
    X, _ = _points(60)
    y = torch.randint(0, 3, (60,), generator=torch.Generator().manual_seed(1))
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    model.train()
    plotting.plot_decision_boundary(model, X, y, resolution=20)
    assert model.training
    model.eval()
    plotting.plot_decision_boundary(model, X, y, resolution=20)
    assert not model.training


def test_decision_boundary_leaves_the_model_on_its_device_and_unchanged():
    X, y = _points()
    model = nn.Linear(2, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    plotting.plot_decision_boundary(model, X, y, resolution=10)
    assert next(model.parameters()).device.type == "cpu"
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def test_decision_boundary_rejects_bad_input():
    X, y = _points()
    with pytest.raises(TypeError, match="torch.nn.Module"):
        plotting.plot_decision_boundary(lambda x: x, X, y)
    with pytest.raises(ValueError, match="resolution"):
        plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, resolution=1)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plotting.plot_decision_boundary(nn.Linear(3, 1), torch.zeros(4, 3), torch.zeros(4))


# --- plot_predictions ----------------------------------------------------------------------

def test_plot_predictions_draws_train_test_and_predictions():
    x = torch.arange(10.0).unsqueeze(1)
    fig = plotting.plot_predictions(x[:8], x[:8], x[8:], x[8:], predictions=x[8:] + 1)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["training data", "test data", "predictions"]


def test_plot_predictions_without_predictions():
    x = np.arange(4.0)
    fig = plotting.plot_predictions(x, x, x, x)
    assert len(fig.axes[0].collections) == 2


def test_plot_predictions_rejects_mismatched_lengths():
    x = torch.arange(4.0)
    with pytest.raises(ValueError, match="train_x has 4 values but train_y has 3"):
        plotting.plot_predictions(x, x[:3], x, x)
    with pytest.raises(ValueError, match="predictions has 2 values"):
        plotting.plot_predictions(x, x, x, x, predictions=x[:2])


# --- plot_history --------------------------------------------------------------------------

def test_plot_history_has_a_loss_and_an_accuracy_panel():
    history = {"train_loss": [1.0, 0.5, 0.2], "eval_loss": [1.1, 0.6, 0.4],
               "train_acc": [0.5, 0.8, 0.9]}
    fig = plotting.plot_history(history, title="h")
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 1
    assert list(loss_ax.lines[0].get_xdata()) == [1, 2, 3]  # epochs count from 1


def test_plot_history_losses_only():
    fig = plotting.plot_history({"train_loss": [3, 2, 1]})
    assert len(fig.axes) == 1


def test_plot_history_rejects_bad_input():
    with pytest.raises(TypeError, match="dict of lists"):
        plotting.plot_history([1, 2, 3])
    with pytest.raises(ValueError, match="'loss' or 'acc'"):
        plotting.plot_history({"lr": [0.1]})


# --- plot_image_grid -----------------------------------------------------------------------

def test_plot_image_grid_from_an_nchw_tensor_with_coloured_titles():
    images = torch.rand(7, 1, 8, 8)
    fig = plotting.plot_image_grid(images, titles=[str(i) for i in range(7)], ncols=4,
                                   title_colors=["green"] * 6 + ["red"])
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 8 and len(shown) == 7
    assert shown[6].get_title() == "6"
    assert matplotlib.colors.to_hex(shown[6].title.get_color()) == "#ff0000"


def test_plot_image_grid_from_a_list_of_hwc_arrays_and_chw_tensors():
    items = [np.zeros((8, 8, 3), dtype=np.uint8), torch.rand(3, 8, 8)]
    fig = plotting.plot_image_grid(items)
    assert sum(1 for ax in fig.axes if ax.images) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"images": []}, ValueError, "empty"),
        ({"images": 5}, TypeError, "tensor, an array or a list"),
        ({"titles": ["a"]}, ValueError, "2 images but 1 titles"),
        ({"ncols": 0}, ValueError, "ncols"),
        ({"images": torch.rand(2, 2, 3, 4, 5)}, ValueError, "expected HW, CHW or HWC"),
    ],
)
def test_plot_image_grid_rejects_bad_input(kwargs, error, message):
    args = {"images": torch.rand(2, 1, 4, 4), **kwargs}
    with pytest.raises(error, match=message):
        plotting.plot_image_grid(**args)


# --- confusion matrix ----------------------------------------------------------------------

def test_confusion_counts_rows_are_true_columns_predicted():
    counts = plotting.confusion_counts(torch.tensor([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_confusion_counts_rejects_bad_labels():
    with pytest.raises(ValueError, match="0..1"):
        plotting.confusion_counts([0, 2], [0, 1], 2)
    with pytest.raises(ValueError, match="2 labels but y_pred has 1"):
        plotting.confusion_counts([0, 1], [0], 2)


def test_plot_confusion_matrix_annotates_counts_and_normalized_rows():
    y_true, y_pred = [0, 0, 1, 1, 1], [0, 1, 1, 1, 0]
    fig = plotting.plot_confusion_matrix(y_true, y_pred, ["a", "b"], title="cm")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["1", "1", "1", "2"]
    fig = plotting.plot_confusion_matrix(y_true, y_pred, ["a", "b"], normalize=True)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.50", "0.50", "0.33", "0.67"]


def test_plot_confusion_matrix_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 class names"):
        plotting.plot_confusion_matrix([0], [0], ["only"])
