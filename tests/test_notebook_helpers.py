"""helpers.notebook: expect_error (deliberate errors) and progress_bar (stored bars finish)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.notebook import CaughtError, expect_error, progress_bar

# --- expect_error -------------------------------------------------------------------------


def test_expect_error_swallows_the_expected_error_and_prints_it(capsys):
    with expect_error(ValueError, match="bad") as caught:
        raise ValueError("a bad value")
    assert capsys.readouterr() == ("ValueError: a bad value\n", "")
    assert isinstance(caught, CaughtError)
    assert isinstance(caught.exception, ValueError)
    assert caught.message == "a bad value"


def test_expect_error_accepts_a_subclass_and_a_tuple(capsys):
    with expect_error(LookupError):
        {}["missing"]
    with expect_error((TypeError, ValueError)):
        raise TypeError("t")
    assert capsys.readouterr().out == "KeyError: 'missing'\nTypeError: t\n"


def test_expect_error_fails_when_nothing_is_raised():
    with pytest.raises(AssertionError, match="expected RuntimeError, but no error was raised"):
        with expect_error(RuntimeError):
            pass


def test_expect_error_fails_on_another_error_type_and_keeps_it_as_the_cause():
    with pytest.raises(AssertionError, match="expected TypeError, got ValueError: v") as info:
        with expect_error(TypeError):
            raise ValueError("v")
    assert isinstance(info.value.__cause__, ValueError)


def test_expect_error_fails_when_the_message_does_not_match(capsys):
    with pytest.raises(AssertionError, match="matching 'shape'"):
        with expect_error(RuntimeError, match="shape"):
            raise RuntimeError("dtype")
    assert capsys.readouterr().out == ""  # nothing printed for a wrong message


def test_expect_error_show_false_prints_nothing(capsys):
    with expect_error(RuntimeError, show=False) as caught:
        raise RuntimeError("quiet")
    assert capsys.readouterr().out == ""
    assert caught.message == "quiet"


def test_expect_error_lets_keyboard_interrupt_through():
    with pytest.raises(KeyboardInterrupt):
        with expect_error(ValueError):
            raise KeyboardInterrupt


@pytest.mark.parametrize("bad", [ValueError("x"), "ValueError", int, (), (ValueError, 3)])
def test_expect_error_rejects_what_is_not_an_exception_class(bad):
    with pytest.raises(TypeError, match="exception class"):
        with expect_error(bad):
            raise ValueError("x")


def test_expect_error_rejects_a_match_that_is_not_a_string():
    with pytest.raises(TypeError, match="match must be"):
        with expect_error(ValueError, match=3):
            raise ValueError("x")
    ran = []
    with pytest.raises(ValueError, match=r"no valid regular expression.*re\.escape"):
        with expect_error(ValueError, match="bad (input"):  # was re.error, amid the ValueError
            ran.append(True)
    assert not ran  # refused before the block runs


# --- progress_bar -------------------------------------------------------------------------


def test_progress_bar_yields_everything_outside_a_notebook(capsys):
    assert list(progress_bar(range(4), desc="steps")) == [0, 1, 2, 3]
    err = capsys.readouterr().err
    assert "steps: 100%" in err.split("\r")[-1]


def test_progress_bar_disabled_prints_nothing(capsys):
    assert list(progress_bar(range(3), desc="steps", disable=True)) == [0, 1, 2]
    assert capsys.readouterr() == ("", "")


def test_progress_bar_rejects_a_desc_that_is_not_a_string():
    with pytest.raises(TypeError, match="desc must be a string"):
        progress_bar(range(3), desc=3)


def test_progress_bar_stored_in_a_notebook_reads_as_finished():
    """In a real kernel the widget's stored text/plain is the final state, not 0 %."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from helpers import progress_bar\n"
        "for _ in (bar := progress_bar(range(5), desc='epochs')):\n"
        "    bar.set_postfix({f'metric_{k}': f'{k:.4f}' for k in range(6)})"
    )]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    texts = [o["data"]["text/plain"] for o in nb.cells[0].outputs if "data" in o]
    assert len(texts) == 1, nb.cells[0].outputs
    assert texts[0].startswith("epochs: 100%"), texts[0]
    assert "5/5" in texts[0]
    assert texts[0].endswith("metric_5=5.0000]"), texts[0]  # whole, though over 110 characters
    widget = [o["data"] for o in nb.cells[0].outputs if "data" in o][0]
    assert "application/vnd.jupyter.widget-view+json" in widget  # still the live widget


def test_each_public_function_names_a_lesson_that_exists():
    """A learner follows "Taught in NN_topic" from a docstring to the lesson: it must be there."""
    import inspect
    import re
    from pathlib import Path

    import helpers

    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    for name in helpers.__all__:
        obj = getattr(helpers, name)
        if not callable(obj) or inspect.isclass(obj):
            continue
        lessons = re.findall(r"\b(\d\d_[a-z_]+[a-z])\b", obj.__doc__ or "")
        assert lessons, f"{name}'s docstring names no lesson"
        for lesson in lessons:
            assert (notebooks / f"{lesson}.ipynb").is_file(), f"{name} names {lesson}, not found"
