"""Errors raised on purpose, and progress bars: what a lesson shows in a notebook.
Taught in 00_tensors ("Errors, shown on purpose") and 02_xor_classifier."""

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
    """What :func:`expect_error` caught: the exception and its message."""

    exception: BaseException | None = None
    message: str = ""


@contextmanager
def expect_error(expected: type[BaseException] | tuple[type[BaseException], ...],
                 match: str | None = None, *, show: bool = True) -> Iterator[CaughtError]:
    """Run a block that must raise ``expected`` (a class or a tuple of them); catch the
    error and print ``TypeName: message``, so Run All goes on. Taught in 00_tensors.

    ``match``: a regular expression ``re.search`` must find in the message. ``show=False``:
    print nothing. Yields a :class:`CaughtError`; raises AssertionError when the block raised
    nothing, another type, or a message ``match`` does not find. Example::

        with expect_error(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            torch.ones(2, 3) @ torch.ones(2, 3)
    """
    types = expected if isinstance(expected, tuple) else (expected,)
    if not types or not all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        raise TypeError(f"expected must be an exception class or a tuple of them, like "
                        f"RuntimeError, got {expected!r}")
    if match is not None and not isinstance(match, str):
        raise TypeError(f"match must be a regular expression string or None, got {match!r}")
    try:  # before the block runs: a bad pattern would otherwise fail while handling its error
        re.compile(match or "")
    except re.error as exc:
        raise ValueError(f"match is no valid regular expression ({exc}): {match!r}; write "
                         r"\( for a literal (, or pass re.escape(text)") from None
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
    """tqdm's progress bar (a widget in JupyterLab, text in a terminal) whose stored text
    form, which GitHub or a site shows, is its final state rather than the 0 % it was
    displayed with. Taught in 02_xor_classifier.
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
                # the text/plain form shows the end state, whole (ipywidgets cuts it at 110)
                handle.update({**self.container._repr_mimebundle_(),
                               "text/plain": repr(self.container)}, raw=True)

    return StoredNotebookBar
