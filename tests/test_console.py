"""What a newcomer sees on the console: progress lines without meaningless
rates, dataset builds that say what they build (not TFDS's download
messages), and warnings printed once."""

import io
import logging
import os

import pytest

from data_prep import synthetic_thumos
from wtal_jax.training import reporting
from wtal_jax.training.checkpoints import MANIFEST, Checkpointer


def _lines(progress_steps, start, total, clock):
  """Reports ``progress_steps`` (step, timing) with a fake clock."""
  out = io.StringIO()
  progress = reporting.Progress(start, total, stream=out)
  for step, timing in progress_steps:
    clock.append(clock[-1] + 1.0)
    progress.report(step, {"loss": 1.0}, timing=timing)
  return out.getvalue().splitlines()


@pytest.fixture
def clock(monkeypatch):
  times = [0.0]
  monkeypatch.setattr(reporting.time, "perf_counter", lambda: times[-1])
  return times


def test_progress_rate_and_eta(clock):
  lines = _lines([(2, True), (4, True), (4, False), (6, True)], 0, 6, clock)
  assert lines[0].endswith("| ETA ?")  # The first step includes compiling.
  assert "2.00 steps/s | ETA 1s" in lines[1]
  assert "steps/s" not in lines[2] and "ETA" not in lines[2]  # Evaluation.
  assert "steps/s" in lines[3] and "ETA" not in lines[3]  # Last step.


def test_resumed_run_final_line_has_no_empty_rate(clock):
  # Resumed at step 4 of 6, logging every 2 steps: the first line measured
  # is the last one.
  lines = _lines([(6, True), (6, False)], 4, 6, clock)
  for line in lines:
    assert "0.00 steps/s" not in line and "ETA" not in line, line


def test_dataset_build_says_what_it_builds(tmp_path, capfd):
  synthetic_thumos.build(str(tmp_path), "tiny")
  out = capfd.readouterr()
  text = out.out + out.err
  assert "Building dataset synthetic_thumos/tiny/1.0.0 in" in text
  assert "Downloading" not in text and "downloaded" not in text
  assert "Shuffling" not in text  # TFDS's per-file bars are off.


def test_damaged_checkpoint_is_reported_once(tmp_path, capsys, caplog):
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  ckpt = Checkpointer(str(tmp_path))
  for step in (1, 2):
    ckpt.save(step, {"w": jnp.full((3,), float(step))})
  ckpt.close()
  os.remove(os.path.join(tmp_path, "checkpoints", "2", MANIFEST))
  ckpt = Checkpointer(str(tmp_path))
  with caplog.at_level(logging.INFO):
    restored = ckpt.restore_latest({"w": jnp.zeros((3,))})
  ckpt.close()
  assert float(restored["w"][0]) == 1.0
  assert capsys.readouterr().err.count("Checkpoint of step 2") == 1
  assert not [r for r in caplog.records if "is damaged" in r.getMessage()]
