"""``synthetic_thumos``: generated multi-modal features on THUMOS14 timings.

The TFDS dataset ``synthetic_thumos`` is wtal_jax's embedded default and test
bed. Its videos, durations and action instances are the real THUMOS14
annotations (packaged in ``resources/thumos14_timings.json``); its RGB, flow
and audio snippet features are drawn by :mod:`data_prep.synthetic_model`,
deterministically from a seed. Splits: ``train`` (THUMOS14 validation videos)
and ``test``.

Configs are named canonically so that different settings never share a
folder: a base (``full`` or ``tiny``) followed by the settings that differ
from it, e.g. ``full_seed3`` or ``tiny_train48_dims64-64-16``.
:func:`parse_config_name` reads such names back.

Snippet grid: ``seconds_per_snippet = 16 / 25`` (16 frames at 25 fps) and
``T = ceil(duration / seconds_per_snippet - 1e-6)`` (see
:func:`data_prep.timings.video_length`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from typing import Any, Iterator, Mapping

from absl import logging
import numpy as np
import tensorflow_datasets as tfds

from data_prep import synthetic_model
from data_prep import timings as timings_lib
from data_prep import writer
from wtal_jax.data import schema

NAME = "synthetic_thumos"
DATASET_VERSION = "1.0.0"
SPLITS = ("train", "test")
FRAMES_PER_SNIPPET = 16
FPS = 25.0
SECONDS_PER_SNIPPET = FRAMES_PER_SNIPPET / FPS
MODALITIES = ("rgb", "flow", "audio")

# The settings of each base config; a config name lists what differs.
BASES: Mapping[str, Mapping[str, Any]] = {
    "full": dict(seed=0, num_train=None, num_test=None, max_snippets=None,
                 dims=(1024, 1024, 128)),
    "tiny": dict(seed=0, num_train=24, num_test=12, max_snippets=96,
                 dims=(32, 32, 16)),
}
_SUFFIXES = {"seed": "seed", "train": "num_train", "test": "num_test",
             "crop": "max_snippets", "dims": "dims"}


@dataclasses.dataclass(eq=False)
class SyntheticThumosConfig(tfds.core.BuilderConfig):
  """Settings of one synthetic dataset.

  Attributes:
    seed: Seed of every random stream.
    num_train: Train videos (class-balanced choice), ``None`` for all 200.
    num_test: Test videos, ``None`` for all 212.
    max_snippets: Crop every video to its first snippets (keeping only the
      instances inside), ``None`` for whole videos.
    dims: Feature widths of rgb, flow and audio.
  """

  seed: int = 0
  num_train: int | None = None
  num_test: int | None = None
  max_snippets: int | None = None
  dims: tuple[int, int, int] = (1024, 1024, 128)

  @property
  def modality_dims(self) -> dict[str, int]:
    return dict(zip(MODALITIES, self.dims))

  @property
  def max_seconds(self) -> float | None:
    if self.max_snippets is None:
      return None
    return self.max_snippets * SECONDS_PER_SNIPPET


def make_config(base: str = "full", seed: int | None = None,
                num_train: int | None = None, num_test: int | None = None,
                max_snippets: int | None = None,
                dims: tuple[int, int, int] | None = None
                ) -> SyntheticThumosConfig:
  """Builds a config from a base and overrides, with its canonical name.

  Args:
    base: ``full`` or ``tiny``.
    seed: Seed; ``None`` keeps the base's (0).
    num_train: Train videos; ``None`` keeps the base's.
    num_test: Test videos; ``None`` keeps the base's.
    max_snippets: Crop length in snippets; ``None`` keeps the base's.
    dims: rgb/flow/audio widths; ``None`` keeps the base's.

  Returns:
    The config, named ``base`` plus a suffix per setting that differs.
  """
  if base not in BASES:
    raise ValueError(f"Unknown base config {base!r}; expected one of "
                     f"{sorted(BASES)}.")
  given = dict(seed=seed, num_train=num_train, num_test=num_test,
               max_snippets=max_snippets,
               dims=None if dims is None else tuple(int(d) for d in dims))
  settings = dict(BASES[base])
  name = base
  for suffix, field in _SUFFIXES.items():
    value = given[field]
    if value is None or value == settings[field]:
      continue
    if field == "dims":
      if len(value) != len(MODALITIES) or min(value) < 1:
        raise ValueError(f"dims must be {len(MODALITIES)} positive widths "
                         f"({'/'.join(MODALITIES)}), got {value}.")
      name += f"_dims{'-'.join(str(d) for d in value)}"
    else:
      if value < (0 if field == "seed" else 1):
        raise ValueError(f"{field} must be positive, got {value}.")
      name += f"_{suffix}{value}"
    settings[field] = value
  description = (f"{base} settings: " + ", ".join(
      f"{k}={v}" for k, v in settings.items()))
  return SyntheticThumosConfig(name=name, description=description,
                               **settings)


def parse_config_name(config_name: str) -> SyntheticThumosConfig:
  """Reads a canonical config name (``full``, ``tiny_seed3``, ...) back."""
  base, *parts = config_name.split("_")
  overrides: dict[str, Any] = {}
  for part in parts:
    match = re.fullmatch(r"(seed|train|test|crop|dims)([0-9-]+)", part)
    if base not in BASES or not match:
      raise ValueError(
          f"Cannot read config name {config_name!r}: expected a base in "
          f"{sorted(BASES)} followed by _seedN, _trainN, _testN, _cropN or "
          "_dimsR-F-A, e.g. 'full_seed3'.")
    key, value = match.groups()
    field = _SUFFIXES[key]
    overrides[field] = (tuple(int(v) for v in value.split("-"))
                        if field == "dims" else int(value))
  if base not in BASES:
    raise ValueError(f"Unknown config {config_name!r}; expected a base in "
                     f"{sorted(BASES)}, optionally with suffixes.")
  config = make_config(base, **overrides)
  if config.name != config_name:
    raise ValueError(f"Config name {config_name!r} is not canonical; use "
                     f"{config.name!r}.")
  return config


def resolve_config(config_name: str = "full",
                   seed: int | None = None) -> SyntheticThumosConfig:
  """The config named ``config_name``, with its seed replaced if given."""
  config = parse_config_name(config_name)
  if seed is None or seed == config.seed:
    return config
  fields = {f: getattr(config, f) for f in
            ("num_train", "num_test", "max_snippets", "dims")}
  base = config_name.split("_")[0]
  return make_config(base, seed=seed, **fields)


def plan(config: SyntheticThumosConfig) -> dict[str, tuple[
    timings_lib.VideoTiming, ...]]:
  """The (possibly cropped) videos of each split, without generating."""
  timings = timings_lib.load_thumos14_timings()
  counts = {"train": config.num_train, "test": config.num_test}
  return {split: timings_lib.select_videos(
      timings.splits[split], counts[split], len(timings.class_names),
      config.max_seconds) for split in SPLITS}


def make_world(config: SyntheticThumosConfig) -> synthetic_model.World:
  """The prototypes shared by every video of a config."""
  num_classes = len(timings_lib.read_timings_json()["class_names"])
  return synthetic_model.make_world(config.seed, num_classes,
                                    config.modality_dims)


def dataset_meta(config: SyntheticThumosConfig) -> schema.DatasetMeta:
  """The metadata stored with a config's dataset."""
  raw = timings_lib.read_timings_json()
  crop = (f", cropped to the first {config.max_snippets} snippets"
          if config.max_snippets else "")
  return schema.DatasetMeta(
      class_names=tuple(raw["class_names"]),
      modality_dims=config.modality_dims,
      frames_per_snippet=FRAMES_PER_SNIPPET,
      fps=FPS,
      source=(f"{NAME} {DATASET_VERSION} (config {config.name}): generated "
              f"features, seed {config.seed}, on the real {raw['source']}"
              f"{crop}."),
  )


