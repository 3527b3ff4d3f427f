"""Snippet-level accuracy, the AVE evaluation (``config.eval.metric =
"snippet_accuracy"``).

Every real snippet is classified into one of the C classes or background by
the argmax of the head's per-snippet scores (background last, index C, as in
the dataset schema), and compared with its true class. Datasets that store
per-snippet labels (AVE) use them. For others they are derived from the
ground-truth segments with the rule the AVE converter uses: snippet ``i``
belongs to an instance when its centre ``(i + 0.5) * seconds_per_snippet``
lies in ``[start, end)``; otherwise it is background. So any dataset (the
synthetic one included) can be scored the AVE way.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from wtal_jax.evaluation.metrics import snippet_accuracy_counts

METRICS = ("detection", "snippet_accuracy")


def selection_metric(eval_cfg) -> str:
  """The scalar that ranks evaluations (best checkpoint, progress line)."""
  metric = eval_cfg.get("metric", "detection") or "detection"
  if metric not in METRICS:
    raise ValueError(f"config.eval.metric must be one of {METRICS}, got "
                     f"{metric!r}.")
  return "snippet_acc" if metric == "snippet_accuracy" else "avg_map"


def labels_from_segments(segments_Nx2: np.ndarray, segment_labels_N: np.ndarray,
                         video_length: int, seconds_per_snippet: float,
                         num_classes: int) -> np.ndarray:
  """Per-snippet classes ``(T,)`` from instances; background = C.

  Where instances overlap, the later one in the list wins.
  """
  labels_T = np.full(video_length, num_classes, np.int64)
  centres_T = (np.arange(video_length) + 0.5) * seconds_per_snippet
  for (start, end), c in zip(np.asarray(segments_Nx2).reshape(-1, 2),
                             np.asarray(segment_labels_N).reshape(-1)):
    labels_T[(centres_T >= start) & (centres_T < end)] = int(c)
  return labels_T


@dataclasses.dataclass
class SnippetAccuracyResult:
  """Accuracy over all real snippets of a split, with per-class recall."""

  accuracy: float
  correct: int
  total: int
  per_class_recall: dict[str, float]

  def table(self) -> str:
    recalls = [v for v in self.per_class_recall.values() if np.isfinite(v)]
    return (f"snippet accuracy {100 * self.accuracy:.2f}% "
            f"({self.correct}/{self.total} snippets); mean per-class recall "
            f"{100 * float(np.mean(recalls)) if recalls else float('nan'):.2f}"
            "%")


def snippet_scores(outputs: Sequence, class_names: Sequence[str]
                   ) -> SnippetAccuracyResult:
  """Scores the per-snippet predictions of evaluated videos.

  Args:
    outputs: :class:`wtal_jax.evaluation.runner.VideoOutput` of each video.
    class_names: The C class names (background is index C).
  """
  c = len(class_names)
  preds, trues = [], []
  for o in outputs:
    t = o.snippet_scores_TxC1.shape[0]
    true_T = (np.asarray(o.snippet_labels_T)[:t]
              if o.snippet_labels_T is not None else
              labels_from_segments(o.segments_Nx2, o.segment_labels_N, t,
                                   o.seconds_per_snippet, c))
    preds.append(np.asarray(o.snippet_scores_TxC1).argmax(-1))
    trues.append(true_T)
  pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
  true = np.concatenate(trues) if trues else np.zeros(0, np.int64)
  correct, total = snippet_accuracy_counts(pred, true, np.ones_like(true, bool))
  if total == 0:
    raise ValueError("snippet accuracy: the split has no snippet.")
  names = list(class_names) + ["background"]
  recall = {}
  for k, name in enumerate(names):
    sel = true == k
    recall[name] = float(np.mean(pred[sel] == k)) if sel.any() else float(
        "nan")
  return SnippetAccuracyResult(correct / total, correct, total, recall)
