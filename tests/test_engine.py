"""Unit tests of helpers.engine: the numbers it returns, the modes it leaves, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import engine
from helpers.engine import count_correct, evaluate, fit, predict, train_one_epoch


class FixedLogits(nn.Module):
    """Returns its input as the logits (plus 0 * a parameter, so an optimizer has work)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + 0 * self.w


def _blobs(n=90, seed=0):
    """Three well separated classes in 2-D: any small model learns them in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.tensor([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    X = centres[y] + 0.5 * torch.randn(n, 2, generator=g)
    return X, y


def _loader(X, y, batch_size=16, shuffle=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, generator=g)


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


# --- count_correct -------------------------------------------------------------------------

def test_count_correct_multiclass_uses_the_argmax():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0], [1.0, 3.0, 0.0]])
    result = count_correct(logits, torch.tensor([0, 2, 0]))
    assert isinstance(result, torch.Tensor) and result.ndim == 0
    assert result.item() == 2


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_count_correct_binary_reads_logits_above_zero_as_class_1(shape):
    logits = torch.tensor([3.0, -1.0, 0.5, -2.0]).reshape(shape)
    assert count_correct(logits, torch.tensor([1.0, 0.0, 0.0, 0.0]).reshape(shape)).item() == 3
    assert count_correct(logits, torch.tensor([1, 0, 1, 0])).item() == 4


def test_count_correct_accepts_every_form_of_class_labels():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0]])
    assert count_correct(logits, torch.tensor([0.0, 2.0])).item() == 2  # whole-number floats
    binary = torch.tensor([[3.0], [-1.0]])
    assert count_correct(binary, torch.tensor([[1.0], [0.0]])).item() == 2  # (N, 1) and (N, 1)
    assert count_correct(binary, torch.tensor([True, True])).item() == 1  # bools


@pytest.mark.parametrize(
    ("logits", "targets", "error", "message"),
    [
        ([1.0, 2.0], torch.tensor([1, 0]), TypeError, "must be tensors"),
        (torch.zeros(3, 2), torch.zeros(4, dtype=torch.long), ValueError, "same number of samples"),
        (torch.tensor(1.0), torch.tensor([1]), ValueError, "same number of samples"),
        (torch.zeros(2, 3, 4), torch.zeros(2, dtype=torch.long), ValueError,
         r"\(N,\), \(N, 1\) or \(N, C\)"),
        (torch.zeros(2, 3), torch.zeros(2, 3), ValueError, "one-hot or probability targets"),
        (torch.zeros(3, 1), torch.zeros(1, 3), ValueError, "same number of samples"),
        (torch.zeros(1, 1), torch.zeros(1, 1, 1), ValueError, "do not match"),
        (torch.zeros(3), torch.zeros(3, 1), ValueError, "do not match"),
    ],
)
def test_count_correct_rejects_bad_input(logits, targets, error, message):
    with pytest.raises(error, match=message):
        count_correct(logits, targets)


@pytest.mark.parametrize(("logits", "targets", "expected"), [
    (torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]), torch.tensor([1.5, 1.0]), 1),  # fraction
    (torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), torch.tensor([3, -1]), 0),  # no class
    (torch.tensor([2.0, -2.0, 1.0]), torch.tensor([1.0, 0.5, 2.0]), 1),  # binary: 0.5 and 2
])
def test_count_correct_never_counts_a_target_that_is_no_class(logits, targets, expected):
    assert count_correct(logits, targets).item() == expected


class HostReads:
    """Counts what makes a GPU finish its queued work: reading a tensor's value on the host."""

    NAMES = ("item", "tolist", "__bool__", "cpu", "__float__", "__int__")

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        for name in self.NAMES:
            monkeypatch.setattr(torch.Tensor, name, self._counting(name, getattr(torch.Tensor, name)))

    def _counting(self, name, original):
        def wrapper(tensor, *args, **kwargs):
            self.calls.append(name)
            return original(tensor, *args, **kwargs)
        return wrapper


def test_count_correct_reads_nothing_from_the_device(monkeypatch):
    logits, targets = torch.randn(8, 3), torch.randint(0, 3, (8,))
    reads = HostReads(monkeypatch)
    count_correct(logits, targets)
    count_correct(logits[:, 0], (targets > 0).float())
    assert reads.calls == []


# --- accuracy and loss count samples, not batches --------------------------------------------

def _uneven_batches():
    """Two batches: 4 samples all right, then 1 sample wrong. Per sample: 4/5 right."""
    right = torch.eye(3)[[0, 1, 2, 0]] * 5
    wrong = torch.eye(3)[[1]] * 5
    return [(right, torch.tensor([0, 1, 2, 0])), (wrong, torch.tensor([0]))]


def test_evaluate_counts_samples_not_batches():
    batches = _uneven_batches()
    result = evaluate(FixedLogits(), batches, nn.CrossEntropyLoss(), "cpu")
    assert result["acc"] == pytest.approx(0.8)  # averaging the batches would give 0.5
    all_logits = torch.cat([b[0] for b in batches])
    all_targets = torch.cat([b[1] for b in batches])
    expected = nn.functional.cross_entropy(all_logits, all_targets).item()
    assert result["loss"] == pytest.approx(expected, rel=1e-6)


