"""What ``python -m wtal_jax.predict`` writes and prints.

The output file is the ActivityNet ``results`` JSON that the evaluator reads
(``python -m wtal_jax.evaluate --predictions=...``), every predicted video
listed (an empty list when nothing was found), plus a ``report`` object: the
run and checkpoint used, the inputs, the videos skipped with their reasons,
notes, and how many segments ``--top_k`` / ``--min_score`` left out.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from wtal_jax.evaluation.detections import Detections
from wtal_jax.evaluation.json_write import write_predictions_json


@dataclasses.dataclass(frozen=True)
class Filtered:
  """Detections after the output filters, and what the filters removed."""

  detections: Detections
  below_min_score: int
  beyond_top_k: int


def filter_detections(dets: Detections, top_k: int = 0,
                      min_score: float | None = None) -> Filtered:
  """Keeps per video the segments scoring at least ``min_score``, then its
  ``top_k`` best (0: all), in their original order.

  Args:
    dets: Detections grouped by video.
    top_k: Segments kept per video; 0 keeps all.
    min_score: Lowest score kept; None keeps all.
  """
  passing = (np.ones(len(dets), bool) if min_score is None
             else dets.score >= min_score)
  keep = passing.copy()
  if top_k > 0:
    for video in dict.fromkeys(dets.video.tolist()):
      rows = np.flatnonzero((dets.video == video) & passing)
      order = rows[np.argsort(-dets.score[rows], kind="stable")]
      keep[order[top_k:]] = False
  return Filtered(dets.take(keep), int((~passing).sum()),
                  int(passing.sum() - keep.sum()))


def file_stem(video_id: str) -> str:
  """A file name for a video id (characters other than letters, digits and
  ``-_.`` become ``_``)."""
  return "".join(c if c.isalnum() or c in "-_." else "_" for c in video_id)


def video_table(video_id: str, video_length: int, seconds_per_snippet: float,
                dets: Detections, class_names: Sequence[str],
                rows: int = 5) -> str:
  """A short table of a video's best segments."""
  mine = dets.take(dets.video == video_id)
  head = (f"{video_id} ({video_length} snippets, "
          f"{video_length * seconds_per_snippet:.1f} s): {len(mine)} segments")
  order = np.argsort(-mine.score, kind="stable")[:rows]
  if not len(order):
    return head
  width = max([5] + [len(class_names[int(mine.label[i])]) for i in order])
  lines = [head + (f", top {len(order)}:" if len(mine) > len(order) else ":"),
           f"  {'class':<{width}} {'start':>8} {'end':>8} {'score':>8}"]
  lines += [f"  {class_names[int(mine.label[i])]:<{width}} "
            f"{mine.t_start[i]:8.2f} {mine.t_end[i]:8.2f} "
            f"{mine.score[i]:8.4f}" for i in order]
  return "\n".join(lines)


def write_output(path: str, filtered: Filtered, class_names: Sequence[str],
                 videos: Sequence[str], report: dict[str, Any]) -> None:
  """Writes the results JSON with its ``report`` (see the module doc)."""
  report = dict(report)
  report["segments_written"] = len(filtered.detections)
  report["segments_left_out"] = {
      "below_min_score": filtered.below_min_score,
      "beyond_top_k": filtered.beyond_top_k}
  write_predictions_json(path, filtered.detections, class_names,
                         videos=videos, extra={"report": report})
