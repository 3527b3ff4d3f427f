"""Orbax checkpoints: the recent steps and the best by average mAP.

One ``CheckpointManager`` keeps two kinds of checkpoints through
``AnyPreservationPolicy([LatestN(keep_recent), BestN(...)])``: the newest few
(for resuming) and the one with the best ``avg_map`` (for reporting). The
older ``max_to_keep`` + ``best_fn`` combination would delete the newest
checkpoint when it is not among the best, breaking resume.

Integrity: Orbax makes a checkpoint visible only once it is complete (it
writes to a temporary directory and renames it), but files can still be
damaged later (a full disk, a copy cut short, a storage fault), and Orbax
does not checksum them. After each save, process 0 writes a manifest of every
file's size and SHA-256 into the step directory. On resume, a checkpoint whose
manifest is missing or does not match is reported, moved to
``workdir/checkpoints.corrupt/`` and skipped in favour of the previous one;
that is why at least two recent checkpoints are kept. Every process saves and
restores collectively; the workdir must be on storage all processes share.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from typing import Any

import orbax.checkpoint as ocp
from absl import logging
from orbax.checkpoint import checkpoint_managers as policies

from wtal_jax.cli_errors import UserInputError
from wtal_jax.training import distributed

BEST_METRIC = "avg_map"
MANIFEST = "wtal_manifest.json"


class CheckpointMismatchError(UserInputError, ValueError):
  """An intact checkpoint does not fit the state it is restored into."""


def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def _files(step_dir: str) -> list[str]:
  out = []
  for root, _, names in os.walk(step_dir):
    for name in names:
      rel = os.path.relpath(os.path.join(root, name), step_dir)
      if rel != MANIFEST:
        out.append(rel)
  return sorted(out)


def write_manifest(step_dir: str) -> None:
  """Records the size and SHA-256 of every file under ``step_dir``."""
  files = {rel: {"size": os.path.getsize(os.path.join(step_dir, rel)),
                 "sha256": _sha256(os.path.join(step_dir, rel))}
           for rel in _files(step_dir)}
  tmp = os.path.join(step_dir, MANIFEST + ".tmp")
  with open(tmp, "w", encoding="utf-8") as f:
    json.dump({"files": files}, f, indent=1)
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, os.path.join(step_dir, MANIFEST))


def verify_manifest(step_dir: str) -> str | None:
  """Checks a step directory against its manifest.

  Returns:
    None if every listed file is present with the recorded size and hash,
    else a description of the first problem found.
  """
  path = os.path.join(step_dir, MANIFEST)
  if not os.path.exists(path):
    return (f"it has no {MANIFEST} (the job stopped while saving it, or the "
            "checkpoint was copied incompletely)")
  try:
    with open(path, encoding="utf-8") as f:
      files = json.load(f)["files"]
  except (OSError, ValueError, KeyError) as e:
    return f"its {MANIFEST} is unreadable ({e})"
  for rel, want in sorted(files.items()):
    full = os.path.join(step_dir, rel)
    if not os.path.exists(full):
      return f"file {rel} is missing"
    size = os.path.getsize(full)
    if size != want["size"]:
      return f"file {rel} has {size} bytes, {want['size']} were written"
    if _sha256(full) != want["sha256"]:
      return f"file {rel} does not match its SHA-256"
  return None


class Checkpointer:
  """Saves and restores :class:`TrainState` pytrees under ``workdir/checkpoints``.

  Args:
    workdir: The run's directory.
    keep_recent: How many of the newest checkpoints to keep (>= 2, so a
      damaged newest one can be skipped).
  """

  def __init__(self, workdir: str, keep_recent: int = 2):
    if keep_recent < 2:
      raise ValueError("keep_recent must be >= 2 so that a damaged latest "
                       "checkpoint has a predecessor to fall back to.")
    workdir = os.path.abspath(workdir)
    self.directory = os.path.join(workdir, "checkpoints")
    self.quarantine = os.path.join(workdir, "checkpoints.corrupt")
    self._keep_recent = keep_recent
    self._manager = self._open()

  def _open(self) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(
        preservation_policy=policies.AnyPreservationPolicy([
            policies.LatestN(self._keep_recent),
            policies.BestN(get_metric_fn=lambda m: m[BEST_METRIC], n=1,
                           keep_checkpoints_without_metrics=False),
        ]),
        enable_async_checkpointing=False,
        cleanup_tmp_directories=True,
        create=True)
    return ocp.CheckpointManager(self.directory, options=options)

  def step_dir(self, step: int) -> str:
    return os.path.join(self.directory, str(int(step)))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def best_step(self) -> int | None:
    return self._manager.best_step()

  def all_steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def save(self, step: int, state: Any,
           metrics: dict[str, float] | None = None, force: bool = False) -> None:
    """Saves ``state`` at ``step`` (collectively) and writes its manifest.

    ``metrics`` (with ``avg_map``) make it a candidate for the best
    checkpoint.
    """
    if metrics is not None and BEST_METRIC not in metrics:
      raise ValueError(f"Checkpoint metrics need {BEST_METRIC!r}.")
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.StandardSave(state),
                       metrics=metrics, force=force)
    self._manager.wait_until_finished()
    if distributed.is_primary():
      write_manifest(self.step_dir(step))
    distributed.barrier(f"wtal_checkpoint_manifest_{step}")

  def restore(self, step: int, template: Any) -> Any:
    return self._manager.restore(
        step, args=ocp.args.StandardRestore(template))

  def _set_aside(self, step: int, problem: str) -> None:
    message = (f"Checkpoint of step {step} in {self.directory} is damaged: "
               f"{problem}. Skipping it; it is moved to {self.quarantine}/ "
               "for inspection.")
    # Printed, not logged: with the console's log level at WARNING a log
    # line would show the same message a second time.
    if distributed.is_primary():
      print(f"WARNING: {message}", file=sys.stderr, flush=True)
    # Every process has checked the same files before any is moved.
    distributed.barrier(f"wtal_checkpoint_verified_{step}")
    if distributed.is_primary():
      os.makedirs(self.quarantine, exist_ok=True)
      dest = os.path.join(self.quarantine, f"{step}-{int(time.time())}")
      shutil.move(self.step_dir(step), dest)
    distributed.barrier(f"wtal_checkpoint_set_aside_{step}")

  def restore_latest(self, template: Any) -> Any | None:
    """Restores the newest intact checkpoint, or returns None if none is.

    Damaged checkpoints (see the module docstring) are reported and moved
    aside. An intact checkpoint that does not fit ``template`` (e.g. the
    config changed) raises: that is not damage, and falling back would hide
    it.

    Raises:
      CheckpointMismatchError: The newest intact checkpoint does not fit
        ``template``.
    """
    skipped = False
    restored = None
    for step in reversed(self.all_steps()):
      problem = verify_manifest(self.step_dir(step))
      if problem is None:
        if skipped:  # Orbax lists steps once, when the manager opens.
          self._manager.close()
          self._manager = self._open()
        logging.info("Restoring checkpoint of step %d from %s", step,
                     self.directory)
        try:
          restored = self.restore(step, template)
        except ValueError as e:  # Orbax: tree structure or shape mismatch.
          detail = str(e).strip().splitlines()[0].rstrip(":")
          raise CheckpointMismatchError(
              f"The checkpoint of step {step} in {self.directory} does not "
              f"fit this config ({detail}). The workdir holds a run with "
              "another config (see its config.json): use a new --workdir, "
              "or re-run with that config.") from None
        break
      self._set_aside(step, problem)
      skipped = True
    else:
      if skipped:
        self._manager.close()
        self._manager = self._open()
    return restored

  def close(self) -> None:
    self._manager.close()
