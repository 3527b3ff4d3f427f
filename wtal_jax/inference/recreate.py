"""Re-creates ``inference.json`` for a run written before training recorded
it, from the run's config and its training data."""

from __future__ import annotations

from wtal_jax.evaluation.postprocess import from_eval_config
from wtal_jax.training import inference_file, run_files
from wtal_jax.training.train import Experiment


def recreate(workdir: str, data_dir: str | None = None) -> str:
  """Writes ``inference.json`` for a run that lacks it, from its training
  data.

  Args:
    workdir: The run's workdir (its ``config.json`` names the dataset).
    data_dir: Where the dataset is, when not where the run found it.

  Returns:
    The path written.

  Raises:
    MissingMetadataError: The run's training data is not available here.
  """
  config = run_files.read_config(workdir)
  if data_dir:
    config.data.data_dir = data_dir
  try:
    experiment = Experiment(config)
  except FileNotFoundError as e:  # The dataset is not prepared here.
    raise inference_file.MissingMetadataError(
        f"Cannot re-create {inference_file.INFERENCE_FILE}: the run's "
        f"training data is needed. {e}".replace("\n", " ")) from None
  return inference_file.write(
      workdir, inference_file.from_experiment(
          experiment, *from_eval_config(config.eval)))
