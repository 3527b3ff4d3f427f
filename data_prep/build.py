"""Builds wtal_jax feature datasets (TFDS, array_record; no TensorFlow needed).

Usage:
  python -m data_prep.build DATASET [--config=NAME] [--data_dir=DIR]
      [--seed=N] [--overwrite] [dataset flags]

Datasets:
{datasets}

The dataset is written to DATA_DIR/<dataset>/<config>/<version> (DATA_DIR:
--data_dir, else $WTAL_JAX_DATA_DIR, else ~/tensorflow_datasets) and read
back with tfds.builder_from_directory(dir).as_data_source(split). An existing
build is kept unless --overwrite. At the end the videos, instances and classes
of every split are printed, with anything skipped and why.

Examples:
  python -m data_prep.build synthetic_thumos
  python -m data_prep.build synthetic_thumos --config=tiny --data_dir=/tmp/d
  python -m data_prep.build synthetic_thumos --seed=3        # -> full_seed3
  python -m data_prep.build synthetic_thumos --config=tiny --num_train=48
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

from absl import app
from absl import flags

from data_prep import writer

_CONFIG = flags.DEFINE_string(
    "config", None,
    "Dataset config. synthetic_thumos: 'full' (all 200 train + 212 test "
    "videos, rgb/flow/audio 1024/1024/128; default) or 'tiny' (24 + 12 videos "
    "cropped to 96 snippets, widths 32/32/16), or a canonical name such as "
    "'full_seed3'.")
_DATA_DIR = flags.DEFINE_string(
    "data_dir", None,
    f"TFDS data folder; default ${writer.DATA_DIR_ENV} or "
    "~/tensorflow_datasets.")
_SEED = flags.DEFINE_integer(
    "seed", None,
    "Seed of the generated features (synthetic datasets); a seed other than "
    "the config's gets its own config name '<config>_seed<N>'.")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Rebuild even if the dataset already exists.")
_NUM_TRAIN = flags.DEFINE_integer(
    "num_train", None,
    "[synthetic_thumos] Number of train videos (class-balanced choice).")
_NUM_TEST = flags.DEFINE_integer(
    "num_test", None, "[synthetic_thumos] Number of test videos.")
_MAX_SNIPPETS = flags.DEFINE_integer(
    "max_snippets", None,
    "[synthetic_thumos] Crop every video to its first N snippets, keeping "
    "the instances inside.")
_DIMS = flags.DEFINE_list(
    "dims", None, "[synthetic_thumos] Widths of rgb,flow,audio, e.g. 64,64,16.")


@dataclasses.dataclass
class BuildResult:
  """What a dataset command did."""

  name: str
  builder_dir: str
  report: writer.BuildReport
  built: bool  # False when an existing build was kept.
  seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class DatasetCommand:
  """One buildable dataset.

  Attributes:
    name: The DATASET argument.
    summary: One line for --help.
    flags: Names of the dataset-specific flags it reads; setting another
      dataset's flag is an error rather than silently ignored.
    run: Builds it from the parsed flags.
  """

  name: str
  summary: str
  flags: tuple[str, ...]
  run: Callable[[str, bool], BuildResult]


REGISTRY: dict[str, DatasetCommand] = {}


def register(command: DatasetCommand) -> DatasetCommand:
  if command.name in REGISTRY:
    raise ValueError(f"Dataset command {command.name!r} registered twice.")
  REGISTRY[command.name] = command
  return command


def _run_synthetic_thumos(data_dir: str, overwrite: bool) -> BuildResult:
  from data_prep import synthetic_thumos  # pylint: disable=g-import-not-at-top
  named = synthetic_thumos.parse_config_name(_CONFIG.value or "full")

  def pick(flag, value):
    return value if flag.value is None else flag.value

  dims = (None if _DIMS.value is None else
          tuple(int(d) for d in _DIMS.value))
  config = synthetic_thumos.make_config(
      named.name.split("_")[0],
      seed=pick(_SEED, named.seed),
      num_train=pick(_NUM_TRAIN, named.num_train),
      num_test=pick(_NUM_TEST, named.num_test),
      max_snippets=pick(_MAX_SNIPPETS, named.max_snippets),
      dims=named.dims if dims is None else dims)
  builder_dir, builder = writer.prepare(
      lambda: synthetic_thumos.make_builder(data_dir, config.name),
      overwrite=overwrite)
  name = f"synthetic_thumos/{config.name}"
  if builder is None:
    return BuildResult(name, builder_dir,
                       writer.report_from_directory(builder_dir), built=False)
  return BuildResult(name, builder_dir, builder.report, built=True)


register(DatasetCommand(
    name="synthetic_thumos",
    summary=("generated RGB/flow/audio features on the real THUMOS14 "
             "timings; configs full, tiny"),
    flags=("num_train", "num_test", "max_snippets", "dims"),
    run=_run_synthetic_thumos))

__doc__ = __doc__.format(datasets="\n".join(
    f"  {c.name:18s} {c.summary}" for c in REGISTRY.values()))


def _check_flags(command: DatasetCommand) -> None:
  others = {f for c in REGISTRY.values() for f in c.flags} - set(command.flags)
  wrong = sorted(f for f in others if flags.FLAGS[f].present)
  if wrong:
    raise app.UsageError(
        f"{', '.join('--' + f for f in wrong)} do not apply to "
        f"{command.name}.")


def main(argv):
  if len(argv) != 2:
    raise app.UsageError(
        "Name exactly one dataset to build: "
        f"{', '.join(REGISTRY)} (see --help).")
  name = argv[1]
  if name not in REGISTRY:
    raise app.UsageError(
        f"Unknown dataset {name!r}; choose one of {', '.join(REGISTRY)}.")
  command = REGISTRY[name]
  _check_flags(command)
  data_dir = _DATA_DIR.value or writer.default_data_dir()
  start = time.time()
  try:
    result = command.run(data_dir, _OVERWRITE.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  result.seconds = time.time() - start
  verb = (f"built in {result.seconds:.1f} s" if result.built else
          "already built (kept; --overwrite rebuilds)")
  print(result.report.format(f"{result.name}: {verb}\n  at "
                             f"{result.builder_dir}"))


if __name__ == "__main__":
  app.run(main)
