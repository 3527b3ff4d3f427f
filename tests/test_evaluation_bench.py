"""Smoke test of bench/evaluate.py on a few videos (keeps the bench working)."""

import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_bench_runs_and_agrees_with_its_baseline(tmp_path):
  out = tmp_path / "bench.json"
  proc = subprocess.run(
      [sys.executable, str(REPO / "bench" / "evaluate.py"), "--num_videos=6",
       "--repeats=1", "--pin_cpu=-1", f"--output_json={out}"],
      capture_output=True, text=True, cwd=REPO, timeout=120,
      env={**os.environ, "PYTHONPATH": str(REPO)})
  assert proc.returncode == 0, proc.stderr
  assert "| total |" in proc.stdout
  record = json.loads(out.read_text())
  assert record["setup"]["num_videos"] == 6
  assert record["detections"] == record["baseline_detections"] > 0
  assert record["max_abs_map_difference"] < 1e-12
  assert record["fast_seconds"]["total"] > 0
