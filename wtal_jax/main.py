"""Trains and evaluates a WTAL model.

Usage:
  python -m wtal_jax.main --config=configs/thumos_lgca.py:synthetic \
      --workdir=/tmp/wtal_lgca

The part of --config after ':' picks a variant: none (real features),
'synthetic' (generated THUMOS-shaped data) or 'smoke' (tiny, for tests).
Override any field with e.g. --config.train.lr=3e-4. Re-running with the same
--workdir resumes from the latest checkpoint.

Multi-process jobs run the same command in every process. On a Cloud TPU pod
nothing more is needed (the topology is detected); elsewhere pass
--coordinator_address=HOST:PORT --num_processes=N --process_id=I (see
launch/). SIGTERM saves a checkpoint and exits with status 143; re-run the
command to resume. A mistake in the flags, the config or the workdir stops
the run with one 'error: ...' line and exit status 2.
"""

import sys

from absl import app, flags, logging
from ml_collections import config_flags

from wtal_jax import cli_errors
from wtal_jax.training import distributed, preemption
from wtal_jax.training.train import train_and_evaluate

_CONFIG = config_flags.DEFINE_config_file(
    "config", None,
    "Config file and variant, e.g. configs/thumos_lgca.py:synthetic. Fields "
    "can be overridden with --config.<field>=<value>.", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None,
    "Directory for checkpoints, metrics.jsonl, TensorBoard events and "
    "predictions.json. Re-using it resumes training.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None,
    "host:port of process 0 in a multi-process job (not needed on Cloud TPU "
    "pods, where it is detected).")
_NUM_PROCESSES = flags.DEFINE_integer(
    "num_processes", None, "Number of processes in a multi-process job.",
    lower_bound=1)
_PROCESS_ID = flags.DEFINE_integer(
    "process_id", None, "This process's index in [0, num_processes).",
    lower_bound=0)
flags.mark_flags_as_required(["config", "workdir"])


def _config():
  """The parsed config; a config file that fails to load is the user's."""
  try:
    config = _CONFIG.value
    config.keys()  # A file that failed to load raises on first access.
    return config
  except OSError as e:
    raise app.UsageError(
        f"--config={flags.FLAGS['config'].serialize().split('=', 1)[-1]}: "
        f"{str(e).strip().splitlines()[-1].strip()}") from None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags.FLAGS["verbosity"].present:
    # Progress, evaluations and the final table are printed; the libraries'
    # INFO logs (JAX's backend probing, one block per checkpoint save) would
    # bury them. --v=0 or --verbosity=0 brings them back.
    logging.set_verbosity(logging.WARNING)
  config = _config()
  try:
    setup = distributed.resolve(_COORDINATOR.value, _NUM_PROCESSES.value,
                                _PROCESS_ID.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from None
  # Before anything touches a JAX backend (config validation counts the
  # job's devices).
  distributed.initialize(setup)
  if not distributed.is_primary():  # One copy of the log, from process 0.
    logging.set_verbosity(logging.WARNING)
  try:
    train_and_evaluate(config, _WORKDIR.value)
  except preemption.Preempted as e:
    print(str(e), file=sys.stderr, flush=True)
    sys.exit(preemption.EXIT_CODE)


if __name__ == "__main__":
  cli_errors.run(main)
