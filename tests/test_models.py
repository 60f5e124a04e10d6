"""Unit tests of helpers/models.py: EfficientNet-Lite0, its key map and the safe loader."""

from __future__ import annotations

import shutil

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.models import (
    KEY_MAP,
    WEIGHTS_SHA256,
    EfficientNetLite0,
    SamePad,
    load_pretrained,
    map_key,
    weights_path,
)


@pytest.fixture(scope="module")
def pretrained():
    return load_pretrained()


def test_architecture_shapes_and_size():
    model = EfficientNetLite0().eval()
    with torch.no_grad():
        features = model.features(torch.zeros(2, 3, 64, 64))
        logits = model(torch.zeros(2, 3, 64, 64))
    assert features.shape == (2, 1280) and logits.shape == (2, 1000)
    assert len(model.blocks) == 16
    assert sum(p.numel() for p in model.parameters()) == 4_652_008
    assert not any(isinstance(m, nn.Sigmoid | nn.SiLU) for m in model.modules())  # Lite: ReLU6


def test_skip_connection_only_where_shapes_allow():
    model = EfficientNetLite0()
    skips = [block.skip for block in model.blocks]
    assert sum(skips) == 9 and not skips[0] and not skips[1]


def test_same_pad_puts_the_odd_row_at_the_bottom_right():
    x = torch.ones(1, 1, 4, 4)
    padded = SamePad(kernel=3, stride=2)(x)
    assert padded.shape == (1, 1, 5, 5)
    assert padded[0, 0, 0].sum() == 4 and padded[0, 0, -1].sum() == 0  # top kept, bottom added
    odd = torch.rand(1, 1, 5, 5)  # an odd size: a total of 2, as padding=k // 2 gives
    assert torch.equal(SamePad(kernel=3, stride=2)(odd), F.pad(odd, (1, 1, 1, 1)))


def test_key_map_covers_every_kind_of_name():
    assert map_key("_conv_stem.weight") == "stem.1.weight"
    assert map_key("_bn0.running_mean") == "stem.2.running_mean"
    assert map_key("_blocks.3._bn0.bias") == "blocks.3.expand.1.bias"
    assert map_key("_blocks.12._depthwise_conv.weight") == "blocks.12.depthwise.1.weight"
    assert map_key("_blocks.12._bn2.weight") == "blocks.12.project.1.weight"
    assert map_key("_fc.bias") == "fc.bias"
    assert len(KEY_MAP) == 11
    with pytest.raises(KeyError, match="no rule in KEY_MAP"):
        map_key("_unknown.weight")


def test_load_pretrained_matches_every_key(pretrained):
    model, key_map = pretrained
    checkpoint = torch.load(weights_path(), map_location="cpu", weights_only=True)
    assert len(key_map) == len(checkpoint) == 296
    assert sorted(key_map.values()) == sorted(model.state_dict())
    for old, new in key_map.items():
        assert torch.equal(model.state_dict()[new], checkpoint[old]), old
    assert not model.training


def test_pretrained_knows_an_image_from_noise(pretrained):
    """A sanity check on the numbers: outputs differ by input, and are finite."""
    model, _ = pretrained
    torch.manual_seed(0)
    with torch.inference_mode():
        logits = model(torch.randn(2, 3, 96, 96))
    assert torch.isfinite(logits).all() and not torch.allclose(logits[0], logits[1])


def test_wrong_hash_is_refused_before_loading(tmp_path):
    copy = tmp_path / "weights.pth"
    shutil.copy(weights_path(), copy)
    with pytest.raises(ValueError, match="SHA-256"):
        load_pretrained(copy, sha256="0" * 64)
    with open(copy, "r+b") as f:  # one byte changed
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ValueError, match=WEIGHTS_SHA256):
        load_pretrained(copy)


def test_the_hash_may_be_upper_case_and_a_malformed_one_is_named():
    model, _ = load_pretrained(sha256=WEIGHTS_SHA256.upper())  # the same digest
    assert not model.training
    for bad in (None, "abc", "g" * 64):
        with pytest.raises(ValueError, match=r"sha256 must be a 64-character hex string, got "):
            load_pretrained(sha256=bad)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no weights file"):
        load_pretrained(tmp_path / "absent.pth")


def test_mismatched_checkpoint_is_refused(tmp_path, monkeypatch):
    checkpoint = torch.load(weights_path(), map_location="cpu", weights_only=True)
    checkpoint["_fc.weight"] = torch.zeros(10, 1280)
    path = tmp_path / "wrong_head.pth"
    torch.save(checkpoint, path)
    from helpers.data import sha256_of

    with pytest.raises(KeyError, match="does not fit"):
        load_pretrained(path, sha256=sha256_of(path))
    del checkpoint["_fc.weight"]
    torch.save(checkpoint, path)
    with pytest.raises(KeyError, match="not in the checkpoint"):
        load_pretrained(path, sha256=sha256_of(path))


@pytest.mark.parametrize("shape", [(3, 64, 64), (2, 1, 64, 64), (2, 4, 64, 64)])
def test_features_reject_what_is_not_an_rgb_batch(shape):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        EfficientNetLite0().features(torch.zeros(shape))


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (2.0, TypeError),
                                        ("2", TypeError), (True, TypeError)])
def test_bad_num_classes(bad, error):
    with pytest.raises(error, match="num_classes must be an int"):
        EfficientNetLite0(num_classes=bad)
