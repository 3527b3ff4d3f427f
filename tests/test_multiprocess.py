"""A 2-process ``jax.distributed`` job on 127.0.0.1 (gloo CPU collectives),
started with launch/local.py, trains and evaluates like one process with the
same two devices: the same losses, parameters and test mAP, with one copy of
every log and output."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import subprocess_runs as runs
from data_prep.prepared import open_dataset
from wtal_jax.training import distributed
from wtal_jax.training.checkpoints import verify_manifest


@pytest.fixture(scope="module")
def two_process(tmp_path_factory, data_dir):
  reference = runs.reference_run(tmp_path_factory, data_dir)
  workdir = str(tmp_path_factory.mktemp("multiprocess") / "run")
  out = subprocess.run(
      [sys.executable, runs.LAUNCHER, "--num_processes=2", "--",
       *runs.main_args(workdir, data_dir)],
      cwd=runs.ROOT, env=runs.env(runs.cache_dir(tmp_path_factory)),
      capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stdout[-4000:]
  return reference, workdir, out.stdout


def test_two_processes_match_one_process(two_process):
  reference, workdir, log = two_process
  assert "2 device(s), 2 process(es)" in log
  a, b = runs.train_records(reference), runs.train_records(workdir)
  assert sorted(a) == sorted(b) == list(range(1, runs.NUM_STEPS + 1))
  # The reference is one process with two devices, so both jobs split the
  # batch alike and sum it in the same order (a sum of two operands commutes
  # exactly): losses and parameters are equal, not merely close, on any CPU.
  for step in a:
    for k in a[step]:
      if k.startswith("loss") or k == "grad_norm":
        assert b[step][k] == a[step][k], f"step {step} {k}"
  la = runs.checkpoint_leaves(reference, runs.NUM_STEPS)
  lb = runs.checkpoint_leaves(workdir, runs.NUM_STEPS)
  assert len(la) == len(lb) and la
  for x, y in zip(la, lb):
    np.testing.assert_array_equal(y, x)


def test_evaluation_covers_the_test_set_once(two_process, data_dir):
  reference, workdir, _ = two_process
  fa, fb = runs.final_metrics(reference), runs.final_metrics(workdir)
  num_test = len(open_dataset(_data_cfg(data_dir)).split("test"))
  assert fa["num_videos"] == fb["num_videos"] == num_test
  np.testing.assert_allclose(fb["avg_map"], fa["avg_map"], atol=1e-3)
  with open(os.path.join(workdir, "predictions.json")) as f:
    preds = json.load(f)["results"]
  with open(os.path.join(reference, "predictions.json")) as f:
    ref_preds = json.load(f)["results"]
  assert set(preds) == set(ref_preds)
  assert ({v: len(p) for v, p in preds.items()}
          == {v: len(p) for v, p in ref_preds.items()})


def test_one_copy_of_logs_and_verified_collective_checkpoints(two_process):
  _, workdir, log = two_process
  # train_records asserts that no step was logged twice.
  assert len(runs.train_records(workdir)) == runs.NUM_STEPS
  assert log.count("classification mAP") == 1
  assert "[1] step " not in log  # Progress lines come from process 0 only.
  ckpts = os.path.join(workdir, "checkpoints")
  for s in (s for s in os.listdir(ckpts) if s.isdigit()):
    assert verify_manifest(os.path.join(ckpts, s)) is None


def _data_cfg(data_dir):
  from wtal_jax import config_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.load_config(runs.CONFIG)
  config.data.data_dir = data_dir
  return config.data


def test_partial_multiprocess_flags_are_rejected():
  with pytest.raises(ValueError, match="--num_processes"):
    distributed.resolve("127.0.0.1:1234", None, 0, tpu_auto=False)
  with pytest.raises(ValueError, match="host:port"):
    distributed.resolve("127.0.0.1", 2, 0, tpu_auto=False)
  with pytest.raises(ValueError, match="process_id"):
    distributed.resolve("127.0.0.1:1234", 2, 2, tpu_auto=False)
  assert distributed.resolve(tpu_auto=False).mode == "single"
  assert distributed.resolve(tpu_auto=True).mode == "tpu"
  setup = distributed.resolve("10.0.0.2:8476", 4, 3, tpu_auto=True)
  assert (setup.mode, setup.num_processes, setup.process_id) == (
      "explicit", 4, 3)
