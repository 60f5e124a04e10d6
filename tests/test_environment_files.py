"""requirements.txt and environment.yml pin the same packages to the same, tested versions."""

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


DIRECT_DEPENDENCIES = [
    "torch", "torchvision", "numpy", "matplotlib", "seaborn", "pandas", "scikit-learn", "tqdm",
    "ipywidgets", "tensorboard", "torchinfo", "pillow", "jupyterlab", "ipykernel", "nbformat",
    "nbclient", "nbconvert", "nbval", "pytest", "ruff", "selenium",
    "setuptools",  # builds helpers without build isolation, as the Colab cell does
    "sphinx", "myst-nb", "myst-parser", "sphinx-book-theme", "pydata-sphinx-theme",
    "sphinx-mathjax-offline", "codespell",  # the website and the prose checks
]


def test_the_lesson_packages_are_listed():
    req = _requirements()
    for name in DIRECT_DEPENDENCIES:
        assert name in req, f"{name} missing from requirements.txt"


def test_every_direct_dependency_is_pinned_exactly():
    """A range lets a future release change what the stored outputs show."""
    for source, packages in (("requirements.txt", _requirements()),
                             ("environment.yml", _environment())):
        assert "-e ." in packages, f"{source}: the helpers package (-e .) is missing"
        for name, spec in packages.items():
            if name != "-e .":
                assert re.fullmatch(r"==\d+(\.\d+)*", spec), (
                    f"{source}: {name}{spec} is not an exact pin (name==X.Y.Z); "
                    "run python tools/refresh_pins.py"
                )


def _floor():
    return _parse((REPO / "requirements-floor.txt").read_text().splitlines())


def test_the_floor_pins_an_older_torch_and_torchvision_only():
    from packaging.version import Version

    floor, req = _floor(), _requirements()
    assert set(floor) == {"torch", "torchvision"}, sorted(floor)
    for name in floor:
        assert re.fullmatch(r"==\d+(\.\d+)*", floor[name]), f"{name}{floor[name]}: pin exactly"
        assert Version(floor[name][2:]) < Version(req[name][2:]), f"{name}: floor not older"
    pyproject = (REPO / "pyproject.toml").read_text()
    for name in floor:  # helpers imports both, so the package requires both floors
        assert f'"{name}>={floor[name][2:]}"' in pyproject, f"pyproject must require the floor {name}"


def test_pins_are_what_this_environment_runs():
    """The stored outputs were made with the pinned set; CI installs exactly it."""
    import importlib.metadata

    floor = _floor()
    for name, spec in _requirements().items():
        if name in floor and f"=={importlib.metadata.version(name)}" == floor[name]:
            continue  # the floor environment (.ci/run's second one) runs the floor's torch
        if name != "-e .":
            assert f"=={importlib.metadata.version(name)}" == spec, (
                f"{name}: pinned {spec}, installed {importlib.metadata.version(name)}; "
                "reinstall with pip install -r requirements.txt, or refresh the pins"
            )


# What CI tests and what Colab runs: the one claim that pyproject.toml, environment.yml, the
# README and .ci/run must all make. Change it here and in those files together.
TESTED_PYTHONS = ("3.11", "3.12", "3.13")  # .ci/run builds one environment for each
FLOOR_PYTHON = "3.12"  # the floor torch (requirements-floor.txt) runs on it, --nbval-lax
COLAB_PYTHON, COLAB_SINCE, COLAB_OLDER = "3.13", "25 August 2026", "3.12"
CHECKED = "2026-12-03"


def _readme_set_up() -> str:
    readme = (REPO / "README.md").read_text()
    return re.search(r"^## Set up\n(.*?)^## ", readme, re.MULTILINE | re.DOTALL)[1]


def test_python_versions_agree():
    """pyproject, environment.yml, the README and CI state the same tested Pythons and
    what Colab runs."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={TESTED_PYTHONS[0]}", project["requires-python"]
    classifiers = {c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
                   if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    assert classifiers == set(TESTED_PYTHONS), f"pyproject classifiers {sorted(classifiers)}"

    env = (REPO / "environment.yml").read_text()
    pinned = re.search(r"^\s*- python=(3\.\d+)$", env, re.MULTILINE)
    assert pinned and pinned[1] in TESTED_PYTHONS, "environment.yml: python= one tested version"
    for claim in (*TESTED_PYTHONS, f"Colab runs {COLAB_PYTHON} since {COLAB_SINCE}",
                  f"checked {CHECKED}"):
        assert claim in env, f"environment.yml's comment does not say {claim!r}"

    set_up = " ".join(_readme_set_up().split())
    wanted = [f"Python {TESTED_PYTHONS[0]}, {TESTED_PYTHONS[1]} or {TESTED_PYTHONS[2]}",
              f"**{FLOOR_PYTHON}** with the oldest PyTorch supported",
              f"Google Colab runs **Python {COLAB_PYTHON}** since {COLAB_SINCE}",
              f"{COLAB_OLDER} on its older runtimes", f"(checked {CHECKED})",
              f"on Python {FLOOR_PYTHON} (Colab's older runtimes)"]
    for claim in wanted:
        assert claim in set_up, f"README's Set up does not say {claim!r}"
    assert "untested" not in set_up

    ci = (REPO / ".ci" / "run").read_text()
    loop = re.search(r"^for version in ([\d. ]+); do$", ci, re.MULTILINE)
    assert loop and tuple(loop[1].split()) == TESTED_PYTHONS, ".ci/run tests other Pythons"
    for version in TESTED_PYTHONS:
        assert f'"${{python[{version}]}}"' in ci, f".ci/run never uses Python {version}"
    assert re.search(rf'build_venv py{FLOOR_PYTHON.replace(".", "")} "\$\{{python\[{FLOOR_PYTHON}\]\}}" '
                     r"-r requirements-floor\.txt", ci), f".ci/run: the floor is not on {FLOOR_PYTHON}"


def test_axe_core_is_pinned_exactly_for_the_site_test():
    """e2e/test_site.py injects axe-core from npm (npm ci --prefix e2e): one exact version,
    the same in package.json and its lock file, so a new axe release cannot change CI."""
    import json

    wanted = json.loads((REPO / "e2e" / "package.json").read_text())["dependencies"]["axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted), f"e2e/package.json: axe-core {wanted!r}"
    lock = json.loads((REPO / "e2e" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/axe-core"]["version"] == wanted
    assert lock["packages"][""]["dependencies"]["axe-core"] == wanted
