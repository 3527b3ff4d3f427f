"""Detection mAP against a literal transcription of the official evaluator."""

import numpy as np
import pytest

from wtal_jax.evaluation import detection_eval as dm
from wtal_jax.evaluation.detections import Detections, GroundTruth


# ----------------------------------------------------------------------------
# Slow, obviously-correct reference: ActivityNet's eval_detection.py and
# utils.py, transcribed loop for loop (pandas replaced by lists).
# ----------------------------------------------------------------------------
def _ref_segment_iou(target_segment, candidate_segments):
  tt1 = np.maximum(target_segment[0], candidate_segments[:, 0])
  tt2 = np.minimum(target_segment[1], candidate_segments[:, 1])
  segments_intersection = (tt2 - tt1).clip(0)
  segments_union = ((candidate_segments[:, 1] - candidate_segments[:, 0]) +
                    (target_segment[1] - target_segment[0]) -
                    segments_intersection)
  with np.errstate(invalid="ignore", divide="ignore"):
    return segments_intersection.astype(float) / segments_union


def _ref_interpolated_prec_rec(prec, rec):
  mprec = np.hstack([[0], prec, [0]])
  mrec = np.hstack([[0], rec, [1]])
  for i in range(len(mprec) - 1)[::-1]:
    mprec[i] = max(mprec[i], mprec[i + 1])
  idx = np.where(mrec[1::] != mrec[0:-1])[0] + 1
  return np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx])


def _ref_ap_detection(ground_truth, prediction, tiou_thresholds):
  """ground_truth: [(video, start, end)], prediction: [(video, s, e, score)]."""
  ap = np.zeros(len(tiou_thresholds))
  if not prediction:
    return ap
  npos = float(len(ground_truth))
  lock_gt = np.ones((len(tiou_thresholds), len(ground_truth))) * -1
  scores = np.array([p[3] for p in prediction], np.float64)
  sort_idx = scores.argsort()[::-1]
  prediction = [prediction[i] for i in sort_idx]
  tp = np.zeros((len(tiou_thresholds), len(prediction)))
  fp = np.zeros((len(tiou_thresholds), len(prediction)))
  gt_by_video = {}
  for index, (video, start, end) in enumerate(ground_truth):
    gt_by_video.setdefault(video, []).append((index, start, end))
  for idx, this_pred in enumerate(prediction):
    if this_pred[0] not in gt_by_video:
      fp[:, idx] = 1
      continue
    this_gt = gt_by_video[this_pred[0]]
    tiou_arr = _ref_segment_iou(
        np.array([this_pred[1], this_pred[2]]),
        np.array([[g[1], g[2]] for g in this_gt]))
    tiou_sorted_idx = tiou_arr.argsort()[::-1]
    for tidx, tiou_thr in enumerate(tiou_thresholds):
      for jdx in tiou_sorted_idx:
        if tiou_arr[jdx] < tiou_thr:
          fp[tidx, idx] = 1
          break
        if lock_gt[tidx, this_gt[jdx][0]] >= 0:
          continue
        tp[tidx, idx] = 1
        lock_gt[tidx, this_gt[jdx][0]] = idx
        break
      if fp[tidx, idx] == 0 and tp[tidx, idx] == 0:
        fp[tidx, idx] = 1
  tp_cumsum = np.cumsum(tp, axis=1).astype(float)
  fp_cumsum = np.cumsum(fp, axis=1).astype(float)
  recall_cumsum = tp_cumsum / npos
  precision_cumsum = tp_cumsum / (tp_cumsum + fp_cumsum)
  for tidx in range(len(tiou_thresholds)):
    ap[tidx] = _ref_interpolated_prec_rec(precision_cumsum[tidx, :],
                                          recall_cumsum[tidx, :])
  return ap


def reference_map(gt: GroundTruth, preds: Detections, tious):
  """Returns (ap (T, K) in sorted class order, mAP (T,))."""
  classes = sorted(set(gt.label.tolist()))
  ap = np.zeros((len(tious), len(classes)))
  for k, c in enumerate(classes):
    g = [(v, s, e) for v, l, s, e in zip(gt.video, gt.label, gt.t_start,
                                         gt.t_end) if l == c]
    p = [(v, s, e, sc) for v, l, s, e, sc in zip(
        preds.video, preds.label, preds.t_start, preds.t_end, preds.score)
         if l == c]
    ap[:, k] = _ref_ap_detection(g, p, tious)
  return ap, ap.mean(axis=1)