def test_train_one_epoch_counts_samples_not_batches():
    batches = _uneven_batches()
    model = FixedLogits()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = train_one_epoch(model, batches, nn.CrossEntropyLoss(), optimizer, "cpu")
    assert result["acc"] == pytest.approx(0.8)
    all_logits = torch.cat([b[0] for b in batches])
    expected = nn.functional.cross_entropy(all_logits, torch.cat([b[1] for b in batches]))
    assert result["loss"] == pytest.approx(expected.item(), rel=1e-6)


def test_train_one_epoch_and_evaluate_agree_with_a_hand_computation_on_a_real_loader():
    X, y = _blobs(50)  # batches of 16: 16, 16, 16, 2
    model = _mlp()
    loader = _loader(X, y)
    with torch.no_grad():
        logits = model(X)
    expected_loss = nn.functional.cross_entropy(logits, y).item()
    expected_acc = (logits.argmax(1) == y).float().mean().item()
    result = evaluate(model, loader, nn.CrossEntropyLoss(), "cpu")
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert result["acc"] == pytest.approx(expected_acc)
    # With a learning rate of 0 the weights never move, so training sees the same numbers.
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    trained = train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, "cpu")
    assert trained["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert trained["acc"] == pytest.approx(expected_acc)


# --- train_one_epoch ----------------------------------------------------------------------------

def test_train_one_epoch_changes_the_weights_and_leaves_train_mode():
    X, y = _blobs()
    model = _mlp()
    model.eval()
    before = [p.clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_one_epoch(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, "cpu")
    assert model.training
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_train_one_epoch_without_accuracy_returns_only_the_loss():
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = train_one_epoch(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, "cpu",
                        track_accuracy=False)
    assert set(result) == {"loss"}


def test_train_one_epoch_works_for_regression():
    # one batch holding all the data: the reported loss is the loss before the one step,
    # and the step is exactly w <- w - lr * dL/dw
    X = torch.linspace(0, 1, 20).unsqueeze(1)
    y = 2 * X + 1
    model = nn.Linear(1, 1)
    before = [p.detach().clone() for p in model.parameters()]
    loss = nn.functional.mse_loss(model(X), y)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = train_one_epoch(model, [(X, y)], nn.MSELoss(), optimizer, "cpu",
                             track_accuracy=False)
    assert set(result) == {"loss"}
    assert result["loss"] == pytest.approx(loss.item(), rel=1e-6)
    for p, b, g in zip(model.parameters(), before, grads, strict=True):
        assert torch.allclose(p, b - 0.1 * g)
    assert evaluate(model, [(X, y)], nn.MSELoss(), "cpu", track_accuracy=False)["loss"] < \
        result["loss"]


def test_train_one_epoch_rejects_bad_input():
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        train_one_epoch(model, _loader(X, y), loss_fn, "adam", "cpu")
    with pytest.raises(ValueError, match="none of this model's parameters"):
        train_one_epoch(model, _loader(X, y), loss_fn,
                        torch.optim.SGD(_mlp().parameters(), lr=0.1), "cpu")
    for bad_loss in ("cross_entropy", nn.CrossEntropyLoss, None):  # None: forgotten
        with pytest.raises(TypeError, match="loss_fn must be callable"):
            train_one_epoch(model, _loader(X, y), bad_loss, optimizer, "cpu")
    with pytest.raises(TypeError, match="pair of tensors"):
        train_one_epoch(model, [(X.tolist(), y)], loss_fn, optimizer, "cpu")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        train_one_epoch(lambda x: x, _loader(X, y), loss_fn, optimizer, "cpu")
    with pytest.raises(TypeError, match="iterable"):
        train_one_epoch(model, 42, loss_fn, optimizer, "cpu")
    with pytest.raises(TypeError, match="device"):
        train_one_epoch(model, _loader(X, y), loss_fn, optimizer, "gpu")
    with pytest.raises(ValueError, match="no samples"):
        train_one_epoch(model, [], loss_fn, optimizer, "cpu")
    with pytest.raises(TypeError, match=r"pair of tensors \(inputs, targets\), got \(Tensor\)"):
        train_one_epoch(model, [(X,)], loss_fn, optimizer, "cpu")
    with pytest.raises(ValueError, match="reduction='mean'.*got reduction='sum'"):
        train_one_epoch(model, _loader(X, y), nn.CrossEntropyLoss(reduction="sum"), optimizer,
                        "cpu")
    with pytest.raises(ValueError, match="reduction='mean'"):
        train_one_epoch(model, _loader(X, y), nn.CrossEntropyLoss(reduction="none"), optimizer, "cpu")
    with pytest.raises(RuntimeError):  # a shape error from the model itself is not hidden
        train_one_epoch(model, [(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long))], loss_fn,
                   optimizer, "cpu")


# --- evaluate -----------------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
def test_evaluate_puts_the_mode_back_and_changes_nothing(training):
    X, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.Dropout(0.5), nn.ReLU(), nn.Linear(16, 3))
    model.train(training)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first = evaluate(model, _loader(X, y), nn.CrossEntropyLoss(), "cpu")
    second = evaluate(model, _loader(X, y), nn.CrossEntropyLoss(), "cpu")
    assert first == second  # eval mode: dropout is off, so two passes agree exactly
    assert model.training is training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def test_evaluate_puts_the_mode_back_after_an_error():
    model = _mlp()
    model.train()
    with pytest.raises(RuntimeError):
        evaluate(model, [(torch.zeros(4, 5), torch.zeros(4, dtype=torch.long))],
                  nn.CrossEntropyLoss(), "cpu")
    assert model.training


