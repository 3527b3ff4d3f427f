"""Vectorised helpers on 1-D segments: tIoU, range expansion, overlap tests."""

from __future__ import annotations

import numpy as np


def segment_iou(a_start, a_end, b_start, b_end) -> np.ndarray:
  """Elementwise temporal IoU with the official ActivityNet formula.

  ``union = len_a + len_b - intersection``, with the intersection clipped at 0.
  Written in the same operation order as ``utils.segment_iou`` of the official
  evaluator (``(len_b + len_a) - inter`` with ``b`` the ground truth), so that
  the values, and therefore the tie order of ``argsort``, are bit-identical.
  Two zero-length segments give ``0/0 = NaN``, as the official code does; the
  mAP code treats NaN as the official loop does (see ``detection_map``).

  Args:
    a_start, a_end: Prediction bounds (arrays or scalars), seconds.
    b_start, b_end: Ground-truth bounds, broadcastable against ``a``.

  Returns:
    The tIoU, broadcast shape of the inputs.
  """
  with np.errstate(invalid="ignore", divide="ignore"):
    tt1 = np.maximum(a_start, b_start)
    tt2 = np.minimum(a_end, b_end)
    # max(x, 0) is .clip(0) without its Python-level dispatch.
    inter = np.maximum(tt2 - tt1, 0.0)
    union = (b_end - b_start) + (a_end - a_start) - inter
    return np.asarray(inter, np.float64) / union


def expand_ranges(lo: np.ndarray,
                  hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Lists every ``(row, position)`` with ``lo[row] <= position < hi[row]``.

  The rows come out in ascending order and positions ascend within a row,
  without a Python loop.

  Args:
    lo: ``(R,)`` int range starts.
    hi: ``(R,)`` int range ends (exclusive), ``hi >= lo``.

  Returns:
    ``(rows, positions)``, both ``(sum(hi - lo),)`` int64.
  """
  lo = np.asarray(lo, np.int64)
  cnt = np.asarray(hi, np.int64) - lo
  rows = np.repeat(np.arange(lo.shape[0], dtype=np.int64), cnt)
  shift = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt)
  return rows, np.arange(rows.shape[0], dtype=np.int64) + shift


def overlaps_any(video: np.ndarray, t_start: np.ndarray, t_end: np.ndarray,
                 ref_video: np.ndarray, ref_start: np.ndarray,
                 ref_end: np.ndarray) -> np.ndarray:
  """Whether each segment overlaps (positive intersection) a same-video ref.

  Segments that only touch a reference segment do not overlap it.

  Args:
    video, t_start, t_end: ``(N,)`` segments to test.
    ref_video, ref_start, ref_end: ``(A,)`` reference segments.

  Returns:
    ``(N,)`` bool.
  """
  n = video.shape[0]
  if n == 0 or ref_video.shape[0] == 0:
    return np.zeros((n,), bool)
  order = np.argsort(ref_video, kind="stable")
  ref_sorted = ref_video[order]
  lo = np.searchsorted(ref_sorted, video, "left")
  hi = np.searchsorted(ref_sorted, video, "right")
  rows, pos = expand_ranges(lo, hi)
  ref = order[pos]
  inter = (np.minimum(t_end[rows], ref_end[ref]) -
           np.maximum(t_start[rows], ref_start[ref]))
  hit = np.zeros((n,), bool)
  hit[rows[inter > 0]] = True
  return hit


def mask_runs(
    mask_RxT: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Maximal runs of True along the last axis, for all rows at once.

  Args:
    mask_RxT: ``(R, T)`` bool.

  Returns:
    ``(row, start, end)``: ``(K,)`` int64 each, runs ordered by row then time;
    ``start`` inclusive and ``end`` exclusive snippet indices.
  """
  r, t = mask_RxT.shape
  padded = np.zeros((r, t + 2), np.int8)
  padded[:, 1:-1] = mask_RxT
  step = np.diff(padded, axis=1).ravel()
  up = np.flatnonzero(step == 1)
  down = np.flatnonzero(step == -1)
  return up // (t + 1), up % (t + 1), down % (t + 1)


def run_reduce(values_RxT: np.ndarray, row: np.ndarray, start: np.ndarray,
               end: np.ndarray, ufunc: np.ufunc, empty: float = 0.0
               ) -> np.ndarray:
  """``ufunc.reduce(values[row, start:end])`` for many runs, vectorised.

  Each result depends only on the values inside its run (not on a running
  prefix sum), so identical runs give bit-identical results.

  Args:
    values_RxT: ``(R, T)`` values.
    row, start, end: ``(K,)`` runs, ``0 <= start <= end <= T``.
    ufunc: A reducing ufunc, e.g. ``np.add`` or ``np.maximum``.
    empty: Result for empty runs.

  Returns:
    ``(K,)`` float64.
  """
  if row.shape[0] == 0:
    return np.zeros((0,), np.float64)
  t = values_RxT.shape[1]
  flat = np.concatenate([values_RxT.ravel(), [0.0]])
  base = row * t
  idx = np.empty((2 * row.shape[0],), np.int64)
  idx[0::2] = base + start
  idx[1::2] = base + end
  out = ufunc.reduceat(flat, idx)[0::2]
  return np.where(end > start, out, empty)
