"""Predictions on videos absent from the ground truth: --unknown_videos=fp
scores them exactly as the official eval_detection.py does, from the JSON
files; 'drop' ignores them and 'error' (the default) stops."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from test_evaluation_map import _ref_ap_detection
from wtal_jax import evaluate
from wtal_jax import evaluation as ev

TIOUS = (0.1, 0.3, 0.5, 0.7)
CLASSES = ("Jump", "Run", "Swim")


def official_map_from_files(gt_path, pred_path, subset, tious):
  """ActivityNet's ActivityNetDetection.evaluate, loop for loop: the class
  index is built from the subset's annotations, every prediction of the
  results object enters its class (whatever its video), and a prediction on
  a video without ground truth of its class is a false positive."""
  with open(gt_path, encoding="utf-8") as f:
    database = json.load(f)["database"]
  with open(pred_path, encoding="utf-8") as f:
    results = json.load(f)["results"]
  activity_index, gt = {}, []
  for video, entry in database.items():
    if entry["subset"] != subset:
      continue
    for ann in entry["annotations"]:
      activity_index.setdefault(ann["label"], len(activity_index))
      gt.append((video, activity_index[ann["label"]],
                 float(ann["segment"][0]), float(ann["segment"][1])))
  preds = [(video, activity_index[r["label"]], float(r["segment"][0]),
            float(r["segment"][1]), r["score"])
           for video, rows in results.items() for r in rows]
  ap = np.zeros((len(tious), len(activity_index)))
  for cidx in activity_index.values():
    ap[:, cidx] = _ref_ap_detection(
        [(v, s, e) for v, c, s, e in gt if c == cidx],
        [(v, s, e, sc) for v, c, s, e, sc in preds if c == cidx], tious)
  return ap.mean(axis=1)


def _case(tmp_path, seed):
  """Ground truth with test and validation videos; predictions on test
  videos, on validation videos (outside the subset) and on videos the file
  does not have, interleaved so that they compete in the ranking."""
  rng = np.random.default_rng(seed)
  database = {}
  for i in range(8):
    subset = "test" if i < 6 else "validation"
    anns = []
    for _ in range(int(rng.integers(1, 4))):
      s = float(rng.integers(0, 40))
      anns.append({"segment": [s, s + float(rng.integers(1, 8))],
                   "label": CLASSES[int(rng.integers(0, 3))]})
    database[f"video_{i}"] = {"subset": subset, "annotations": anns}
  # Every class has ground truth in the test subset.
  database["video_0"]["annotations"] += [
      {"segment": [50.0, 55.0], "label": c} for c in CLASSES]
  videos = list(database) + ["unknown_a", "unknown_b"]
  results = {}
  for _ in range(60):
    video = videos[int(rng.integers(0, len(videos)))]
    anns = database.get(video, database["video_0"])["annotations"]
    ann = anns[int(rng.integers(0, len(anns)))]
    s = max(0.0, ann["segment"][0] + float(rng.integers(-2, 3)))
    results.setdefault(video, []).append({
        "label": ann["label"] if rng.random() < 0.8 else
                 CLASSES[int(rng.integers(0, 3))],
        "score": float(np.round(rng.random(), 1)),  # Ties included.
        "segment": [s, s + float(rng.integers(1, 8))]})
  assert {"unknown_a", "unknown_b"} <= set(results)
  gt_path, pred_path = tmp_path / f"gt{seed}.json", tmp_path / f"p{seed}.json"
  gt_path.write_text(json.dumps({"database": database}))
  pred_path.write_text(json.dumps({"results": results}))
  return str(gt_path), str(pred_path), results


def _score(gt_path, pred_path, **kwargs):
  return evaluate.run(gt_path, pred_path, tiou=",".join(map(str, TIOUS)),
                      out=io.StringIO(), **kwargs)


@pytest.mark.parametrize("seed", range(5))
def test_fp_equals_the_official_rule(tmp_path, seed):
  gt_path, pred_path, results = _case(tmp_path, seed)
  res = _score(gt_path, pred_path, unknown_videos="fp")
  want = official_map_from_files(gt_path, pred_path, "test", TIOUS)
  np.testing.assert_allclose(res.map_per_tiou, want, rtol=0, atol=1e-12)
  unknown = len(results["unknown_a"]) + len(results["unknown_b"])
  assert res.num_on_unknown_videos == unknown
  outside = sum(len(results.get(f"video_{i}", [])) for i in (6, 7))
  assert res.num_outside_subset == outside
  assert res.num_predictions == sum(len(r) for r in results.values())


def test_fp_keeps_unknown_videos_when_outside_subset_is_dropped(tmp_path):
  gt_path, pred_path, results = _case(tmp_path, 7)
  res = _score(gt_path, pred_path, unknown_videos="fp", outside_subset="drop")
  kept = {v: r for v, r in results.items()
          if v not in ("video_6", "video_7")}
  only = tmp_path / "kept.json"
  only.write_text(json.dumps({"results": kept}))
  want = official_map_from_files(gt_path, str(only), "test", TIOUS)
  np.testing.assert_allclose(res.map_per_tiou, want, rtol=0, atol=1e-12)
  assert "absent from the ground truth were scored as false positives" in (
      res.table())


def test_drop_ignores_them_and_error_stops(tmp_path):
  gt_path, pred_path, results = _case(tmp_path, 8)
  res = _score(gt_path, pred_path, unknown_videos="drop")
  known = {v: r for v, r in results.items() if not v.startswith("unknown")}
  only = tmp_path / "known.json"
  only.write_text(json.dumps({"results": known}))
  want = official_map_from_files(gt_path, str(only), "test", TIOUS)
  np.testing.assert_allclose(res.map_per_tiou, want, rtol=0, atol=1e-12)
  assert res.num_on_unknown_videos == 0
  fp = _score(gt_path, pred_path, unknown_videos="fp")
  assert np.all(fp.map_per_tiou <= res.map_per_tiou)
  assert np.any(fp.map_per_tiou < res.map_per_tiou)
  with pytest.raises(ev.EvaluationInputError, match="unknown_videos=fp"):
    _score(gt_path, pred_path)


def test_command_line_fp_mode(tmp_path):
  gt_path, pred_path, _ = _case(tmp_path, 9)
  out_json = tmp_path / "scores.json"
  proc = subprocess.run(
      [sys.executable, "-m", "wtal_jax.evaluate", f"--ground_truth={gt_path}",
       f"--predictions={pred_path}", "--tiou=0.1,0.3,0.5,0.7",
       "--unknown_videos=fp", f"--output_json={out_json}"],
      capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert "scored as false positives" in proc.stdout
  scores = json.loads(out_json.read_text())
  want = official_map_from_files(gt_path, pred_path, "test", TIOUS)
  np.testing.assert_allclose(scores["map_per_tiou"], want, rtol=0, atol=1e-12)
  assert scores["num_on_unknown_videos"] > 0