def test_evaluate_rejects_bad_input():
    model = _mlp()
    for bad_loss in ("cross_entropy", None):
        with pytest.raises(TypeError, match="loss_fn must be callable"):
            evaluate(model, [], bad_loss, "cpu")
    with pytest.raises(ValueError, match="no samples"):
        evaluate(model, [], nn.CrossEntropyLoss(), "cpu")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        evaluate("model", [], nn.CrossEntropyLoss(), "cpu")
    with pytest.raises(ValueError, match="0-dim tensor"):
        X, y = _blobs()
        evaluate(model, _loader(X, y), lambda logits, targets: 1.0, "cpu")


# --- predict -------------------------------------------------------------------------------

def test_predict_returns_every_logit_in_order_on_the_cpu():
    X, y = _blobs(50)
    model = _mlp()
    model.train()
    logits, targets = predict(model, _loader(X, y, batch_size=16), "cpu")
    with torch.no_grad():
        expected = model(X)
    assert logits.shape == (50, 3) and logits.device.type == "cpu"
    assert torch.allclose(logits, expected, atol=1e-6)
    assert torch.equal(targets, y)
    assert model.training  # the mode it found


def test_predict_rejects_bad_input():
    with pytest.raises(ValueError, match="no samples"):
        predict(_mlp(), [], "cpu")
    with pytest.raises(TypeError, match="iterable"):
        predict(_mlp(), None, "cpu")


# --- fit -----------------------------------------------------------------------------------

def test_fit_learns_and_returns_one_value_per_epoch():
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    history = fit(model, _loader(X, y, shuffle=True), nn.CrossEntropyLoss(), optimizer, 5,
                  "cpu", eval_loader=_loader(*_blobs(60, seed=1)), progress=False)
    assert list(history) == ["train_loss", "train_acc", "eval_loss", "eval_acc"]
    assert all(len(values) == 5 for values in history.values())
    assert all(isinstance(v, float) for values in history.values() for v in values)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["eval_acc"][-1] >= 0.95
    assert all(0.0 <= a <= 1.0 for a in history["train_acc"] + history["eval_acc"])


def test_fit_history_keys_without_eval_loader_or_accuracy():
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 2, "cpu",
                  progress=False)
    assert list(history) == ["train_loss", "train_acc"]
    history = fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 2, "cpu",
                  eval_loader=_loader(X, y), track_accuracy=False, progress=False)
    assert list(history) == ["train_loss", "eval_loss"]


def test_fit_is_reproducible_with_the_same_seeds():
    def run():
        X, y = _blobs()
        model = _mlp(seed=3)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        return fit(model, _loader(X, y, shuffle=True, seed=7), nn.CrossEntropyLoss(),
                   optimizer, 3, "cpu", eval_loader=_loader(X, y), progress=False)

    assert run() == run()


@pytest.mark.parametrize("track_accuracy", [True, False])
def test_a_pass_reads_from_the_device_as_often_for_40_batches_as_for_2(monkeypatch,
                                                                      track_accuracy):
    """Reading a value on the host makes a GPU finish its queued work: the engine does it a
    fixed number of times per pass, never once per batch."""
    X, y = _blobs(120)
    counts = {}
    for batch_size in (60, 3):  # 2 batches, then 40
        model = _mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # SGD itself reads nothing
        loader = list(_loader(X, y, batch_size=batch_size))  # a DataLoader reads a seed
        reads = HostReads(monkeypatch)
        train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, "cpu",
                        track_accuracy=track_accuracy)
        evaluate(model, loader, nn.CrossEntropyLoss(), "cpu", track_accuracy=track_accuracy)
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, 2, "cpu", eval_loader=loader,
            progress=False, track_accuracy=track_accuracy)
        counts[len(loader)] = len(reads.calls)
        monkeypatch.undo()
    assert counts[40] == counts[2], counts
    assert 0 < counts[2] <= 6 * 4 + 2, counts  # 4 per pass, 6 passes; 2 for a first look


def test_fit_steps_the_scheduler_once_per_epoch():
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 3, "cpu", progress=False,
        scheduler=scheduler)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.125)


def test_fit_feeds_reduce_on_plateau_the_loss():
    X, y = _blobs()
    model = FixedLogits()  # its loss never changes: a plateau from the start
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    fit(model, [(torch.eye(3)[y], y)], nn.CrossEntropyLoss(), optimizer, 3, "cpu",
        eval_loader=[(torch.eye(3)[y], y)], progress=False, scheduler=scheduler)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.25)


def test_fit_shows_a_progress_bar(capsys):
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 2, "cpu")
    err = capsys.readouterr().err
    assert "epochs" in err and "2/2" in err and "train_loss" in err


