"""The standalone evaluator CLI on THUMOS14's real ground-truth file."""

import io
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from wtal_jax import evaluate
from wtal_jax import evaluation as ev

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
GT_JSON = DATA / "THUMOS14" / "gt.json"
AMBIGUOUS = DATA / "Thumos14reduced-Annotations" / "Ambiguous_test.txt"

needs_data = pytest.mark.skipif(not GT_JSON.exists(),
                                reason="shared/data/THUMOS14 not present")


def _test_subset():
  with open(GT_JSON, encoding="utf-8") as f:
    db = json.load(f)["database"]
  return {v: e for v, e in db.items() if e["subset"] == "test"}


def _predictions_from_gt(subset, rng, shift_fraction):
  """GT copies with random scores; a fraction moved far away (FPs)."""
  results = {}
  for vid, entry in subset.items():
    rows = []
    for ann in entry["annotations"]:
      s, e = float(ann["segment"][0]), float(ann["segment"][1])
      if rng.random() < shift_fraction:
        s, e = s + 10_000.0, e + 10_000.0
      rows.append({"label": ann["label"], "score": float(rng.random()),
                   "segment": [s, e]})
    results[vid] = rows
  return {"version": "VERSION 1.3", "results": results, "external_data": {}}


def _run(tmp_path, preds, **kwargs):
  path = tmp_path / "pred.json"
  path.write_text(json.dumps(preds))
  out = io.StringIO()
  res = evaluate.run(str(GT_JSON), str(path), out=out, **kwargs)
  return res, out.getvalue()


@needs_data
def test_perfect_predictions_score_100_on_thumos(tmp_path):
  rng = np.random.default_rng(0)
  res, text = _run(tmp_path, _predictions_from_gt(_test_subset(), rng, 0.0),
                   tiou="thumos_full")
  np.testing.assert_array_equal(res.map_per_tiou, np.ones(9))
  assert res.num_videos == 210 and res.class_ids.shape == (20,)
  assert "210 test videos" in text and "| 0.90 | 100.00 |" in text


@needs_data
def test_cli_agrees_with_in_memory_scoring_and_writes_json(tmp_path):
  rng = np.random.default_rng(1)
  preds = _predictions_from_gt(_test_subset(), rng, 0.3)
  out_json = tmp_path / "scores.json"
  res, text = _run(tmp_path, preds, tiou="0.3,0.5",
                   remove_ambiguous=str(AMBIGUOUS), per_class=True,
                   output_json=str(out_json))
  gt, _ = ev.read_ground_truth_json(str(GT_JSON), "test")
  gt = gt.with_ambiguous(*ev.read_ambiguous_txt(str(AMBIGUOUS)))
  rows = [(v, gt.class_names.index(r["label"]), r["segment"][0],
           r["segment"][1], r["score"])
          for v, rs in preds["results"].items() for r in rs]
  mem = ev.detection_map(gt, ev.Detections(*zip(*rows)), [0.3, 0.5],
                         remove_ambiguous=True)
  np.testing.assert_array_equal(res.map_per_tiou, mem.map_per_tiou)
  assert 0.5 < res.map_per_tiou[0] < 1.0
  assert "Ambiguous-segment removal: ON" in text and "HighJump" in text
  saved = json.loads(out_json.read_text())
  assert saved["num_videos"] == 210 and saved["remove_ambiguous"]
  assert saved["map_per_tiou"] == res.map_per_tiou.tolist()
  assert set(saved["ap_per_class"]) == set(gt.class_names)


@needs_data
def test_bad_predictions_exit_2_with_a_clear_message(tmp_path):
  preds = {"results": {"video_test_0000004": [
      {"label": "NoSuchClass", "score": 0.5, "segment": [1, 2]}]}}
  path = tmp_path / "pred.json"
  path.write_text(json.dumps(preds))
  proc = subprocess.run(
      [sys.executable, "-m", "wtal_jax.evaluate", f"--ground_truth={GT_JSON}",
       f"--predictions={path}"], capture_output=True, text=True, cwd=REPO,
      env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
  assert proc.returncode == 2
  assert "video_test_0000004" in proc.stderr
  assert "unknown label" in proc.stderr and "--invalid=drop" in proc.stderr


def test_help_explains_itself():
  proc = subprocess.run([sys.executable, "-m", "wtal_jax.evaluate", "--help"],
                        capture_output=True, text=True, cwd=REPO,
                        env={**os.environ, "PYTHONPATH": str(REPO)},
                        timeout=60)
  # absl's --help exits with status 1 by design; the text is what matters.
  for flag in ("--ground_truth", "--predictions", "--subset", "--tiou",
               "--remove_ambiguous", "--per_class", "--output_json"):
    assert flag in proc.stdout
  assert "ActivityNet" in proc.stdout


def test_parse_tious():
  np.testing.assert_array_equal(evaluate.parse_tious("anet"), ev.ANET_TIOUS)
  np.testing.assert_array_equal(evaluate.parse_tious("0.3, 0.5"), [0.3, 0.5])
  for bad in ("", "x", "1.5", "thumos2"):
    with pytest.raises(ev.EvaluationInputError, match="--tiou"):
      evaluate.parse_tious(bad)


def test_flag_mistakes_are_one_line(capsys):
  """The evaluator parses absl-style flags with argparse (a faster start);
  every mistake is still one 'error:' line with exit status 2, and prefixes
  of flag names are not guessed."""
  for argv, needle in ((["--predictions=p.json"], "--ground_truth"),
                       (["--ground_truth=g", "--predictions=p", "--per"],
                        "--per"),
                       (["--ground_truth=g", "--predictions=p", "stray"],
                        "stray"),
                       (["--ground_truth=g", "--predictions=p",
                         "--invalid=skip"], "--invalid")):
    with pytest.raises(SystemExit) as exit_info:
      evaluate.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert needle in err


def test_per_class_flag_spellings(tmp_path, capsys):
  gt = tmp_path / "gt.json"
  gt.write_text(json.dumps({"database": {"v": {"subset": "test", "annotations": [
      {"segment": [1, 4], "label": "Run"}]}}}))
  pred = tmp_path / "p.json"
  pred.write_text(json.dumps({"results": {"v": [
      {"label": "Run", "score": 0.9, "segment": [1, 4]}]}}))
  base = [f"--ground_truth={gt}", f"--predictions={pred}"]
  assert evaluate.main(base + ["--per_class"]) == 0
  assert "| Run |" in capsys.readouterr().out.replace("  ", " ")
  assert evaluate.main(base + ["--per_class", "--noper_class"]) == 0
  assert "Run" not in capsys.readouterr().out


def test_blas_threads_are_left_alone_when_imported():
  """Run as a program the evaluator starts OpenBLAS with one thread (it does
  no BLAS work); imported as a library it leaves the process's setting."""
  env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
  env["PYTHONPATH"] = str(REPO)
  proc = subprocess.run(
      [sys.executable, "-c", "import os, wtal_jax.evaluate; "
       "print(os.environ.get('OPENBLAS_NUM_THREADS'))"],
      capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
  assert proc.stdout.strip() == "None", proc.stderr
