"""Unit tests of helpers.device."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers import device as dev


def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dev.get_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dev.get_device() == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert dev.get_device() == torch.device("cpu")


def test_get_device_returns_this_machine_s_best_device_and_it_works():
    device = dev.get_device()
    assert isinstance(device, torch.device)  # not a string: .type and == work as expected
    if torch.cuda.is_available():
        expected = "cuda"
    elif torch.backends.mps.is_available():
        expected = "mps"
    else:
        expected = "cpu"
    assert device == torch.device(expected) and device.index is None
    x = torch.ones(2, device=device)
    assert x.device.type == expected
    assert (x @ x).item() == 2


def _draw():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_set_seed_makes_random_numpy_and_torch_repeat():
    dev.set_seed(123)
    first = _draw()
    dev.set_seed(123)
    assert _draw() == first
    dev.set_seed(124)
    assert _draw() != first


def test_set_seed_sets_deterministic_cudnn():
    torch.backends.cudnn.benchmark = True
    dev.set_seed(0)
    assert torch.backends.cudnn.deterministic is True
    assert torch.backends.cudnn.benchmark is False


def test_set_seed_seeds_each_generator_with_the_seed_itself():
    random.seed(77)
    np.random.seed(77)
    torch.manual_seed(77)
    expected = _draw()
    random.seed(0)  # something else first
    assert dev.set_seed(77) is None  # nothing to keep: it seeds the global generators
    assert _draw() == expected


def test_set_seed_seeds_every_gpu(monkeypatch):
    # No GPU is needed to check that CUDA's generators are seeded with the seed: record the calls.
    seeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", seeded.append)
    dev.set_seed(2024)
    assert seeded and set(seeded) == {2024}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_set_seed_makes_gpu_random_numbers_repeat():
    dev.set_seed(5)
    first = torch.rand(4, device="cuda")
    dev.set_seed(5)
    assert torch.equal(torch.rand(4, device="cuda"), first)


@pytest.mark.parametrize("bad", ["42", 4.2, None, True, [1]])
def test_set_seed_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="seed must be an int"):
        dev.set_seed(bad)


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_set_seed_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="between 0 and"):
        dev.set_seed(bad)


def test_seeded_generator_is_independent_of_the_global_seed():
    g1 = dev.seeded_generator(7)
    a = torch.randperm(10, generator=g1)
    torch.manual_seed(999)  # the global generator must not matter
    g2 = dev.seeded_generator(7)
    assert torch.equal(torch.randperm(10, generator=g2), a)


def test_seeded_generator_rejects_bad_seed():
    with pytest.raises(TypeError):
        dev.seeded_generator("7")


def test_dataloader_order_repeats_with_seeded_generator():
    data = torch.utils.data.TensorDataset(torch.arange(20))

    def order():
        loader = torch.utils.data.DataLoader(data, batch_size=5, shuffle=True,
                                             generator=dev.seeded_generator(3))
        return torch.cat([b[0] for b in loader]).tolist()

    assert order() == order()
    assert sorted(order()) == list(range(20))


# --- mode_restored --------------------------------------------------------------------------

def _mixed_model():
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Dropout(0.5))
    model.train()
    model[1].eval()  # a part kept in eval mode on purpose
    return model


def _modes(model):
    return [m.training for m in model.modules()]


@pytest.mark.parametrize("training", [None, False, True])
def test_mode_restored_puts_back_every_submodule_s_own_flag(training):
    model = _mixed_model()
    before = _modes(model)
    with dev.mode_restored(model, training=training):
        if training is not None:
            assert _modes(model) == [training] * 4
        model.train()
    assert _modes(model) == before


def test_mode_restored_puts_back_the_flags_after_an_error():
    model = _mixed_model()
    before = _modes(model)
    with pytest.raises(RuntimeError, match="inside"), dev.mode_restored(model, training=False):
        raise RuntimeError("an error inside the block")
    assert _modes(model) == before


def test_mode_restored_rejects_what_is_no_module():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        with dev.mode_restored("model"):
            pass


def test_cuda_wins_when_cuda_and_mps_are_both_there(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dev.get_device() == torch.device("cuda")


def test_seeded_generator_uses_its_seed():
    draws = {seed: torch.randperm(20, generator=dev.seeded_generator(seed)) for seed in (7, 8)}
    assert not torch.equal(draws[7], draws[8])
    assert torch.equal(draws[7], torch.randperm(20, generator=torch.Generator().manual_seed(7)))
    assert dev.seeded_generator().initial_seed() == 42


@pytest.mark.parametrize("seed", [0, 2**32 - 1, np.uint32(2**32 - 1)])
def test_both_ends_of_the_seed_range_are_accepted(seed):
    dev.set_seed(seed)
    assert torch.initial_seed() == int(seed)
    assert dev.seeded_generator(seed).initial_seed() == int(seed)


@pytest.mark.parametrize(("value", "error", "message"), [
    (True, TypeError, "n must be an int, got bool"), (2.0, TypeError, "got float"),
    (0, ValueError, "n must be an int >= 1, got 0"), (11, ValueError, "<= 10"),
])
def test_require_int_is_the_one_integer_check(value, error, message):
    with pytest.raises(error, match=message):
        dev.require_int(value, "n", minimum=1 if value != 11 else None,
                        maximum=10 if value == 11 else None)
    assert dev.require_int(np.int64(5), "n", minimum=1, maximum=10) == 5


@pytest.mark.parametrize("value", [2, 2.5, np.float32(2.5), np.int64(2), np.float64(2.5)])
def test_require_number_takes_python_and_numpy_numbers_as_a_plain_float(value):
    result = dev.require_number(value, "x")
    assert type(result) is float and result == float(value)


@pytest.mark.parametrize("value", [True, np.bool_(True), "2.5", None, torch.tensor(2.5)])
def test_require_number_refuses_bools_strings_and_tensors(value):
    with pytest.raises(TypeError, match=r"x must be a number, got "):
        dev.require_number(value, "x")
