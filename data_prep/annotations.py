"""Readers of the public annotation layouts.

* **W-TALC** (``<Name>-Annotations/``, THUMOS14 and ActivityNet1.2): pickled
  ``.npy`` object arrays ``videoname``, ``subset``, ``segments``, ``labels``,
  ``duration`` and ``classlist`` (names as bytes), index-aligned with the
  features file, plus ``Ambiguous_test.txt`` (``video start end`` per line;
  THUMOS14 only).
* **Per-video** (THUMOS14): ``gt.json`` (``{"database": {video: {"subset",
  "annotations": [{"segment": ["s", "e"], "label"}], ["duration"]}}}``, bounds
  as strings) and ``split_train.txt`` / ``split_test.txt``.

Both give :class:`VideoAnnotation` records with the values exactly as
annotated (strings are parsed with ``float``, never rounded); validation
against the class list and the video's extent happens in the builder.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Mapping, Sequence

import numpy as np

from data_prep.validation import DataError


@dataclasses.dataclass(frozen=True, eq=False)
class VideoAnnotation:
  """One video's annotation as read.

  Attributes:
    video: Video name.
    index: Row in the features file (W-TALC) or -1.
    duration: Duration in seconds, or None when the layout has none.
    segments: ``[start, end]`` per instance (seconds).
    labels: Class name per instance.
    ambiguous: Ambiguous ``[start, end]`` segments (THUMOS14 test).
  """

  video: str
  index: int
  duration: float | None
  segments: tuple[tuple[float, float], ...]
  labels: tuple[str, ...]
  ambiguous: tuple[tuple[float, float], ...] = ()


@dataclasses.dataclass(frozen=True)
class Annotations:
  """A whole annotation folder: class list and the videos of each split."""

  class_names: tuple[str, ...]
  splits: Mapping[str, tuple[VideoAnnotation, ...]]
  source: str
  notes: tuple[str, ...] = ()
  num_rows: int = 0  # W-TALC: videos in videoname.npy (rows of the features).


def _text(value: Any) -> str:
  return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def require_file(path: str, what: str) -> str:
  if not os.path.exists(path):
    raise DataError(f"{path} is missing: {what}")
  return path


def _load_npy(ann_dir: str, name: str) -> np.ndarray:
  path = require_file(
      os.path.join(ann_dir, name),
      "--annotations must point at a W-TALC annotation folder such as "
      "Thumos14reduced-Annotations or ActivityNet1.2-Annotations, with "
      "videoname.npy, subset.npy, segments.npy, labels.npy, duration.npy and "
      "classlist.npy.")
  return np.load(path, allow_pickle=True)


def read_ambiguous(path: str) -> dict[str, list[tuple[float, float]]]:
  """``Ambiguous_test.txt`` as video name -> ``[(start, end), ...]``."""
  out: dict[str, list[tuple[float, float]]] = {}
  with open(path, encoding="utf-8") as f:
    for line_no, line in enumerate(f, 1):
      fields = line.split()
      if not fields:
        continue
      if len(fields) != 3:
        raise DataError(f"{path}:{line_no}: expected 'video start end', got "
                        f"{line.strip()!r}.")
      start, end = float(fields[1]), float(fields[2])
      if end < start:
        raise DataError(f"{path}:{line_no}: ambiguous segment of {fields[0]} "
                        f"has end {end} < start {start}; fix the file.")
      out.setdefault(fields[0], []).append((start, end))
  return out


def read_wtalc(ann_dir: str, subset_to_split: Mapping[str, str]
               ) -> Annotations:
  """Reads a W-TALC annotation folder.

  Args:
    ann_dir: The folder.
    subset_to_split: W-TALC subset name to split name, e.g.
      ``{"validation": "train", "test": "test"}``. Videos of other subsets
      are listed in ``notes``.

  Raises:
    DataError: A file is missing or the files disagree in length.
  """
  names = [_text(v) for v in _load_npy(ann_dir, "videoname.npy")]
  subsets = [_text(v) for v in _load_npy(ann_dir, "subset.npy")]
  segments = _load_npy(ann_dir, "segments.npy")
  labels = _load_npy(ann_dir, "labels.npy")
  durations = np.asarray(_load_npy(ann_dir, "duration.npy"),
                         np.float64).reshape(-1)
  class_names = tuple(_text(c) for c in _load_npy(ann_dir, "classlist.npy"))
  amb_path = os.path.join(ann_dir, "Ambiguous_test.txt")
  ambiguous = read_ambiguous(amb_path) if os.path.exists(amb_path) else {}
  lengths = {"videoname": len(names), "subset": len(subsets),
             "segments": len(segments), "labels": len(labels),
             "duration": len(durations)}
  if len(set(lengths.values())) != 1:
    raise DataError(f"{ann_dir}: the annotation files have different lengths "
                    f"{lengths}; the folder is incomplete or mixed.")
  if len(set(names)) != len(names):
    dup = sorted({n for n in names if names.count(n) > 1})[:3]
    raise DataError(f"{ann_dir}/videoname.npy lists videos twice, e.g. {dup}.")
  splits: dict[str, list[VideoAnnotation]] = {
      s: [] for s in dict.fromkeys(subset_to_split.values())}
  other: dict[str, int] = {}
  for i, video in enumerate(names):
    split = subset_to_split.get(subsets[i])
    if split is None:
      other[subsets[i]] = other.get(subsets[i], 0) + 1
      continue
    splits[split].append(VideoAnnotation(
        video=video, index=i, duration=float(durations[i]),
        segments=tuple((float(s), float(e)) for s, e in
                       np.asarray(segments[i], np.float64).reshape(-1, 2)),
        labels=tuple(_text(l) for l in labels[i]),
        ambiguous=tuple(ambiguous.pop(video, ()))))
  notes = [f"{n} videos of subset {s!r} are not part of any split."
           for s, n in sorted(other.items())]
  notes += [f"{os.path.basename(amb_path)} lists {len(v)} ambiguous segments "
            f"of {k}, which has no annotation; not used."
            for k, v in sorted(ambiguous.items())]
  return Annotations(class_names, {k: tuple(v) for k, v in splits.items()},
                     source=os.path.abspath(ann_dir), notes=tuple(notes),
                     num_rows=len(names))


def read_video_names(path: str) -> list[str]:
  """Video names, one per row of a W-TALC features file, in row order.

  Args:
    path: A ``videoname.npy`` array, an annotation folder holding one, or a
      text file with one name per line.
  """
  if os.path.isdir(path):
    path = os.path.join(path, "videoname.npy")
  require_file(path, "the video names must be a W-TALC videoname.npy (or "
               "its annotation folder) or a text file with one name per "
               "line, in the row order of the features file.")
  if path.endswith(".npy"):
    return [_text(v) for v in np.load(path, allow_pickle=True).reshape(-1)]
  with open(path, encoding="utf-8") as f:
    return [line.strip() for line in f if line.strip()]


def read_split_file(path: str) -> list[str]:
  require_file(path, "the per-video layout needs split_train.txt and "
               "split_test.txt next to gt.json.")
  with open(path, encoding="utf-8") as f:
    return [line.strip() for line in f if line.strip()]


def read_per_video(ann_dir: str, splits: Sequence[str] = ("train", "test"),
                   class_names: Sequence[str] | None = None) -> Annotations:
  """Reads ``gt.json`` and ``split_<split>.txt`` of the per-video layout.

  A video listed in a split file but absent from ``gt.json`` raises; videos
  of ``gt.json`` in no split file are listed in ``notes``.

  Args:
    ann_dir: Folder with ``gt.json`` and the split files.
    splits: Split names (``split_<name>.txt``).
    class_names: The class list; default: every label of ``gt.json``,
      sorted (for THUMOS14 this is the W-TALC ``classlist`` order).

  Raises:
    DataError: A file is missing or malformed.
  """
  gt_path = require_file(os.path.join(ann_dir, "gt.json"),
                         "--annotations must point at the per-video "
                         "annotation folder (gt.json, split_train.txt, "
                         "split_test.txt).")
  with open(gt_path, encoding="utf-8") as f:
    database = json.load(f)
  database = database.get("database", database)
  if class_names is None:
    class_names = sorted({a["label"] for v in database.values()
                          for a in v.get("annotations", ())})
  out: dict[str, tuple[VideoAnnotation, ...]] = {}
  listed: set[str] = set()
  for split in splits:
    path = os.path.join(ann_dir, f"split_{split}.txt")
    videos = []
    for video in read_split_file(path):
      if video not in database:
        raise DataError(f"{path}: video {video} is not in {gt_path}; the "
                        "split file and gt.json disagree.")
      entry = database[video]
      try:
        segs = tuple((float(a["segment"][0]), float(a["segment"][1]))
                     for a in entry.get("annotations", ()))
        labels = tuple(str(a["label"]) for a in entry.get("annotations", ()))
      except (KeyError, IndexError, TypeError, ValueError) as e:
        raise DataError(f"{gt_path}: video {video}, field 'annotations': "
                        f"malformed entry ({e!r}); each needs 'segment': "
                        "[start, end] and 'label'.") from e
      duration = entry.get("duration")
      videos.append(VideoAnnotation(
          video=video, index=-1,
          duration=None if duration is None else float(duration),
          segments=segs, labels=labels))
      listed.add(video)
    out[split] = tuple(videos)
  unlisted = sorted(set(database) - listed)
  notes = ([f"{len(unlisted)} videos of gt.json are in no split file, e.g. "
            f"{unlisted[:3]}; not used."] if unlisted else [])
  return Annotations(tuple(class_names), out, source=os.path.abspath(ann_dir),
                     notes=tuple(notes))
