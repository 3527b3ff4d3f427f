"""Reads ActivityNet JSON: ground truth (``database``), predictions (``results``)
and THUMOS14's ambiguous segments; :mod:`~wtal_jax.evaluation.json_write`
writes the two JSON formats.

Ground truth::

  {"database": {"<video>": {
      "subset": "test",
      "annotations": [{"segment": [s, e], "label": "X"}]}}}

Predictions::

  {"version": "VERSION 1.3",
   "results": {"<video>": [{"label": "X", "score": 0.9, "segment": [s, e]}]},
   "external_data": {...}}

Segment bounds may be numbers or numeric strings (THUMOS14's ``gt.json`` uses
strings). Class names map to indices through a class list: the one given, or
the sorted labels of the whole ground-truth database. Every problem is either
an :class:`EvaluationInputError` naming the file, video, entry, field and fix,
or a counted line in the :class:`ReadReport`; nothing is dropped silently.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import math
import operator
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from wtal_jax.cli_errors import UserInputError
from wtal_jax.evaluation.detections import Detections, GroundTruth


UNKNOWN_VIDEO_POLICIES = ("error", "drop", "fp")


class EvaluationInputError(UserInputError, ValueError):
  """A ground-truth or prediction file cannot be evaluated as it is."""


@dataclasses.dataclass
class ReadReport:
  """What a reader counted: dropped entries and warnings, by reason.

  Attributes:
    source: The file that was read.
    counts: Reason -> number of entries.
    examples: Reason -> the first offending entry.
    dropped: Reasons whose entries were dropped (the rest were kept).
    database_videos: For ground truth: every video of the file, all subsets.
  """

  source: str
  counts: collections.Counter = dataclasses.field(
      default_factory=collections.Counter)
  examples: dict[str, str] = dataclasses.field(default_factory=dict)
  dropped: set[str] = dataclasses.field(default_factory=set)
  database_videos: frozenset[str] | None = None

  def add(self, reason: str, example: str, dropped: bool = False) -> None:
    self.counts[reason] += 1
    self.examples.setdefault(reason, example)
    if dropped:
      self.dropped.add(reason)

  @property
  def num_dropped(self) -> int:
    return sum(n for r, n in self.counts.items() if r in self.dropped)

  def lines(self) -> list[str]:
    out = []
    for reason, n in sorted(self.counts.items()):
      what = "dropped" if reason in self.dropped else "kept"
      out.append(f"WARNING: {self.source}: {n} entries {reason} ({what}); "
                 f"first: {self.examples[reason]}")
    return out


def _load(path: str, key: str, shape: str) -> Mapping[str, Any]:
  try:
    with open(path, "r", encoding="utf-8") as f:
      data = json.load(f)
  except FileNotFoundError:
    raise EvaluationInputError(f"{path}: file not found.") from None
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise EvaluationInputError(f"{path}: not valid JSON ({e}).") from None
  if not isinstance(data, dict) or not isinstance(data.get(key), dict):
    raise EvaluationInputError(
        f"{path}: expected a JSON object with a {key!r} object, i.e. {shape}.")
  return data[key]


def _number(value: Any) -> float | None:
  """A float from a JSON number or numeric string; None if it is neither."""
  if isinstance(value, bool):
    return None
  if isinstance(value, (int, float)):
    return float(value)
  if isinstance(value, str):
    try:
      return float(value)
    except ValueError:
      return None
  return None


def _segment_problem(seg: Any) -> tuple[str | None, float, float]:
  """Returns (problem or None, start, end) for a ``segment`` field."""
  if not isinstance(seg, (list, tuple)) or len(seg) != 2:
    return "with a malformed segment (need [start, end])", 0.0, 0.0
  s, e = _number(seg[0]), _number(seg[1])
  if s is None or e is None:
    return "with a non-numeric segment bound", 0.0, 0.0
  if not (math.isfinite(s) and math.isfinite(e)):
    return "with a NaN or infinite segment bound", s, e
  if s < 0 or e < 0:
    return "with a negative segment time", s, e
  if e < s:
    return "with a reversed segment (end < start)", s, e
  return None, s, e


_GT_SHAPE = ('{"database": {"<video>": {"subset": "test", "annotations": '
             '[{"segment": [start, end], "label": "<class>"}]}}}')
_PRED_SHAPE = ('{"results": {"<video>": [{"label": "<class>", "score": 0.5, '
               '"segment": [start, end]}]}}')


def read_ground_truth_json(path: str, subset: str | None = "test",
                           class_names: Sequence[str] | None = None
                           ) -> tuple[GroundTruth, ReadReport]:
  """Reads ActivityNet-format ground truth.

  Args:
    path: The JSON file.
    subset: Keep the videos whose ``subset`` equals this; None keeps all.
    class_names: The class list (index order). Default: the sorted labels
      of the whole database, all subsets, so indices do not depend on the
      subset.

  Returns:
    The ground truth of the subset (every video of the subset, with or
    without instances) and a report (zero-length instances are counted).

  Raises:
    EvaluationInputError: On malformed files, unknown labels, NaN, negative
      or reversed segments, or an empty subset.
  """
  db = _load(path, "database", _GT_SHAPE)
  report = ReadReport(source=path, database_videos=frozenset(db))
  rows, videos, subsets = [], [], collections.Counter()
  for vid, entry in db.items():
    if not isinstance(entry, dict) or not isinstance(
        entry.get("annotations"), list):
      raise EvaluationInputError(
          f"{path}: database[{vid!r}] needs an 'annotations' list; expected "
          f"{_GT_SHAPE}.")
    vsub = entry.get("subset")
    subsets[vsub] += 1
    if subset is not None:
      if not isinstance(vsub, str):
        raise EvaluationInputError(
            f"{path}: database[{vid!r}] has no 'subset' string; pass "
            "--subset= (empty) to evaluate all videos.")
      if vsub != subset:
        continue
    videos.append(vid)
    for i, ann in enumerate(entry["annotations"]):
      where = f"database[{vid!r}].annotations[{i}]"
      if not isinstance(ann, dict) or not isinstance(ann.get("label"), str):
        raise EvaluationInputError(
            f"{path}: {where} needs a string 'label' and a 'segment'.")
      problem, s, e = _segment_problem(ann.get("segment"))
      if problem:
        raise EvaluationInputError(
            f"{path}: {where} is an instance {problem}: "
            f"{ann.get('segment')!r}. Fix the annotation file.")
      if e == s:
        report.add("are zero-length instances", f"{where} {[s, e]}")
      rows.append((vid, ann["label"], s, e))
  if not videos:
    raise EvaluationInputError(
        f"{path}: no video has subset {subset!r}; subsets in the file: "
        f"{dict(subsets)}.")
  if class_names is None:
    class_names = sorted({
        a["label"] for v in db.values() if isinstance(v, dict)
        for a in v.get("annotations") or ()
        if isinstance(a, dict) and isinstance(a.get("label"), str)})
  index = {c: i for i, c in enumerate(class_names)}
  unknown = sorted({r[1] for r in rows} - set(index))
  if unknown:
    raise EvaluationInputError(
        f"{path}: labels {unknown[:5]} are not in the class list "
        f"({len(index)} classes).")
  gt = GroundTruth(video=[r[0] for r in rows],
                   label=[index[r[1]] for r in rows],
                   t_start=[r[2] for r in rows], t_end=[r[3] for r in rows],
                   videos=videos, class_names=tuple(class_names))
  return gt, report


def read_predictions_json(path: str, gt: GroundTruth,
                          invalid: str = "error",
                          unknown_videos: str = "error",
                          database_videos: Iterable[str] | None = None
                          ) -> tuple[Detections, ReadReport]:
  """Reads ActivityNet-format predictions, keeping file order.

  Args:
    path: The JSON file.
    gt: The ground truth; its ``class_names`` map labels to indices.
    invalid: Entries with an unknown label, a malformed, NaN, negative or
      reversed segment, or a missing or non-finite score: ``"error"`` raises,
      ``"drop"`` drops and counts them.
    unknown_videos: Videos in neither ``gt.videos`` nor ``database_videos``
      (typos, another dataset): ``"error"``, ``"drop"`` (counted) or
      ``"fp"``: kept, so that ``detection_map(...,
      database_videos=...)`` scores them as false positives and counts them,
      as the official evaluator does. Videos of the database outside the
      subset are kept; ``detection_map`` applies its ``outside_subset``
      policy to them.
    database_videos: Every video of the ground-truth file, e.g.
      ``ReadReport.database_videos``; default ``gt.videos``.

  Returns:
    The predictions and a report of what was dropped or flagged.

  Raises:
    EvaluationInputError: As described above.
  """
  if gt.class_names is None:
    raise ValueError("read_predictions_json needs gt.class_names.")
  if invalid not in ("error", "drop"):
    raise ValueError(f"invalid must be 'error' or 'drop', got {invalid!r}.")
  if unknown_videos not in UNKNOWN_VIDEO_POLICIES:
    raise ValueError(f"unknown_videos must be one of {UNKNOWN_VIDEO_POLICIES}"
                     f", got {unknown_videos!r}.")
  results = _load(path, "results", _PRED_SHAPE)
  report = ReadReport(source=path)
  index = {c: i for i, c in enumerate(gt.class_names)}
  known = set(gt.videos.tolist()) | set(database_videos or ())
  fast = _well_formed_file(results, index, known, unknown_videos)
  if fast is not None:
    for vid, i in fast.pop():
      report.add("are zero-length detections",
                 f"results[{vid!r}][{i}] {results[vid][i]!r}")
    return (Detections(*fast) if fast[0].size else Detections.empty()), report
  cols = ([], [], [], [], [])
  for vid, entries in results.items():
    if not isinstance(entries, list):
      raise EvaluationInputError(
          f"{path}: results[{vid!r}] must be a list of detections; expected "
          f"{_PRED_SHAPE}.")
    if vid not in known and unknown_videos != "fp":
      if unknown_videos == "error":
        raise EvaluationInputError(
            f"{path}: results[{vid!r}]: video not in the ground truth. Check "
            "the video ids (and --ground_truth), or pass --unknown_videos=fp "
            "to score such videos as false positives as the official "
            "evaluator does, or --unknown_videos=drop to skip them (either "
            "way they are counted).")
      for i in range(len(entries)):
        report.add("on videos missing from the ground truth",
                   f"results[{vid!r}][{i}]", dropped=True)
      continue
    fast = _well_formed(entries, index)
    if fast is not None:
      labels, starts, ends, scores = fast
      for i in np.flatnonzero(starts == ends):
        report.add("are zero-length detections",
                   f"results[{vid!r}][{i}] {entries[i]!r}")
      cols[0].extend([vid] * len(labels))
      for col, val in zip(cols[1:], (labels, starts, ends, scores)):
        col.extend(val.tolist())
      continue
    for i, det in enumerate(entries):
      where = f"results[{vid!r}][{i}]"
      problem, s, e, score, label = _prediction_problem(det, index)
      if problem:
        if invalid == "error":
          raise EvaluationInputError(
              f"{path}: {where} is a detection {problem}: {det!r}. Fix the "
              "writer, or pass --invalid=drop to skip such entries (they "
              "are counted).")
        report.add(problem, f"{where} {det!r}", dropped=True)
        continue
      if e == s:
        report.add("are zero-length detections", f"{where} {det!r}")
      for col, val in zip(cols, (vid, label, s, e, score)):
        col.append(val)
  if not cols[0]:
    return Detections.empty(), report
  return Detections(*cols), report


def _well_formed_file(results: Mapping[str, Any], index: Mapping[str, int],
                      known: set, unknown_videos: str):
  """Every video's detections as columns ``[video, label, start, end,
  score, zero_length]`` when the whole file is valid and no video needs the
  unknown-video policy, else None (the caller then reads video by video).
  ``zero_length`` lists ``(video, entry index)`` of zero-length detections.

  Most prediction files are valid, and reading them as whole columns costs
  a few C-level passes instead of a Python loop per entry.
  """
  lists = list(results.values())
  if not all(type(x) is list for x in lists):
    return None
  if unknown_videos != "fp" and not known.issuperset(results):
    return None
  counts = np.fromiter(map(len, lists), np.int64, len(lists))
  columns = _well_formed(list(itertools.chain.from_iterable(lists)), index)
  if columns is None:
    return None
  labels, starts, ends, scores = columns
  videos = np.repeat(np.asarray(list(results), dtype=str), counts)
  zero = np.flatnonzero(starts == ends)
  first = np.cumsum(counts) - counts  # Row of each video's first entry.
  owner = np.searchsorted(first, zero, side="right") - 1
  zero_length = [(str(videos[r]), int(r - first[v]))
                 for r, v in zip(zero, owner)]
  return [videos, labels, starts, ends, scores, zero_length]


def _well_formed(entries: list, index: Mapping[str, int]):
  """Detections as arrays ``(label, start, end, score)`` when every entry is
  valid, else None (the caller then checks entry by entry, to name the
  first bad one). Reads the same values as :func:`_prediction_problem`,
  whole columns at a time."""
  try:
    labels = np.fromiter(
        map(index.__getitem__, map(_LABEL, entries)), np.int64, len(entries))
    segments = list(map(_SEGMENT, entries))
    scores = list(map(_SCORE, entries))
    # Numbers only (JSON booleans are not; numeric strings are, for bounds).
    if not (set(map(type, scores)) <= _NUMBER_TYPES
            and set(map(type, segments)) <= _PAIR_TYPES
            and set(map(len, segments)) <= {2}
            and bool not in set(map(type, itertools.chain.from_iterable(
                segments)))):
      return None
    bounds = np.asarray(segments, np.float64).reshape(len(entries), 2)
    scores = np.asarray(scores, np.float64)
  except (KeyError, TypeError, ValueError):
    return None
  starts, ends = bounds[:, 0], bounds[:, 1]
  if not (np.all(np.isfinite(bounds)) and np.all(np.isfinite(scores))
          and np.all(starts >= 0) and np.all(ends >= starts)):
    return None
  return labels, starts, ends, scores


_LABEL = operator.itemgetter("label")
_SEGMENT = operator.itemgetter("segment")
_SCORE = operator.itemgetter("score")
_NUMBER_TYPES = frozenset((int, float))
_PAIR_TYPES = frozenset((list, tuple))


def _prediction_problem(det: Any, index: Mapping[str, int]):
  if not isinstance(det, dict):
    return "that is not an object", 0, 0, 0, 0
  label = det.get("label")
  if not isinstance(label, str) or label not in index:
    return "with an unknown label", 0, 0, 0, 0
  problem, s, e = _segment_problem(det.get("segment"))
  if problem:
    return problem, 0, 0, 0, 0
  score = _number(det.get("score")) if not isinstance(
      det.get("score"), str) else None
  if score is None:
    return "with a missing or non-numeric score", 0, 0, 0, 0
  if not math.isfinite(score):
    return "with a NaN or infinite score", 0, 0, 0, 0
  return None, s, e, score, index[label]


def read_ambiguous_txt(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Reads THUMOS14's ``Ambiguous_test.txt``: ``video start end`` per line.

  Returns:
    ``(video, t_start, t_end)`` arrays, for ``GroundTruth.with_ambiguous``.

  Raises:
    EvaluationInputError: On a missing file or a malformed line.
  """
  try:
    with open(path, "r", encoding="utf-8") as f:
      lines = f.read().splitlines()
  except FileNotFoundError:
    raise EvaluationInputError(f"{path}: file not found.") from None
  vids, starts, ends = [], [], []
  for n, line in enumerate(lines, 1):
    tok = line.split()
    if not tok:
      continue
    s = _number(tok[1]) if len(tok) >= 3 else None
    e = _number(tok[2]) if len(tok) >= 3 else None
    if len(tok) != 3 or s is None or e is None or not (
        math.isfinite(s) and math.isfinite(e)) or e < s:
      raise EvaluationInputError(
          f"{path}:{n}: expected 'video start end' with start <= end, got "
          f"{line!r}.")
    vids.append(tok[0])
    starts.append(s)
    ends.append(e)
  return (np.asarray(vids, dtype=str), np.asarray(starts, np.float64),
          np.asarray(ends, np.float64))