# ----------------------------------------------------------------------------
# Random cases built to hit the corner cases of the official loop.
# ----------------------------------------------------------------------------
def _random_case(rng, max_gt_per_video=6, n_videos=None, n_classes=None):
  n_videos = n_videos or int(rng.integers(1, 6))
  n_classes = n_classes or int(rng.integers(1, 5))
  videos = [f"v{i}" for i in range(n_videos)]
  grid = float(rng.choice([0.5, 1.0, 0.1]))  # Coarse grids: touching, ties.
  gt = []
  for v in videos:
    if rng.random() < 0.2:
      continue  # A subset video without any instance.
    for _ in range(int(rng.integers(1, max_gt_per_video + 1))):
      s = grid * int(rng.integers(0, 20))
      length = grid * int(rng.integers(0, 6))  # Zero length included.
      gt.append((v, int(rng.integers(0, n_classes)), s, s + length))
  if not gt:
    gt.append((videos[0], 0, 1.0, 2.0))
  preds = []
  n_pred = int(rng.integers(0, 60))
  score_levels = rng.random(int(rng.integers(1, 6)))  # Few levels: ties.
  for _ in range(n_pred):
    if gt and rng.random() < 0.5:
      # Near a ground-truth instance: several predictions per instance.
      v, c, s, e = gt[int(rng.integers(0, len(gt)))]
      s = max(0.0, s + grid * int(rng.integers(-2, 3)))
      e = max(s, e + grid * int(rng.integers(-2, 3)))
    else:
      v = (videos[int(rng.integers(0, n_videos))] if rng.random() < 0.85
           else "extra")  # Outside the subset: a false positive.
      c = int(rng.integers(0, n_classes + 1))  # May be a class without GT.
      s = grid * int(rng.integers(0, 20))
      e = s + grid * int(rng.integers(0, 6))
    score = (float(score_levels[int(rng.integers(0, score_levels.size))])
             if rng.random() < 0.7 else float(rng.random()))
    preds.append((v, c, s, e, score))
  gt_obj = GroundTruth(video=[g[0] for g in gt], label=[g[1] for g in gt],
                       t_start=[g[2] for g in gt], t_end=[g[3] for g in gt],
                       videos=videos)
  if preds:
    p = Detections(*zip(*preds))
  else:
    p = Detections.empty()
  return gt_obj, p


