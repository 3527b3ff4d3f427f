"""Damaged checkpoints are detected, reported, set aside and skipped in
favour of the previous one; never loaded silently. Also the crash-safe
metrics file."""

import json
import os

import jax.numpy as jnp
import numpy as np
import pytest

from wtal_jax.training import run_files
from wtal_jax.training.checkpoints import (MANIFEST, Checkpointer,
                                           CheckpointMismatchError,
                                           verify_manifest)


def _state(step):
  return {"step": jnp.asarray(step, jnp.int32),
          "w": jnp.arange(64, dtype=jnp.float32) * (step + 1),
          "b": {"x": jnp.full((3, 5), float(step))}}


def _saved(tmp_path, steps=(1, 2, 3)):
  ckpt = Checkpointer(str(tmp_path))
  for s in steps:
    ckpt.save(s, _state(s))
  ckpt.close()
  return Checkpointer(str(tmp_path))


def _largest_file(step_dir):
  files = [os.path.join(r, n) for r, _, ns in os.walk(step_dir) for n in ns
           if n != MANIFEST]
  return max(files, key=os.path.getsize)


def _assert_state(restored, step):
  want = _state(step)
  assert int(restored["step"]) == step
  np.testing.assert_array_equal(restored["w"], want["w"])
  np.testing.assert_array_equal(restored["b"]["x"], want["b"]["x"])


def test_keeps_the_two_newest_and_restores_the_latest(tmp_path):
  ckpt = _saved(tmp_path)
  assert ckpt.all_steps() == [2, 3]
  for s in (2, 3):
    assert verify_manifest(ckpt.step_dir(s)) is None
  _assert_state(ckpt.restore_latest(_state(0)), 3)


@pytest.mark.parametrize("damage", ["truncate", "flip", "no_manifest",
                                    "delete"])
def test_damaged_latest_falls_back_to_previous(tmp_path, capsys, damage):
  ckpt = _saved(tmp_path)
  ckpt.close()
  step_dir = os.path.join(tmp_path, "checkpoints", "3")
  victim = _largest_file(step_dir)
  if damage == "truncate":
    with open(victim, "r+b") as f:
      f.truncate(os.path.getsize(victim) // 2)
  elif damage == "flip":  # Same size, one byte changed.
    with open(victim, "r+b") as f:
      f.seek(os.path.getsize(victim) // 2)
      byte = f.read(1)
      f.seek(-1, os.SEEK_CUR)
      f.write(bytes([byte[0] ^ 0xFF]))
  elif damage == "no_manifest":  # Killed between the save and the manifest.
    os.remove(os.path.join(step_dir, MANIFEST))
  else:
    os.remove(victim)
  ckpt = Checkpointer(str(tmp_path))
  _assert_state(ckpt.restore_latest(_state(0)), 2)
  err = capsys.readouterr().err
  assert "Checkpoint of step 3" in err and "damaged" in err
  assert ckpt.all_steps() == [2]
  (aside,) = os.listdir(os.path.join(tmp_path, "checkpoints.corrupt"))
  assert aside.startswith("3-")
  # Training goes on and saves step 3 again, next to step 2.
  ckpt.save(3, _state(3))
  assert ckpt.all_steps() == [2, 3]


def test_all_damaged_gives_a_fresh_start(tmp_path, capsys):
  ckpt = _saved(tmp_path)
  ckpt.close()
  for s in (2, 3):
    os.remove(os.path.join(tmp_path, "checkpoints", str(s), MANIFEST))
  ckpt = Checkpointer(str(tmp_path))
  assert ckpt.restore_latest(_state(0)) is None
  err = capsys.readouterr().err
  assert "step 3" in err and "step 2" in err
  assert ckpt.all_steps() == []


@pytest.mark.parametrize("template", [
    {"other": jnp.zeros((7,))},  # Another tree.
    {"step": jnp.zeros((), jnp.int32), "w": jnp.zeros((65,)),  # A shape.
     "b": {"x": jnp.zeros((3, 5))}}])
def test_intact_checkpoint_that_does_not_fit_raises(tmp_path, template):
  # A changed config is not damage: falling back would hide it. The error is
  # the user's (a workdir of another config), so it says what to do.
  ckpt = _saved(tmp_path)
  with pytest.raises(CheckpointMismatchError,
                     match="step 3 .* does not fit this config .*--workdir"):
    ckpt.restore_latest(template)
  assert sorted(os.listdir(os.path.join(tmp_path, "checkpoints"))) == ["2", "3"]


def test_keep_recent_needs_a_predecessor(tmp_path):
  with pytest.raises(ValueError, match="keep_recent"):
    Checkpointer(str(tmp_path), keep_recent=1)


def test_trim_metrics_drops_replayed_steps_and_a_partial_line(tmp_path):
  lines = [{"step": s, "split": "train", "loss": float(s)} for s in range(1, 6)]
  lines.insert(3, {"step": 3, "split": "test", "avg_map": 0.1})
  text = "".join(json.dumps(l) + "\n" for l in lines) + '{"step": 6, "spl'
  (tmp_path / "metrics.jsonl").write_text(text)
  removed = run_files.trim_metrics(str(tmp_path), 3)
  kept = [json.loads(l) for l in
          (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert kept == [l for l in lines if l["step"] <= 3]
  assert removed == len(lines) + 1 - len(kept)
  assert run_files.trim_metrics(str(tmp_path), 3) == 0


def test_atomic_write_json_leaves_no_temporary_file(tmp_path):
  path = str(tmp_path / "final.json")
  run_files.atomic_write_json(path, {"a": 1})
  assert json.load(open(path)) == {"a": 1}
  assert os.listdir(tmp_path) == ["final.json"]
