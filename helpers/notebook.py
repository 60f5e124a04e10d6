"""What a lesson needs to show things in a notebook: errors raised on purpose, progress bars.

Taught in 00_tensors ("Errors, shown on purpose"): every deliberate error in the series is
raised for real inside :func:`expect_error`, so "Run All" never stops at one, in any editor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["CaughtError", "expect_error", "progress_bar"]


@dataclass
class CaughtError:
    """What :func:`expect_error` caught, filled in when the ``with`` block has raised: the
    exception and its message (``str(exception)``)."""

    exception: BaseException | None = None
    message: str = ""


@contextmanager
def expect_error(expected: type[BaseException] | tuple[type[BaseException], ...],
                 match: str | None = None, *, show: bool = True) -> Iterator[CaughtError]:
    """Run a block that must raise ``expected`` (a class or a tuple of them); catch the
    error and print it on stdout as ``TypeName: message``, so the next cells still run in
    any editor. Taught in 00_tensors ("Errors, shown on purpose").

    ``match``: a regular expression that must be found (``re.search``) in the message, for
    the stable part of a message that differs between versions. ``show=False``: print
    nothing (print a part yourself). Yields a :class:`CaughtError`. Raises AssertionError
    when the block raised nothing, another type, or a message ``match`` does not find.

    Example::

        with expect_error(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            torch.ones(2, 3) @ torch.ones(2, 3)
    """
    types = expected if isinstance(expected, tuple) else (expected,)
    if not types or not all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        raise TypeError(f"expected must be an exception class or a tuple of them, like "
                        f"RuntimeError, got {expected!r}")
    if match is not None and not isinstance(match, str):
        raise TypeError(f"match must be a regular expression string or None, got {match!r}")
    names = " or ".join(t.__name__ for t in types)
    caught = CaughtError()
    try:
        yield caught
    except types as exc:
        caught.exception, caught.message = exc, str(exc)
        if match is not None and not re.search(match, str(exc)):
            raise AssertionError(f"expected {names} with a message matching {match!r}, "
                                 f"got {type(exc).__name__}: {exc}") from exc
        if show:
            print(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - any other error is the wrong one
        raise AssertionError(f"expected {names}, got {type(exc).__name__}: {exc}") from exc
    else:
        raise AssertionError(f"expected {names}, but no error was raised")


def progress_bar(iterable: Iterable[Any], *, desc: str, total: int | None = None,
                 disable: bool = False) -> Any:
    """A tqdm progress bar (``desc`` in front of it) whose stored form reads as finished.

    In JupyterLab it is tqdm's live widget; in a terminal, tqdm's text bar on stderr. A
    widget's plain-text form (what GitHub, nbviewer or a site shows from a stored notebook)
    is taken when the bar appears, at 0 %; this bar replaces it with its final state when it
    closes. Taught in 02_xor_classifier (its training loop shows one).
    """
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a string, got {type(desc).__name__}")
    from tqdm.auto import tqdm as auto_tqdm
    from tqdm.notebook import tqdm as notebook_tqdm

    if disable or not issubclass(auto_tqdm, notebook_tqdm):
        return auto_tqdm(iterable, desc=desc, total=total, disable=disable)
    return _stored_bar_class()(iterable, desc=desc, total=total)


@cache
def _stored_bar_class() -> type:
    from IPython.display import display
    from tqdm.notebook import tqdm as notebook_tqdm

    class StoredNotebookBar(notebook_tqdm):  # type: ignore[misc, valid-type]
        """tqdm's widget, displayed with an id so that closing can update its stored text."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["display"] = False
            super().__init__(*args, **kwargs)
            self._handle = display(self.container, display_id=True)
            self.displayed = True

        def close(self) -> None:
            super().close()
            handle = getattr(self, "_handle", None)
            if handle is not None:
                self._handle = None
                handle.update(self.container)  # the text/plain form now shows the end state

    return StoredNotebookBar