def make_example(timing: timings_lib.VideoTiming, num_classes: int,
                 features: Mapping[str, np.ndarray]) -> dict[str, Any]:
  """Packs a generated video into a schema example."""
  labels = np.zeros(num_classes, np.float32)
  labels[timing.labels_N] = 1.0
  return schema.make_example(
      video_id=timing.video, modalities=features, labels=labels,
      segments=timing.segments_Nx2, segment_labels=timing.labels_N,
      seconds_per_snippet=SECONDS_PER_SNIPPET, duration=timing.duration,
      ambiguous=timing.ambiguous_Ax2)


def generate_split(config: SyntheticThumosConfig, split: str,
                   world: synthetic_model.World | None = None
                   ) -> Iterator[tuple[timings_lib.VideoTiming,
                                       dict[str, np.ndarray],
                                       synthetic_model.VideoLatents]]:
  """Yields ``(timing, features, latents)`` of a split in stored order.

  This is what the builder stores, plus the hidden structure (sub-action
  phases, context, clutter stretches per modality) for analysis and tests.
  """
  world = world or make_world(config)
  for timing in plan(config)[split]:
    features, latents = synthetic_model.generate_video(
        world, timing, split, SECONDS_PER_SNIPPET)
    yield timing, features, latents


class SyntheticThumos(writer.FeatureDatasetBuilder):
  """Generated RGB/flow/audio snippet features on the THUMOS14 timings."""

  VERSION = tfds.core.Version(DATASET_VERSION)
  RELEASE_NOTES = {DATASET_VERSION: "Generative model with sub-actions, class "
                            "context and per-modality clutter."}
  BUILDER_CONFIGS = [make_config("full"), make_config("tiny")]
  DEFAULT_CONFIG_NAME = "full"

  def dataset_meta(self) -> schema.DatasetMeta:
    return dataset_meta(self.builder_config)

  def split_names(self) -> tuple[str, ...]:
    return SPLITS

  @functools.cached_property
  def _world(self) -> synthetic_model.World:
    return make_world(self.builder_config)

  def split_size(self, split: str) -> int:
    return len(plan(self.builder_config)[split])

  def split_examples(self, split: str):
    config = self.builder_config
    num_classes = self._world.num_classes
    late = 0
    for timing, feats, _ in generate_split(config, split, self._world):
      late += int(np.sum(timing.segments_Nx2[:, 1] > timing.duration))
      yield timing.video, make_example(timing, num_classes, feats)
    if late:
      self.report.note(
          f"{split}: {late} instances end after their video's annotated "
          "duration; stored unchanged, their features stop at the end of the "
          "snippet grid.")


