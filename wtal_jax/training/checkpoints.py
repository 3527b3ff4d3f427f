"""Orbax checkpoints: the latest step and the best by average mAP.

One ``CheckpointManager`` keeps two kinds of checkpoints through
``AnyPreservationPolicy([LatestN(1), BestN(...)])``: the newest (for resuming)
and the one with the best ``avg_map`` (for reporting). The older
``max_to_keep`` + ``best_fn`` combination would delete the newest checkpoint
when it is not among the best, breaking resume.
"""

from __future__ import annotations

import os
from typing import Any

import orbax.checkpoint as ocp
from absl import logging
from orbax.checkpoint import checkpoint_managers as policies

BEST_METRIC = "avg_map"


class Checkpointer:
  """Saves and restores :class:`TrainState` pytrees under ``workdir/checkpoints``."""

  def __init__(self, workdir: str):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    options = ocp.CheckpointManagerOptions(
        preservation_policy=policies.AnyPreservationPolicy([
            policies.LatestN(1),
            policies.BestN(get_metric_fn=lambda m: m[BEST_METRIC], n=1,
                           keep_checkpoints_without_metrics=False),
        ]),
        enable_async_checkpointing=False,
        create=True)
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def best_step(self) -> int | None:
    return self._manager.best_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any,
           metrics: dict[str, float] | None = None, force: bool = False) -> None:
    """Saves ``state`` at ``step``; ``metrics`` (with ``avg_map``) make it a
    candidate for the best checkpoint."""
    if metrics is not None and BEST_METRIC not in metrics:
      raise ValueError(f"Checkpoint metrics need {BEST_METRIC!r}.")
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.StandardSave(state),
                       metrics=metrics, force=force)
    self._manager.wait_until_finished()

  def restore(self, step: int, template: Any) -> Any:
    return self._manager.restore(
        step, args=ocp.args.StandardRestore(template))

  def restore_latest(self, template: Any) -> Any | None:
    step = self.latest_step()
    if step is None:
      return None
    logging.info("Restoring checkpoint of step %d from %s", step, self.directory)
    return self.restore(step, template)

  def close(self) -> None:
    self._manager.close()
