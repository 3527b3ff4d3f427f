"""A run stopped by SIGTERM, then killed with SIGKILL at a random step, then
re-run, ends exactly where an uninterrupted run of the same length ends:
same per-step losses, same final metrics, bit-identical parameters and
optimizer state."""

import os
import random
import signal

import numpy as np
import pytest

import subprocess_runs as runs
from wtal_jax.training import preemption
from wtal_jax.training.checkpoints import verify_manifest


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, data_dir):
  """Runs the three legs of an interrupted job and returns what they left."""
  reference = runs.reference_run(tmp_path_factory, data_dir)
  cache = runs.cache_dir(tmp_path_factory)
  seed = random.SystemRandom().randrange(10**6)
  rng = random.Random(seed)
  term_at = rng.randint(1, 3)
  kill_at = rng.randint(term_at + 1, runs.NUM_STEPS - 1)
  workdir = str(tmp_path_factory.mktemp("interrupted") / "run")
  info = {"reference": reference, "workdir": workdir,
          "where": f"(seed {seed}: SIGTERM at {term_at}, SIGKILL at {kill_at})"}

  p = runs.start(workdir, data_dir, cache)
  runs.wait_for_step(p, workdir, term_at)
  p.send_signal(signal.SIGTERM)
  info["term_code"] = p.wait(timeout=300)
  info["term_log"] = runs.read_log(workdir)
  info["term_steps"] = sorted(int(s) for s in os.listdir(
      os.path.join(workdir, "checkpoints")) if s.isdigit())

  p = runs.start(workdir, data_dir, cache)
  runs.wait_for_step(p, workdir, kill_at)
  p.kill()
  p.wait(timeout=60)

  info["final_log"] = runs.run(workdir, data_dir, cache)
  return info


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(interrupted):
  where = interrupted["where"]
  assert interrupted["term_code"] == preemption.EXIT_CODE, (
      where, interrupted["term_log"][-3000:])
  assert "Traceback" not in interrupted["term_log"], where
  stopped = interrupted["term_steps"][-1]
  assert f"Stopped on SIGTERM after step {stopped}" in interrupted["term_log"]
  assert stopped < runs.NUM_STEPS, where


def test_killed_and_resumed_run_equals_uninterrupted_run(interrupted):
  ref, got, where = (interrupted["reference"], interrupted["workdir"],
                     interrupted["where"])
  assert "Resuming from step" in interrupted["final_log"], where
  a, b = runs.train_records(ref), runs.train_records(got)
  assert sorted(a) == sorted(b) == list(range(1, runs.NUM_STEPS + 1)), where
  for step in a:
    assert a[step] == b[step], (where, step)
  fa, fb = runs.final_metrics(ref), runs.final_metrics(got)
  for k in fa:
    if k not in ("train_seconds", "eval_seconds"):
      assert fa[k] == fb[k], (where, k)
  la = runs.checkpoint_leaves(ref, runs.NUM_STEPS)
  lb = runs.checkpoint_leaves(got, runs.NUM_STEPS)
  assert len(la) == len(lb) and la
  for x, y in zip(la, lb):
    np.testing.assert_array_equal(x, y, err_msg=where)


def test_every_kept_checkpoint_verifies(interrupted):
  ckpts = os.path.join(interrupted["workdir"], "checkpoints")
  steps = [s for s in os.listdir(ckpts) if s.isdigit()]
  assert len(steps) >= 2  # The newest two are kept for fallback.
  for s in steps:
    assert verify_manifest(os.path.join(ckpts, s)) is None, s
