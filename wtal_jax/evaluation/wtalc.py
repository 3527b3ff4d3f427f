"""The ``wtalc`` two-stage thresholding recipe (W-TALC; used by CAAV).

For one video, with ``T`` real snippets:

1. Keep the classes whose video score is ``>=`` the mean video score over all
   classes.
2. Per kept class, threshold its CAS at ``max - ratio * (max - min)`` over
   the video (``ratio = 0.5``); snippets strictly above it are active, as in
   the W-TALC code (``tmp > threshold``).
3. Each maximal run of at least ``min_len = 2`` active snippets is a segment
   ``[s, e)``, at ``[s * seconds_per_snippet, e * seconds_per_snippet]``.
4. Its score is the maximum CAS over the run plus ``class_weight = 0.7``
   times the class's video score. No NMS.

3C-Net's test code (``detectionMAP.py``) scores classes differently; its
settings are options: ``class_scores="cas_topk"`` takes each class's mean of
its top ``max(1, floor(T / 8))`` CAS values instead of the video scores, for
the filter and the segment score; ``class_filter="half_max"`` keeps the
classes whose score is above half the largest and above 0 (instead of
``>=`` the mean); 3C-Net adds that score with ``class_weight = 1``.
"""

from __future__ import annotations

import numpy as np

from wtal_jax.evaluation import segments
from wtal_jax.evaluation.proposals import NmsSpec, Proposals

# Which per-class scores filter the classes and join the segment score.
CLASS_SCORES = ("video", "cas_topk")
# Which classes are localised, given those scores.
CLASS_FILTERS = ("mean", "half_max")


def cas_topk_scores(cas_TxC: np.ndarray) -> np.ndarray:
  """Each class's mean of its top ``max(1, floor(T / 8))`` CAS values (3C-Net's
  test-time class scores)."""
  t = cas_TxC.shape[0]
  k = max(1, t // 8)
  return np.mean(-np.sort(-np.asarray(cas_TxC, np.float64), axis=0)[:k],
                 axis=0)


def wtalc_proposals(cas_TxC: np.ndarray, attention_T: np.ndarray | None,
                    video_scores_C: np.ndarray, seconds_per_snippet: float, *,
                    ratio: float = 0.5, min_len: int = 2,
                    class_weight: float = 0.7, class_scores: str = "video",
                    class_filter: str = "mean"
                    ) -> tuple[Proposals, NmsSpec]:
  """Segments of one video by the ``wtalc`` recipe (see the module docstring).

  Args:
    cas_TxC: ``(T, C)`` class activation, background excluded, unpadded.
    attention_T: Unused (accepted for a uniform recipe signature).
    video_scores_C: ``(C,)`` video-level class scores.
    seconds_per_snippet: Seconds per snippet.
    ratio: Fraction of the CAS range below the maximum to threshold at.
    min_len: Minimum run length in snippets.
    class_weight: Weight of the class score in the segment score.
    class_scores: ``"video"`` (the video scores) or ``"cas_topk"`` (see the
      module docstring).
    class_filter: ``"mean"`` or ``"half_max"`` (see the module docstring).

  Returns:
    The segments and ``NmsSpec("none")``.

  Raises:
    ValueError: On an unknown ``class_scores`` or ``class_filter``.
  """
  del attention_T
  if class_scores not in CLASS_SCORES:
    raise ValueError(f"wtalc: class_scores must be one of {CLASS_SCORES}, got "
                     f"{class_scores!r}.")
  if class_filter not in CLASS_FILTERS:
    raise ValueError(f"wtalc: class_filter must be one of {CLASS_FILTERS}, "
                     f"got {class_filter!r}.")
  scores_C = (cas_topk_scores(cas_TxC) if class_scores == "cas_topk"
              else np.asarray(video_scores_C, np.float64))
  if class_filter == "half_max":
    cls = np.flatnonzero((scores_C > scores_C.max() / 2) & (scores_C > 0))
  else:
    cls = np.flatnonzero(scores_C >= scores_C.mean())
  x = np.asarray(cas_TxC[:, cls].T, np.float64)  # (classes, T)
  hi, lo = x.max(axis=1), x.min(axis=1)
  threshold = hi - (hi - lo) * ratio
  row, s, e = segments.mask_runs(x > threshold[:, None])
  keep = (e - s) >= min_len
  row, s, e = row[keep], s[keep], e[keep]
  label = cls[row]
  peak = segments.run_reduce(x, row, s, e, np.maximum)
  return Proposals(label=label, t_start=s * seconds_per_snippet,
                   t_end=e * seconds_per_snippet,
                   score=peak + class_weight * scores_C[label]
                   ), NmsSpec("none")
