"""Random access to the splits of a prepared wtal_jax TFDS dataset.

Datasets are read with ``tfds.builder_from_directory(...).as_data_source``:
array_record files, random access, no TensorFlow. A one-pass index of every
split (video ids, labels, lengths) is built on open, reading only the small
fields.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence

import numpy as np
import tensorflow_datasets as tfds

from wtal_jax.data.schema import DatasetMeta


DATA_DIR_ENV = "WTAL_JAX_DATA_DIR"


def default_data_dir() -> str:
  """``$WTAL_JAX_DATA_DIR`` if set, else ``~/tensorflow_datasets``."""
  return os.path.expanduser(
      os.environ.get(DATA_DIR_ENV) or "~/tensorflow_datasets")


def builder_dir(data_dir: str, name: str, builder_config: str | None) -> str | None:
  """Returns the newest prepared version directory, or None if not built.

  The layout is TFDS's: ``<data_dir>/<name>[/<config>]/<version>``; a version
  counts as prepared once its ``dataset_info.json`` exists (TFDS writes it
  last).
  """
  root = os.path.join(os.path.expanduser(data_dir), name,
                      *([builder_config] if builder_config else []))
  if not os.path.isdir(root):
    return None
  versions = []
  for v in os.listdir(root):
    parts = v.split(".")
    if (len(parts) == 3 and all(p.isdigit() for p in parts)
        and os.path.exists(os.path.join(root, v, "dataset_info.json"))):
      versions.append(tuple(int(p) for p in parts))
  if not versions:
    return None
  return os.path.join(root, ".".join(map(str, max(versions))))


@dataclasses.dataclass(frozen=True)
class SplitIndex:
  """The small per-video fields of one split, in record order."""

  video_ids: tuple[str, ...]
  labels_VxC: np.ndarray
  video_length_V: np.ndarray
  seconds_per_snippet_V: np.ndarray


class VideoSplit:
  """One split: ``len()``, ``split[i]`` (a decoded example) and an index."""

  def __init__(self, builder, split: str, meta: DatasetMeta):
    self.name = split
    self.meta = meta
    self._source = builder.as_data_source(split=split)
    self.index = self._build_index()

  def _build_index(self) -> SplitIndex:
    first_modality = next(iter(self.meta.modality_dims))
    ids, labels, lengths, sps = [], [], [], []
    for i in range(len(self._source)):
      ex = self._source[i]
      ids.append(_as_str(ex["video_id"]))
      labels.append(ex["labels"])
      lengths.append(ex[first_modality].shape[0])
      sps.append(float(ex["seconds_per_snippet"]))
    c = self.meta.num_classes
    return SplitIndex(
        video_ids=tuple(ids),
        labels_VxC=np.asarray(labels, np.float32).reshape(-1, c),
        video_length_V=np.asarray(lengths, np.int64),
        seconds_per_snippet_V=np.asarray(sps, np.float64))

  def __len__(self) -> int:
    return len(self._source)

  def __getitem__(self, i: int) -> dict[str, Any]:
    ex = dict(self._source[int(i)])
    ex["video_id"] = _as_str(ex["video_id"])
    return ex

  def get_many(self, indices: Sequence[int]) -> list[dict[str, Any]]:
    return [self[i] for i in indices]


def _as_str(x) -> str:
  return x.decode("utf-8") if isinstance(x, bytes) else str(x)


class FeatureDataset:
  """A prepared dataset directory: its metadata and its splits."""

  def __init__(self, directory: str):
    self.directory = directory
    self._builder = tfds.builder_from_directory(directory)
    self.meta = DatasetMeta.from_metadata(self._builder.info.metadata)
    self.split_names = tuple(self._builder.info.splits.keys())
    self._splits: dict[str, VideoSplit] = {}

  def split(self, name: str) -> VideoSplit:
    if name not in self.split_names:
      raise KeyError(f"Dataset at {self.directory} has no split {name!r}; "
                     f"it has {', '.join(self.split_names)}. Set "
                     f"config.data.train_split / test_split accordingly.")
    if name not in self._splits:
      self._splits[name] = VideoSplit(self._builder, name, self.meta)
    return self._splits[name]