class _RecordsMoves(nn.Sequential):
    """An MLP that records every .to() call and every device/dtype change made to it."""

    def __init__(self):
        torch.manual_seed(0)
        super().__init__(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
        self.moves = []
        self.applied = 0

    def to(self, *args, **kwargs):
        self.moves.append((args, kwargs))
        return super().to(*args, **kwargs)

    def _apply(self, fn, *args, **kwargs):
        self.applied += 1
        return super()._apply(fn, *args, **kwargs)


def test_fit_moves_the_model_to_the_device():
    # On a CPU nothing would visibly move, so the call itself is checked.
    model = _RecordsMoves()
    X, y = _blobs()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 1, torch.device("cpu"),
        progress=False)
    moved_to = [torch.device(args[0] if args else kwargs["device"]) for args, kwargs in model.moves]
    assert moved_to == [torch.device("cpu")]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_a_gpu_moves_the_model_and_the_batches():
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 2, "cuda",
                  eval_loader=_loader(X, y), progress=False)
    assert next(model.parameters()).is_cuda
    assert len(history["eval_acc"]) == 2
    logits, targets = predict(model, _loader(X, y), "cuda")
    assert logits.device.type == "cpu" and torch.equal(targets, y)


@pytest.mark.parametrize(
    ("epochs", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError),
     (None, TypeError)],
)
def test_fit_rejects_bad_epochs(epochs, error):
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(error, match="epochs must be an int"):
        fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, epochs, "cpu")


def test_fit_checks_every_argument_before_training():
    X, y = _blobs()
    model = _mlp()
    before = [p.clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader, loss_fn = _loader(X, y), nn.CrossEntropyLoss()
    other = torch.optim.SGD(_mlp().parameters(), lr=0.1)
    bad_calls = [
        (TypeError, "torch.nn.Module", ("model", loader, loss_fn, optimizer, 1, "cpu")),
        (TypeError, "iterable", (model, 3, loss_fn, optimizer, 1, "cpu")),
        (TypeError, "torch.optim.Optimizer", (model, loader, loss_fn, "sgd", 1, "cpu")),
        (TypeError, "loss_fn must be callable", (model, loader, "ce", optimizer, 1, "cpu")),
        (TypeError, "device", (model, loader, loss_fn, optimizer, 1, "gpu")),
        (TypeError, "device", (model, loader, loss_fn, optimizer, 1, None)),
        (TypeError, "eval_loader", (model, loader, loss_fn, optimizer, 1, "cpu", 7)),
        (ValueError, "none of this model's parameters", (model, loader, loss_fn, other, 1, "cpu")),
    ]
    for error, message, args in bad_calls:
        with pytest.raises(error, match=message):
            fit(*args, progress=False)
    with pytest.raises(TypeError, match="scheduler"):
        fit(model, loader, loss_fn, optimizer, 1, "cpu", progress=False, scheduler="cosine")
    with pytest.raises(ValueError, match="another optimizer"):
        fit(model, loader, loss_fn, optimizer, 1, "cpu", progress=False,
            scheduler=torch.optim.lr_scheduler.StepLR(other, step_size=1))
    for a, b in zip(before, model.parameters(), strict=True):
        assert torch.equal(a, b), "a bad argument must be refused before any training"


def test_fit_refuses_a_one_shot_iterator_it_would_read_twice_before_training():
    X, y = _blobs()
    model = _mlp()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    pairs = [(X[i:i + 30], y[i:i + 30]) for i in range(0, 90, 30)]
    loss_fn = nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="train_loader is a one-shot iterator.*generator"):
        fit(model, (b for b in pairs), loss_fn, optimizer, 2, "cpu", progress=False)
    with pytest.raises(TypeError, match="eval_loader is a one-shot iterator"):  # batch 1 lost
        fit(model, pairs, loss_fn, optimizer, 1, "cpu", eval_loader=iter(pairs), progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    # one epoch reads the training iterator once: fine (benchmarks/train_throughput.py)
    history = fit(model, iter(pairs), loss_fn, optimizer, 1, "cpu", eval_loader=pairs,
                  progress=False)
    assert len(history["train_loss"]) == len(history["eval_loss"]) == 1


# --- accuracy: classification keeps it, anything else is told to turn it off -----------------

def _binary_data(n=64, seed=0, as_column=True, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g)
    y = (X[:, 0] > 0).to(dtype)
    return X, (y.unsqueeze(1) if as_column else y)


@pytest.mark.parametrize(
    ("out_features", "as_column", "dtype", "loss_fn"),
    [(1, True, torch.float32, nn.BCEWithLogitsLoss()),      # 0./1. targets, (N, 1) logits
     (2, False, torch.long, nn.CrossEntropyLoss())],          # class indices, (N, C) logits
)
def test_fit_tracks_accuracy_of_classification_runs_without_any_argument(
        out_features, as_column, dtype, loss_fn):
    X, y = _binary_data(as_column=as_column, dtype=dtype)
    torch.manual_seed(0)
    model = nn.Linear(2, out_features)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    history = fit(model, _loader(X, y), loss_fn, optimizer, 3, "cpu", eval_loader=_loader(X, y),
                  progress=False)
    assert history["eval_acc"][-1] >= 0.9


@pytest.mark.parametrize(
    ("model", "targets", "message"),
    [
        (nn.Linear(2, 1), lambda X: X[:, :1] * 3, "0 or 1.*got"),                 # regression
        (nn.Linear(2, 2), lambda X: X * 3, "one-hot or probability targets"),      # 2 outputs
        (nn.Sequential(nn.Linear(2, 6), nn.Unflatten(1, (2, 3))),                 # (N, 2, 3)
         lambda X: torch.zeros(len(X), 2, 3), r"\(N,\), \(N, 1\) or \(N, C\)"),
    ],
)
def test_fit_tells_a_run_that_is_no_classification_to_turn_accuracy_off(model, targets, message):
    X, _ = _binary_data()
    y = targets(X)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=message) as info:
        fit(model, _loader(X, y), nn.MSELoss(), optimizer, 2, "cpu", progress=False)
    assert "track_accuracy=False" in str(info.value)
    for a, b in zip(before, model.parameters(), strict=True):
        assert torch.equal(a, b), "found in the first batch, before any step"
    history = fit(model, _loader(X, y), nn.MSELoss(), optimizer, 2, "cpu", progress=False,
                  track_accuracy=False)
    assert list(history) == ["train_loss"]


