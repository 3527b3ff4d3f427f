"""Weak scaling of the data-parallel train step over devices and processes.

Each setting runs in fresh processes (the device count is fixed when JAX
starts) with a fixed batch per device, so the global batch grows with the
device count. Reported per setting: compile time, step time, examples per
second and the weak-scaling efficiency ``step_time(1 device) /
step_time(setting)`` (1.0 = perfect). Settings: 1, 2, 4, 8 forced CPU devices
in one process, and 1 vs 2 processes of one CPU device each, joined through
``jax.distributed`` over loopback (launch/local.py).

Forced CPU devices share this machine's cores, so on a machine with fewer
cores than devices the efficiency measures the step's overhead and the
cores' contention, not a real accelerator's scaling.

  python bench/scaling.py [--config=configs/thumos_lgca_caav.py:smoke]
      [--devices=1,2,4,8] [--processes=1,2] [--per_device_batch=2]
      [--num_snippets=64] [--steps=10]

Prints a Markdown table and writes bench/results/scaling-<time>.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

from absl import app, flags

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MARK = "SCALING_RESULT "

_CONFIG = flags.DEFINE_string("config", "configs/thumos_lgca_caav.py:smoke",
                              "Config whose model and head are timed.")
_DEVICES = flags.DEFINE_list("devices", ["1", "2", "4", "8"],
                             "Forced CPU device counts (one process).")
_PROCESSES = flags.DEFINE_list("processes", ["1", "2"],
                               "Process counts (one CPU device each).")
_PER_DEVICE = flags.DEFINE_integer("per_device_batch", 2,
                                   "Videos per device (weak scaling).")
_SNIPPETS = flags.DEFINE_integer("num_snippets", 64, "Training length L.")
_DIMS = flags.DEFINE_list("input_dims", ["64", "64"],
                          "Feature width of each modality group.")
_CLASSES = flags.DEFINE_integer("num_classes", 20, "Number of classes.")
_STEPS = flags.DEFINE_integer("steps", 10, "Timed steps per setting.")
_OUT_DIR = flags.DEFINE_string("output_dir", os.path.join(ROOT, "bench",
                                                          "results"),
                               "Where the JSON goes.")
_WORKER = flags.DEFINE_bool("worker", False, "Internal: time one setting.")
_COORDINATOR = flags.DEFINE_string("coordinator_address", None, "Internal.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Internal.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "Internal.")


def _local_batch(rows, length, dims, num_classes):
  """The rows ``rows`` of a global random batch (row r seeded by r)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  per_row = [np.random.default_rng(r) for r in rows]
  labels = np.zeros((len(rows), num_classes), np.float32)
  labels[np.arange(len(rows)), np.asarray(rows) // 2 % num_classes] = 1
  return {
      "inputs": tuple(np.stack([g.random((length, d), dtype=np.float32)
                                for g in per_row]) for d in dims),
      "mask": np.ones((len(rows), length), bool),
      "labels": labels,
      "slot": np.asarray(rows, np.int32),
  }


def worker() -> None:
  """Times the train step in this process (or this multi-process job)."""
  from wtal_jax.training import distributed  # pylint: disable=g-import-not-at-top
  distributed.initialize(distributed.resolve(
      _COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value,
      tpu_auto=False))
  import jax  # pylint: disable=g-import-not-at-top
  from wtal_jax import config_lib  # pylint: disable=g-import-not-at-top
  from wtal_jax.models.heads import HEADS  # pylint: disable=g-import-not-at-top
  from wtal_jax.models.model import build_model, head_config  # pylint: disable=g-import-not-at-top
  from wtal_jax import parallel  # pylint: disable=g-import-not-at-top
  from wtal_jax.training import steps  # pylint: disable=g-import-not-at-top
  from wtal_jax.training.state import create_train_state, make_optimizer  # pylint: disable=g-import-not-at-top

  config = config_lib.load_config(os.path.join(ROOT, _CONFIG.value))
  dims = tuple(int(d) for d in _DIMS.value)
  batch = _PER_DEVICE.value * jax.device_count()
  model = build_model(config.model, _CLASSES.value)
  tx = make_optimizer(config.train)
  mesh = parallel.make_mesh()
  state = jax.device_put(create_train_state(model, tx, dims,
                                            jax.random.PRNGKey(0)),
                         parallel.replicated_sharding(mesh))
  step_fn = steps.make_train_step(model, HEADS.get(config.model.head.kind),
                                  head_config(config.model), tx, mesh)
  rows = list(parallel.local_rows(mesh, batch))
  data = parallel.to_global(
      _local_batch(rows, _SNIPPETS.value, dims, _CLASSES.value), mesh, batch)
  key = jax.random.PRNGKey(1)
  t0 = time.perf_counter()
  state, metrics = step_fn(state, data, key)
  jax.block_until_ready(metrics)
  compile_s = time.perf_counter() - t0
  distributed.barrier("scaling_start")
  t0 = time.perf_counter()
  for _ in range(_STEPS.value):
    state, metrics = step_fn(state, data, key)
  jax.block_until_ready(metrics)
  step_s = (time.perf_counter() - t0) / _STEPS.value
  if distributed.is_primary():
    print(MARK + json.dumps({
        "processes": jax.process_count(), "devices": jax.device_count(),
        "global_batch": batch, "compile_s": compile_s, "step_s": step_s,
        "examples_per_s": batch / step_s}), flush=True)


def _worker_flags() -> list[str]:
  return ["--worker", f"--config={_CONFIG.value}",
          f"--per_device_batch={_PER_DEVICE.value}",
          f"--num_snippets={_SNIPPETS.value}",
          f"--input_dims={','.join(_DIMS.value)}",
          f"--num_classes={_CLASSES.value}", f"--steps={_STEPS.value}"]


def _env(devices: int) -> dict[str, str]:
  return {**os.environ, "JAX_PLATFORMS": "cpu",
          "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}


def _parse(stdout: str, what: str) -> dict:
  for line in stdout.splitlines():
    if MARK in line:
      return json.loads(line.split(MARK, 1)[1])
  raise RuntimeError(f"{what} printed no result:\n{stdout[-3000:]}")


def run_devices(devices: int) -> dict:
  out = subprocess.run([sys.executable, __file__, *_worker_flags()],
                       env=_env(devices), cwd=ROOT, capture_output=True,
                       text=True, check=False)
  return {"setting": f"1 process x {devices} device(s)",
          **_parse(out.stdout + out.stderr, f"{devices} devices")}


def run_processes(processes: int) -> dict:
  launcher = os.path.join(ROOT, "launch", "local.py")
  out = subprocess.run(
      [sys.executable, launcher, f"--num_processes={processes}",
       "--devices_per_process=1", f"--script={__file__}", "--",
       *_worker_flags()],
      env=_env(1), cwd=ROOT, capture_output=True, text=True, check=False)
  return {"setting": f"{processes} process(es) x 1 device",
          **_parse(out.stdout + out.stderr, f"{processes} processes")}


def with_efficiency(rows: list[dict]) -> list[dict]:
  """Adds ``efficiency = step_s(first row) / step_s(row)`` to each row."""
  base = rows[0]["step_s"]
  return [{**r, "efficiency": base / r["step_s"]} for r in rows]


def table(rows: list[dict]) -> str:
  lines = ["| setting | global batch | compile s | step ms | examples/s | "
           "weak-scaling efficiency |", "|---|---:|---:|---:|---:|---:|"]
  for r in rows:
    lines.append(f"| {r['setting']} | {r['global_batch']} | "
                 f"{r['compile_s']:.1f} | {1e3 * r['step_s']:.1f} | "
                 f"{r['examples_per_s']:.1f} | {r['efficiency']:.2f} |")
  return "\n".join(lines)


def main(argv):
  del argv
  if _WORKER.value:
    worker()
    return
  device_rows = with_efficiency(
      [run_devices(int(d)) for d in _DEVICES.value])
  process_rows = with_efficiency(
      [run_processes(int(p)) for p in _PROCESSES.value])
  print(f"\nWeak scaling of the train step ({_CONFIG.value}, "
        f"{_PER_DEVICE.value} videos x {_SNIPPETS.value} snippets per device, "
        f"{os.cpu_count()} CPU cores)\n")
  print(table(device_rows))
  print()
  print(table(process_rows))
  os.makedirs(_OUT_DIR.value, exist_ok=True)
  path = os.path.join(_OUT_DIR.value,
                      f"scaling-{time.strftime('%Y%m%d-%H%M%S')}.json")
  with open(path, "w", encoding="utf-8") as f:
    json.dump({"machine": platform.processor() or platform.machine(),
               "cpu_count": os.cpu_count(), "config": _CONFIG.value,
               "per_device_batch": _PER_DEVICE.value,
               "num_snippets": _SNIPPETS.value, "steps": _STEPS.value,
               "devices": device_rows, "processes": process_rows}, f,
              indent=2)
  print(f"\nWrote {path}")


if __name__ == "__main__":
  app.run(main)
