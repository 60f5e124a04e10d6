"""Mutation testing of ``helpers``: does each realistic bug make a unit test fail?

Each mutant below is one small edit a maintainer could plausibly make by mistake (a
comparison turned around, a check or a call dropped, a wrong constant). For each one, the
script copies ``helpers/``, the unit tests of ``helpers`` and ``pyproject.toml`` into a
temporary folder (the working tree is never touched), applies the edit there, and runs
the unit tests of the edited module (``pytest -x``). A mutant is *killed* when a test
fails. The table lists every mutant, and the score counts the killed ones.

    python tools/mutation_test.py            # every mutant (several minutes)
    python tools/mutation_test.py -k engine  # only mutants whose name contains "engine"
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = {  # the unit tests that cover each module
    "data": ["tests/test_data.py"],
    "device": ["tests/test_device.py", "tests/test_engine.py"],
    "engine": ["tests/test_engine.py"],
    "plotting": ["tests/test_plotting.py"],
    "notebook": ["tests/test_notebook_helpers.py"],
}

# (module, what the bug is, the text to find (exactly once), what it becomes)
MUTANTS: list[tuple[str, str, str, str]] = [
    ("device", "MPS checked before CUDA",
     "    if torch.cuda.is_available():\n        return torch.device(\"cuda\")\n"
     "    mps = getattr(torch.backends, \"mps\", None)\n"
     "    if mps is not None and mps.is_available():\n        return torch.device(\"mps\")\n",
     "    mps = getattr(torch.backends, \"mps\", None)\n"
     "    if mps is not None and mps.is_available():\n        return torch.device(\"mps\")\n"
     "    if torch.cuda.is_available():\n        return torch.device(\"cuda\")\n"),
    ("device", "seeded_generator ignores its seed",
     "manual_seed(require_int(seed, \"seed\", minimum=0, maximum=_MAX_SEED))",
     "manual_seed(42)"),
    ("device", "upper bound of an int check made strict",
     "(maximum is not None and value > maximum)", "(maximum is not None and value >= maximum)"),
    ("device", "bool accepted as an int",
     "if isinstance(value, bool) or not isinstance(value, (int, np.integer)):",
     "if not isinstance(value, (int, np.integer)):"),
    ("device", "NumPy not seeded", "    np.random.seed(seed)\n", ""),
    ("device", "random not seeded", "    random.seed(seed)\n", ""),
    ("device", "cuDNN benchmark left on", "cudnn.benchmark = False", "cudnn.benchmark = True"),
    ("device", "mode_restored restores nothing", "            module.training = flag\n",
     "            pass\n"),
    ("device", "mode_restored ignores the mode asked for", "model.train(training)",
     "model.train()"),
    ("engine", "binary threshold >= 0", "(logits.reshape(-1) > 0)", "(logits.reshape(-1) >= 0)"),
    ("engine", "argmax over the batch", "logits.argmax(dim=1)", "logits.argmax(dim=0)"),
    ("engine", "loss not weighted by batch size", "loss_sum += losses[-1] * len(targets)",
     "loss_sum += losses[-1]"),
    ("engine", "loss averaged over batches", 'result = {"loss": sums[0] / seen}',
     'result = {"loss": sums[0] / len(losses)}'),
    ("engine", "gradients never zeroed", "            optimizer.zero_grad()\n", ""),
    ("engine", "a model found in eval mode stays in eval mode (train mode)",
     "    if not any(m.training for m in model.modules()):\n        model.train()\n",
     "    if False:\n        model.train()\n"),
    ("engine", "model.train() called always, unfreezing batch norm (train mode)",
     "    if not any(m.training for m in model.modules()):\n        model.train()\n",
     "    if True:\n        model.train()\n"),
    ("engine", "ReduceLROnPlateau fed the training loss",
     'history["eval_loss" if eval_loader is not None else "train_loss"]',
     'history["train_loss"]'),
    ("engine", "scheduler never stepped", "            elif scheduler is not None:\n"
     "                scheduler.step()\n", ""),
    ("engine", "reduction='sum' accepted", 'getattr(loss_fn, "reduction", "mean") != "mean"',
     'getattr(loss_fn, "reduction", "mean") not in ("mean", "sum")'),
    ("engine", "label C accepted", "highest = 1 if binary else classes - 1",
     "highest = 1 if binary else classes"),
    ("engine", "fractional labels accepted", "or frac > 0:", "or frac > 0.5:"),
    ("engine", "first batch's loss not checked", "if not math.isfinite(value := loss.item()):",
     "if math.isnan(value := loss.item()) and False:"),
    ("engine", "infinite losses of later batches pass", "if not math.isfinite(sums[0]):",
     "if math.isnan(sums[0]):"),
    ("engine", "evaluate runs in training mode",
     "    with mode_restored(model, training=False):\n        return _run_pass(",
     "    with mode_restored(model):\n        return _run_pass("),
    ("engine", "eval loader not checked before training",
     "                _check_labels(logits, targets, track_accuracy, place)\n"
     "                _check_loss(loss_fn(logits, targets), \"evaluation\", place)\n",
     "                pass\n"),
    ("engine", "later labels never checked",
     "if problem := _label_problem(torch.cat(all_targets), binary, classes):",
     "if (problem := _label_problem(torch.cat(all_targets), binary, classes)) and False:"),
    ("engine", "overfits: gap test not strict", "return val[-1] > (1 + gap) * train[-1]",
     "return val[-1] >= (1 + gap) * train[-1]"),
    ("engine", "overfits: training loss flat counts as falling", "train[-1] < train[best]",
     "train[-1] <= train[best]"),
    ("engine", "overfits: the last lowest epoch instead of the first",
     "best = min(range(len(val)), key=val.__getitem__)",
     "best = len(val) - 1 - min(range(len(val)), key=val[::-1].__getitem__)"),
    ("engine", "Wilson: z instead of z squared", "centre = (p + z * z / (2 * n))",
     "centre = (p + z / (2 * n))"),
    ("engine", "accuracy_interval accepts correct > total", "if correct > total:",
     "if correct > total + 1:"),
    ("engine", "a one-shot eval_loader accepted (its batch 1 lost)",
     '(epochs > 1 or name == "eval_loader")', "epochs > 1"),
    ("engine", "eval loader checked in inference mode (a lazy layer never trains)",
     "with torch.no_grad(), mode_restored(model, training=False), \\",
     "with torch.inference_mode(), mode_restored(model, training=False), \\"),
    ("device", "True accepted as a number (gap, z, timeout)",
     "if isinstance(value, bool) or not isinstance(value, numbers.Real):",
     "if not isinstance(value, numbers.Real):"),
    ("device", "a NumPy float refused as a number", "not isinstance(value, numbers.Real)",
     "not isinstance(value, (int, float))"),
    ("engine", "a forgotten loss_fn (None) accepted", "    if needs_loss and (not callable",
     "    if loss_fn is not None and (not callable"),
    ("engine", "a bad label after batch 1 left to the loss's own IndexError",
     "            if track_accuracy and (problem := _label_problem(targets, binary, classes)):",
     "            if False:"),
    ("engine", "z kept as a NumPy float32 in the formula", '(z := require_number(z, "z"))',
     'require_number(z, "z")'),
    ("plotting", "a validation split drawn in the test colour", "c=_SPLIT_COLORS[split]",
     'c="tab:green"'),
    ("data", "a failed MNIST download names MNIST/, not MNIST/raw, as the place to copy to",
     'folder / "raw") from exc', "folder) from exc"),
    ("data", "hash lower-casing dropped", "sha256_of(archive)) != sha256.lower()",
     "sha256_of(archive)) != sha256"),
    ("data", "an empty folder taken for data", "return folder.is_dir() and any(folder.iterdir())",
     "return folder.is_dir()"),
    ("data", "a download cut short accepted", "out.tell() < int(length)",
     "out.tell() > int(length)"),
    ("data", "'..' in member names accepted", 'path.is_absolute() or ".." in path.parts or',
     "path.is_absolute() or"),
    ("data", "drive letters in member names accepted",
     ' or (path.parts and ":" in path.parts[0])', ""),
    ("data", "zip symlinks accepted", "& 0o170000 == 0o120000", "& 0o170000 == 0o777777"),
    ("data", "an empty archive accepted", "if not any(p.is_file() for p in staging.rglob(\"*\")):",
     "if False:"),
    ("data", "the single top folder not stripped",
     "source = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging",
     "source = staging"),
    ("data", "data_root not created", "    root.mkdir(parents=True, exist_ok=True)\n", ""),
    ("data", "a failed MNIST download leaves its folder",
     'for path in [folder] if before is None else set(folder.rglob("*")) - before:',
     "for path in []:"),
    ("data", "a URL without a server accepted",
     ' or (scheme != "file" and not parts.hostname)', ""),
    ("data", "a zip cut short called 'not a zip'", 'if not start.startswith(b"PK"):', "if True:"),
    ("data", "macOS metadata kept", "return not _MACOS_METADATA.intersection(",
     "return True or _MACOS_METADATA.intersection("),
    ("data", "a read error mid-way escapes raw",
     "except (OSError, http.client.HTTPException) as exc:  # the network's fault",
     "except TimeoutError as exc:  # the network's fault"),
    ("data", "a file:// error called offline", 'if url.lower().startswith("file:"):', "if False:"),
    ("data", "a port that is no number accepted", "_ = parts.port  #", "_ = parts.hostname  #"),
    ("data", "a name both file and folder escapes raw",
     "except (NotADirectoryError, FileExistsError, IsADirectoryError)", "except ZeroDivisionError"),
    ("data", "a disk error does not name its file", "exc.filename = exc.filename or str(target)",
     "pass"),
    ("data", "the timeout not passed on", "urlopen(url, timeout=timeout)", "urlopen(url)"),
    ("data", "a timeout of 0 accepted", 'if not 0 < require_number(timeout, "timeout") <',
     'if not 0 <= require_number(timeout, "timeout") <'),
    ("data", "a failed MNIST download removes what was there",
     'else set(folder.rglob("*")) - before:', 'else set(folder.rglob("*")):'),
    ("data", "a hash that is no string read through str()",
     'if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", value):',
     'if not re.fullmatch(r"[0-9a-fA-F]{64}", str(value)):'),
    ("data", "the 64 hex digits not required", 'r"[0-9a-fA-F]{64}"', 'r"[0-9a-fA-F]{1,64}"'),
    ("data", "any URL scheme accepted", 'scheme not in ("http", "https", "ftp", "file")', "False"),
    ("data", "a corrupt deflate stream escapes raw", "zipfile.BadZipFile, zlib.error, EOFError",
     "zipfile.BadZipFile, EOFError"),
    ("plotting", "nrows = n // ncols + 1", "nrows = -(-len(arrays) // ncols)",
     "nrows = len(arrays) // ncols + 1"),
    ("plotting", "decision boundary evaluated in training mode",
     "    with mode_restored(model, training=False):\n        logits = model(grid)",
     "    with mode_restored(model):\n        logits = model(grid)"),
    ("plotting", "binary points blue and orange", '["tab:blue", "tab:red"]',
     '["tab:blue", "tab:orange"]'),
    ("plotting", "NaN points reach matplotlib", "if not np.isfinite(X_np).all():", "if False:"),
    ("plotting", "0-255 float images drawn white", "img.max() > 1 and np.array_equal",
     "img.max() > 255 and np.array_equal"),
    ("plotting", "grey integer images stretched", 'else 255}', 'else None}'),
    ("plotting", "confusion matrix drops absent classes", "labels=np.arange(num_classes)",
     "labels=None"),
    ("plotting", "fractional labels truncated", "| (as_float != np.round(as_float))", ""),
    ("plotting", "epochs counted from 0", "ax.plot(range(1, len(values) + 1), values,",
     "ax.plot(range(len(values)), values,"),
    ("data", "a stalled download called broken off (shrink)", "if isinstance(exc, TimeoutError)",
     "if False"),
    ("plotting", "a figure made here stays open after an error (shrink)",
     "        plt.close(fig)\n        raise\n", "        raise\n"),
    ("plotting", "a new figure is never laid out (shrink)", "        fig.tight_layout()  # labels",
     "        pass  # labels"),
    ("plotting", "a bool image drawn as 0/1 on 0-255 (black)",
     "        img = img.astype(np.float32)  # False", "        img = img.astype(np.uint8)  # False"),
    ("plotting", "too few class_names filled with 'class k'", "    if len(names) < n_classes:\n",
     "    if False:\n"),
    ("plotting", "exactly enough class_names refused", "if len(names) < n_classes:",
     "if len(names) <= n_classes:"),
    ("plotting", "grid not cast to the model's dtype", ".to(first.device, dtype)",
     ".to(first.device)"),
    ("plotting", "to_numpy copies a CPU tensor", "        return t.numpy()\n",
     "        return t.numpy().copy()\n"),
    ("plotting", "an HWC tensor read as CHW", "if img.ndim == 3 and img.shape[0] not in (1, 3, 4):",
     "if False:"),
    ("plotting", "(N, 2) regression inputs or (N, C) one-hot labels flattened",
     "(array.ndim == 2 and array.shape[1] != 1)",
     "False"),
    ("plotting", "class regions not in their points' colours",
     "colors=_class_colors(n_colors)[:n_classes], alpha=0.35", 'cmap="tab10", alpha=0.35'),
    ("plotting", "binary boundary line not at p = 0.5", "levels=[0.5]", "levels=[0.25]"),
    ("plotting", "label num_classes accepted by confusion_counts",
     "max(t.max(), p.max()) >= num_classes", "max(t.max(), p.max()) > num_classes"),
    ("plotting", "history values not checked as numbers", "list(map(float, history[k]))",
     "list(history[k])"),
    ("plotting", "title colours ignored",
     'color=title_colors[i] if title_colors is not None else "black"', 'color="black"'),
    ("plotting", "a PIL palette image drawn as its indices", 'img.mode not in ("L", "RGB", "RGBA")',
     'img.mode not in ("L", "RGB", "RGBA", "P")'),
    ("notebook", "the caught message not kept (shrink)", "caught.exception, caught.message = exc, str(exc)",
     "caught.exception = exc"),
    ("notebook", "match anchored at the start", "not re.search(match, str(exc))",
     "not re.match(match, str(exc))"),
    ("notebook", "no error passes",
     '        raise AssertionError(f"expected {names}, but no error was raised")', "        pass"),
    ("notebook", "the stored bar's text cut at 110 characters by ipywidgets",
     '"text/plain": repr(self.container)}', '"text/plain": repr(self.container)[:110]}'),
    ("notebook", "the caught error is not printed", '            print(f"{type(exc).__name__}: {exc}")',
     "            pass"),
]


def copy_tree(into: Path) -> None:
    shutil.copytree(REPO / "helpers", into / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (into / "tests").mkdir()
    for tests in TESTS.values():
        for test in tests:
            shutil.copy(REPO / test, into / test)
    shutil.copy(REPO / "pyproject.toml", into / "pyproject.toml")
    (into / "notebooks").symlink_to(REPO / "notebooks")  # lessons named by docstrings
    (into / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")


def run_tests(folder: Path, module: str) -> tuple[bool, float]:
    env = {**os.environ, "PYTHONPATH": str(folder), "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-c", "pytest.ini",
                             *TESTS[module]], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=900, check=False)
    return result.returncode == 0, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only mutants whose module or name has this")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if args.k in m[0] or args.k in m[1]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy_tree(folder)
        check = subprocess.run([sys.executable, "-c", "import helpers; print(helpers.__file__)"],
                               cwd=folder, env={**os.environ, "PYTHONPATH": str(folder)},
                               capture_output=True, text=True, check=True)
        assert check.stdout.strip().startswith(str(folder)), check.stdout
        for module in sorted({m[0] for m in chosen}):
            passed, _ = run_tests(folder, module)
            if not passed:
                sys.exit(f"the unmutated tests of {module} fail: fix them first")
        killed, rows = 0, []
        for module, name, old, new in chosen:
            path = folder / "helpers" / f"{module}.py"
            original = path.read_text()
            if original.count(old) != 1:
                rows.append((module, name, f"NOT APPLIED ({original.count(old)} matches)", 0.0))
                continue
            path.write_text(original.replace(old, new))
            try:
                passed, seconds = run_tests(folder, module)
            finally:
                path.write_text(original)
            killed += not passed
            rows.append((module, name, "survived" if passed else "killed", seconds))
            print(f"{module:<9} {rows[-1][2]:<9} {seconds:5.1f} s  {name}", flush=True)
    applied = [r for r in rows if not r[2].startswith("NOT")]
    print("\n| module | mutant | result |\n|---|---|---|")
    for module, name, result, _ in rows:
        print(f"| {module} | {name} | {result} |")
    print(f"\nkilled: {killed} of {len(applied)} ({100 * killed / max(len(applied), 1):.0f} %)")
    return 0 if len(applied) == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
