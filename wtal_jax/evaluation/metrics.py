"""Video-level classification mAP and AVE snippet accuracy."""

from __future__ import annotations

import numpy as np


def classification_map(video_scores_VxC: np.ndarray,
                       labels_VxC: np.ndarray) -> float:
  """Mean over classes of the non-interpolated AP of video-level scores.

  Per class, videos are ranked by ``np.argsort(-score)`` (as W-TALC's
  ``getClassificationMAP``), and AP is the mean precision at the ranks of
  the positive videos. Classes without a positive video have no AP and are
  left out of the mean (W-TALC's code would produce NaN).

  Args:
    video_scores_VxC: ``(V, C)`` scores.
    labels_VxC: ``(V, C)`` multi-hot labels (nonzero = positive).

  Returns:
    The mean AP, a fraction in [0, 1].

  Raises:
    ValueError: On mismatched shapes, NaN scores, or no positive label.
  """
  scores = np.asarray(video_scores_VxC, np.float64)
  labels = np.asarray(labels_VxC) != 0
  if scores.ndim != 2 or scores.shape != labels.shape:
    raise ValueError(f"classification_map: scores {scores.shape} and labels "
                     f"{labels.shape} must both be (V, C).")
  if not np.all(np.isfinite(scores)):
    raise ValueError("classification_map: scores contain NaN or inf.")
  has_pos = labels.any(axis=0)
  if not np.any(has_pos):
    raise ValueError("classification_map: no class has a positive video.")
  rank = np.arange(1, scores.shape[0] + 1)
  aps = []
  for c in np.flatnonzero(has_pos):
    # The 1-D call of the reference code, so that ties order identically.
    hit = labels[np.argsort(-scores[:, c]), c]
    prec = np.cumsum(hit) / rank
    aps.append(np.sum(prec * hit) / hit.sum())
  return float(np.mean(aps))


def snippet_accuracy_counts(pred_labels: np.ndarray, true_labels: np.ndarray,
                            mask: np.ndarray) -> tuple[int, int]:
  """``(correct, total)`` over the real snippets, for exact cross-device sums.

  Args:
    pred_labels: ``(..., T)`` predicted class per snippet (background is a
      class of its own, e.g. index C as in the dataset schema).
    true_labels: Same shape, the true classes.
    mask: Same shape, True on real snippets.
  """
  pred = np.asarray(pred_labels)
  true = np.asarray(true_labels)
  m = np.asarray(mask, bool)
  if not pred.shape == true.shape == m.shape:
    raise ValueError(f"snippet_accuracy: shapes differ: {pred.shape}, "
                     f"{true.shape}, {m.shape}.")
  return int(np.sum((pred == true) & m)), int(np.sum(m))


def snippet_accuracy(pred_labels: np.ndarray, true_labels: np.ndarray,
                     mask: np.ndarray) -> float:
  """Fraction of real snippets whose predicted class is right (AVE metric).

  Raises:
    ValueError: If the mask selects no snippet.
  """
  correct, total = snippet_accuracy_counts(pred_labels, true_labels, mask)
  if total == 0:
    raise ValueError("snippet_accuracy: the mask selects no snippet.")
  return correct / total