def test_soft_targets_in_a_later_batch_are_reported_with_their_batch():
    X, y = _binary_data(n=48)
    y[40] = 0.7  # BCEWithLogitsLoss accepts it; accuracy cannot
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"not class labels at epoch 1, batch 3\b.*track_accuracy"):
        fit(model, _loader(X, y, batch_size=16), nn.BCEWithLogitsLoss(), optimizer, 2, "cpu",
            progress=False)
    with pytest.raises(ValueError, match=r"not class labels at batch 3\b"):
        evaluate(model, _loader(X, y, batch_size=16), nn.BCEWithLogitsLoss(), "cpu")


# --- non-finite losses stop training -----------------------------------------------------------

def test_fit_on_nan_inputs_stops_at_once_and_names_the_epoch_and_batch():
    X, y = _blobs()
    X[0, 0] = float("nan")
    model = _mlp()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="training loss is nan at epoch 1, batch 1"):
        fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 3, "cpu", progress=False)
    for a, b in zip(before, model.parameters(), strict=True):
        assert torch.equal(a, b), "stopped before the step that would spread the NaN"


class _GoesBadInEpoch:
    """A loader whose batch ``batch`` holds an inf from its ``epoch``-th pass on."""

    def __init__(self, X, y, epoch, batch):
        self.batches = list(_loader(X, y, batch_size=16))
        self.epoch, self.batch, self.passes = epoch, batch, 0

    def __iter__(self):
        self.passes += 1
        for i, (inputs, targets) in enumerate(self.batches, start=1):
            if self.passes >= self.epoch and i == self.batch:
                inputs = inputs.clone()
                inputs[0] = float("inf")
            yield inputs, targets


def test_a_loss_that_turns_non_finite_later_is_reported_with_its_epoch_and_batch():
    X, y = _blobs(80)
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match=r"training loss is nan at epoch 2, batch 4\b"
                       r".*weights are likely not finite.*smaller learning rate"):
        fit(model, _GoesBadInEpoch(X, y, epoch=2, batch=4), nn.CrossEntropyLoss(), optimizer, 5,
            "cpu", progress=False)


def test_a_non_finite_evaluation_loss_is_reported_with_its_epoch_and_batch():
    X, y = _blobs(80)
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match=r"evaluation loss is nan at epoch 1, batch 2\b"):
        fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 2, "cpu",
            eval_loader=_GoesBadInEpoch(X, y, epoch=1, batch=2), progress=False)
    with pytest.raises(FloatingPointError, match=r"evaluation loss is nan at batch 2\b") as info:
        evaluate(model, _GoesBadInEpoch(X, y, epoch=1, batch=2), nn.CrossEntropyLoss(), "cpu")
    # evaluation changes no weight: the message blames neither the weights nor a learning rate
    assert "weights" not in str(info.value) and "learning rate" not in str(info.value)


# --- modes put back ------------------------------------------------------------------------

