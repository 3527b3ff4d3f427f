"""bench/evaluator_cpu.py: CPU seconds and the unrounded mAP of the
standalone evaluator on two files."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np

from wtal_jax import evaluation as ev

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_evaluator_cpu_times_and_scores(tmp_path):
  rng = np.random.default_rng(0)
  gt = ev.GroundTruth(video=["a", "a", "b"], label=[0, 1, 0],
                      t_start=[0.0, 5.0, 2.0], t_end=[4.0, 9.0, 3.0],
                      videos=["a", "b"], class_names=("Jump", "Run"))
  n = 30
  preds = ev.Detections(video=np.sort(rng.choice(["a", "b"], n)),
                        label=rng.integers(0, 2, n),
                        t_start=rng.uniform(0, 5, n),
                        t_end=5 + rng.uniform(0, 5, n), score=rng.random(n))
  gt_path, pred_path = tmp_path / "gt.json", tmp_path / "p.json"
  ev.write_ground_truth_json(str(gt_path), gt)
  ev.write_predictions_json(str(pred_path), preds, ("Jump", "Run"))
  proc = subprocess.run(
      [sys.executable, str(REPO / "bench" / "evaluator_cpu.py"),
       f"--ground_truth={gt_path}", f"--predictions={pred_path}",
       "--repeats=2", f"--output_dir={tmp_path / 'out'}"],
      capture_output=True, text=True, cwd=REPO, timeout=300,
      env={**os.environ, "PYTHONPATH": str(REPO)})
  assert proc.returncode == 0, proc.stderr[-3000:]
  [path] = (tmp_path / "out").glob("evaluator_cpu-*.json")
  record = json.loads(path.read_text())
  assert len(record["ours_cpu_s"]["runs"]) == 2
  assert 0 < record["ours_cpu_s"]["min"] <= record["ours_cpu_s"]["median"]
  expected = ev.detection_map(gt, preds, ev.THUMOS_TIOUS).average
  assert record["ours_average_map"] == expected
  assert "| python -m wtal_jax.evaluate |" in proc.stdout
