"""ActivityNet JSON reading and writing, and the errors on bad input."""

import json
import math

import numpy as np
import pytest

from wtal_jax import evaluation as ev

CLASSES = ("Jump", "Run", "Swim")


def _write(tmp_path, name, obj):
  path = tmp_path / name
  path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
  return str(path)


def _gt_file(tmp_path):
  return _write(tmp_path, "gt.json", {"database": {
      "v1": {"subset": "test", "annotations": [
          {"segment": ["1.5", "4.0"], "label": "Jump"},
          {"segment": [6, 9.25], "label": "Run"}]},
      "v2": {"subset": "test", "annotations": []},
      "v3": {"subset": "train", "annotations": [
          {"segment": [0, 1], "label": "Swim"}]},
  }})


def test_read_ground_truth_subset_strings_and_empty_videos(tmp_path):
  gt, report = ev.read_ground_truth_json(_gt_file(tmp_path), "test")
  assert gt.class_names == CLASSES  # Sorted labels of all subsets.
  assert gt.videos.tolist() == ["v1", "v2"] and gt.num_videos == 2
  np.testing.assert_array_equal(gt.t_start, [1.5, 6.0])
  np.testing.assert_array_equal(gt.t_end, [4.0, 9.25])
  np.testing.assert_array_equal(gt.label, [0, 1])
  assert report.database_videos == {"v1", "v2", "v3"}
  everything, _ = ev.read_ground_truth_json(_gt_file(tmp_path), None)
  assert everything.num_videos == 3 and len(everything) == 3


@pytest.mark.parametrize("content, match", [
    ("{not json", "not valid JSON"),
    ({"results": {}}, "'database'"),
    ({"database": {"v": {"subset": "test"}}}, "annotations"),
    ({"database": {"v": {"subset": "test", "annotations": [
        {"segment": ["a", 2], "label": "X"}]}}}, "non-numeric"),
    ({"database": {"v": {"subset": "test", "annotations": [
        {"segment": [5, 2], "label": "X"}]}}}, "reversed"),
    ({"database": {"v": {"subset": "test", "annotations": [
        {"segment": [-1, 2], "label": "X"}]}}}, "negative"),
    ({"database": {"v": {"subset": "val", "annotations": []}}},
     "no video has subset 'test'"),
])
def test_ground_truth_errors_name_the_problem(tmp_path, content, match):
  with pytest.raises(ev.EvaluationInputError, match=match):
    ev.read_ground_truth_json(_write(tmp_path, "gt.json", content), "test")


def test_ground_truth_unknown_label_with_class_list(tmp_path):
  with pytest.raises(ev.EvaluationInputError, match="not in the class list"):
    ev.read_ground_truth_json(_gt_file(tmp_path), "test",
                              class_names=("Jump",))


def _preds_file(tmp_path, results):
  return _write(tmp_path, "pred.json", {"version": "VERSION 1.3",
                                        "results": results})


def test_read_predictions_keeps_order_and_counts(tmp_path):
  gt, rep = ev.read_ground_truth_json(_gt_file(tmp_path), "test")
  path = _preds_file(tmp_path, {
      "v1": [{"label": "Run", "score": 0.5, "segment": [6, 9]},
             {"label": "Jump", "score": 1, "segment": [2, 2]}],
      "v3": [{"label": "Swim", "score": 0.1, "segment": [0, 1]}]})
  preds, report = ev.read_predictions_json(
      path, gt, database_videos=rep.database_videos)
  assert preds.video.tolist() == ["v1", "v1", "v3"]
  np.testing.assert_array_equal(preds.label, [1, 0, 2])
  assert report.counts["are zero-length detections"] == 1
  assert report.num_dropped == 0
  res = ev.detection_map(gt, preds, [0.5])
  assert res.num_outside_subset == 1  # v3 is a train video: an FP.


@pytest.mark.parametrize("entry, reason", [
    ({"label": "Fly", "score": 1, "segment": [0, 1]}, "unknown label"),
    ({"label": "Run", "score": math.nan, "segment": [0, 1]}, "NaN"),
    ({"label": "Run", "segment": [0, 1]}, "missing or non-numeric score"),
    ({"label": "Run", "score": "0.5", "segment": [0, 1]}, "non-numeric"),
    ({"label": "Run", "score": 1, "segment": [3, 1]}, "reversed"),
    ({"label": "Run", "score": 1, "segment": [-3, 1]}, "negative"),
    ({"label": "Run", "score": 1, "segment": [1]}, "malformed segment"),
    ({"label": "Run", "score": 1, "segment": [0, math.inf]}, "infinite"),
    ({"label": "Run", "score": True, "segment": [0, 1]}, "non-numeric"),
    ({"label": "Run", "score": 1, "segment": [False, 1]}, "non-numeric"),
    ({"label": "Run", "score": 1, "segment": ["a", 1]}, "non-numeric"),
    ("Run", "not an object"),
])
def test_invalid_predictions_raise_or_are_counted(tmp_path, entry, reason):
  gt, _ = ev.read_ground_truth_json(_gt_file(tmp_path), "test")
  good = {"label": "Run", "score": 0.5, "segment": [6, 9]}
  path = _preds_file(tmp_path, {"v1": [good, entry]})
  with pytest.raises(ev.EvaluationInputError, match=reason):
    ev.read_predictions_json(path, gt)
  preds, report = ev.read_predictions_json(path, gt, invalid="drop")
  assert len(preds) == 1 and report.num_dropped == 1
  assert any(reason in line for line in report.lines())


