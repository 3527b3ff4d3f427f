"""The record schema shared by every wtal_jax feature dataset.

Every dataset (synthetic, THUMOS14, ActivityNet1.2, AVE) is a TFDS dataset in
`array_record` format whose examples follow this schema, so the input pipeline
never needs to know which converter wrote it. A stored example holds:

* ``video_id``: the video name, e.g. ``video_test_0000004``.
* one ``float32`` array ``(T, D_m)`` per modality (``rgb``, ``flow``, ``audio``).
  All modalities of one video share the snippet grid, so they have equal T.
* ``labels``: the multi-hot video-level label ``(C,)`` over action classes.
* ``segments``: ground-truth instances ``(N, 2)`` in seconds (float64, stored
  as raw bytes so that they round-trip exactly).
* ``segment_labels``: the class index of each instance ``(N,)``.
* ``ambiguous``: THUMOS14's ambiguous segments ``(A, 2)`` in seconds (may be
  empty).
* ``seconds_per_snippet``: snippet index to seconds (``frames_per_snippet /
  fps``). Stored per video, never hard-coded.
* ``duration``: the video duration in seconds.
* ``snippet_labels`` (AVE only): the per-snippet class ``(T,)``, with the
  background as index ``C``.

Dataset-level facts (class names, modality widths, provenance and the report of
anything skipped while building) live in the TFDS ``MetadataDict``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import numpy as np
import tensorflow_datasets as tfds

# Modality widths of the public feature releases (I3D RGB/flow, VGGish audio).
DEFAULT_MODALITY_DIMS = {"rgb": 1024, "flow": 1024, "audio": 128}

_BYTES = tfds.features.Encoding.BYTES


def _tensor(shape, dtype):
  # Raw-bytes encoding: float64 keeps its precision and large float32 arrays
  # serialize an order of magnitude faster than as proto float lists.
  return tfds.features.Tensor(shape=shape, dtype=dtype, encoding=_BYTES)


def features_dict(
    modality_dims: Mapping[str, int],
    num_classes: int,
    with_snippet_labels: bool = False,
) -> tfds.features.FeaturesDict:
  """Returns the TFDS feature spec of one video.

  Args:
    modality_dims: Modality name to feature width, e.g. ``{"rgb": 1024}``.
    num_classes: Number of action classes C (background excluded).
    with_snippet_labels: Whether examples carry per-snippet labels (AVE).
  """
  spec: dict[str, Any] = {
      "video_id": tfds.features.Text(),
      "labels": _tensor((num_classes,), np.float32),
      "segments": _tensor((None, 2), np.float64),
      "segment_labels": _tensor((None,), np.int32),
      "ambiguous": _tensor((None, 2), np.float64),
      "seconds_per_snippet": _tensor((), np.float64),
      "duration": _tensor((), np.float64),
  }
  for name, dim in modality_dims.items():
    if name in spec:
      raise ValueError(f"Modality name {name!r} collides with a schema field.")
    spec[name] = _tensor((None, int(dim)), np.float32)
  if with_snippet_labels:
    spec["snippet_labels"] = _tensor((None,), np.int32)
  return tfds.features.FeaturesDict(spec)


@dataclasses.dataclass(frozen=True)
class DatasetMeta:
  """Dataset-level facts stored in the TFDS metadata.

  Attributes:
    class_names: Action class names, index order of ``labels``.
    modality_dims: Modality name to feature width.
    frames_per_snippet: Frames per feature snippet (informational).
    fps: Frame rate the features were extracted at (informational).
    source: Free-text provenance (which release or generator).
    skipped: One ``{"split", "video", "reason"}`` entry per skipped video.
    has_snippet_labels: Whether examples carry ``snippet_labels`` (AVE).
  """

  class_names: tuple[str, ...]
  modality_dims: Mapping[str, int]
  frames_per_snippet: float | None = None
  fps: float | None = None
  source: str = ""
  skipped: tuple[Mapping[str, str], ...] = ()
  has_snippet_labels: bool = False

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  def to_metadata(self) -> tfds.core.MetadataDict:
    return tfds.core.MetadataDict(
        class_names=list(self.class_names),
        modality_dims={k: int(v) for k, v in self.modality_dims.items()},
        frames_per_snippet=self.frames_per_snippet,
        fps=self.fps,
        source=self.source,
        skipped=[dict(s) for s in self.skipped],
        has_snippet_labels=self.has_snippet_labels,
    )

  @classmethod
  def from_metadata(cls, metadata: Mapping[str, Any]) -> "DatasetMeta":
    return cls(
        class_names=tuple(metadata["class_names"]),
        modality_dims=dict(metadata["modality_dims"]),
        frames_per_snippet=metadata.get("frames_per_snippet"),
        fps=metadata.get("fps"),
        source=metadata.get("source", ""),
        skipped=tuple(metadata.get("skipped", ())),
        has_snippet_labels=bool(metadata.get("has_snippet_labels", False)),
    )


def make_example(
    video_id: str,
    modalities: Mapping[str, np.ndarray],
    labels: np.ndarray,
    segments: np.ndarray,
    segment_labels: Sequence[int],
    seconds_per_snippet: float,
    duration: float,
    ambiguous: np.ndarray | None = None,
    snippet_labels: np.ndarray | None = None,
) -> dict[str, Any]:
  """Packs one video into a dict matching :func:`features_dict`."""
  ex = {
      "video_id": video_id,
      "labels": np.asarray(labels, np.float32),
      "segments": np.asarray(segments, np.float64).reshape(-1, 2),
      "segment_labels": np.asarray(segment_labels, np.int32).reshape(-1),
      "ambiguous": (np.zeros((0, 2)) if ambiguous is None else
                    np.asarray(ambiguous, np.float64).reshape(-1, 2)),
      "seconds_per_snippet": np.float64(seconds_per_snippet),
      "duration": np.float64(duration),
  }
  for name, arr in modalities.items():
    ex[name] = np.asarray(arr, np.float32)
  if snippet_labels is not None:
    ex["snippet_labels"] = np.asarray(snippet_labels, np.int32).reshape(-1)
  return ex