def builder_dir(data_dir: str, config_name: str = "full",
                seed: int | None = None) -> str:
  """Where a config's dataset lives: ``<data_dir>/synthetic_thumos/<name>/
  <version>``."""
  config = resolve_config(config_name, seed)
  return os.path.join(os.path.expanduser(data_dir), NAME, config.name,
                      DATASET_VERSION)


def is_built(data_dir: str, config_name: str = "full",
             seed: int | None = None) -> bool:
  """Whether the dataset is built (a file check; nothing is read)."""
  return writer.builder_dir_exists(builder_dir(data_dir, config_name, seed))


def make_builder(data_dir: str, config_name: str = "full",
                 seed: int | None = None) -> SyntheticThumos:
  """A builder for the named config, writing under ``data_dir``."""
  config = resolve_config(config_name, seed)
  # TFDS takes registered configs by name and refuses an equal object.
  registered = {c.name for c in SyntheticThumos.BUILDER_CONFIGS}
  return SyntheticThumos(
      data_dir=os.path.expanduser(data_dir),
      config=config.name if config.name in registered else config,
      file_format=writer.FILE_FORMAT)


def build(data_dir: str, config_name: str = "full", seed: int | None = None,
          overwrite: bool = False) -> str:
  """Builds the dataset unless it exists, and returns its builder directory.

  Args:
    data_dir: TFDS data folder.
    config_name: ``full``, ``tiny`` or a canonical name such as
      ``full_seed3``.
    seed: Overrides the config's seed; a different seed gets its own config
      name (``<config>_seed<N>``) and folder.
    overwrite: Rebuild even if it exists.

  Returns:
    The builder directory, for ``tfds.builder_from_directory``.
  """
  out = builder_dir(data_dir, config_name, seed)
  if writer.builder_dir_exists(out) and not overwrite:
    return out
  logging.info("Building %s/%s into %s.", NAME,
               resolve_config(config_name, seed).name, out)
  out, _ = writer.prepare(lambda: make_builder(data_dir, config_name, seed),
                          overwrite=overwrite)
  return out
