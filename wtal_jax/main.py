"""Trains and evaluates a WTAL model.

Usage:
  python -m wtal_jax.main --config=configs/thumos_lgca.py:synthetic \
      --workdir=/tmp/wtal_lgca

The part of --config after ':' picks a variant: none (real features),
'synthetic' (generated THUMOS-shaped data) or 'smoke' (tiny, for tests).
Override any field with e.g. --config.train.lr=3e-4. Re-running with the same
--workdir resumes from the latest checkpoint.
"""

from absl import app, flags
from ml_collections import config_flags

from wtal_jax.training.train import train_and_evaluate

_CONFIG = config_flags.DEFINE_config_file(
    "config", None,
    "Config file and variant, e.g. configs/thumos_lgca.py:synthetic. Fields "
    "can be overridden with --config.<field>=<value>.", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None,
    "Directory for checkpoints, metrics.jsonl, TensorBoard events and "
    "predictions.json. Re-using it resumes training.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  train_and_evaluate(_CONFIG.value, _WORKDIR.value)


if __name__ == "__main__":
  app.run(main)