def _valid_entries(rng, n):
  entries = []
  for i in range(n):
    s = float(rng.uniform(0, 50))
    e = s if i % 10 == 0 else s + float(rng.uniform(0, 5))
    bound = (lambda x: str(x)) if i % 7 == 0 else (
        lambda x: int(x) if float(x).is_integer() else x)
    entries.append({"label": ["Jump", "Run", "Swim"][i % 3],
                    "score": int(i) if i % 5 == 0 else float(rng.random()),
                    "segment": [bound(s), bound(e)]})
  return entries


def test_whole_file_whole_video_and_entry_readings_agree(tmp_path):
  """A valid file is read as whole columns; a file with one bad entry is read
  video by video, and the video holding it entry by entry. All three give
  the same detections and the same zero-length reports."""
  gt, rep = ev.read_ground_truth_json(_gt_file(tmp_path), "test")
  rng = np.random.default_rng(0)
  results = {"v1": _valid_entries(rng, 50), "v3": [],
             "v2": _valid_entries(rng, 30)}
  readings = []
  for bad_video in (None, "v3", "v2"):
    bad = {"label": "Fly", "score": 1, "segment": [0, 1]}
    res = {v: ([bad] if v == bad_video else []) + e
           for v, e in results.items()}
    readings.append(ev.read_predictions_json(
        _preds_file(tmp_path, res), gt, invalid="drop",
        database_videos=rep.database_videos))
  (whole, report), others = readings[0], readings[1:]
  assert whole.video.tolist() == ["v1"] * 50 + ["v2"] * 30
  for preds, other_report in others:
    for f in ("video", "label", "t_start", "t_end", "score"):
      np.testing.assert_array_equal(getattr(whole, f), getattr(preds, f))
    assert other_report.num_dropped == 1
    assert (other_report.examples["are zero-length detections"]
            == report.examples["are zero-length detections"])
  assert report.counts["are zero-length detections"] == 8
  assert report.num_dropped == 0
  # The report names the video and index of a zero-length entry.
  later = {"v1": [e for e in results["v1"]
                  if e["segment"][0] != e["segment"][1]],
           "v2": results["v2"][1:]}
  _, report = ev.read_predictions_json(_preds_file(tmp_path, later), gt)
  assert report.examples["are zero-length detections"] == (
      f"results['v2'][9] {results['v2'][10]!r}")


def test_unknown_video_raises_or_is_counted(tmp_path):
  gt, rep = ev.read_ground_truth_json(_gt_file(tmp_path), "test")
  path = _preds_file(tmp_path, {
      "typo": [{"label": "Run", "score": 0.5, "segment": [6, 9]}] * 3})
  with pytest.raises(ev.EvaluationInputError, match="typo"):
    ev.read_predictions_json(path, gt, database_videos=rep.database_videos)
  preds, report = ev.read_predictions_json(path, gt, unknown_videos="drop")
  assert len(preds) == 0 and report.num_dropped == 3


def test_predictions_round_trip_scores_identically(tmp_path):
  rng = np.random.default_rng(0)
  gt = ev.GroundTruth(video=["a", "a", "b"], label=[0, 1, 2],
                      t_start=[0.0, 5.0, 2.0], t_end=[4.0, 9.0, 3.0],
                      videos=["a", "b", "c"], class_names=CLASSES)
  n = 40
  preds = ev.Detections(
      video=np.sort(rng.choice(["a", "b", "c"], n)),
      label=rng.integers(0, 3, n),
      t_start=rng.uniform(0, 5, n) / 3, t_end=5 + rng.uniform(0, 5, n) / 7,
      score=np.round(rng.random(n), 1))  # Ties.
  pred_path, gt_path = str(tmp_path / "p.json"), str(tmp_path / "g.json")
  ev.write_predictions_json(pred_path, preds, CLASSES)
  ev.write_ground_truth_json(gt_path, gt)
  gt2, rep = ev.read_ground_truth_json(gt_path, "test", class_names=CLASSES)
  preds2, _ = ev.read_predictions_json(pred_path, gt2,
                                       database_videos=rep.database_videos)
  for f in ("video", "label", "t_start", "t_end", "score"):
    np.testing.assert_array_equal(getattr(preds2, f), getattr(preds, f))
  assert gt2.videos.tolist() == ["a", "b", "c"]
  a = ev.detection_map(gt, preds, ev.THUMOS_TIOUS)
  b = ev.detection_map(gt2, preds2, ev.THUMOS_TIOUS)
  np.testing.assert_array_equal(a.ap_per_class, b.ap_per_class)


def test_writer_rejects_nan_and_bad_labels(tmp_path):
  bad = ev.Detections(["a"], [0], [0.0], [1.0], [float("nan")])
  with pytest.raises(ValueError, match="non-finite score"):
    ev.write_predictions_json(str(tmp_path / "p.json"), bad, CLASSES)
  bad = ev.Detections(["a"], [7], [0.0], [1.0], [1.0])
  with pytest.raises(ValueError, match="outside the class list"):
    ev.write_predictions_json(str(tmp_path / "p.json"), bad, CLASSES)
  assert not (tmp_path / "p.json").exists()


def test_read_ambiguous_txt(tmp_path):
  path = _write(tmp_path, "amb.txt", "v1  0.0 1.4\n\nv2 95.7 97.2\n")
  vid, s, e = ev.read_ambiguous_txt(path)
  assert vid.tolist() == ["v1", "v2"]
  np.testing.assert_array_equal(s, [0.0, 95.7])
  np.testing.assert_array_equal(e, [1.4, 97.2])
  bad = _write(tmp_path, "bad.txt", "v1 3.0\n")
  with pytest.raises(ev.EvaluationInputError, match="bad.txt:1"):
    ev.read_ambiguous_txt(bad)