@pytest.mark.parametrize("seed", range(10))
def test_matches_reference_on_random_cases(seed):
  rng = np.random.default_rng(seed)
  tious = np.round(np.arange(0.0, 1.0001, 0.1), 2)  # 0.0 and 1.0 included.
  for _ in range(100):
    gt, preds = _random_case(rng)
    res = dm.detection_map(gt, preds, tious)
    # Predictions of classes without GT and outside videos are kept as in
    # the official loop (the reference has no notion of either).
    ref_ap, ref_map = reference_map(gt, preds, tious)
    np.testing.assert_allclose(res.ap_per_class, ref_ap, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.map_per_tiou, ref_map, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_matches_reference_with_many_ties_per_video(seed):
  # More than 16 ground truths per video and class: numpy's argsort leaves
  # insertion sort there, so the tie order is not simply "stable reversed".
  rng = np.random.default_rng(100 + seed)
  for _ in range(4):
    gt, preds = _random_case(rng, max_gt_per_video=40, n_videos=2,
                             n_classes=1)
    res = dm.detection_map(gt, preds, dm.THUMOS_TIOUS_FULL)
    ref_ap, _ = reference_map(gt, preds, dm.THUMOS_TIOUS_FULL)
    np.testing.assert_allclose(res.ap_per_class, ref_ap, rtol=0, atol=1e-12)


def test_matches_reference_on_a_large_case():
  rng = np.random.default_rng(7)
  videos = [f"vid{i}" for i in range(30)]
  gt, preds = [], []
  for v in videos:
    for _ in range(int(rng.integers(1, 20))):
      s = float(rng.uniform(0, 150))
      gt.append((v, int(rng.integers(0, 5)), s, s + float(rng.uniform(0.5, 8))))
  for _ in range(3000):
    v, c, s, e = gt[int(rng.integers(0, len(gt)))]
    js, je = rng.normal(0, 1.5, 2)
    s2 = max(0.0, s + js)
    preds.append((v, c if rng.random() < 0.8 else int(rng.integers(0, 5)),
                  s2, max(s2, e + je), float(rng.random())))
  g = GroundTruth(*[list(x) for x in zip(*gt)], videos=videos)
  p = Detections(*zip(*preds))
  res = dm.detection_map(g, p, dm.ANET_TIOUS)
  ref_ap, ref_map = reference_map(g, p, dm.ANET_TIOUS)
  np.testing.assert_allclose(res.ap_per_class, ref_ap, rtol=0, atol=1e-12)
  np.testing.assert_allclose(res.average, ref_map.mean(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_when_only_overlapping_pairs_are_scored(seed):
  """With a positive lowest threshold and no zero-length ground truth, only
  pairs in each prediction's start window are scored: nested and touching
  instances, long and short ones, videos whose rows are not contiguous."""
  rng = np.random.default_rng(200 + seed)
  for _ in range(20):
    gt, preds = _random_case(rng, max_gt_per_video=12)
    keep = gt.t_end > gt.t_start
    if not np.any(keep):
      continue
    g = GroundTruth(video=gt.video[keep], label=gt.label[keep],
                    t_start=gt.t_start[keep],
                    t_end=gt.t_start[keep] + (gt.t_end[keep] - gt.t_start[keep])
                    * rng.choice([1.0, 7.0], int(keep.sum())),  # Nesting.
                    videos=gt.videos)
    shuffled = preds.take(rng.permutation(len(preds)))
    for tious in (dm.THUMOS_TIOUS, [0.05, 0.5], dm.ANET_TIOUS):
      res = dm.detection_map(g, shuffled, tious)
      ref_ap, _ = reference_map(g, shuffled, tious)
      np.testing.assert_allclose(res.ap_per_class, ref_ap, rtol=0, atol=1e-12)


def test_candidate_pairs_hold_every_pair_that_reaches_the_threshold():
  rng = np.random.default_rng(3)
  for _ in range(30):
    gt, preds = _random_case(rng, max_gt_per_video=15)
    if len(preds) == 0:
      continue
    for lowest in (0.0, 0.1, 0.5):
      class_ids = np.unique(gt.label)
      p = preds.take(np.flatnonzero(np.isin(preds.label, class_ids)))
      _, pairs_ok = _brute_pairs(gt, p, lowest)
      n_vid, (g_vid, p_vid) = dm._video_codes(gt.video, p.video)
      gkey = np.searchsorted(class_ids, gt.label) * n_vid + g_vid
      pkey = np.searchsorted(class_ids, p.label) * n_vid + p_vid
      gorder = np.argsort(gkey, kind="stable")
      srt = gkey[gorder]
      lo, hi = (np.searchsorted(srt, pkey, "left"),
                np.searchsorted(srt, pkey, "right"))
      pair_p, pair_g = dm._candidate_pairs(gt, gkey, gorder, pkey, p.t_start,
                                           p.t_end, lo, hi, lowest)
      got = set(zip(pair_p.tolist(), pair_g.tolist()))
      assert pairs_ok <= got
      assert np.all(np.diff(pair_p) >= 0)


def _brute_pairs(gt, p, lowest):
  """Every same-class same-video pair, and those whose tIoU reaches
  ``lowest`` (or is NaN, which the official loop counts)."""
  every, ok = set(), set()
  for i in range(len(p)):
    for j in range(len(gt)):
      if p.video[i] == gt.video[j] and p.label[i] == gt.label[j]:
        every.add((i, j))
        iou = _ref_segment_iou(np.array([p.t_start[i], p.t_end[i]]),
                               np.array([[gt.t_start[j], gt.t_end[j]]]))[0]
        if np.isnan(iou) or iou >= lowest:
          ok.add((i, j))
  return every, ok


def test_video_codes_share_one_vocabulary():
  a = np.array(["b", "b", "a", "c", "b"])
  b = np.array(["c", "z", "z", "a"])
  n, (ca, cb) = dm._video_codes(a, b)
  assert n == 4
  assert ca.tolist() == [1, 1, 0, 2, 1] and cb.tolist() == [2, 3, 3, 0]
  n, (empty,) = dm._video_codes(np.array([], dtype=str))
  assert n == 0 and empty.size == 0


# ----------------------------------------------------------------------------
# Hand-computed cases.
# ----------------------------------------------------------------------------
def _gt(rows, videos=None):
  return GroundTruth(*[list(x) for x in zip(*rows)], videos=videos)


def _det(rows):
  return Detections(*zip(*rows))


def test_hand_computed_perfect_and_half():
  gt = _gt([("a", 0, 0.0, 10.0), ("a", 0, 20.0, 30.0)])
  # One exact hit ranked first, one miss: P = [1, 1/2], R = [1/2, 1/2].
  # AP = 1/2 * 1 = 0.5.
  res = dm.detection_map(gt, _det([("a", 0, 0.0, 10.0, 0.9),
                                   ("a", 0, 40.0, 50.0, 0.5)]), [0.5])
  assert res.map_per_tiou[0] == 0.5


def test_hand_computed_false_positive_first():
  gt = _gt([("a", 0, 0.0, 10.0)])
  # FP then TP: precision at the TP is 1/2, recall 1: AP = 0.5.
  res = dm.detection_map(gt, _det([("a", 0, 50.0, 60.0, 0.9),
                                   ("a", 0, 0.0, 10.0, 0.5)]), [0.5])
  assert res.map_per_tiou[0] == 0.5


def test_hand_computed_duplicate_is_false_positive_and_threshold():
  gt = _gt([("a", 0, 0.0, 10.0)])
  # Prediction [0, 6] has tIoU 0.6. Two copies: the second is a duplicate.
  preds = _det([("a", 0, 0.0, 6.0, 0.9), ("a", 0, 0.0, 6.0, 0.8)])
  res = dm.detection_map(gt, preds, [0.5, 0.7])
  assert res.map_per_tiou[0] == 1.0  # TP then FP: AP = 1 * 1.
  assert res.map_per_tiou[1] == 0.0  # Below 0.7: no TP at all.


def test_hand_computed_interpolation():
  # Three GT, ranked list TP, FP, TP, FP, TP:
  # P = 1, 1/2, 2/3, 2/4, 3/5; R = 1/3, 1/3, 2/3, 2/3, 1.
  # Interpolated: 1/3*1 + 1/3*2/3 + 1/3*3/5 = (1 + 2/3 + 3/5)/3.
  gt = _gt([("a", 0, 0.0, 1.0), ("a", 0, 2.0, 3.0), ("a", 0, 4.0, 5.0)])
  preds = _det([("a", 0, 0.0, 1.0, 0.9), ("a", 0, 10.0, 11.0, 0.8),
                ("a", 0, 2.0, 3.0, 0.7), ("b", 0, 2.0, 3.0, 0.6),
                ("a", 0, 4.0, 5.0, 0.5)])
  res = dm.detection_map(gt, preds, [0.5], outside_subset="fp")
  assert res.num_outside_subset == 1
  np.testing.assert_allclose(res.map_per_tiou[0], (1 + 2 / 3 + 3 / 5) / 3,
                             rtol=0, atol=1e-15)


def test_hand_computed_class_without_predictions_scores_zero():
  gt = _gt([("a", 0, 0.0, 10.0), ("a", 1, 0.0, 10.0)])
  res = dm.detection_map(gt, _det([("a", 0, 0.0, 10.0, 1.0)]), [0.5])
  np.testing.assert_array_equal(res.ap_per_class[0], [1.0, 0.0])
  assert res.map_per_tiou[0] == 0.5


def test_greedy_takes_highest_iou_unlocked_gt():
  # GT1 [0, 10], GT2 [8, 18]. P1 [5, 15] overlaps both (IoU 1/3 each);
  # P2 [0, 9]: IoU 0.9 with GT1. At t = 0.3 P1 ties between GT1 and GT2.
  gt = _gt([("a", 0, 0.0, 10.0), ("a", 0, 8.0, 18.0)])
  preds = _det([("a", 0, 5.0, 15.0, 0.9), ("a", 0, 0.0, 9.0, 0.8)])
  res = dm.detection_map(gt, preds, [0.3])
  ref_ap, _ = reference_map(gt, preds, [0.3])
  np.testing.assert_allclose(res.ap_per_class, ref_ap, atol=1e-12)


def test_remove_ambiguous_and_counts():
  gt = _gt([("a", 0, 0.0, 10.0)]).with_ambiguous(["a"], [20.0], [30.0])
  preds = _det([("a", 0, 25.0, 35.0, 0.95),  # Overlaps ambiguous: removed.
                ("a", 0, 10.0, 20.0, 0.9),   # Touches both: kept, FP.
                ("a", 0, 0.0, 10.0, 0.8)])
  off = dm.detection_map(gt, preds, [0.5])
  on = dm.detection_map(gt, preds, [0.5], remove_ambiguous=True)
  assert off.num_removed_ambiguous == 0 and not off.remove_ambiguous
  assert on.num_removed_ambiguous == 1 and on.num_predictions == 2
  assert off.map_per_tiou[0] == pytest.approx(1 / 3)
  assert on.map_per_tiou[0] == pytest.approx(1 / 2)
  assert "removed 1 predictions" in on.table()


def test_remove_ambiguous_without_segments_raises():
  gt = _gt([("a", 0, 0.0, 10.0)])
  with pytest.raises(ValueError, match="ambiguous"):
    dm.detection_map(gt, _det([("a", 0, 0.0, 1.0, 1.0)]), [0.5],
                     remove_ambiguous=True)


def test_outside_subset_policies():
  gt = _gt([("a", 0, 0.0, 10.0)], videos=["a", "b"])
  preds = _det([("z", 0, 0.0, 10.0, 0.9), ("b", 0, 0.0, 10.0, 0.8),
                ("a", 0, 0.0, 10.0, 0.7)])
  fp = dm.detection_map(gt, preds, [0.5])
  drop = dm.detection_map(gt, preds, [0.5], outside_subset="drop")
  assert fp.num_outside_subset == 1 and drop.num_outside_subset == 1
  assert fp.map_per_tiou[0] == pytest.approx(1 / 3)
  assert drop.map_per_tiou[0] == pytest.approx(1 / 2)  # "b" is still an FP.
  assert fp.num_videos == 2
  with pytest.raises(ValueError, match="outside the subset"):
    dm.detection_map(gt, preds, [0.5], outside_subset="error")


def test_nan_scores_and_reversed_segments_raise():
  gt = _gt([("a", 0, 0.0, 10.0)])
  with pytest.raises(ValueError, match="non-finite score"):
    dm.detection_map(gt, _det([("a", 0, 0.0, 1.0, float("nan"))]), [0.5])
  with pytest.raises(ValueError, match="end before they start"):
    dm.detection_map(gt, _det([("a", 0, 5.0, 1.0, 1.0)]), [0.5])


def test_unscored_class_is_counted():
  gt = _gt([("a", 0, 0.0, 10.0)])
  res = dm.detection_map(gt, _det([("a", 3, 0.0, 10.0, 1.0),
                                   ("a", 0, 0.0, 10.0, 0.5)]), [0.5])
  assert res.num_unscored_class == 1 and res.map_per_tiou[0] == 1.0


def test_result_is_invariant_to_video_names_and_class_permutation():
  rng = np.random.default_rng(3)
  gt, preds = _random_case(rng, n_videos=4)
  base = dm.detection_map(gt, preds, dm.THUMOS_TIOUS)
  rename = {v: f"zz_{v}" for v in np.unique(np.concatenate([gt.videos,
                                                            preds.video]))}
  gt2 = GroundTruth([rename[v] for v in gt.video], gt.label, gt.t_start,
                    gt.t_end, videos=[rename[v] for v in gt.videos])
  p2 = Detections([rename[v] for v in preds.video], preds.label,
                  preds.t_start, preds.t_end, preds.score)
  res = dm.detection_map(gt2, p2, dm.THUMOS_TIOUS)
  np.testing.assert_array_equal(res.map_per_tiou, base.map_per_tiou)


def test_threshold_constants():
  np.testing.assert_array_equal(dm.THUMOS_TIOUS,
                                [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
  assert len(dm.THUMOS_TIOUS_FULL) == 9 and dm.THUMOS_TIOUS_FULL[-1] == 0.9
  np.testing.assert_allclose(dm.ANET_TIOUS, np.linspace(0.5, 0.95, 10))


def test_table_lists_every_threshold_and_video_count():
  gt = _gt([("a", 0, 0.0, 10.0)], videos=["a", "b", "c"])
  res = dm.detection_map(gt, _det([("a", 0, 0.0, 10.0, 1.0)]),
                         dm.THUMOS_TIOUS)
  text = res.table(per_class=True)
  for t in dm.THUMOS_TIOUS:
    assert f"| {t:.2f} |" in text
  assert "3 test videos" in text and "avg 0.10:0.70" in text
