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

import ml_collections

from wtal_jax.cli_errors import UserInputError

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"


class WorkdirError(UserInputError, OSError):
  """The workdir cannot be used; the message says why and what to do."""


class NotARunError(UserInputError, FileNotFoundError):
  """A workdir given to read a run is not one (or its config is unreadable)."""


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


def write_config(workdir: str, config) -> None:
  """Writes the resolved config as ``workdir/config.json``, atomically."""
  atomic_write_json(os.path.join(workdir, CONFIG_FILE),
                    json.loads(config.to_json_best_effort()))


def read_config(workdir: str) -> ml_collections.ConfigDict:
  """The config a run was trained with (``workdir/config.json``).

  A run written before configs named their post-processing (an empty
  ``eval.postprocess``) gets the recipe its ``inference.json`` recorded.

  Raises:
    NotARunError: The workdir or its config is missing or unreadable.
  """
  if not os.path.isdir(workdir):
    raise NotARunError(
        f"--workdir={workdir}: no such folder. Give the --workdir of a "
        "training run (python -m wtal_jax.main).")
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    raise NotARunError(
        f"{path} does not exist: {workdir} is not a training workdir "
        "(python -m wtal_jax.main writes config.json there).")
  try:
    with open(path, encoding="utf-8") as f:
      config = ml_collections.ConfigDict(json.load(f))
  except ValueError as e:
    raise NotARunError(f"{path} is not valid JSON ({e}).") from None
  if not config.get("eval", {}).get("postprocess", "x"):
    _name_legacy_postprocess(workdir, config)
  return config


def _name_legacy_postprocess(workdir: str, config) -> None:
  path = os.path.join(workdir, "inference.json")
  try:
    with open(path, encoding="utf-8") as f:
      recorded = json.load(f)
    name, params = recorded["recipe"], recorded["recipe_params"]
  except (OSError, ValueError, KeyError):
    raise NotARunError(
        f"{workdir}/{CONFIG_FILE} does not name its post-processing "
        "(eval.postprocess is empty: an older run) and no readable "
        f"{path} records it. Set eval.postprocess and "
        "eval.postprocess_params in config.json to the head's recipe (see "
        "wtal_jax/recipes/).") from None
  config.eval.postprocess = name
  config.eval.postprocess_params = ml_collections.ConfigDict({name: params})
