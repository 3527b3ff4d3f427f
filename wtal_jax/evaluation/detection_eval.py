"""Detection mAP, exactly as ActivityNet's official ``eval_detection.py``.

The official evaluator (``compute_average_precision_detection``) loops over
predictions in Python. This module computes the same numbers with array
operations. The semantics it reproduces, class by class:

* The class set is the set of classes with ground truth in the subset. The mAP
  at a tIoU is the mean AP over that set; a class without predictions scores 0.
  Predictions of a class without ground truth do not enter any AP (the official
  code would raise); they are counted in ``num_unscored_class``.
* Predictions of the class, in the order they appear, are sorted by
  ``np.argsort(scores)[::-1]``: the official tie order, reproduced by calling
  the same function on the same array.
* For each prediction, the ground truths of its video and class are tried in
  ``np.argsort(tiou)[::-1]`` order. The first one that is not locked with
  ``tiou >= t`` becomes a true positive and is locked, separately for every
  threshold ``t``; reaching a ``tiou < t`` makes it a false positive. A video
  without ground truth of the class yields a false positive.
* A NaN tIoU (zero-length prediction against zero-length ground truth: 0/0)
  compares false with ``< t``, so the official loop may match it; it sorts
  first. Both quirks are kept.
* AP is VOC-interpolated with sentinels (``interpolated_prec_rec``), with
  ``npos`` the number of ground truths of the class.

How the sequential greedy matching is vectorised: all (threshold, prediction,
ground truth) candidate pairs are built at once, each prediction's candidates
in its preference order. In each round every unresolved prediction points at
its best unlocked candidate, and it wins that ground truth if no earlier
unresolved prediction of the same class, video and threshold still has it as a
candidate: then no earlier prediction can take it, so the sequential loop
would give it to this one. The earliest unresolved prediction always wins, so
rounds terminate; in practice they are few.

Two options go beyond the official code, both reported in the result: removal
of predictions that overlap THUMOS14's ambiguous segments (off by default) and
the treatment of predictions on videos outside the subset (the official code
scores them as false positives, which stays the default). Given the videos of
the whole ground-truth file (``database_videos``), predictions on videos absent
from it are told apart from those outside the subset: they are false
positives whatever ``outside_subset`` says, as officially, and counted apart.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Sequence

import numpy as np

from wtal_jax.evaluation import segments
from wtal_jax.evaluation.detections import Detections, GroundTruth

# The protocols' tIoU thresholds, the one definition that configs, the
# evaluator's presets and the tables use.
THUMOS_TIOUS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
THUMOS_TIOUS_FULL = THUMOS_TIOUS + (0.8, 0.9)
ANET_TIOUS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)

OUTSIDE_SUBSET_POLICIES = ("fp", "drop", "error")


@dataclasses.dataclass(frozen=True)
class DetectionResult:
  """Detection mAP and the facts needed to read it.

  Attributes:
    tious: ``(T,)`` tIoU thresholds.
    map_per_tiou: ``(T,)`` mAP at each threshold, a fraction in [0, 1].
    average: Mean of ``map_per_tiou``.
    ap_per_class: ``(T, K)`` AP of each class of ``class_ids``.
    class_ids: ``(K,)`` the class set: classes with ground truth.
    class_names: Names for all class indices, if known.
    num_videos: Videos in the evaluated subset.
    num_gt: Ground-truth instances.
    num_gt_per_class: ``(K,)``.
    num_predictions: Predictions that entered an AP.
    num_predictions_per_class: ``(K,)``.
    remove_ambiguous: Whether ambiguous-overlapping predictions were removed.
    num_removed_ambiguous: How many were removed (0 when off).
    outside_subset: The policy for predictions on videos outside the subset.
    num_outside_subset: Predictions on videos outside the subset.
    num_unscored_class: Predictions of classes without ground truth.
    num_on_unknown_videos: Predictions on videos absent from the ground-truth
      file, scored as false positives (0 unless ``database_videos`` was
      given).
  """

  tious: np.ndarray
  map_per_tiou: np.ndarray
  average: float
  ap_per_class: np.ndarray
  class_ids: np.ndarray
  class_names: tuple[str, ...] | None
  num_videos: int
  num_gt: int
  num_gt_per_class: np.ndarray
  num_predictions: int
  num_predictions_per_class: np.ndarray
  remove_ambiguous: bool
  num_removed_ambiguous: int
  outside_subset: str
  num_outside_subset: int
  num_unscored_class: int
  num_on_unknown_videos: int = 0

  def class_name(self, class_id: int) -> str:
    if self.class_names is not None and 0 <= class_id < len(self.class_names):
      return self.class_names[class_id]
    return str(class_id)

  def notes(self) -> list[str]:
    """Human-readable lines on what was counted, removed or left out."""
    k = len(self.class_ids)
    out = [f"{self.num_videos} test videos, {self.num_gt} ground-truth "
           f"instances in {k} classes, {self.num_predictions} predictions "
           "scored."]
    if self.remove_ambiguous:
      out.append("Ambiguous-segment removal: ON, removed "
                 f"{self.num_removed_ambiguous} predictions that overlap an "
                 "ambiguous segment.")
    else:
      out.append("Ambiguous-segment removal: off.")
    if self.num_outside_subset:
      what = {"fp": "scored as false positives (official behaviour)",
              "drop": "dropped"}[self.outside_subset]
      out.append(f"WARNING: {self.num_outside_subset} predictions on videos "
                 f"outside the subset were {what}.")
    if self.num_on_unknown_videos:
      out.append(f"WARNING: {self.num_on_unknown_videos} predictions on "
                 "videos absent from the ground truth were scored as false "
                 "positives (official behaviour).")
    if self.num_unscored_class:
      out.append(f"WARNING: {self.num_unscored_class} predictions of classes "
                 "without ground truth in the subset entered no AP.")
    return out

  def table(self, per_class: bool = False, digits: int = 2) -> str:
    """A Markdown table of mAP (%) per tIoU and the average, plus notes.

    Args:
      per_class: Also list the AP (%) of every class at every tIoU.
      digits: Decimals of the percentages.
    """
    f = lambda x: f"{100.0 * x:.{digits}f}"
    lines = ["| tIoU | mAP (%) |", "| ---: | ---: |"]
    for t, m in zip(self.tious, self.map_per_tiou):
      lines.append(f"| {t:.2f} | {f(m)} |")
    span = f"{self.tious[0]:.2f}:{self.tious[-1]:.2f}"
    lines.append(f"| avg {span} | {f(self.average)} |")
    if per_class:
      head = " | ".join(f"{t:.2f}" for t in self.tious)
      lines += ["", f"| class | #GT | #pred | {head} | avg |",
                "| --- | ---: | ---: |" + " ---: |" * (len(self.tious) + 1)]
      for j, c in enumerate(self.class_ids):
        aps = " | ".join(f(a) for a in self.ap_per_class[:, j])
        lines.append(
            f"| {self.class_name(int(c))} | {int(self.num_gt_per_class[j])} | "
            f"{int(self.num_predictions_per_class[j])} | {aps} | "
            f"{f(self.ap_per_class[:, j].mean())} |")
    return "\n".join(lines + [""] + self.notes())

  def to_dict(self) -> dict[str, Any]:
    """A JSON-serialisable summary, with per-class AP keyed by class name."""
    return {
        "tious": [float(t) for t in self.tious],
        "map_per_tiou": [float(m) for m in self.map_per_tiou],
        "average_map": float(self.average),
        "ap_per_class": {
            self.class_name(int(c)): [float(a) for a in self.ap_per_class[:, j]]
            for j, c in enumerate(self.class_ids)},
        "num_videos": self.num_videos,
        "num_gt": self.num_gt,
        "num_predictions": self.num_predictions,
        "remove_ambiguous": self.remove_ambiguous,
        "num_removed_ambiguous": self.num_removed_ambiguous,
        "outside_subset": self.outside_subset,
        "num_outside_subset": self.num_outside_subset,
        "num_unscored_class": self.num_unscored_class,
        "num_on_unknown_videos": self.num_on_unknown_videos,
    }


def detection_map(gt: GroundTruth, preds: Detections, tious: Sequence[float],
                  remove_ambiguous: bool = False,
                  outside_subset: str = "fp",
                  database_videos: Iterable[str] | None = None
                  ) -> DetectionResult:
  """Computes detection mAP with the official ActivityNet semantics.

  Args:
    gt: Ground truth of the subset (``gt.videos`` lists all its videos).
    preds: Predictions; row order breaks score ties, as in the official code.
    tious: tIoU thresholds, e.g. ``THUMOS_TIOUS``.
    remove_ambiguous: Remove predictions whose segment overlaps (positive
      intersection) an ambiguous segment of the same video, any class, before
      scoring. Requires ``gt`` to carry ambiguous segments.
    outside_subset: Predictions on videos outside ``gt.videos``: ``"fp"``
      scores them as false positives (official), ``"drop"`` ignores them,
      ``"error"`` raises. Counted in the result either way.
    database_videos: Every video of the ground-truth file, all subsets. When
      given, predictions on other videos are not "outside the subset" but
      unknown: false positives whatever ``outside_subset`` says (the
      official rule), counted in ``num_on_unknown_videos``.

  Returns:
    A :class:`DetectionResult`.

  Raises:
    ValueError: On NaN scores or times, reversed segments, an empty ground
      truth, an unknown policy, or (with ``outside_subset="error"``)
      predictions outside the subset.
  """
  tious = np.asarray(tious, np.float64).reshape(-1)
  if tious.size == 0 or not np.all(np.isfinite(tious)):
    raise ValueError(f"tious must be a non-empty list of numbers, got {tious}.")
  if outside_subset not in OUTSIDE_SUBSET_POLICIES:
    raise ValueError(f"outside_subset must be one of {OUTSIDE_SUBSET_POLICIES}"
                     f", got {outside_subset!r}.")
  if len(gt) == 0:
    raise ValueError("The ground truth has no instances; mAP is undefined.")
  preds.validate()
  if gt.class_names is not None:
    out = (preds.label < 0) | (preds.label >= len(gt.class_names))
    if np.any(out):
      raise ValueError(f"Prediction labels {np.unique(preds.label[out])} are "
                       f"not class indices in [0, {len(gt.class_names)}).")

  keep = np.ones((len(preds),), bool)
  n_ambiguous = 0
  if remove_ambiguous:
    if not gt.has_ambiguous:
      raise ValueError("remove_ambiguous=True but the ground truth carries no "
                       "ambiguous segments; attach them with "
                       "GroundTruth.with_ambiguous or read_ambiguous_txt.")
    hit = segments.overlaps_any(preds.video, preds.t_start, preds.t_end,
                                gt.ambiguous_video, gt.ambiguous_start,
                                gt.ambiguous_end)
    n_ambiguous = int(hit.sum())
    keep &= ~hit
  outside = keep & ~np.isin(preds.video, gt.videos)
  unknown = np.zeros_like(outside)
  if database_videos is not None:
    unknown = outside & ~np.isin(preds.video, np.asarray(
        sorted(database_videos), dtype=str))
    outside &= ~unknown
  n_outside = int(outside.sum())
  if n_outside and outside_subset == "error":
    raise ValueError(
        f"{n_outside} predictions are on videos outside the subset, e.g. "
        f"{np.unique(preds.video[outside])[:3].tolist()}.")
  if outside_subset == "drop":
    keep &= ~outside
  class_ids = np.unique(gt.label)
  unscored = keep & ~np.isin(preds.label, class_ids)
  keep &= ~unscored
  p = preds.take(np.flatnonzero(keep))

  tp_TxN, offsets = _match(gt, p, class_ids, tious)
  npos = np.bincount(np.searchsorted(class_ids, gt.label),
                     minlength=class_ids.shape[0])
  ap = np.zeros((tious.shape[0], class_ids.shape[0]))
  for k in range(class_ids.shape[0]):
    a, b = offsets[k], offsets[k + 1]
    if b > a:
      ap[:, k] = _interpolated_ap(tp_TxN[:, a:b], npos[k])
  map_per_tiou = ap.mean(axis=1)
  return DetectionResult(
      tious=tious, map_per_tiou=map_per_tiou,
      average=float(map_per_tiou.mean()), ap_per_class=ap,
      class_ids=class_ids, class_names=gt.class_names,
      num_videos=gt.num_videos, num_gt=len(gt), num_gt_per_class=npos,
      num_predictions=len(p), num_predictions_per_class=np.diff(offsets),
      remove_ambiguous=bool(remove_ambiguous),
      num_removed_ambiguous=n_ambiguous, outside_subset=outside_subset,
      num_outside_subset=n_outside, num_unscored_class=int(unscored.sum()),
      num_on_unknown_videos=int(unknown.sum()))


def _interpolated_ap(tp_TxN: np.ndarray, npos: int) -> np.ndarray:
  """VOC-interpolated AP per threshold (``interpolated_prec_rec``)."""
  t = tp_TxN.shape[0]
  tp_cum = np.cumsum(tp_TxN, axis=1).astype(np.float64)
  fp_cum = np.cumsum(~tp_TxN, axis=1).astype(np.float64)
  rec = tp_cum / float(npos)
  prec = tp_cum / (tp_cum + fp_cum)
  zeros = np.zeros((t, 1))
  mprec = np.concatenate([zeros, prec, zeros], axis=1)
  mrec = np.concatenate([zeros, rec, np.ones((t, 1))], axis=1)
  mprec = np.maximum.accumulate(mprec[:, ::-1], axis=1)[:, ::-1]
  step = mrec[:, 1:] - mrec[:, :-1]
  return np.sum(np.where(step != 0, step * mprec[:, 1:], 0.0), axis=1)


def _match(gt: GroundTruth, p: Detections, class_ids: np.ndarray,
           tious: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Greedy TP/FP assignment of the official loop, for all thresholds.

  Returns:
    ``tp_TxN``: bool, predictions ordered class by class (``class_ids``
    order), by descending score within a class in the official tie order;
    ``offsets``: ``(K + 1,)`` start of each class in that order.
  """
  n, n_gt, k_cls = len(p), len(gt), class_ids.shape[0]
  n_t = tious.shape[0]
  pc = np.searchsorted(class_ids, p.label)
  counts = np.bincount(pc, minlength=k_cls)
  offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
  by_class = np.argsort(pc, kind="stable")
  ranked = np.empty((n,), np.int64)
  for k in range(k_cls):
    idx = by_class[offsets[k]:offsets[k + 1]]
    if idx.size:
      ranked[offsets[k]:offsets[k + 1]] = idx[np.argsort(p.score[idx])[::-1]]
  if n == 0:
    return np.zeros((n_t, 0), bool), offsets

  n_vid, (g_vid, p_vid) = _video_codes(gt.video, p.video)
  gkey = np.searchsorted(class_ids, gt.label) * n_vid + g_vid
  pkey = np.repeat(np.arange(k_cls), counts) * n_vid + p_vid[ranked]
  # A stable sort keeps each (class, video) block in file order: the order of
  # the official per-video ``this_gt`` frame, which fixes its IoU tie order.
  gorder = np.argsort(gkey, kind="stable")
  lo = np.searchsorted(gkey[gorder], pkey, "left")
  hi = np.searchsorted(gkey[gorder], pkey, "right")
  ps, pe = p.t_start[ranked], p.t_end[ranked]

  # The (prediction, same-class same-video ground truth) pairs that can
  # reach the lowest threshold; the others' IoU is never read.
  pair_p, pair_g = _candidate_pairs(gt, gkey, gorder, pkey, ps, pe, lo, hi,
                                    float(tious.min()))
  iou = segments.segment_iou(ps[pair_p], pe[pair_p], gt.t_start[pair_g],
                             gt.t_end[pair_g])
  nan = np.isnan(iou)
  cand = np.flatnonzero(nan | (iou >= tious.min()))
  pair_p, pair_g, iou, nan = pair_p[cand], pair_g[cand], iou[cand], nan[cand]
  # Preference: descending IoU with NaN first, as ``argsort()[::-1]``.
  key = np.where(nan, -np.inf, -iou)
  o = np.lexsort((key, pair_p))
  pair_p, pair_g, iou, key = pair_p[o], pair_g[o], iou[o], key[o]
  tied = (pair_p[1:] == pair_p[:-1]) & (key[1:] == key[:-1])
  if np.any(tied):
    # Equal candidate IoUs: take the official order itself (rare).
    for r in np.unique(pair_p[1:][tied]):
      a = np.searchsorted(pair_p, r, "left")
      b = np.searchsorted(pair_p, r, "right")
      gts = gorder[lo[r]:hi[r]]
      row = segments.segment_iou(ps[r], pe[r], gt.t_start[gts], gt.t_end[gts])
      best = np.argsort(row)[::-1][:b - a]
      pair_g[a:b], iou[a:b] = gts[best], row[best]

  pk, gk = [], []
  for ti, t in enumerate(tious):
    m = np.isnan(iou) | (iou >= t)
    pk.append(ti * n + pair_p[m])
    gk.append(ti * n_gt + pair_g[m])
  pk, gk = np.concatenate(pk), np.concatenate(gk)

  tp = np.zeros((n_t * n,), bool)
  done = np.zeros((n_t * n,), bool)
  locked = np.zeros((n_t * n_gt,), bool)
  claim = np.empty((n_t * n_gt,), np.int64)
  none = np.iinfo(np.int64).max
  while pk.size:
    first = np.empty((pk.size,), bool)
    first[0] = True
    np.not_equal(pk[1:], pk[:-1], out=first[1:])
    choice_p, choice_g = pk[first], gk[first]
    claim[gk] = none
    np.minimum.at(claim, gk, pk)
    win = claim[choice_g] == choice_p
    tp[choice_p[win]] = True
    done[choice_p[win]] = True
    locked[choice_g[win]] = True
    alive = ~(locked[gk] | done[pk])
    pk, gk = pk[alive], gk[alive]
  return tp.reshape(n_t, n), offsets


