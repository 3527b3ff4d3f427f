"""TensorBoard event files of a smoke run, read back without TensorBoard."""

import os
import shutil

import numpy as np
import pytest

from wtal_jax import config_lib
from wtal_jax.models.fusion.lgca import GATE_PATHS
from wtal_jax.training import reporting
from wtal_jax.training.train import train_and_evaluate

ROOT = os.path.join(os.path.dirname(__file__), "..")


@pytest.fixture(scope="module")
def run(data_dir, tmp_path_factory):
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.data.data_dir = data_dir
  config.tensorboard = True
  workdir = str(tmp_path_factory.mktemp("tb_run"))
  train_and_evaluate(config, workdir)
  return config, workdir


def test_event_file_has_every_tag(run):
  config, workdir = run
  events = reporting.read_events(os.path.join(workdir, "tensorboard"))
  expected = {"train/loss", "train/lr", "train/grad_norm", "test/avg_map",
              "test/cls_map"}
  expected |= {f"train/loss/{t}" for t in config.model.head.loss_weights}
  expected |= {reporting.tb_tag("test", f"map@{t:g}")
               for t in config.eval.tious}
  assert "test/map_0.5" in expected
  for split in ("train", "test"):
    for kind in ("gate_rate", "gate_prob"):
      for gate, paths in GATE_PATHS.items():
        for m in range(2):
          for path in paths:
            expected.add(f"{split}/{kind}/{gate}_gate_{m}/"
                         f"{reporting.path_slug(path)}")
  missing = expected - set(events)
  assert not missing, sorted(missing)
  steps = [s for s, _ in events["train/loss"]]
  assert steps == list(range(config.train.log_every,
                             config.train.num_steps + 1,
                             config.train.log_every))
  assert [v for _, v in events["train/lr"]] == pytest.approx(
      [config.train.lr] * len(steps))


def test_events_agree_with_jsonl(run):
  _, workdir = run
  events = reporting.read_events(os.path.join(workdir, "tensorboard"))
  for line in reporting.read_metrics(workdir):
    for key, value in line.items():
      if key in ("step", "split"):
        continue
      tag = reporting.tb_tag(line["split"], key)
      logged = dict(events[tag])
      # Event files store float32.
      assert logged[line["step"]] == pytest.approx(value, rel=1e-6, abs=1e-7)


def test_gate_rates_sum_to_one_per_gate(run):
  _, workdir = run
  events = reporting.read_events(os.path.join(workdir, "tensorboard"))
  for split in ("train", "test"):
    for gate, paths in GATE_PATHS.items():
      for m in range(2):
        tags = [f"{split}/gate_rate/{gate}_gate_{m}/{reporting.path_slug(p)}"
                for p in paths]
        total = np.sum([[v for _, v in events[t]] for t in tags], axis=0)
        np.testing.assert_allclose(total, 1.0, rtol=1e-6)


def test_gate_metrics_and_slugs():
  probs = [{"skip2_gate_0": np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])},
           {"skip2_gate_0": np.array([[0.2, 0.5, 0.3]])}]
  metrics = reporting.gate_metrics(probs)
  np.testing.assert_allclose(metrics["gate_rate/skip2_gate_0"],
                             [1 / 3, 1 / 3, 1 / 3])
  np.testing.assert_allclose(metrics["gate_prob/skip2_gate_0"],
                             [1.0 / 3, 0.8 / 3, 1.2 / 3])
  slugs = [reporting.path_slug(p) for ps in GATE_PATHS.values() for p in ps]
  assert len(set(slugs)) == len(slugs)
  assert all(s.replace("_", "").isalnum() for s in slugs)
  assert reporting.element_names("gate_rate/other_gate_0", 2) == ["0", "1"]


def test_truncated_record_is_ignored(tmp_path):
  from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
  writer = SummaryWriter(str(tmp_path))
  writer.add_scalar("a/b", 1.5, 3)
  writer.close()
  (path,) = [os.path.join(tmp_path, f) for f in os.listdir(tmp_path)]
  with open(path, "ab") as f:
    f.write(b"\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00abc")
  assert reporting.read_events(str(tmp_path)) == {"a/b": [(3, 1.5)]}


def test_resumed_run_hides_replayed_steps(data_dir, tmp_path):
  # An interrupted job logged step 4 after its last checkpoint (step 2): the
  # resumed job writes step 4 again, and TensorBoard must show it once.
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.data.data_dir = data_dir
  config.tensorboard = True
  config.train.eval_every = 100  # Only the final evaluation.
  workdir = str(tmp_path / "run")
  train_and_evaluate(config, workdir)
  first = reporting.read_events(os.path.join(workdir, "tensorboard"))
  shutil.move(os.path.join(workdir, "checkpoints", "4"), str(tmp_path / "4"))
  train_and_evaluate(config, workdir)

  logdir = os.path.join(workdir, "tensorboard")
  assert len(os.listdir(logdir)) == 2  # One event file per job.
  events = reporting.read_events(logdir)
  assert [s for s, _ in events["train/loss"]] == [2, 4]
  assert [s for s, _ in events["test/avg_map"]] == [4]
  # Step 2 comes from the first job, step 4 from the resumed one.
  assert events["train/loss"][0] == first["train/loss"][0]
  steps_in_jsonl = [r["step"] for r in reporting.read_metrics(workdir)
                    if r["split"] == "train"]
  assert steps_in_jsonl == [2, 4]
