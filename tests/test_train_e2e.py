"""End to end: train_and_evaluate on the tiny synthetic dataset, resume, and
exact equality of interrupted and uninterrupted runs."""

import json
import os

import numpy as np
import pytest

from wtal_jax import config_lib
from data_prep.prepared import open_dataset
from wtal_jax.evaluation import json_io
from wtal_jax.evaluation.detection_eval import detection_map
from wtal_jax.training.reporting import read_metrics
from wtal_jax.training.train import train_and_evaluate

ROOT = os.path.join(os.path.dirname(__file__), "..")


def smoke_config(data_dir, **train):
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.data.data_dir = data_dir
  config.train.update(train)
  return config


@pytest.fixture(scope="module")
def first_run(data_dir, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("run"))
  config = smoke_config(data_dir)
  metrics = train_and_evaluate(config, workdir)
  return config, workdir, metrics


def test_smoke_run_trains_evaluates_and_writes_outputs(first_run, data_dir):
  config, workdir, metrics = first_run
  num_test = len(open_dataset(config.data).split("test"))
  assert metrics["num_videos"] == num_test
  assert 0.0 <= metrics["avg_map"] <= 1.0
  assert np.isclose(metrics["avg_map"], np.mean(
      [metrics[f"map@{t:g}"] for t in config.eval.tious]))
  lines = read_metrics(workdir)
  train_steps = [l["step"] for l in lines if l["split"] == "train"]
  assert train_steps == list(range(config.train.log_every,
                                   config.train.num_steps + 1,
                                   config.train.log_every))
  assert all(np.isfinite(l["loss"]) for l in lines if l["split"] == "train")
  assert {"loss/mil", "loss/casl", "loss/cont", "loss/pseu"} <= set(lines[0])
  test_lines = [l for l in lines if l["split"] == "test"]
  assert test_lines[-1]["step"] == config.train.num_steps
  with open(os.path.join(workdir, "predictions.json")) as f:
    preds = json.load(f)
  assert set(preds["results"]) <= set(
      open_dataset(config.data).split("test").index.video_ids)
  final = json.load(open(os.path.join(workdir, "final_metrics.json")))
  assert final["step"] == config.train.num_steps
  # Evaluation time is recorded per evaluation and in total, within the
  # loop's wall time.
  assert all(l["eval_seconds"] > 0 for l in test_lines)
  assert final["eval_seconds"] == pytest.approx(
      sum(l["eval_seconds"] for l in test_lines))
  assert 0 < final["eval_seconds"] < final["train_seconds"]
  assert os.listdir(os.path.join(workdir, "checkpoints"))


def test_workdir_json_files_rescore_to_the_final_metrics(first_run):
  """ground_truth.json + predictions.json re-scored by the standalone
  evaluator's readers give the run's own final mAP."""
  config, workdir, metrics = first_run
  meta = open_dataset(config.data).meta
  gt, _ = json_io.read_ground_truth_json(
      os.path.join(workdir, "ground_truth.json"), subset="test",
      class_names=meta.class_names)
  preds, _ = json_io.read_predictions_json(
      os.path.join(workdir, "predictions.json"), gt)
  assert len(gt.videos) == metrics["num_videos"]
  assert len(preds.score) == metrics["num_predictions"]
  assert len(set(preds.label.tolist())) == metrics["num_predicted_classes"]
  result = detection_map(gt, preds, tious=tuple(config.eval.tious))
  assert np.isclose(result.average, metrics["avg_map"], rtol=0, atol=1e-12)


def test_rerun_resumes_from_latest_checkpoint(first_run, capsys):
  config, workdir, _ = first_run
  longer = smoke_config(config.data.data_dir,
                        num_steps=config.train.num_steps + 2)
  train_and_evaluate(longer, workdir)
  out = capsys.readouterr().out
  assert f"Resuming from step {config.train.num_steps}" in out
  train_steps = [l["step"] for l in read_metrics(workdir)
                 if l["split"] == "train"]
  # The resumed run logs only the new steps.
  assert train_steps[-1] == longer.train.num_steps
  assert len(train_steps) == len(set(train_steps))


def test_interrupted_run_equals_uninterrupted_run(data_dir, tmp_path):
  straight = smoke_config(data_dir, num_steps=4, log_every=1, eval_every=4,
                          checkpoint_every=1)
  train_and_evaluate(straight, str(tmp_path / "a"))
  first = smoke_config(data_dir, num_steps=2, log_every=1, eval_every=4,
                       checkpoint_every=1)
  train_and_evaluate(first, str(tmp_path / "b"))
  train_and_evaluate(straight, str(tmp_path / "b"))
  loss = lambda d: {l["step"]: l["loss"] for l in read_metrics(str(tmp_path / d))
                    if l["split"] == "train"}
  a, b = loss("a"), loss("b")
  for step in (3, 4):
    assert a[step] == b[step], (step, a[step], b[step])
