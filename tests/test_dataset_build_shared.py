"""Processes that need the same generated dataset share one build: two jobs
started together on an empty data directory both finish, and in a
multi-process job only process 0 builds while the others wait for it."""

import os
import subprocess
import sys
import threading
import time

import ml_collections
import pytest

from data_prep import prepared, synthetic_thumos, writer

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _data_cfg(data_dir):
  return ml_collections.ConfigDict({
      "name": "synthetic_thumos", "builder_config": "tiny",
      "data_dir": str(data_dir)})


def test_two_jobs_started_together_on_an_empty_data_dir_both_finish(tmp_path):
  data_dir = tmp_path / "empty"
  data_dir.mkdir()
  env = {**os.environ, "JAX_PLATFORMS": "cpu",
         writer.DATA_DIR_ENV: str(data_dir)}
  procs = [subprocess.Popen(
      [sys.executable, "-m", "wtal_jax.main",
       "--config=configs/thumos_lgca.py:smoke",
       f"--workdir={tmp_path / f'run{i}'}"], cwd=ROOT, env=env,
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
           for i in range(2)]
  outs = [p.communicate(timeout=600)[0] for p in procs]
  for p, out in zip(procs, outs):
    assert p.returncode == 0, out[-3000:]
    assert "avg 0.10:0.70" in out
  # One of them built the dataset; the other used it.
  assert sum(o.count("Building dataset synthetic_thumos/tiny") for o in outs) == 1
  assert synthetic_thumos.is_built(str(data_dir), "tiny")
  assert not [f for f in os.listdir(data_dir / "synthetic_thumos" / "tiny")
              if f.startswith("incomplete")]


def test_concurrent_builders_build_once(tmp_path, monkeypatch):
  builds = []
  write = synthetic_thumos.SyntheticThumos.download_and_prepare

  def slow_write(self, *args, **kwargs):
    builds.append(self.data_dir)
    time.sleep(0.5)  # Long enough for the other builder to arrive.
    return write(self, *args, **kwargs)

  monkeypatch.setattr(synthetic_thumos.SyntheticThumos,
                      "download_and_prepare", slow_write)
  results = []
  # Each thread opens the lock file itself, so they exclude each other as
  # two processes would.
  threads = [threading.Thread(target=lambda: results.append(
      synthetic_thumos.build(str(tmp_path), "tiny"))) for _ in range(2)]
  for t in threads:
    t.start()
  for t in threads:
    t.join(timeout=300)
  out = synthetic_thumos.builder_dir(str(tmp_path), "tiny")
  assert results == [out, out]
  assert len(builds) == 1


def test_non_primary_process_waits_for_process_0(tmp_path):
  cfg = _data_cfg(tmp_path)
  timer = threading.Timer(
      0.5, lambda: synthetic_thumos.build(str(tmp_path), "tiny"))
  timer.start()
  try:
    dataset = prepared.open_dataset(cfg, process_index=1, process_count=2,
                                    wait_timeout_s=120)
  finally:
    timer.join()
  assert len(dataset.split("train")) > 0


def test_non_primary_process_names_what_it_waited_for(tmp_path):
  with pytest.raises(prepared.DatasetWaitTimeout) as e:
    prepared.open_dataset(_data_cfg(tmp_path), process_index=3,
                          process_count=4, wait_timeout_s=0.2)
  message = str(e.value)
  assert str(tmp_path) in message and "synthetic_thumos" in message
  assert "process 0" in message and "data_prep.build" in message
  assert not os.path.exists(tmp_path / "synthetic_thumos")  # It built nothing.


def test_a_held_lock_times_out_with_a_message(tmp_path):
  out = synthetic_thumos.builder_dir(str(tmp_path), "tiny")
  with writer.build_lock(out):
    # flock locks are per open file: a second open in this process blocks.
    with pytest.raises(writer.BuildLockTimeout, match="tiny/1.0.0.lock"):
      with writer.build_lock(out, timeout_s=0.3):
        pass
