"""Known datasets: where they live and how to prepare them.

``open_dataset(config.data)`` finds a prepared dataset. Generated datasets
are built on first use (and the job says so); real feature datasets cannot
be, so a missing one fails with the exact command that prepares it.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Callable

from absl import logging

from wtal_jax.cli_errors import UserInputError
from wtal_jax.data.source import FeatureDataset, builder_dir, default_data_dir
from wtal_jax.registry import Registry


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
  """How to find or make one dataset.

  Attributes:
    description: One line for ``--help`` and error messages.
    build: ``build(data_dir, builder_config) -> directory`` for datasets that
      can be generated on first use; None for real feature releases.
    how_to_prepare: Instructions printed when a real dataset is missing.
  """

  description: str
  build: Callable[[str, str | None], str] | None = None
  how_to_prepare: str = ""
  default_builder_config: str | None = None


DATASETS: Registry[DatasetEntry] = Registry("dataset")


def _build_synthetic(data_dir: str, builder_config: str | None) -> str:
  # Imported lazily: data_prep is only needed when a dataset must be built.
  synthetic = importlib.import_module("data_prep.synthetic_thumos")
  return synthetic.build(data_dir, builder_config or "full")


DATASETS.register("synthetic_thumos")(DatasetEntry(
    description="Generated THUMOS14-shaped RGB/flow/audio features "
                "(real annotation timings).",
    build=_build_synthetic, default_builder_config="full"))

_REAL_HINT = (
    "Prepare it from the public feature release with\n  {command}\n"
    "(see docs/datasets.md, 'Preparing real features'), or train on the "
    "generated dataset instead with --config={config_hint}:synthetic.")

DATASETS.register("thumos14")(DatasetEntry(
    description="THUMOS14 I3D RGB/flow features (W-TALC or per-video layout), "
                "optionally with aligned audio (configs wtalc, wtalc_audio, "
                "per_video, per_video_audio).",
    how_to_prepare=_REAL_HINT.format(
        command="python -m data_prep.build thumos14 --layout=wtalc "
                "--features=PATH/Thumos14reduced-I3D-JOINTFeatures.npy "
                "--annotations=PATH/Thumos14reduced-Annotations "
                "[--audio_dir=PATH/audio]\n"
                "or, for the per-video layout,\n"
                "  python -m data_prep.build thumos14 --layout=per_video "
                "--annotations=PATH/THUMOS14 --features=PATH/THUMOS14/features",
        config_hint="configs/thumos_lgca.py"),
    default_builder_config="wtalc"))

DATASETS.register("activitynet12")(DatasetEntry(
    description="ActivityNet1.2 I3D RGB/flow features (W-TALC layout), "
                "optionally with aligned audio (configs wtalc, wtalc_audio).",
    how_to_prepare=_REAL_HINT.format(
        command="python -m data_prep.build activitynet12 "
                "--features=PATH/ActivityNet1.2-I3D-JOINTFeatures.npy "
                "--annotations=PATH/ActivityNet1.2-Annotations "
                "[--audio_dir=PATH/audio]",
        config_hint="configs/anet_lgca.py"),
    default_builder_config="wtalc"))

DATASETS.register("ave")(DatasetEntry(
    description="AVE audio-visual events: per-second visual and audio "
                "features, per-second labels (config default).",
    how_to_prepare=_REAL_HINT.format(
        command="python -m data_prep.build ave --ave_dir=PATH/AVE_Dataset "
                "--features=PATH/AVE_features",
        config_hint="configs/ave_caav.py"),
    default_builder_config="default"))


class DatasetNotPreparedError(UserInputError, FileNotFoundError):
  """A real dataset was asked for but has not been converted yet."""


def open_dataset(data_cfg) -> FeatureDataset:
  """Opens ``data_cfg.name`` (config ``data_cfg.builder_config``), building
  generated datasets on first use.

  Raises:
    DatasetNotPreparedError: A real dataset is missing; the message says how
      to prepare it.
  """
  data_dir = data_cfg.get("data_dir") or default_data_dir()
  name, builder_config = data_cfg.name, data_cfg.get("builder_config") or None
  entry = DATASETS.get(name)
  if builder_config is None and entry.default_builder_config:
    builder_config = entry.default_builder_config
  directory = builder_dir(data_dir, name, builder_config)
  if directory is None:
    where = f"{data_dir}/{name}" + (f"/{builder_config}" if builder_config else "")
    if entry.build is None:
      raise DatasetNotPreparedError(
          f"Dataset {name!r} is not prepared: nothing found at {where}.\n"
          + entry.how_to_prepare)
    # The builder prints what it builds; later runs reuse it.
    logging.info("Dataset %s not found at %s; building it now (one-off).",
                 name, where)
    directory = entry.build(data_dir, builder_config)
  return FeatureDataset(directory)
