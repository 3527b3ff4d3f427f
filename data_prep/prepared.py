"""Opening a prepared dataset, and building a generated one on first use.

``open_dataset(config.data)`` finds a prepared dataset. Generated datasets
(``synthetic_thumos``) are built on first use, and the job says so; real
feature releases cannot be, so a missing one fails with the exact command that
prepares it.

Processes that need the same generated dataset share one build. On one
machine the build lock (:func:`data_prep.writer.build_lock`) lets the first
build while the others wait. In a multi-process job only process 0 builds;
the others wait for the finished dataset (they may not share a lock with
process 0, e.g. on different hosts over a shared file system), with a timeout
that names what they wait for.
"""

from __future__ import annotations

import time

from absl import logging

from data_prep import synthetic_thumos
from wtal_jax.cli_errors import UserInputError
from wtal_jax.data.registry import DATASETS
from wtal_jax.data.source import FeatureDataset, builder_dir, default_data_dir

# How long a non-primary process waits for process 0 to build a dataset.
WAIT_FOR_PRIMARY_S = 1800.0


def _build_synthetic(data_dir: str, builder_config: str) -> str:
  return synthetic_thumos.build(data_dir, builder_config)


# Dataset name -> ``build(data_dir, builder_config) -> directory`` for the
# datasets that can be generated.
GENERATORS = {"synthetic_thumos": _build_synthetic}


class DatasetNotPreparedError(UserInputError, FileNotFoundError):
  """A real dataset was asked for but has not been converted yet."""


class DatasetWaitTimeout(UserInputError, TimeoutError):
  """Process 0 did not finish building a dataset in time."""


def _wait_for_primary(data_dir: str, name: str, builder_config: str,
                      timeout_s: float, poll_s: float = 1.0) -> str:
  where = f"{data_dir}/{name}/{builder_config}"
  logging.info("Waiting for process 0 to build %s.", where)
  deadline = time.monotonic() + timeout_s
  while True:
    directory = builder_dir(data_dir, name, builder_config)
    if directory is not None:
      return directory
    if time.monotonic() > deadline:
      raise DatasetWaitTimeout(
          f"Waited {timeout_s:.0f} s for process 0 to build dataset {name!r} "
          f"at {where}, and it is not there. Process 0 builds generated "
          "datasets for every process, so data_dir must be a folder all "
          "processes see; if the hosts have separate disks, build it on each "
          f"first: python -m data_prep.build {name} --config={builder_config} "
          f"--data_dir={data_dir}.")
    time.sleep(poll_s)


def open_dataset(data_cfg, *, process_index: int = 0, process_count: int = 1,
                 wait_timeout_s: float = WAIT_FOR_PRIMARY_S
                 ) -> FeatureDataset:
  """Opens ``data_cfg.name`` (config ``data_cfg.builder_config``), building
  generated datasets on first use.

  Args:
    data_cfg: ``config.data``.
    process_index: This process in a multi-process job (``jax.process_index``).
    process_count: Processes in the job; with more than one, only process 0
      builds, and the others wait for its dataset.
    wait_timeout_s: How long a non-primary process waits.

  Raises:
    DatasetNotPreparedError: A real dataset is missing; the message says how
      to prepare it.
    DatasetWaitTimeout: Process 0 did not build the dataset in time.
  """
  data_dir = data_cfg.get("data_dir") or default_data_dir()
  name, builder_config = data_cfg.name, data_cfg.get("builder_config") or None
  entry = DATASETS.get(name)
  if builder_config is None and entry.default_builder_config:
    builder_config = entry.default_builder_config
  directory = builder_dir(data_dir, name, builder_config)
  if directory is None:
    where = f"{data_dir}/{name}" + (f"/{builder_config}" if builder_config else "")
    if name not in GENERATORS:
      raise DatasetNotPreparedError(
          f"Dataset {name!r} is not prepared: nothing found at {where}.\n"
          + entry.how_to_prepare)
    if process_count > 1 and process_index != 0:
      directory = _wait_for_primary(data_dir, name, builder_config,
                                    wait_timeout_s)
    else:
      # The builder prints what it builds; later runs reuse it.
      logging.info("Dataset %s not found at %s; building it now (one-off).",
                   name, where)
      directory = GENERATORS[name](data_dir, builder_config)
  return FeatureDataset(directory)
