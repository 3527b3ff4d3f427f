"""Per-group hard NMS and Gaussian soft-NMS over 1-D segments, batched.

All run the classic sequential loop within each group (a group is one class
of one video): repeatedly take the remaining segment with the highest current
score, then

* ``hard``: drop every remaining segment whose tIoU with it is ``>= iou``;
* ``soft``: multiply every remaining score by ``exp(-tIoU**2 / sigma)``
  (Gaussian soft-NMS as in the HAM-Net and CO2-Net code; nothing is dropped,
  and, as there, negative scores move towards 0);
* ``hard_decay``: hard NMS, except that each segment it suppresses is kept
  with its score times ``exp(-tIoU**2 / sigma)``, the tIoU with the segment
  that suppressed it (the public ASL code's ``--soft_nms``, which its
  training and test scripts pass, with ``sigma`` = its ``nms_alpha`` 0.35).
  Suppressed segments suppress nothing.

Ties in the current score go to the earliest row. The tIoU is continuous and
in seconds, ``inter / (len_a + len_b - inter)``, taken as 0 for two
zero-length segments. The public code adds 1 to lengths measured in seconds
or in snippets (``x2 - x1 + 1``, an image-pixel convention that inflates the
overlap of short segments); ``length_offset = 1`` reproduces it (UM's
``utils.nms``: ``inter = max(0, min(e) - max(s) + 1)``, lengths ``e - s +
1``), and the default 0 does not.

The loop is sequential within a group but independent across groups, so it
runs for all groups at once on a padded ``(groups, max_size)`` score matrix:
step ``k`` makes the ``k``-th selection of every group. Groups are bucketed by
size so that padding stays below 2x; the number of Python-level steps is the
size of the largest group, not the number of segments.
"""

from __future__ import annotations

import numpy as np

NMS_KINDS = ("none", "hard", "soft", "hard_decay")


def _iou(s1, e1, s2, e2, offset=0.0):
  inter = np.maximum(np.minimum(e1, e2) - np.maximum(s1, s2) + offset, 0.0)
  union = (e1 - s1 + offset) + (e2 - s2 + offset) - inter
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(union > 0, inter / union, 0.0)


def batched_nms(group: np.ndarray, t_start: np.ndarray, t_end: np.ndarray,
                score: np.ndarray, kind: str = "soft", iou: float = 0.6,
                sigma: float = 0.3, length_offset: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray]:
  """Runs NMS independently within each group.

  Args:
    group: ``(N,)`` int group id of each segment (e.g. video * C + class).
    t_start, t_end: ``(N,)`` segment bounds in seconds.
    score: ``(N,)`` finite scores.
    kind: ``"hard"``, ``"soft"`` (Gaussian), ``"hard_decay"`` or ``"none"``.
    iou: Suppression threshold of hard NMS (suppress when tIoU >= iou).
    sigma: Gaussian width of soft-NMS and of ``hard_decay``'s decay.
    length_offset: Added to each length and to the intersection in the tIoU
      (0: the plain tIoU; 1: the public code's ``e - s + 1``).

  Returns:
    ``(keep, new_score)``: indices of the kept segments in ascending order,
    and their scores after NMS (decayed for soft-NMS).
  """
  if kind not in NMS_KINDS:
    raise ValueError(f"NMS kind must be one of {NMS_KINDS}, got {kind!r}.")
  score = np.asarray(score, np.float64)
  n = score.shape[0]
  if kind == "none" or n == 0:
    return np.arange(n), score.copy()
  if kind in ("soft", "hard_decay") and not sigma > 0:
    raise ValueError(f"{kind} NMS needs sigma > 0, got {sigma}.")
  if not np.all(np.isfinite(score)):
    raise ValueError("NMS needs finite scores.")
  order = np.argsort(group, kind="stable")
  _, first, counts = np.unique(np.asarray(group)[order], return_index=True,
                               return_counts=True)
  kept = np.zeros((n,), bool)
  final = np.empty((n,), np.float64)
  # Power-of-two size buckets bound the padding.
  bucket = np.ceil(np.log2(counts)).astype(np.int64)
  for b in np.unique(bucket):
    sel = np.flatnonzero(bucket == b)
    rows = [order[first[g]:first[g] + counts[g]] for g in sel]
    _run_bucket(rows, counts[sel], t_start, t_end, score, kind, iou, sigma,
                kept, final, length_offset)
  keep = np.flatnonzero(kept)
  return keep, final[keep]


def _run_bucket(rows, sizes, t_start, t_end, score, kind, iou_thr, sigma,
                kept_out, final_out, offset=0.0):
  """Sequential NMS for a bucket of groups, one selection per group a step."""
  # Largest groups first: the groups still running at step k are a prefix.
  by_size = np.argsort(-sizes, kind="stable")
  sizes = sizes[by_size]
  n_g, width = sizes.shape[0], int(sizes[0])
  col = np.arange(width)
  valid = col[None, :] < sizes[:, None]
  src = np.zeros((n_g, width), np.int64)
  for r, g in enumerate(by_size):
    src[r, :sizes[r]] = rows[g]
  ts, te = t_start[src], t_end[src]
  cur = np.where(valid, score[src], -np.inf)
  alive = valid.copy()
  for step in range(width):
    m = int(np.count_nonzero(sizes > step))
    blk_cur, blk_alive = cur[:m], alive[:m]
    ar = np.arange(m)
    j = np.argmax(blk_cur, axis=1)
    has = blk_alive[ar, j]
    if not np.any(has):
      if kind != "soft":
        continue
      break
    r_has, j_has = ar[has], j[has]
    kept_out[src[r_has, j_has]] = True
    final_out[src[r_has, j_has]] = blk_cur[r_has, j_has]
    blk_alive[r_has, j_has] = False
    blk_cur[r_has, j_has] = -np.inf
    ov = _iou(ts[:m], te[:m], ts[ar, j][:, None], te[ar, j][:, None], offset)
    upd = blk_alive & has[:, None]
    if kind == "soft":
      with np.errstate(invalid="ignore"):  # -inf * 0 on dead padding only.
        np.copyto(blk_cur, blk_cur * np.exp(-(ov * ov) / sigma), where=upd)
    else:
      kill = upd & (ov >= iou_thr)
      if kind == "hard_decay":
        r_k, c_k = np.nonzero(kill)
        kept_out[src[r_k, c_k]] = True
        final_out[src[r_k, c_k]] = blk_cur[r_k, c_k] * np.exp(
            -(ov[r_k, c_k] ** 2) / sigma)
      blk_alive[kill] = False
      blk_cur[kill] = -np.inf
