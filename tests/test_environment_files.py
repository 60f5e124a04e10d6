"""requirements.txt and environment.yml must list the same packages with the same ranges."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(.*)$")


def _parse(lines):
    packages = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "-e .":
            packages["-e ."] = ""
            continue
        match = SPEC.match(line)
        assert match, f"cannot read requirement {raw!r}"
        packages[match.group(1).lower().replace("_", "-")] = match.group(2).replace(" ", "")
    return packages


def _requirements():
    return _parse((REPO / "requirements.txt").read_text().splitlines())


def _environment():
    lines = []
    for raw in (REPO / "environment.yml").read_text().splitlines():
        item = re.match(r"^\s*-\s+(.+)$", raw)
        if item and not raw.strip().startswith("- pip:") and item.group(1).strip() != "pip":
            lines.append(item.group(1))
    # conda's python pin and the channel names are not pip packages
    return {k: v for k, v in _parse(lines).items() if k not in {"python", "conda-forge"}}


def test_same_packages_and_ranges():
    req, env = _requirements(), _environment()
    assert set(req) == set(env), (
        f"only in requirements.txt: {sorted(set(req) - set(env))}; "
        f"only in environment.yml: {sorted(set(env) - set(req))}"
    )
    for name, spec in req.items():
        assert env[name] == spec, f"{name}: requirements.txt says {spec!r}, environment.yml {env[name]!r}"


def test_ranges_admit_the_pinned_torch_and_torchvision():
    from packaging.specifiers import SpecifierSet

    req = _requirements()
    assert "2.14.1" in SpecifierSet(req["torch"])
    assert "0.29.1" in SpecifierSet(req["torchvision"])


def test_the_lesson_packages_are_listed():
    req = _requirements()
    for name in ["torch", "torchvision", "jupyterlab", "matplotlib", "seaborn", "nbval",
                 "torchinfo", "tqdm", "scikit-learn", "tensorboard", "ipywidgets"]:
        assert name in req, f"{name} missing from requirements.txt"
