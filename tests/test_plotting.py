"""Unit tests of helpers.plotting: each figure is drawn headless and inspected."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import types  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

import helpers  # noqa: E402
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


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float8_e4m3fn])
def test_to_numpy_handles_dtypes_numpy_lacks(dtype):
    t = torch.tensor([0.5, 1.0, -2.0]).to(dtype)
    array = plotting.to_numpy(t)
    assert array.dtype in (np.float16, np.float32)
    assert array.tolist() == [0.5, 1.0, -2.0]


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


def test_plot_classes_2d_accepts_numpy_and_float_labels():
    X, y = _points()
    fig = plotting.plot_classes_2d(X.numpy(), y.numpy().astype(float))
    assert len(fig.axes[0].collections) == 2


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


def _scatter_colors(ax):
    """The legend label -> face colour (hex) of each scatter collection on ``ax``."""
    return {c.get_label(): matplotlib.colors.to_hex(c.get_facecolor()[0])
            for c in ax.collections if c.get_label() and not c.get_label().startswith("_")}


def test_plot_classes_2d_colours_follow_the_label_value():
    X, _ = _points(6)
    binary = plotting.plot_classes_2d(X, torch.tensor([0, 1, 0, 1, 0, 1])).axes[0]
    assert _scatter_colors(binary) == {"class 0": "#1f77b4", "class 1": "#d62728"}  # blue, red
    only_ones = plotting.plot_classes_2d(X, torch.ones(6)).axes[0]
    assert _scatter_colors(only_ones) == {"class 1": "#d62728"}  # still red without class 0
    tab10 = plt.get_cmap("tab10")
    three = plotting.plot_classes_2d(X, np.array([0, 2, 0, 2, 0, 2])).axes[0]  # no class 1
    assert _scatter_colors(three)["class 2"] == matplotlib.colors.to_hex(tab10(2))


@pytest.mark.parametrize(
    ("labels", "message"),
    [([0, 1, -1, 0], "got -1"), ([0.0, 0.5, 1.0, 1.0], "got 0.5"),
     ([0.0, float("nan"), 1.0, 1.0], "got nan"), (["a", "b", "c", "d"], "integer class labels")],
)
def test_plot_classes_2d_rejects_labels_that_are_no_classes(labels, message):
    X, _ = _points(4)
    with pytest.raises((ValueError, TypeError), match=message):
        plotting.plot_classes_2d(X, np.array(labels))
    assert plt.get_fignums() == []


def test_plot_classes_2d_rejects_too_few_class_names():
    X, y = _points()
    with pytest.raises(ValueError, match="class_names has 1 names but y holds label 1"):
        plotting.plot_classes_2d(X, y, class_names=["only"])


# --- plot_decision_boundary ----------------------------------------------------------------

def test_decision_boundary_points_match_the_scatter_plot_and_take_class_names():
    X, y = _points()
    names = ["left", "right"]
    scatter = _scatter_colors(plotting.plot_classes_2d(X, y, class_names=names).axes[0])
    fig = plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, class_names=names,
                                          resolution=10)
    assert _scatter_colors(fig.axes[0]) == scatter == {"left": "#1f77b4", "right": "#d62728"}


def test_decision_boundary_binary_puts_the_line_where_the_model_says():
    X, y = _points()
    model = nn.Linear(2, 1)
    with torch.no_grad():  # logit = 10 * x1: the boundary is x1 = 0
        model.weight.copy_(torch.tensor([[10.0, 0.0]]))
        model.bias.zero_()
    fig = plotting.plot_decision_boundary(model, X, y, resolution=50, title="b")
    ax = fig.axes[0]
    assert ax.get_title() == "b"
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert len(lines) == 1
    vertices = np.concatenate([p.vertices for p in lines[0].get_paths()])
    assert len(vertices) >= 2
    assert np.abs(vertices[:, 0]).max() < 0.01  # on x1 = 0 ...
    assert vertices[:, 1].min() < -0.9 and vertices[:, 1].max() > 0.9  # ... from bottom to top


def _colorbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_decision_boundary_binary_has_a_probability_colour_bar():
    X, y = _points()
    fig = plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, resolution=10)
    (bar,) = _colorbars(fig)
    assert bar.get_ylabel() == "P(class 1)"
    assert bar.get_ylim() == (0.0, 1.0)
    named = plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, resolution=10,
                                            class_names=["left", "right"])
    assert _colorbars(named)[0].get_ylabel() == "P(right)"


def test_decision_boundary_multiclass_shades_each_class_in_its_points_colour():
    X, _ = _points(60)
    y = torch.arange(60) % 3
    model = nn.Linear(2, 3)
    with torch.no_grad():  # three sectors, so every class is predicted somewhere
        model.weight.copy_(torch.tensor([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]]))
        model.bias.zero_()
    fig = plotting.plot_decision_boundary(model, X, y, resolution=30,
                                          class_names=["a", "b", "c"])
    (bar,) = _colorbars(fig)
    assert [t.get_text() for t in bar.get_yticklabels()] == ["a", "b", "c"]
    (shading,) = [c for c in fig.axes[0].collections if isinstance(c, ContourSet)]
    shades = [matplotlib.colors.to_hex(c, keep_alpha=False) for c in shading.get_facecolor()]
    assert shades == [matplotlib.colors.to_hex(plt.get_cmap("tab10")(k)) for k in range(3)]
    assert list(_scatter_colors(fig.axes[0]).values()) == shades


def test_decision_boundary_feeds_the_model_its_own_dtype():
    X, y = _points()

    class Float64Only(nn.Linear):
        def forward(self, x):
            assert x.dtype == torch.float64, x.dtype
            return super().forward(x)

    plotting.plot_decision_boundary(Float64Only(2, 1).double(), X, y, resolution=10)
    plotting.plot_decision_boundary(nn.Linear(2, 3).to(torch.bfloat16), X, y % 3, resolution=10)


def test_decision_boundary_and_scatter_keep_their_labels_inside_the_canvas():
    # TensorBoard's add_figure saves the canvas as it is, without bbox_inches="tight"
    X, y = _points()
    for fig in (plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, resolution=10),
                plotting.plot_classes_2d(X, y)):
        renderer = fig.canvas.get_renderer()
        box = fig.axes[0].get_tightbbox(renderer)
        assert box.x0 >= 0 and box.y0 >= 0
        assert box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height


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


class _RecordsMoves(nn.Linear):
    """Counts every change of device or dtype (``.to``, ``.cpu``, ``.cuda`` all go through
    ``_apply``): on a CPU a move would otherwise be invisible."""

    applied = 0

    def _apply(self, fn, *args, **kwargs):
        type(self).applied += 1
        return super()._apply(fn, *args, **kwargs)


def test_decision_boundary_leaves_the_model_on_its_device_and_unchanged():
    X, y = _points()
    model = _RecordsMoves(2, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _RecordsMoves.applied = 0
    plotting.plot_decision_boundary(model, X, y, resolution=10)
    assert _RecordsMoves.applied == 0
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def test_decision_boundary_puts_back_each_submodule_s_own_mode():
    X, y = _points()
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    model.train()
    model[1].eval()  # kept in eval mode on purpose
    plotting.plot_decision_boundary(model, X, y, resolution=10)
    assert [m.training for m in model.modules()] == [True, True, False, True]


def test_decision_boundary_rejects_bad_input():
    X, y = _points()
    with pytest.raises(TypeError, match="torch.nn.Module"):
        plotting.plot_decision_boundary(lambda x: x, X, y)
    with pytest.raises(ValueError, match="resolution"):
        plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, resolution=1)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plotting.plot_decision_boundary(nn.Linear(3, 1), torch.zeros(4, 3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"returned \(100, 2, 2\)"):
        plotting.plot_decision_boundary(nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (2, 2))),
                                        X, y, resolution=10)


# --- plot_predictions ----------------------------------------------------------------------

def test_plot_predictions_draws_train_test_and_predictions():
    x = torch.arange(10.0).unsqueeze(1)
    fig = plotting.plot_predictions(x[:8], x[:8], x[8:], x[8:], predictions=x[8:] + 1)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["training data", "test data", "predictions"]


def test_plot_predictions_names_and_colours_a_validation_split():
    x = np.arange(4.0)
    fig = plotting.plot_predictions(x, x, x, x, predictions=x, split="validation")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["training data", "validation data", "predictions"]
    assert matplotlib.colors.same_color(ax.collections[1].get_facecolor()[0], "tab:orange")
    test = plotting.plot_predictions(x, x, x, x).axes[0].collections[1]
    assert matplotlib.colors.same_color(test.get_facecolor()[0], "tab:green")
    with pytest.raises(ValueError, match="split must be 'test' or 'validation', got 'val'"):
        plotting.plot_predictions(x, x, x, x, split="val")


def test_plot_predictions_without_predictions():
    x = np.arange(4.0)
    fig = plotting.plot_predictions(x, x, x, x)
    assert len(fig.axes[0].collections) == 2


def test_plot_predictions_rejects_mismatched_lengths():
    x = torch.arange(4.0)
    with pytest.raises(ValueError, match="train_x has 4 values but train_y has 3"):
        plotting.plot_predictions(x, x[:3], x, x)
    with pytest.raises(ValueError, match="test_x has 4 values but predictions has 2"):
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
    with pytest.raises(ValueError, match=r"history\['eval_loss'\] is empty"):  # was a blank plot
        plotting.plot_history({"train_loss": [0.5], "eval_loss": []})


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


def test_plot_image_grid_draws_grey_on_a_fixed_scale():
    faint = torch.full((1, 1, 6, 6), 0.2)  # autoscaling would stretch it to full contrast
    ax = plotting.plot_image_grid(faint).axes[0]
    assert ax.images[0].get_clim() == (0.0, 1.0)
    raw = np.full((1, 6, 6), 40, dtype=np.uint8)
    ax = plotting.plot_image_grid(raw).axes[0]
    assert ax.images[0].get_clim() == (0.0, 255.0)
    assert ax.images[0].get_cmap().name == "gray"


def test_plot_image_grid_accepts_chw_arrays_and_clips_floats():
    nchw = np.random.default_rng(0).normal(size=(3, 1, 5, 7)).astype(np.float32)
    fig = plotting.plot_image_grid(nchw, titles=["a", "b", "c"])
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert [a.shape for a in shown] == [(5, 7)] * 3
    assert all(a.min() >= 0.0 and a.max() <= 1.0 for a in shown)
    fig = plotting.plot_image_grid([np.zeros((3, 5, 7), dtype=np.uint8)])  # one CHW colour
    assert fig.axes[0].images[0].get_array().shape == (5, 7, 3)


def test_plot_image_grid_draws_pil_images():
    grey = Image.new("L", (6, 4), color=40)
    colour = Image.new("RGB", (6, 4), color=(255, 0, 0))
    palette = colour.convert("P")  # as an array, a palette image is indices, not colours
    fig = plotting.plot_image_grid([grey, colour, palette], titles=["L", "RGB", "P"])
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert [a.shape for a in shown] == [(4, 6), (4, 6, 3), (4, 6, 3)]
    assert fig.axes[0].images[0].get_clim() == (0.0, 255.0)
    assert np.asarray(shown[2])[0, 0].tolist() == [255, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"images": []}, ValueError, "empty"),
        ({"images": 5}, TypeError, "tensor, an array or a list"),
        ({"titles": ["a"]}, ValueError, "2 images but 1 titles"),
        ({"ncols": 0}, ValueError, "ncols"),
        ({"images": torch.rand(2, 2, 3, 4, 5)}, ValueError, "expected HW, CHW or HWC"),
        ({"images": [torch.rand(1, 4, 4), torch.rand(2, 4, 4)]}, ValueError,
         "image 1 is a tensor of shape"),
        ({"images": "ab"}, TypeError, "tensor, an array or a list"),
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
    with pytest.raises(ValueError, match=r"got 0.7; from \(N, C\) logits take \.argmax"):
        plotting.confusion_counts([0.7, 1.0], [0, 1], 2)  # not truncated to class 0
    one_hot = torch.eye(3)[[0, 2]]  # (N, C) rows are no labels, and were flattened to 2 * 3
    with pytest.raises(ValueError, match=r"y_pred must hold one value per sample, shape \(N,\) "
                                         r"or \(N, 1\), got \(2, 3\); .*argmax\(dim=1\)"):
        plotting.confusion_counts([0, 2], one_hot, 3)
    assert plotting.confusion_counts([[0], [2]], np.array([[0], [1]]), 3).sum() == 2  # (N, 1)
    with pytest.raises(ValueError, match="got -1"):
        plotting.confusion_counts([0, 1], [-1, 1], 2)
    with pytest.raises(ValueError, match="num_classes"):
        plotting.confusion_counts([0, 1], [0, 1], 0)


def test_plot_confusion_matrix_annotates_counts():
    y_true, y_pred = [0, 0, 1, 1, 1], [0, 1, 1, 1, 0]
    fig = plotting.plot_confusion_matrix(y_true, y_pred, ["a", "b"], title="cm")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["1", "1", "1", "2"]
    assert fig.axes[0].get_title() == "cm"


def test_plot_confusion_matrix_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 class names"):
        plotting.plot_confusion_matrix([0], [0], ["only"])


# --- a failed call leaves no figure behind -----------------------------------------------------

def _fails_after_the_checks_of_old():
    X, y = _points()
    x = torch.arange(4.0)
    return [
        lambda: plotting.plot_classes_2d(X, y, class_names=["only"]),
        lambda: plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, class_names=["only"]),
        lambda: plotting.plot_decision_boundary(nn.Linear(2, 3), X, y + 4, resolution=10,
                                                class_names=["a", "b", "c"]),
        lambda: plotting.plot_predictions(x, x, x, x, predictions=x[:2]),
        lambda: plotting.plot_image_grid([torch.rand(1, 4, 4), torch.rand(2, 4, 4)]),
        lambda: plotting.plot_history({"train_loss": [1.0, "x"]}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_a_failed_call_leaves_no_figure(index):
    call = _fails_after_the_checks_of_old()[index]
    assert plt.get_fignums() == []
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        call()
    assert plt.get_fignums() == []


def _legend_fails(*args, **kwargs):
    raise RuntimeError("drawing failed")


def test_a_failure_while_drawing_closes_only_a_figure_made_here(monkeypatch):
    X, y = _points()
    monkeypatch.setattr(matplotlib.axes.Axes, "legend", _legend_fails)
    with pytest.raises(RuntimeError, match="drawing failed"):
        plotting.plot_classes_2d(X, y)
    assert plt.get_fignums() == []
    fig, ax = plt.subplots()  # the caller's figure stays open: it may hold other panels
    with pytest.raises(RuntimeError, match="drawing failed"):
        plotting.plot_decision_boundary(nn.Linear(2, 1), X, y, ax=ax, resolution=10)
    assert plt.get_fignums() == [fig.number]


# --- the package's names -----------------------------------------------------------------

def test_all_lists_exactly_the_public_names_and_each_exists():
    public = {n for n, v in vars(helpers).items()
              if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    assert sorted(helpers.__all__, key=str.lower) == sorted(public, key=str.lower)
    assert len(set(helpers.__all__)) == len(helpers.__all__)


def test_plot_history_ticks_whole_epochs_only():
    fig = plotting.plot_history({"train_loss": [0.9, 0.5, 0.4]})
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    visible = [t for t in ticks if 1 <= t <= 3]
    assert visible and all(float(t).is_integer() for t in visible), ticks
    plt.close(fig)


# --- the defects of the last review, each pinned down ----------------------------------------

def _rgb(color):
    return tuple(round(c, 3) for c in matplotlib.colors.to_rgb(color))


def test_a_two_output_binary_model_shades_in_the_colours_of_its_points():
    X, y = _points()
    fig = plotting.plot_decision_boundary(nn.Linear(2, 2), X, y, resolution=10)
    ax = fig.axes[0]
    shading = next(c for c in ax.collections if isinstance(c, ContourSet))
    shaded = {_rgb(color) for color in shading.get_facecolor()}
    points = {_rgb(c.get_facecolor()[0]) for c in ax.collections
              if not isinstance(c, ContourSet)}
    assert points == {_rgb("tab:blue"), _rgb("tab:red")}
    assert shaded == points


def test_points_that_are_not_finite_are_refused_before_drawing():
    X, y = _points()
    X[3, 1] = float("nan")
    for call in (lambda: plotting.plot_decision_boundary(nn.Linear(2, 1), X, y),
                 lambda: plotting.plot_classes_2d(X, y)):
        with pytest.raises(ValueError, match="NaN or inf"):
            call()
    X[3, 1] = float("inf")
    with pytest.raises(ValueError, match="NaN or inf"):
        plotting.plot_decision_boundary(nn.Linear(2, 1), X, y)
    assert plt.get_fignums() == []


def test_a_float_image_in_0_to_255_is_refused_not_drawn_white():
    digit = torch.zeros(1, 28, 28)
    digit[0, 10:18, 10:18] = 255.0
    with pytest.raises(ValueError, match="0-255 image.*divide it by 255"):
        plotting.plot_image_grid([digit])
    fig = plotting.plot_image_grid([digit / 255])  # what it says to do
    assert fig.axes[0].images[0].get_array().max() == 1.0
    normalised = torch.randn(1, 8, 8) * 2  # fractions beyond [0, 1]: clipped, as documented
    assert plotting.plot_image_grid([normalised]).axes[0].images[0].get_array().max() <= 1.0


def test_plot_predictions_refuses_two_columns_instead_of_flattening_them():
    x = torch.arange(6.0)
    with pytest.raises(ValueError, match=r"train_x must hold one value per sample.*\(6, 2\)"):
        plotting.plot_predictions(torch.stack([x, x], dim=1), x, x, x)
    fig = plotting.plot_predictions(x[:, None], x[:, None], x, x, predictions=x[:, None])
    assert len(fig.axes[0].collections) == 3


def test_to_numpy_shares_memory_with_a_cpu_tensor():
    t = torch.zeros(3)
    array = plotting.to_numpy(t)
    t[0] = 5.0
    assert array[0] == 5.0  # no copy: the docstring says so


@pytest.mark.parametrize(("n", "ncols", "rows"), [(5, 5, 1), (6, 5, 2), (10, 5, 2), (11, 5, 3),
                                                  (3, 5, 1)])
def test_plot_image_grid_makes_just_enough_rows(n, ncols, rows):
    fig = plotting.plot_image_grid(torch.rand(n, 1, 4, 4), ncols=ncols)
    shape = fig.axes[0].get_subplotspec().get_gridspec().get_geometry()
    assert shape == (rows, min(n, ncols))


def test_the_decision_boundary_runs_in_eval_mode_so_batch_norm_statistics_stay():
    X, y = _points()
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    model.train()
    stats = model[1].running_mean.clone(), model[1].num_batches_tracked.clone()
    plotting.plot_decision_boundary(model, X, y, resolution=10)
    assert torch.equal(model[1].running_mean, stats[0])
    assert torch.equal(model[1].num_batches_tracked, stats[1])
    assert model.training


def test_confusion_counts_agree_with_scikit_learn_and_list_every_class():
    from sklearn.metrics import confusion_matrix

    t, p = np.array([0, 1, 1, 2, 0]), np.array([0, 2, 1, 2, 1])
    counts = plotting.confusion_counts(t, p, 4)
    assert counts.shape == (4, 4) and counts[3].sum() == 0  # class 3 never occurs: still a row
    assert np.array_equal(counts[:3, :3], confusion_matrix(t, p))
    assert np.array_equal(plotting.confusion_counts(torch.tensor(t), torch.tensor(p), np.int64(3)),
                          confusion_matrix(t, p))


def test_plot_image_grid_names_an_hwc_tensor_as_the_caller_gave_it():
    """An HWC tensor is refused with its own shape and the fix, not a transposed shape."""
    with pytest.raises(ValueError, match=r"tensor of shape \(8, 9, 3\).*permute\(2, 0, 1\)"):
        plotting.plot_image_grid([torch.rand(8, 9, 3)])
    plt.close("all")


def test_too_few_class_names_for_the_model_s_outputs_are_refused():
    """Not silently replaced by "class k": the error says how many names it needs."""
    X, y = _points()
    with pytest.raises(ValueError, match="class_names needs 3 names.*got 2"):
        plotting.plot_decision_boundary(nn.Linear(2, 3), X, y, resolution=10,
                                        class_names=["left", "right"])
    with pytest.raises(ValueError, match="class_names needs 2 names.*got 1"):  # binary: 2 classes
        plotting.plot_decision_boundary(nn.Linear(2, 1), X, y * 0, resolution=10,
                                        class_names=["only"])
    assert plt.get_fignums() == []


def test_a_bool_image_is_drawn_black_and_white():
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[2:6, 2:6] = True
    rgb = np.stack([mask.numpy()] * 3, axis=-1)
    fig = plotting.plot_image_grid([mask[None], mask.numpy(), rgb])
    for ax in fig.axes:
        image = ax.images[0]
        painted = np.asarray(image.to_rgba(image.get_array()))[..., :3]  # what imshow paints
        assert painted[4, 4].tolist() == [1.0, 1.0, 1.0]  # True: white
        assert painted[0, 0].tolist() == [0.0, 0.0, 0.0]  # False: black
