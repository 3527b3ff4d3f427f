"""bench/convergence.py: curves of avg mAP and LGCA's selection rates over
steps, as JSON and a figure."""

import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_convergence_writes_curves_and_a_plot(tmp_path, data_dir):
  plot = tmp_path / "curves.png"
  proc = subprocess.run(
      [sys.executable, str(REPO / "bench" / "convergence.py"), "--head=asl",
       "--steps=4", "--eval_every=2", "--seeds=0", "--jobs=2",
       f"--workdir={tmp_path / 'runs'}", f"--output_dir={tmp_path / 'out'}",
       f"--plot={plot}", f"--data_dir={data_dir}", "--builder_config=tiny",
       "--num_snippets=16", "--batch_size=4"],
      capture_output=True, text=True, cwd=REPO, timeout=600,
      env={**os.environ, "PYTHONPATH": str(REPO)})
  assert proc.returncode == 0, proc.stderr[-3000:]
  [path] = (tmp_path / "out").glob("convergence-asl-*.json")
  record = json.loads(path.read_text())
  assert set(record["runs"]) == {"own/seed0", "lgca/seed0"}
  for name, points in record["runs"].items():
    assert [p["step"] for p in points] == [2, 4], name
    assert all(0.0 <= p["avg_map"] <= 1.0 for p in points)
  assert "gate_rate/skip1_gate_0/X" in record["runs"]["lgca/seed0"][-1]
  assert plot.stat().st_size > 10_000
  assert "| lgca | 0 |" in proc.stdout