def _model_with_a_frozen_part():
    """A model in training mode whose BatchNorm is kept in eval mode on purpose."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    model.train()
    model[1].eval()
    return model


def _modes(model):
    return [m.training for m in model.modules()]


@pytest.mark.parametrize("training", [True, False])
def test_fit_puts_back_the_mode_it_found(training):
    X, y = _blobs()
    model = _mlp()
    model.train(training)
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
        1, "cpu", eval_loader=_loader(X, y), progress=False)
    assert _modes(model) == [training] * len(_modes(model))


def test_evaluate_predict_and_fit_put_back_each_submodule_s_own_mode():
    X, y = _blobs()
    model = _model_with_a_frozen_part()
    expected = _modes(model)
    assert expected == [True, True, False, True, True]
    evaluate(model, _loader(X, y), nn.CrossEntropyLoss(), "cpu")
    assert _modes(model) == expected
    predict(model, _loader(X, y), "cpu")
    assert _modes(model) == expected
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
        1, "cpu", eval_loader=_loader(X, y), progress=False)
    assert _modes(model) == expected


def test_fit_puts_the_mode_back_after_an_error():
    X, y = _blobs()
    X[0, 0] = float("nan")
    model = _mlp()
    model.eval()
    with pytest.raises(FloatingPointError):
        fit(model, _loader(X, y), nn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1), 1, "cpu", progress=False)
    assert not model.training


# --- overfits: the series' one rule ----------------------------------------------------------

def _h(train, val):
    return {"train_loss": list(train), "eval_loss": list(val)}


@pytest.mark.parametrize("train, val, expected", [
    ([0.5, 0.2, 0.1], [0.5, 0.3, 0.4], True),      # all three conditions hold
    ([0.5, 0.2, 0.1], [0.5, 0.4, 0.3], False),     # a gap only: validation still falling
    ([0.5, 0.2, 0.3], [0.5, 0.3, 0.4], False),     # training rose since the best epoch
    ([0.5, 0.2, 0.38], [0.5, 0.3, 0.4], False),    # within 10 % of the training loss
    ([0.5, 0.2, 0.1], [0.5, 0.4, 0.4], False),     # equal to its minimum: not above it
    ([0.5], [0.9], False),                         # one epoch: nothing has risen
    ([0.5, 0.2, 0.2], [0.5, 0.3, 0.4], False),     # training flat since the best epoch
])
def test_overfits_needs_the_gap_the_rise_and_a_falling_training_loss(train, val, expected):
    assert engine.overfits(_h(train, val)) is expected


def test_overfits_gap_is_strict_and_adjustable():
    h = _h([1.0, 0.5, 0.25], [1.0, 0.2, 0.3])
    assert engine.overfits(h)                       # 0.3 > 1.1 * 0.25
    assert not engine.overfits(h, gap=0.2)          # 0.3 is exactly 1.2 * 0.25: not more
    assert not engine.overfits(h, gap=0.5)


def test_overfits_measures_from_the_first_lowest_epoch():
    # lowest validation loss at epochs 2 and 4; training fell since epoch 2, not since 4
    h = _h([0.9, 0.5, 0.4, 0.3, 0.3], [0.9, 0.4, 0.6, 0.4, 0.5])
    assert engine.overfits(h)


@pytest.mark.parametrize("history, message", [
    ({"train_loss": [0.1]}, r"a list of losses under 'eval_loss', as fit\(\.\.\., eval_loader"),
    ([0.1, 0.2], "train_loss"),
    ({"train_loss": [], "eval_loss": []}, "non-empty"),
    ({"train_loss": [0.1, float("nan")], "eval_loss": [0.1, 0.2]}, "finite"),
    ({"train_loss": [0.1, 0.2], "eval_loss": [0.1]}, "2 training losses but 1"),
    ({"train_loss": 0.5, "eval_loss": 0.6}, r"list of finite losses, got 0\.5"),  # not a list
    ({"train_loss": "0.5", "eval_loss": [0.6]}, r"list of finite losses, got '0\.5'"),
    ({"train_loss": [0.1, None], "eval_loss": [0.1, 0.2]}, r"got \[0\.1, None\]"),
])
def test_overfits_rejects_a_history_it_cannot_read(history, message):
    with pytest.raises(ValueError, match=message):
        engine.overfits(history)


@pytest.mark.parametrize("gap, error", [(-0.1, ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError), (True, TypeError),
                                        ("0.1", TypeError)])
def test_overfits_rejects_a_bad_gap(gap, error):
    with pytest.raises(error, match="gap must be a"):
        engine.overfits(_h([0.2], [0.3]), gap=gap)


# --- accuracy_interval: Wilson's score interval ----------------------------------------------

def test_accuracy_interval_matches_wilsons_formula():
    low, high = engine.accuracy_interval(99, 153)
    assert (round(low, 4), round(high, 4)) == (0.5686, 0.7183)
    assert low < 99 / 153 < high


def test_accuracy_interval_stays_inside_zero_and_one_and_is_not_empty_at_the_ends():
    low, high = engine.accuracy_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = engine.accuracy_interval(10, 10)
    assert round(low, 4) == 0.7225 and high == 1.0


def test_accuracy_interval_narrows_with_more_samples_and_widens_with_z():
    small = engine.accuracy_interval(8, 10)
    large = engine.accuracy_interval(800, 1000)
    assert large[1] - large[0] < small[1] - small[0]
    wide = engine.accuracy_interval(8, 10, z=2.58)
    assert wide[0] < small[0] and wide[1] > small[1]


def test_accuracy_interval_accepts_numpy_integers():
    import numpy as np

    assert engine.accuracy_interval(np.int64(5), np.int64(10)) == engine.accuracy_interval(5, 10)
    assert engine.accuracy_interval(5, 10, np.float32(1.5)) == engine.accuracy_interval(5, 10, 1.5)
    assert engine.overfits(_h([0.2], [0.3]), gap=np.float64(0.1)) is False


@pytest.mark.parametrize("args, error, message", [
    ((5, 0), ValueError, "total must be an int >= 1"),
    ((11, 10), ValueError, "at most total"),
    ((-1, 10), ValueError, "correct must be an int >= 0"),
    ((5.0, 10), TypeError, "correct must be an int"),
    ((5, True), TypeError, "total must be an int"),
    ((5, 10, 0), ValueError, "z must be"),
    ((5, 10, float("nan")), ValueError, "z must be"),
    ((5, 10, "1.96"), TypeError, "z must be a number, got str"),
    ((5, 10, True), TypeError, "z must be a number, got bool"),
])
def test_accuracy_interval_rejects_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        engine.accuracy_interval(*args)


# --- modes during training, and what the scheduler and the eval loader get ---------------------

def test_fit_keeps_a_frozen_batch_norm_frozen_in_every_epoch():
    X, y = _blobs()
    model = _model_with_a_frozen_part()
    stats = model[1].running_mean.clone()
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
        3, "cpu", eval_loader=_loader(X, y), progress=False)
    assert torch.equal(model[1].running_mean, stats)  # eval mode: its statistics never moved
    assert model[0].weight.grad is not None  # while the rest trained


def test_train_one_epoch_keeps_a_frozen_batch_norm_frozen():
    X, y = _blobs()
    model = _model_with_a_frozen_part()
    stats = model[1].running_mean.clone()
    train_one_epoch(model, _loader(X, y), nn.CrossEntropyLoss(),
                    torch.optim.SGD(model.parameters(), lr=0.1), "cpu")
    assert torch.equal(model[1].running_mean, stats)  # eval mode: its statistics never moved
    assert _modes(model) == [True, True, False, True, True]


def test_fit_trains_a_model_found_in_eval_mode_in_training_mode():
    X, y = _blobs()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    model.eval()
    stats = model[1].running_mean.clone()
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
        1, "cpu", progress=False)
    assert not torch.equal(model[1].running_mean, stats)  # batch norm ran in training mode
    assert not model.training  # and the mode it found is back


class _EasierEachPass:
    """Three samples whose logits grow more confident (lower loss) on every pass."""

    def __init__(self):
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        yield torch.eye(3) * self.passes, torch.arange(3)


def test_reduce_on_plateau_gets_the_evaluation_loss_when_there_is_one():
    y = torch.arange(3)
    model = FixedLogits()  # the training loss never changes: a plateau
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    fit(model, [(torch.eye(3)[y], y)], nn.CrossEntropyLoss(), optimizer, 3, "cpu",
        eval_loader=_EasierEachPass(), progress=False, scheduler=scheduler)
    assert optimizer.param_groups[0]["lr"] == 1.0  # the evaluation loss kept falling


def test_fit_checks_the_first_evaluation_batch_before_training():
    X, y = _binary_data(n=32)
    model = nn.Linear(2, 1)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    soft = [(X, torch.full_like(y, 0.5))]
    with pytest.raises(ValueError, match=r"0 or 1.*eval_loader, checked before training"):
        fit(model, _loader(X, y), nn.BCEWithLogitsLoss(), optimizer, 2, "cpu", eval_loader=soft,
            progress=False)
    with pytest.raises(ValueError, match="no samples.*eval_loader"):
        fit(model, _loader(X, y), nn.BCEWithLogitsLoss(), optimizer, 2, "cpu", eval_loader=[],
            progress=False)
    for a, b in zip(before, model.parameters(), strict=True):
        assert torch.equal(a, b), "refused before any training"


def test_a_lazy_layer_first_run_by_the_eval_loader_check_is_still_trained():
    # made in inference mode, its weight would be an inference tensor: no gradient, never
    # updated, and no error at all
    X, y = _blobs()
    torch.manual_seed(0)
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, _loader(X, y), nn.CrossEntropyLoss(), optimizer, 1, "cpu",
        eval_loader=_loader(X, y), progress=False)
    assert not model[0].weight.is_inference() and model[0].weight.grad is not None


def test_a_loss_summed_over_the_batch_is_refused_everywhere():
    X, y = _blobs()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    summed = nn.CrossEntropyLoss(reduction="sum")
    with pytest.raises(ValueError, match="reduction='sum'"):
        evaluate(model, _loader(X, y), summed, "cpu")
    with pytest.raises(ValueError, match="reduction='sum'"):
        fit(model, _loader(X, y), summed, optimizer, 1, "cpu", progress=False)


def test_the_look_at_the_eval_loader_changes_no_random_number_of_the_run():
    X, y = _blobs()

    def run(with_eval):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.Dropout(0.5), nn.ReLU(), nn.Linear(16, 3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        eval_loader = DataLoader(TensorDataset(X, y), batch_size=30) if with_eval else None
        history = fit(model, DataLoader(TensorDataset(X, y), batch_size=30, shuffle=True),
                      nn.CrossEntropyLoss(), optimizer, 2, "cpu", eval_loader=eval_loader,
                      progress=False)
        return history["train_loss"], torch.rand(1)

    assert run(True)[0][0] == run(False)[0][0]  # the first epoch saw the same shuffle, dropout


def test_a_logit_of_exactly_zero_is_class_0():
    # sigmoid(0) = 0.5 is not above 0.5: the rule is "a logit above 0 means class 1"
    assert count_correct(torch.tensor([0.0, 0.0]), torch.tensor([0, 1])).item() == 1
    assert count_correct(torch.zeros(2, 1), torch.tensor([[0.0], [0.0]])).item() == 2


def test_each_step_uses_only_its_own_batch_s_gradient():
    # two batches, two plain SGD steps: the second must not add the first batch's gradient
    X = torch.linspace(-1, 1, 8).unsqueeze(1)
    y = 3 * X - 1
    model = nn.Linear(1, 1)
    expected = nn.Linear(1, 1)
    expected.load_state_dict(model.state_dict())
    for inputs, targets in ((X[:4], y[:4]), (X[4:], y[4:])):
        grads = torch.autograd.grad(nn.functional.mse_loss(expected(inputs), targets),
                                    list(expected.parameters()))
        with torch.no_grad():
            for p, g in zip(expected.parameters(), grads, strict=True):
                p -= 0.1 * g
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_one_epoch(model, [(X[:4], y[:4]), (X[4:], y[4:])], nn.MSELoss(), optimizer, "cpu",
                    track_accuracy=False)
    for p, q in zip(model.parameters(), expected.parameters(), strict=True):
        assert torch.allclose(p, q)


def test_a_label_equal_to_the_number_of_classes_is_refused():
    # CrossEntropyLoss itself refuses label C; a loss that never looks at the labels does not
    logits_only = lambda logits, targets: logits.logsumexp(dim=1).mean()  # noqa: E731
    X = torch.eye(3)
    model = FixedLogits()
    for targets in (torch.tensor([0, 1, 3]), torch.tensor([0, 1, 2])):
        batches = [(X, torch.tensor([0, 1, 2])), (X, targets)]
        if targets.max() == 3:
            with pytest.raises(ValueError, match=r"\[0, 3\).*at batch 2|at batch 2.*\[0, 3\)"):
                evaluate(model, batches, logits_only, "cpu")
            with pytest.raises(ValueError, match=r"\[0, 3\)"):
                evaluate(model, batches[::-1], logits_only, "cpu")
        else:
            assert evaluate(model, batches, logits_only, "cpu")["acc"] == 1.0


def test_an_infinite_loss_in_a_later_batch_is_reported_too():
    X = torch.linspace(0, 1, 4).unsqueeze(1)
    model = nn.Linear(1, 1)
    y_inf = X.clone()
    y_inf[0] = float("inf")  # (x - inf)**2 is inf, not NaN
    with pytest.raises(FloatingPointError, match=r"evaluation loss is inf at batch 2\b"):
        evaluate(model, [(X, X), (X, y_inf)], nn.MSELoss(), "cpu", track_accuracy=False)


def test_a_model_partly_in_training_mode_keeps_its_frozen_batch_norm_frozen():
    """Only a model wholly in eval mode is switched to training mode: here the top module is
    in eval mode but a layer trains, so the frozen batch norm must stay frozen."""
    X, y = _blobs()
    for run in (
        lambda m: train_one_epoch(m, _loader(X, y), nn.CrossEntropyLoss(),
                                  torch.optim.SGD(m.parameters(), lr=0.1), "cpu"),
        lambda m: fit(m, _loader(X, y), nn.CrossEntropyLoss(),
                      torch.optim.SGD(m.parameters(), lr=0.1), 1, "cpu", progress=False),
    ):
        model = _model_with_a_frozen_part()
        model.training = False  # the top module only; its first layer still trains
        stats = model[1].running_mean.clone()
        run(model)
        assert torch.equal(model[1].running_mean, stats)
        assert not model[1].training


@pytest.mark.parametrize("use_fit", [False, True])
def test_labels_are_checked_before_the_loss_sees_them(use_fit):
    """On CUDA, CrossEntropyLoss given a label that is no class stops the kernel with a
    device-side assert; on the CPU it raises IndexError. The engine must answer first."""
    X, y = _blobs()
    y = y.clone()
    y[0] = 5  # 3 classes
    model = _mlp()
    with pytest.raises(ValueError, match=r"targets must be class labels.*from 0 to 5"):
        if use_fit:
            fit(model, _loader(X, y), nn.CrossEntropyLoss(),
                torch.optim.SGD(model.parameters(), lr=0.1), 1, "cpu", progress=False)
        else:
            train_one_epoch(model, _loader(X, y), nn.CrossEntropyLoss(),
                            torch.optim.SGD(model.parameters(), lr=0.1), "cpu")


def test_a_label_that_is_no_class_in_a_later_batch_is_a_value_error_naming_the_batch():
    """Batch 1 is checked before its loss; later ones are not (that would read the device per
    batch), so on the CPU cross-entropy's own IndexError comes first: the engine explains it."""
    X, y = _blobs()
    batches = [(X[:10], y[:10]), (X[10:20], y[10:20].clone().fill_(7))]  # 3 classes
    model = _mlp()
    for run in (lambda: evaluate(model, batches, nn.CrossEntropyLoss(), "cpu"),
                lambda: train_one_epoch(model, batches, nn.CrossEntropyLoss(),
                                        torch.optim.SGD(model.parameters(), lr=0.1), "cpu")):
        with pytest.raises(ValueError, match=r"not class labels at batch 2: .*\[0, 3\).*7"):
            run()
    calls = []

    def second_call_fails(logits, targets):  # with good labels, a loss's own error stays
        calls.append(1)
        if len(calls) == 2:
            raise IndexError("a loss that fails by itself")
        return nn.functional.cross_entropy(logits, targets)

    with pytest.raises(IndexError, match="fails by itself"):
        evaluate(model, [(X[:10], y[:10])] * 2, second_call_fails, "cpu")


def test_a_non_finite_loss_found_at_the_end_of_a_pass_says_when_it_was_read():
    X = torch.ones(4, 1)
    y_nan = X.clone()
    y_nan[0] = float("nan")
    with pytest.raises(FloatingPointError, match=r"at batch 2 \(found when the pass ended: "
                                                 r"losses are read from the device then\)"):
        evaluate(nn.Linear(1, 1), [(X, X), (X, y_nan)], nn.MSELoss(), "cpu",
                 track_accuracy=False)


def test_sums_are_read_in_a_dtype_the_device_has():
    """Apple's MPS has no float64: the end-of-pass read must use float32 there."""
    assert engine._wide(torch.device("mps")) is torch.float32
    assert engine._wide(torch.device("cpu")) is torch.float64
    assert engine._wide(torch.device("cuda", 0)) is torch.float64

