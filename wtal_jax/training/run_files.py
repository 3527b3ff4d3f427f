"""Crash-safe handling of the small files a run writes in its workdir.

A job can be killed at any moment, including half-way through a write, and a
resumed job replays the steps after its checkpoint. ``metrics.jsonl`` is
therefore cut back to the restored step on resume (dropping the steps that
will be replayed and a possibly half-written last line), and final outputs
are written to a temporary file and renamed, so a reader never sees half a
file.
"""

from __future__ import annotations

import json
import os
from typing import Callable

from wtal_jax.cli_errors import UserInputError

METRICS_FILE = "metrics.jsonl"


class WorkdirError(UserInputError, OSError):
  """The workdir cannot be used; the message says why and what to do."""


def make_workdir(workdir: str) -> str:
  """Creates ``workdir`` (not its parents) and returns its absolute path.

  A missing parent is refused rather than created: it is usually a typo in
  the path, and a run in an unintended place is only found out later.

  Raises:
    WorkdirError: The parent folder does not exist, the path is a file, or
      the folder cannot be created.
  """
  path = os.path.abspath(workdir)
  parent = os.path.dirname(path)
  if not os.path.isdir(parent):
    raise WorkdirError(f"workdir {workdir}: its parent folder {parent} does "
                       "not exist. Create it first, or fix the path.")
  if os.path.exists(path) and not os.path.isdir(path):
    raise WorkdirError(f"workdir {workdir} is a file, not a folder. Choose "
                       "another path.")
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as e:
    raise WorkdirError(f"workdir {workdir} cannot be created ({e.strerror}). "
                       "Choose a folder you can write to.") from None
  return path


def atomic_write(path: str, write: Callable[[str], None]) -> None:
  """Calls ``write(tmp_path)`` and renames the result to ``path``."""
  tmp = f"{path}.tmp-{os.getpid()}"
  write(tmp)
  os.replace(tmp, path)


def atomic_write_json(path: str, obj) -> None:
  """Writes ``obj`` as indented JSON to ``path`` atomically."""

  def write(tmp):
    with open(tmp, "w", encoding="utf-8") as f:
      json.dump(obj, f, indent=2)

  atomic_write(path, write)


def trim_metrics(workdir: str, last_step: int) -> int:
  """Drops ``metrics.jsonl`` lines after ``last_step`` and unreadable lines.

  Args:
    workdir: The run's directory.
    last_step: The step training resumes from; lines of later steps were
      written by the interrupted job and will be written again.

  Returns:
    The number of lines removed.
  """
  path = os.path.join(workdir, METRICS_FILE)
  if not os.path.exists(path):
    return 0
  with open(path, encoding="utf-8") as f:
    lines = f.read().splitlines()
  kept = []
  for line in lines:
    try:
      record = json.loads(line)
    except ValueError:  # Cut short by a kill while it was being written.
      continue
    if isinstance(record, dict) and record.get("step", 0) <= last_step:
      kept.append(line)
  removed = len(lines) - len(kept)
  if removed:

    def write(tmp):
      with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in kept))

    atomic_write(path, write)
  return removed
