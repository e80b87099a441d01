"""Errors raised for input the service cannot use."""

from __future__ import annotations

__all__ = ["DataValidationError", "InputError"]


class InputError(ValueError):
    """A file or argument the service cannot use.

    The message always names the file (or argument) and says what to do.
    """


class DataValidationError(InputError):
    """One or more problems found while validating a file.

    Parameters
    ----------
    source : str
        The file (or layer) the problems were found in.
    problems : list of str
        Every problem found, each naming the row and column where known.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        head = f"{source}: {len(self.problems)} problem(s): " + "; ".join(self.problems[:5])
        if len(self.problems) > 5:
            head += f"; ... and {len(self.problems) - 5} more"
        super().__init__(head)