def _video_codes(*videos: np.ndarray) -> tuple[int, list[np.ndarray]]:
  """Integer codes of video ids, one vocabulary across ``videos``.

  Rows of one video are nearly always contiguous, so only the first row of
  each run is compared with the others: sorting every row's string costs
  more than the rest of the matching.

  Returns:
    The vocabulary size and each array's codes.
  """
  firsts = []
  for v in videos:
    first = np.ones((v.shape[0],), bool)
    np.not_equal(v[1:], v[:-1], out=first[1:])
    firsts.append(np.flatnonzero(first))
  _, run_codes = np.unique(
      np.concatenate([v[f] for v, f in zip(videos, firsts)]),
      return_inverse=True)
  codes, k = [], 0
  for v, f in zip(videos, firsts):
    lengths = np.diff(np.append(f, v.shape[0]))
    codes.append(np.repeat(run_codes[k:k + f.shape[0]], lengths))
    k += f.shape[0]
  return int(run_codes.max(initial=-1)) + 1, codes


def _candidate_pairs(gt: GroundTruth, gkey: np.ndarray, gorder: np.ndarray,
                     pkey: np.ndarray, ps: np.ndarray, pe: np.ndarray,
                     lo: np.ndarray, hi: np.ndarray, lowest_tiou: float
                     ) -> tuple[np.ndarray, np.ndarray]:
  """``(prediction row, ground-truth row)`` of every pair whose tIoU can
  reach ``lowest_tiou``: a superset of them, with rows ascending.

  ``lo:hi`` is each prediction's block of same-class same-video ground truth
  (positions in ``gorder``, ``gkey``'s stable argsort). With a positive threshold only
  overlapping pairs count, and a ground truth overlaps ``[s, e]`` only if it
  starts in ``(s - longest, e)``, ``longest`` being the longest ground truth
  of the block: that window is found by binary search in the block sorted by
  start, widened by a margin above the rounding of the search keys. Pairs
  of two zero-length segments have a NaN tIoU that the official code
  counts; when any ground truth has zero length (or the threshold is 0),
  every pair of the block is kept.
  """
  length = gt.t_end - gt.t_start
  if lowest_tiou <= 0 or np.any(length == 0):
    pair_p, pos = segments.expand_ranges(lo, hi)
    return pair_p, gorder[pos]
  by_start = np.lexsort((gt.t_start, gkey))  # Same blocks as ``gorder``.
  origin = min(float(gt.t_start.min()), float(ps.min()))
  stride = 2.0 * (max(float(gt.t_end.max()), float(pe.max())) - origin) + 1.0
  sorted_key = gkey[by_start] * stride + (gt.t_start[by_start] - origin)
  margin = 64 * float(np.spacing(np.abs(sorted_key).max() + stride *
                                 (abs(float(pkey.max(initial=0))) + 1)))
  block_first = np.flatnonzero(np.diff(gkey[by_start], prepend=-1))
  longest = np.repeat(np.maximum.reduceat(length[by_start], block_first),
                      np.diff(np.append(block_first, gkey.shape[0])))
  has_block = hi > lo
  longest_p = np.where(has_block, longest[np.minimum(lo, gkey.shape[0] - 1)],
                       0.0)
  base = pkey * stride - origin
  lo2 = np.searchsorted(sorted_key, base + ps - longest_p - margin, "left")
  hi2 = np.searchsorted(sorted_key, base + pe + margin, "right")
  lo2, hi2 = np.clip(lo2, lo, hi), np.clip(hi2, lo, hi)
  pair_p, pos = segments.expand_ranges(lo2, np.maximum(hi2, lo2))
  return pair_p, by_start[pos]
