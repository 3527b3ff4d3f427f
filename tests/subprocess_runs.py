"""Helpers for tests that run ``python -m wtal_jax.main`` in subprocesses.

Every run uses the smoke config on the tiny dataset, CPU only, XLA's fast
compile mode and a persistent compilation cache shared by the session's runs
(identical programs then compile once, which also keeps the executables of
compared runs identical). The uninterrupted reference run is made once per
session and shared by the test files that compare against it.

Single-process runs use two CPU devices, the layout of a 2-process job with
one device each: the batch is then split and summed the same way in both, so
their comparison does not depend on the CPU's rounding (that the split itself
does not change the update is test_parallel.py's subject).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CONFIG = os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke")
LAUNCHER = os.path.join(ROOT, "launch", "local.py")
NUM_STEPS = 6
DEVICES = 2


def main_args(workdir: str, data_dir: str) -> list[str]:
  """Flags of a 6-step run that logs and checkpoints every step."""
  return [f"--config={CONFIG}", f"--workdir={workdir}",
          f"--config.data.data_dir={data_dir}",
          f"--config.train.num_steps={NUM_STEPS}",
          "--config.train.log_every=1", "--config.train.checkpoint_every=1",
          f"--config.train.eval_every={NUM_STEPS}"]


def env(cache_dir: str) -> dict[str, str]:
  return {**os.environ, "JAX_PLATFORMS": "cpu",
          "JAX_DISABLE_MOST_OPTIMIZATIONS": "true",
          "JAX_COMPILATION_CACHE_DIR": cache_dir,
          "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
          "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
          "XLA_FLAGS": f"--xla_force_host_platform_device_count={DEVICES}"}


def start(workdir: str, data_dir: str, cache_dir: str) -> subprocess.Popen:
  """Starts a single-process run (stdout and stderr to ``workdir.log``)."""
  log = open(workdir + ".log", "ab")  # pylint: disable=consider-using-with
  return subprocess.Popen(
      [sys.executable, "-m", "wtal_jax.main", *main_args(workdir, data_dir)],
      cwd=ROOT, env=env(cache_dir), stdout=log, stderr=subprocess.STDOUT)


def run(workdir: str, data_dir: str, cache_dir: str) -> str:
  """Runs to completion; returns the log. Raises on failure."""
  p = start(workdir, data_dir, cache_dir)
  p.wait(timeout=600)
  log = read_log(workdir)
  if p.returncode:
    raise AssertionError(f"run failed ({p.returncode}):\n{log[-4000:]}")
  return log


def read_log(workdir: str) -> str:
  with open(workdir + ".log", encoding="utf-8", errors="replace") as f:
    return f.read()


def reference_run(tmp_path_factory, data_dir: str) -> str:
  """The uninterrupted single-process run, made once per session."""
  base = tmp_path_factory.getbasetemp()
  workdir = str(base / "reference_run")
  if not os.path.exists(os.path.join(workdir, "final_metrics.json")):
    run(workdir, data_dir, cache_dir(tmp_path_factory))
  return workdir


def cache_dir(tmp_path_factory) -> str:
  path = tmp_path_factory.getbasetemp() / "jax_compilation_cache"
  path.mkdir(exist_ok=True)
  return str(path)


def logged_steps(workdir: str) -> list[int]:
  """Train steps in ``metrics.jsonl`` so far (tolerates a partial line)."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  steps = []
  with open(path, encoding="utf-8") as f:
    for line in f:
      try:
        rec = json.loads(line)
      except ValueError:
        continue
      if rec.get("split") == "train":
        steps.append(rec["step"])
  return steps


def wait_for_step(p: subprocess.Popen, workdir: str, step: int,
                  timeout: float = 300) -> None:
  """Waits until the run has logged train step ``step``."""
  deadline = time.time() + timeout
  while time.time() < deadline:
    if any(s >= step for s in logged_steps(workdir)):
      return
    if p.poll() is not None:
      raise AssertionError(f"run ended ({p.returncode}) before step {step}:\n"
                           f"{read_log(workdir)[-4000:]}")
    time.sleep(0.02)
  raise AssertionError(f"step {step} not reached in {timeout}s")


def train_records(workdir: str) -> dict[int, dict]:
  """``{step: metrics}`` of the train lines; asserts each step appears once."""
  records = {}
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    for line in f:
      rec = json.loads(line)
      if rec["split"] == "train":
        assert rec["step"] not in records, f"step {rec['step']} logged twice"
        records[rec["step"]] = rec
  return records


def final_metrics(workdir: str) -> dict:
  with open(os.path.join(workdir, "final_metrics.json"), encoding="utf-8") as f:
    return json.load(f)


def checkpoint_leaves(workdir: str, step: int) -> list[np.ndarray]:
  """Every array of the checkpoint of ``step`` (params and optimizer)."""
  import jax  # pylint: disable=g-import-not-at-top
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  path = os.path.join(workdir, "checkpoints", str(step), "default")
  # Restored onto this process's one device, whatever devices saved it.
  device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  with ocp.StandardCheckpointer() as ckptr:
    meta = ckptr.metadata(path)
    meta = getattr(meta, "item_metadata", meta)
    target = jax.tree_util.tree_map(
        lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
        meta.tree if hasattr(meta, "tree") else meta)
    tree = ckptr.restore(path, target)
  return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]
