"""Smoke tests of the benchmark scripts: they still run and print what they promise.

Speed is never checked here (a timed test fails on a slow machine); this only catches a
script broken by a change elsewhere, such as lesson 05 renaming or moving what the
benchmarks read from it (its CNN, ``conv_block``, its loaders, its ``train``). The
scripts run with tiny settings: one step, one epoch, a few hundred images, one thread.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


def _mnist_is_there() -> bool:
    """Where helpers.data_root() would look, without creating the folder (as it would)."""
    root = Path(os.environ.get("TUTORIAL_DATA_DIR", "").strip() or "data").expanduser()
    return ((root if root.is_absolute() else REPO / root) / "MNIST" / "raw").is_dir()


needs_mnist = pytest.mark.skipif(
    not _mnist_is_there(),  # the scripts would try to download it
    reason="needs MNIST under the data root (CI points it at a copy of the mirror)")


def run_script(name: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / name), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          check=False)


@needs_mnist
def test_train_throughput_prints_every_way_its_factors_and_a_ratio():
    result = run_script("train_throughput.py", "--steps", "1", "--warmup", "0",
                        "--threads", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("device: ") and "load average: " in lines[0], lines[0]
    for key in ("seeds-style", "no .item()", "tensor path", "batch 128", "notebook 05"):
        assert any(re.match(rf"{re.escape(key)} +: +[\d,]+ images in .* images/s", line)
                   for line in lines), (key, result.stdout)
    factors = lines.index("factors, each way over the one before it:")
    assert all(re.match(r"  x\d+\.\d\d  \S", line) for line in lines[factors + 1:factors + 5])
    assert re.fullmatch(r"ratio: \d+\.\d\d", lines[-1]), lines[-1]
    assert "accuracy" not in result.stdout  # equal steps, unequal images: no accuracy claim


@needs_mnist
def test_time_to_accuracy_reports_each_run_the_medians_and_a_ratio():
    result = run_script("time_to_accuracy.py", "--seeds", "0", "--max-epochs", "1",
                        "--train-images", "256", "--test-images", "256", "--target", "0.2",
                        "--threads", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert "NOT a measurement" in lines[1], lines[1]  # a smoke run says it is one
    for recipe in ("seeds recipe", "lesson 05"):
        assert any(re.match(rf"{recipe} +seed 0: (reached|did not reach) .* s per epoch", line)
                   for line in lines), (recipe, result.stdout)
        assert any(re.match(rf"{recipe} *: (median \d|median: did not reach)", line)
                   for line in lines), (recipe, result.stdout)
    assert any(line.startswith("where the gain comes from: median epochs ") for line in lines)
    assert re.fullmatch(r"ratio: (\d+\.\d\d|> \d+\.\d\d \(.+\)|none \(.+\))", lines[-1]), lines[-1]


def test_engine_overhead_prints_a_ratio_per_case_the_cnn_last():
    result = run_script("engine_overhead.py", "--repeats", "1", "--samples", "64",
                        "--threads", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    ratios = [i for i, line in enumerate(lines) if re.fullmatch(r"ratio: \d+\.\d\d", line)]
    assert len(ratios) == 3 and ratios[-1] == len(lines) - 1, result.stdout
    assert lines[ratios[-1] - 1].startswith("lesson 05's CNN"), result.stdout


def test_importing_the_benchmark_tests_creates_no_data_folder(tmp_path):
    code = ("import os, sys; sys.path.insert(0, 'tests'); import test_benchmarks; "
            "print(os.path.exists(os.environ['TUTORIAL_DATA_DIR']))")
    env = {**os.environ, "TUTORIAL_DATA_DIR": str(tmp_path / "nowhere")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=REPO, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"


def load_script(script: str):
    """Import a benchmark script as a module (its ``main`` does not run)."""
    name = f"benchmark_{script[:-3]}"
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    sys.path.insert(0, str(BENCHMARKS))  # time_to_accuracy imports train_throughput
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


@pytest.mark.parametrize(("script", "args", "message"), [
    ("train_throughput.py", ["--steps", "0"], "--steps must be at least 1"),
    ("train_throughput.py", ["--warmup", "-1"], "--warmup must be at least 0"),
    ("train_throughput.py", ["--threads", "-1"], "--threads must be 0"),
    ("time_to_accuracy.py", ["--max-epochs", "0"], "--max-epochs must be at least 1"),
    ("time_to_accuracy.py", ["--target", "1.5"], "--target must be above 0 and at most 1"),
    ("time_to_accuracy.py", ["--test-images", "0"], "--test-images must be at least 1"),
    ("time_to_accuracy.py", ["--train-images", "-1"], "--train-images must be 0"),
])
def test_bad_options_are_refused_before_any_work(script, args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script(script).parse_args(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("script", ["train_throughput.py", "time_to_accuracy.py"])
def test_help_documents_every_option(script, capsys):
    parser = load_script(script).make_parser()
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert options
    undocumented = [a.option_strings[0] for a in options if not (a.help or "").strip()]
    assert not undocumented, undocumented
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    shown = capsys.readouterr().out
    assert all(a.option_strings[0] in shown for a in options)
