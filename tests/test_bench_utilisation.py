"""bench/utilisation.py: the peak, train-step FLOPs and rates, the
evaluation and prediction passes, and its refusal on a loaded machine."""

import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def _run(tmp_path, data_dir, *flags):
  return subprocess.run(
      [sys.executable, str(REPO / "bench" / "utilisation.py"), "--heads=asl",
       "--steps=2", "--repeats=1", f"--output_dir={tmp_path}",
       f"--config={REPO}/configs/thumos_lgca.py:smoke",
       f"--data_dir={data_dir}", *flags],
      capture_output=True, text=True, cwd=REPO, timeout=900,
      env={**os.environ, "PYTHONPATH": str(REPO)})


def test_utilisation_reports_rates_against_the_peak(tmp_path, data_dir):
  proc = _run(tmp_path, data_dir, "--max_load=1000")
  assert proc.returncode == 0, proc.stderr[-3000:]
  [path] = tmp_path.glob("utilisation-*.json")
  record = json.loads(path.read_text())
  assert record["peak"]["gflops"] > 0
  names = [r["name"] for r in record["train"]]
  assert names == ["asl + own", "asl + lgca"]
  for r in record["train"]:
    # XLA's count of a train step is two to three forward passes (no
    # gradient flows into the inputs).
    assert 0.5 < r["step_over_3x_forward"] < 1.2
    assert 0 < r["fraction_of_peak"] < 1.5
  passes = {r["name"]: r for r in record["passes"]}
  assert {"evaluation: model pass", "predict_many"} <= set(passes)
  assert all(r["snippets_per_s"] > 0 for r in passes.values())
  assert "| asl + lgca |" in proc.stdout


def test_utilisation_refuses_on_a_loaded_machine(tmp_path, data_dir):
  proc = _run(tmp_path, data_dir, "--max_load=-1")
  assert proc.returncode == 1
  assert "Refusing to report" in proc.stdout
  assert not list(tmp_path.glob("utilisation-*"))
