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


def test_get_device_returns_a_usable_device():
    device = dev.get_device()
    assert isinstance(device, torch.device)
    assert torch.ones(2, device=device).sum().item() == 2


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


def test_set_seed_returns_nothing():
    assert dev.set_seed(1) is None


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


def test_seed_worker_seeds_numpy_and_random_from_torch():
    torch.manual_seed(5)
    dev.seed_worker(0)
    a = (random.random(), float(np.random.rand()))
    torch.manual_seed(5)
    dev.seed_worker(0)
    assert (random.random(), float(np.random.rand())) == a
