"""Command-line tools report the user's mistakes in one line.

An error the user can fix (a bad flag or config value, a missing or malformed
input file, a dataset not built yet, a workdir that does not fit the config)
is printed as one line on stderr, ``error: <what is wrong and how to fix
it>``, and the program exits with status 2, the status of a usage error.
Anything else is a bug in the program and keeps its traceback.

Exceptions that describe such a mistake derive from :class:`UserInputError`
(``ConfigError``, ``EvaluationInputError``, ``DatasetNotPreparedError``,
``DataError``, ...). A command line runs its absl ``main`` through
:func:`run` instead of ``app.run``::

  from wtal_jax import cli_errors

  def main(argv):
    ...

  if __name__ == "__main__":
    cli_errors.run(main)

Flag errors (an unknown flag, a value of the wrong type, a missing required
flag, a config file that does not load, a ``--config.<field>`` override of a
field that does not exist) and ``app.UsageError`` get the same one line
instead of absl's multi-line usage text.

A tool whose start-up time matters (the standalone evaluator, compared with
the official evaluator in CPU seconds) parses with :class:`QuickParser`
instead: argparse with the same one-line errors. absl is imported only when
a function here needs it, so that library code can raise
:class:`UserInputError` without importing it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, NoReturn, Sequence

EXIT_USAGE = 2


class UserInputError(Exception):
  """A problem with the user's input; the message says what and how to fix.

  Derived classes may also derive from a built-in type (``ValueError``,
  ``FileNotFoundError``) so that library callers can catch them as such.
  """


def one_line(message: str) -> str:
  """``message`` on one line.

  An embedded traceback (ml_collections puts one in the errors of config
  files) is reduced to its last line, the exception itself; other line
  breaks become spaces.
  """
  text = str(message)
  if "Traceback (most recent call last)" in text:
    head, _, tail = text.partition("Traceback (most recent call last)")
    last = [l.strip() for l in tail.splitlines() if l.strip()]
    text = head + (last[-1] if last else "")
  return " ".join(text.split())


def fail(message: str) -> NoReturn:
  """Prints ``error: <message>`` on one line and exits with status 2."""
  print(f"error: {one_line(message)}", file=sys.stderr, flush=True)
  sys.exit(EXIT_USAGE)


def _missing_field(error: BaseException) -> str:
  """The message for ml_collections' ``KeyError`` (or ``AttributeError``
  around one) on an override of a field that does not exist.

  Its text is the quoted field name, then possibly a "Did you mean" line;
  ``str()`` of a ``KeyError`` would add quotes and escapes.
  """
  value: Any = error
  while isinstance(value, BaseException) and value.args:
    value = value.args[0]
  lines = str(value).strip().splitlines() or ["?"]
  hint = " ".join(l.strip() for l in lines[1:])
  return (f"--config.<field> override: the config has no field {lines[0]}. "
          + (hint or "Check the field name against the config file."))


def parse_flags(argv: Sequence[str]) -> list[str]:
  """absl's flag parsing, with one-line errors (the ``flags_parser`` of
  :func:`run`)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  try:
    return flags.FLAGS(list(argv))
  except flags.Error as e:
    fail(f"{one_line(str(e))} (--helpshort lists the flags)")
  except (KeyError, AttributeError) as e:
    # ml_collections raises these for a --config.<field>=... override whose
    # field the config does not have.
    fail(_missing_field(e))


def run(main: Callable[[list[str]], Any],
        also: tuple[type[BaseException], ...] = ()) -> None:
  """``app.run(main)`` with one-line errors for the user's mistakes.

  Args:
    main: The absl main function.
    also: More exception types to report in one line (types from libraries
      that cannot derive from :class:`UserInputError`).
  """

  from absl import app  # pylint: disable=g-import-not-at-top

  def guarded(argv):
    try:
      return main(argv)
    except (UserInputError, app.UsageError, *also) as e:
      # str() of a KeyError quotes its message; print the message itself.
      fail(str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e))

  app.run(guarded, flags_parser=parse_flags)



class QuickParser(argparse.ArgumentParser):
  """An argparse parser whose errors are one ``error:`` line (exit 2).

  For a tool that must start fast (the standalone evaluator): absl's flags
  cost more to import than such a tool's work. Flags keep absl's
  ``--name=value`` spelling.
  """

  def error(self, message: str) -> NoReturn:
    fail(f"{message} (--help lists the flags)")
