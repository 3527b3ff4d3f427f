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
"""

from __future__ import annotations

import numpy as np

from wtal_jax.evaluation import segments
from wtal_jax.evaluation.proposals import NmsSpec, Proposals


def wtalc_proposals(cas_TxC: np.ndarray, attention_T: np.ndarray | None,
                    video_scores_C: np.ndarray, seconds_per_snippet: float, *,
                    ratio: float = 0.5, min_len: int = 2,
                    class_weight: float = 0.7) -> tuple[Proposals, NmsSpec]:
  """Segments of one video by the ``wtalc`` recipe (see the module docstring).

  Args:
    cas_TxC: ``(T, C)`` class activation, background excluded, unpadded.
    attention_T: Unused (accepted for a uniform recipe signature).
    video_scores_C: ``(C,)`` video-level class scores.
    seconds_per_snippet: Seconds per snippet.
    ratio: Fraction of the CAS range below the maximum to threshold at.
    min_len: Minimum run length in snippets.
    class_weight: Weight of the video score in the segment score.

  Returns:
    The segments and ``NmsSpec("none")``.
  """
  del attention_T
  cls = np.flatnonzero(video_scores_C >= video_scores_C.mean())
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
                   score=peak + class_weight * video_scores_C[label]
                   ), NmsSpec("none")
