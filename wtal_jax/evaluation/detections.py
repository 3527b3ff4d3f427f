"""Struct-of-arrays containers for temporal detections and ground truth.

Both containers hold one row per segment, with times in seconds and classes as
integer indices. Names map to indices only at the JSON boundary
(:mod:`wtal_jax.evaluation.json_io`), so the scoring code never compares
strings per row.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Sequence

import numpy as np


def _as_str_array(values: Any) -> np.ndarray:
  arr = np.asarray(values)
  if arr.size == 0:
    return np.zeros((0,), dtype="<U1")
  if arr.dtype.kind != "U":
    arr = arr.astype(str)
  return arr.reshape(-1)


def _as_float_array(values: Any, name: str) -> np.ndarray:
  arr = np.asarray(values, dtype=np.float64).reshape(-1)
  return arr


def _as_int_array(values: Any, name: str) -> np.ndarray:
  arr = np.asarray(values)
  if arr.size == 0:
    return np.zeros((0,), np.int64)
  if arr.dtype.kind == "f":
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
      raise ValueError(f"{name} must hold integer class indices, got {arr!r}.")
  elif arr.dtype.kind not in "iub":
    raise ValueError(f"{name} must hold integer class indices, got dtype "
                     f"{arr.dtype}.")
  return arr.astype(np.int64).reshape(-1)


def _check_lengths(owner: str, **arrays: np.ndarray) -> None:
  lengths = {k: v.shape[0] for k, v in arrays.items()}
  if len(set(lengths.values())) > 1:
    raise ValueError(f"{owner} fields have different lengths: {lengths}.")


@dataclasses.dataclass(frozen=True)
class Detections:
  """Detected segments, one row per segment.

  Attributes:
    video: ``(N,)`` str, the video id of each segment.
    label: ``(N,)`` int, the class index.
    t_start: ``(N,)`` float64, start in seconds.
    t_end: ``(N,)`` float64, end in seconds.
    score: ``(N,)`` float64, confidence (higher is more confident).

  Row order matters: detection mAP breaks score ties in the order rows appear
  (as the official ActivityNet evaluator does), so keep rows grouped as they
  were produced.
  """

  video: np.ndarray
  label: np.ndarray
  t_start: np.ndarray
  t_end: np.ndarray
  score: np.ndarray

  def __post_init__(self):
    object.__setattr__(self, "video", _as_str_array(self.video))
    object.__setattr__(self, "label", _as_int_array(self.label, "label"))
    object.__setattr__(self, "t_start",
                       _as_float_array(self.t_start, "t_start"))
    object.__setattr__(self, "t_end", _as_float_array(self.t_end, "t_end"))
    object.__setattr__(self, "score", _as_float_array(self.score, "score"))
    _check_lengths("Detections", video=self.video, label=self.label,
                   t_start=self.t_start, t_end=self.t_end, score=self.score)

  def __len__(self) -> int:
    return int(self.score.shape[0])

  @classmethod
  def empty(cls) -> "Detections":
    return cls(np.zeros((0,), "<U1"), np.zeros((0,), np.int64),
               np.zeros((0,)), np.zeros((0,)), np.zeros((0,)))

  @classmethod
  def concatenate(cls, parts: Sequence["Detections"]) -> "Detections":
    """Concatenates detections, keeping the row order of ``parts``."""
    parts = [p for p in parts if len(p)]
    if not parts:
      return cls.empty()
    return cls(*(np.concatenate([getattr(p, f.name) for p in parts])
                 for f in dataclasses.fields(cls)))

  @classmethod
  def from_records(cls, records: Iterable[Mapping[str, Any]]) -> "Detections":
    """Builds detections from dicts with the five field names as keys."""
    records = list(records)
    if not records:
      return cls.empty()
    return cls(**{f.name: [r[f.name] for r in records]
                  for f in dataclasses.fields(cls)})

  def to_records(self) -> list[dict[str, Any]]:
    return [dict(video=str(v), label=int(l), t_start=float(s), t_end=float(e),
                 score=float(c))
            for v, l, s, e, c in zip(self.video, self.label, self.t_start,
                                     self.t_end, self.score)]

  def take(self, index: np.ndarray) -> "Detections":
    """Rows selected by an integer index or boolean mask, in that order."""
    return Detections(*(getattr(self, f.name)[index]
                        for f in dataclasses.fields(self)))

  def validate(self, source: str = "predictions") -> None:
    """Raises ``ValueError`` on NaN/inf times or scores and reversed segments.

    Args:
      source: Name used in the error message (a file name, for instance).
    """
    _validate_segments(source, self.video, self.t_start, self.t_end)
    bad = ~np.isfinite(self.score)
    if np.any(bad):
      i = int(np.flatnonzero(bad)[0])
      raise ValueError(
          f"{source}: {int(bad.sum())} detection(s) have a non-finite score; "
          f"first: video {self.video[i]!r}, score {self.score[i]!r}. Scores "
          "must be finite numbers.")


def _validate_segments(source: str, video: np.ndarray, t_start: np.ndarray,
                       t_end: np.ndarray) -> None:
  bad = ~(np.isfinite(t_start) & np.isfinite(t_end))
  if np.any(bad):
    i = int(np.flatnonzero(bad)[0])
    raise ValueError(
        f"{source}: {int(bad.sum())} segment(s) have non-finite times; first: "
        f"video {video[i]!r}, segment [{t_start[i]!r}, {t_end[i]!r}].")
  rev = t_end < t_start
  if np.any(rev):
    i = int(np.flatnonzero(rev)[0])
    raise ValueError(
        f"{source}: {int(rev.sum())} segment(s) end before they start; first: "
        f"video {video[i]!r}, segment [{t_start[i]!r}, {t_end[i]!r}]. "
        "Segments are [t_start, t_end] in seconds with t_start <= t_end.")


@dataclasses.dataclass(frozen=True)
class GroundTruth:
  """Ground-truth segments of one evaluation subset.

  Attributes:
    video: ``(G,)`` str, the video of each instance.
    label: ``(G,)`` int, the class index of each instance.
    t_start: ``(G,)`` float64 seconds.
    t_end: ``(G,)`` float64 seconds.
    videos: ``(V,)`` str, every video of the subset, including videos without
      any instance (their detections are all false positives, and they count
      in the reported number of videos). Defaults to the videos of ``video``.
    ambiguous_video: ``(A,)`` str or None: THUMOS14-style ambiguous segments.
    ambiguous_start: ``(A,)`` float64 or None.
    ambiguous_end: ``(A,)`` float64 or None.
    class_names: Optional class names, index order of ``label``.
  """

  video: np.ndarray
  label: np.ndarray
  t_start: np.ndarray
  t_end: np.ndarray
  videos: np.ndarray | None = None
  ambiguous_video: np.ndarray | None = None
  ambiguous_start: np.ndarray | None = None
  ambiguous_end: np.ndarray | None = None
  class_names: tuple[str, ...] | None = None

  def __post_init__(self):
    set_ = lambda k, v: object.__setattr__(self, k, v)
    set_("video", _as_str_array(self.video))
    set_("label", _as_int_array(self.label, "label"))
    set_("t_start", _as_float_array(self.t_start, "t_start"))
    set_("t_end", _as_float_array(self.t_end, "t_end"))
    _check_lengths("GroundTruth", video=self.video, label=self.label,
                   t_start=self.t_start, t_end=self.t_end)
    _validate_segments("ground truth", self.video, self.t_start, self.t_end)
    if self.videos is None:
      _, first = np.unique(self.video, return_index=True)
      set_("videos", self.video[np.sort(first)])
    else:
      set_("videos", _as_str_array(self.videos))
    uniq = np.unique(self.videos)
    if uniq.shape[0] != self.videos.shape[0]:
      raise ValueError("GroundTruth.videos holds duplicate video ids.")
    missing = ~np.isin(self.video, self.videos)
    if np.any(missing):
      raise ValueError(
          f"GroundTruth: instances of {np.unique(self.video[missing])[:5]} "
          "belong to videos that are not in `videos`.")
    if self.class_names is not None:
      set_("class_names", tuple(str(c) for c in self.class_names))
      out = (self.label < 0) | (self.label >= len(self.class_names))
      if np.any(out):
        raise ValueError(f"GroundTruth: labels {np.unique(self.label[out])} "
                         f"outside [0, {len(self.class_names)}).")
    elif np.any(self.label < 0):
      raise ValueError("GroundTruth: negative class index.")
    amb = (self.ambiguous_video, self.ambiguous_start, self.ambiguous_end)
    if any(a is not None for a in amb):
      if any(a is None for a in amb):
        raise ValueError("GroundTruth: give all three ambiguous_* fields.")
      set_("ambiguous_video", _as_str_array(self.ambiguous_video))
      set_("ambiguous_start", _as_float_array(self.ambiguous_start, "a"))
      set_("ambiguous_end", _as_float_array(self.ambiguous_end, "a"))
      _check_lengths("GroundTruth ambiguous segments",
                     video=self.ambiguous_video, start=self.ambiguous_start,
                     end=self.ambiguous_end)
      _validate_segments("ambiguous segments", self.ambiguous_video,
                         self.ambiguous_start, self.ambiguous_end)

  def __len__(self) -> int:
    return int(self.label.shape[0])

  @property
  def num_videos(self) -> int:
    return int(self.videos.shape[0])

  @property
  def has_ambiguous(self) -> bool:
    return self.ambiguous_video is not None

  def with_ambiguous(self, video: Sequence[str], t_start: Sequence[float],
                     t_end: Sequence[float]) -> "GroundTruth":
    """Returns a copy that carries the given ambiguous segments."""
    return dataclasses.replace(self, ambiguous_video=video,
                               ambiguous_start=t_start, ambiguous_end=t_end)

  @classmethod
  def from_records(cls, records: Iterable[Mapping[str, Any]],
                   videos: Sequence[str] | None = None,
                   class_names: Sequence[str] | None = None) -> "GroundTruth":
    """Builds ground truth from ``{video, label, t_start, t_end}`` dicts."""
    records = list(records)
    cols = {k: [r[k] for r in records]
            for k in ("video", "label", "t_start", "t_end")}
    return cls(**cols, videos=videos,
               class_names=None if class_names is None else tuple(class_names))
