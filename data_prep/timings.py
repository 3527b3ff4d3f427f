"""The packaged THUMOS14 annotation timings and the video selections over them.

``resources/thumos14_timings.json`` is written by
:mod:`data_prep.derive_thumos_timings`. This module loads it into immutable
:class:`VideoTiming` records and implements the two operations the synthetic
dataset needs: cropping a video to its first snippets, and a class-balanced,
seed-independent choice of a few videos (the ``tiny`` config).
"""

from __future__ import annotations

import dataclasses
from importlib import resources
import json
import math
from typing import Any, Mapping, Sequence

import numpy as np

TIMINGS_RESOURCE = "resources/thumos14_timings.json"

# Float error below this (seconds) never adds a snippet to the grid.
_GRID_TOLERANCE_S = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class VideoTiming:
  """The annotation of one video.

  Attributes:
    video: Video name, e.g. ``video_test_0000004``.
    index: Position of the video in its split of the full timings file; it
      names the video's random streams, so a cropped video keeps its identity.
    duration: Duration in seconds.
    segments_Nx2: Instances ``[start, end]`` in seconds (float64, exact).
    labels_N: Class index of each instance.
    ambiguous_Ax2: THUMOS14 ambiguous segments in seconds (may be empty).
  """

  video: str
  index: int
  duration: float
  segments_Nx2: np.ndarray
  labels_N: np.ndarray
  ambiguous_Ax2: np.ndarray

  @property
  def num_instances(self) -> int:
    return int(self.labels_N.shape[0])


@dataclasses.dataclass(frozen=True)
class Timings:
  """All videos of the timings file, per split, in annotation order."""

  class_names: tuple[str, ...]
  splits: Mapping[str, tuple[VideoTiming, ...]]
  notes: tuple[str, ...] = ()


def _pairs(values: Sequence[Sequence[float]]) -> np.ndarray:
  return np.asarray(values, np.float64).reshape(-1, 2)


def parse_timings(raw: Mapping[str, Any]) -> Timings:
  """Builds :class:`Timings` from the JSON structure of the timings file."""
  splits = {}
  for split, videos in raw["splits"].items():
    splits[split] = tuple(
        VideoTiming(
            video=v["video"],
            index=i,
            duration=float(v["duration"]),
            segments_Nx2=_pairs(v["segments"]),
            labels_N=np.asarray(v["labels"], np.int32).reshape(-1),
            ambiguous_Ax2=_pairs(v["ambiguous"]),
        ) for i, v in enumerate(videos))
  return Timings(class_names=tuple(raw["class_names"]), splits=splits,
                 notes=tuple(raw.get("notes", ())))


def read_timings_json() -> dict[str, Any]:
  """Returns the raw JSON structure of the packaged timings file."""
  path = resources.files("data_prep").joinpath(TIMINGS_RESOURCE)
  return json.loads(path.read_text(encoding="utf-8"))


def load_thumos14_timings() -> Timings:
  """Loads the packaged THUMOS14 timings (200 train, 212 test videos)."""
  return parse_timings(read_timings_json())


def video_length(duration: float, seconds_per_snippet: float) -> int:
  """Number of snippets that cover ``duration`` (a final partial one counts).

  ``T = ceil(duration / seconds_per_snippet - 1e-6)``, at least 1: float error
  below a microsecond (e.g. ``96 * 0.64 / 0.64``) never adds a snippet.
  """
  return max(1, math.ceil(duration / seconds_per_snippet - _GRID_TOLERANCE_S))


def crop(timing: VideoTiming, max_seconds: float) -> VideoTiming:
  """Keeps the first ``max_seconds`` of a video and the instances inside it.

  Instances (and ambiguous segments) are kept only if they end at or before
  the new duration; their bounds are not changed.
  """
  duration = min(timing.duration, max_seconds)
  keep = timing.segments_Nx2[:, 1] <= duration
  keep_amb = timing.ambiguous_Ax2[:, 1] <= duration
  return dataclasses.replace(
      timing, duration=duration, segments_Nx2=timing.segments_Nx2[keep],
      labels_N=timing.labels_N[keep],
      ambiguous_Ax2=timing.ambiguous_Ax2[keep_amb])


def _main_class(timing: VideoTiming) -> int:
  counts = np.bincount(timing.labels_N)
  return int(np.argmax(counts))  # ties go to the smaller class index


def select_videos(
    videos: Sequence[VideoTiming],
    num_videos: int | None,
    num_classes: int,
    max_seconds: float | None = None,
) -> tuple[VideoTiming, ...]:
  """Picks videos class-balanced and independently of any seed.

  Every video is first cropped to ``max_seconds`` (when given); videos left
  without an instance are not eligible. Then rounds over the classes in index
  order take, per class, the first eligible video (annotation order) whose
  most frequent class it is, until ``num_videos`` are chosen. The result keeps
  the annotation order.

  Args:
    videos: One split of the timings, in annotation order.
    num_videos: How many to choose; ``None`` keeps every eligible video.
    num_classes: Number of classes C.
    max_seconds: Crop length in seconds, or ``None`` for whole videos.

  Returns:
    The chosen (cropped) videos.

  Raises:
    ValueError: If fewer than ``num_videos`` videos are eligible.
  """
  pool = [crop(v, max_seconds) if max_seconds is not None else v
          for v in videos]
  pool = [v for v in pool if v.num_instances > 0]
  if num_videos is None or num_videos == len(pool):
    return tuple(pool)
  if num_videos > len(pool):
    raise ValueError(
        f"Asked for {num_videos} videos but only {len(pool)} have an instance"
        + (f" within the first {max_seconds} s" if max_seconds else "")
        + "; ask for fewer videos or a longer crop.")
  by_class: list[list[VideoTiming]] = [[] for _ in range(num_classes)]
  for v in pool:
    by_class[_main_class(v)].append(v)
  chosen: list[VideoTiming] = []
  while len(chosen) < num_videos:
    for queue in by_class:
      if queue and len(chosen) < num_videos:
        chosen.append(queue.pop(0))
  return tuple(sorted(chosen, key=lambda v: v.index))
