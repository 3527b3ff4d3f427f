"""Writes ActivityNet JSON files: predictions (``results``) and ground truth
(``database``), in the formats :mod:`wtal_jax.evaluation.json_io` reads.

Files are written atomically (a temporary file, then a rename), so an
interrupted run never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Sequence

import numpy as np

from wtal_jax.evaluation.detections import Detections, GroundTruth


def _atomic_write_json(path: str, obj: Any) -> None:
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  # Imported here: tempfile brings shutil, random, bz2 and lzma, a few ms of
  # the standalone evaluator's start-up, and that tool writes no JSON.
  import tempfile  # pylint: disable=g-import-not-at-top
  fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
  try:
    with os.fdopen(fd, "w", encoding="utf-8") as f:
      json.dump(obj, f, allow_nan=False)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def _names(labels: np.ndarray, class_names: Sequence[str]) -> list[str]:
  out = (labels < 0) | (labels >= len(class_names))
  if np.any(out):
    raise ValueError(f"Labels {np.unique(labels[out])} are outside the class "
                     f"list of {len(class_names)} names.")
  return [class_names[i] for i in labels]


def write_predictions_json(path: str, preds: Detections,
                           class_names: Sequence[str],
                           external_data: Mapping[str, Any] | None = None,
                           videos: Sequence[str] = (),
                           extra: Mapping[str, Any] | None = None) -> None:
  """Writes predictions in the ActivityNet ``results`` format, atomically.

  Rows are grouped by video (first appearance order) and keep their order
  within a video, so the file re-reads to the same rows when ``preds`` is
  grouped by video (as :func:`postprocess_many` returns it), and then scores
  identically, score ties included. Floats are written with full precision.

  Args:
    path: Output file (parent folders are created).
    preds: The detections (finite scores and times).
    class_names: Index -> class name.
    external_data: The ``external_data`` object; a default says no external
      data beyond the features.
    videos: Videos listed first, in this order, with an empty list when
      they have no detection (so that "predicted, nothing found" differs
      from "not predicted").
    extra: More top-level entries (e.g. a report); readers of the format
      ignore them.
  """
  preds.validate(path)
  names = _names(preds.label, class_names)
  results: dict[str, list[dict[str, Any]]] = {str(v): [] for v in videos}
  for v, n, s, e, c in zip(preds.video.tolist(), names, preds.t_start.tolist(),
                           preds.t_end.tolist(), preds.score.tolist()):
    results.setdefault(v, []).append(
        {"label": n, "score": c, "segment": [s, e]})
  _atomic_write_json(path, {
      "version": "VERSION 1.3",
      "results": results,
      "external_data": dict(external_data or {
          "used": False, "details": "Pre-extracted features only."}),
      **dict(extra or {}),
  })


def write_ground_truth_json(path: str, gt: GroundTruth,
                            subset: str = "test") -> None:
  """Writes ground truth in the ActivityNet ``database`` format, atomically.

  Every video of ``gt.videos`` is written, with or without instances, so the
  number of videos survives the round trip. Needs ``gt.class_names``.
  """
  if gt.class_names is None:
    raise ValueError("write_ground_truth_json needs gt.class_names.")
  names = _names(gt.label, gt.class_names)
  db: dict[str, Any] = {v: {"subset": subset, "annotations": []}
                        for v in gt.videos.tolist()}
  for v, n, s, e in zip(gt.video.tolist(), names, gt.t_start.tolist(),
                        gt.t_end.tolist()):
    db[v]["annotations"].append({"segment": [s, e], "label": n})
  _atomic_write_json(path, {"version": "VERSION 1.3", "taxonomy": [],
                            "database": db})
