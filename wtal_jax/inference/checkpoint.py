"""Restoring a run's config and model variables from its workdir alone."""

from __future__ import annotations

import os

import jax

from wtal_jax.inference.errors import NoCheckpointError, PredictInputError
from wtal_jax import parallel
from wtal_jax.training import steps
from wtal_jax.training.checkpoints import Checkpointer, verify_manifest
from wtal_jax.training.state import create_train_state, make_optimizer

CHECKPOINT_CHOICES = ("best", "latest")


def parse_checkpoint(value: str | int) -> str | int:
  """``"best"``, ``"latest"`` or a step number (also given as a string).

  Raises:
    PredictInputError: On anything else.
  """
  if isinstance(value, int) and not isinstance(value, bool):
    return value
  text = str(value).strip()
  if text in CHECKPOINT_CHOICES:
    return text
  if text.isdigit():
    return int(text)
  raise PredictInputError(f"checkpoint must be 'best', 'latest' or a step "
                          f"number, got {value!r}.")


def choose_step(ckpt: Checkpointer, checkpoint: str | int,
                workdir: str) -> int:
  """The step a ``checkpoint`` choice names in a run's checkpoints.

  Raises:
    NoCheckpointError: None saved, or the step is not among them.
  """
  available = ckpt.all_steps()
  if not available:
    raise NoCheckpointError(
        f"No checkpoint in {ckpt.directory}: the run saved none yet. Train "
        f"it (python -m wtal_jax.main --workdir={workdir} ...) or give the "
        "workdir of a finished run.")
  checkpoint = parse_checkpoint(checkpoint)
  if isinstance(checkpoint, int):
    if checkpoint not in available:
      raise NoCheckpointError(
          f"No checkpoint of step {checkpoint} in {ckpt.directory}; it has "
          f"steps {available}. Use one of them, 'best' or 'latest'.")
    return checkpoint
  step = ckpt.best_step() if checkpoint == "best" else None
  return int(step if step is not None else ckpt.latest_step())


def restore_variables(workdir: str, config, model, input_dims,
                      checkpoint: str | int = "best") -> tuple[dict, int]:
  """Restores the model variables of one of a run's checkpoints.

  Args:
    workdir: The run's workdir.
    config: Its config (for the optimizer state's structure).
    model: The Flax model built from the config.
    input_dims: Width of each modality group.
    checkpoint: ``"best"``, ``"latest"`` or a step.

  Returns:
    ``(variables, step)``.

  Raises:
    NoCheckpointError: See :func:`choose_step`; also a damaged checkpoint.
  """
  if not os.path.isdir(os.path.join(workdir, "checkpoints")):
    raise NoCheckpointError(
        f"{workdir} has no checkpoints/ folder: the run saved no checkpoint. "
        f"Train it (python -m wtal_jax.main --workdir={workdir} ...) or give "
        "the workdir of a finished run.")
  ckpt = Checkpointer(workdir)
  try:
    step = choose_step(ckpt, checkpoint, workdir)
    problem = verify_manifest(ckpt.step_dir(step))
    if problem is not None:
      raise NoCheckpointError(
          f"Checkpoint of step {step} in {ckpt.directory} is damaged: "
          f"{problem}. Choose another with --checkpoint (steps "
          f"{ckpt.all_steps()}).")
    # The checkpoint holds the whole train state, optimizer included; its
    # shapes are a template enough (nothing is initialised or compiled).
    replicated = parallel.replicated_sharding(parallel.make_mesh())
    shapes = jax.eval_shape(lambda: create_train_state(
        model, make_optimizer(config.train), input_dims,
        jax.random.PRNGKey(0)))
    template = jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated),
        shapes)
    state = ckpt.restore(step, template)
  finally:
    ckpt.close()
  return steps.variables_of(state), int(step)
