"""Train-step throughput of a config on this machine.

Times the compiled data-parallel train step on random THUMOS-shaped batches
(no dataset needed): compile time, steps per second and videos per second.
Prints a table and writes JSON so runs can be compared.

  python bench/train_step.py --config=configs/thumos_lgca_caav.py \
      [--steps=5] [--num_snippets=750,256] [--batch_size=30]
"""

from __future__ import annotations

import json
import os
import platform
import time

import jax
import numpy as np
from absl import app, flags
from ml_collections import config_flags

from wtal_jax.models.heads import HEADS
from wtal_jax.models.model import build_model, head_config
from wtal_jax import parallel
from wtal_jax.training import steps
from wtal_jax.training.state import create_train_state, make_optimizer

_CONFIG = config_flags.DEFINE_config_file("config", "configs/thumos_lgca_caav.py",
                                          "Config to benchmark.")
_STEPS = flags.DEFINE_integer("steps", 5, "Timed steps per setting.")
_SNIPPETS = flags.DEFINE_list("num_snippets", [],
                              "Training lengths to time (default: config's).")
_BATCH = flags.DEFINE_integer("batch_size", 0, "Batch size (0: config's).")
_DIMS = flags.DEFINE_list("input_dims", ["1024", "1024"],
                          "Feature width of each modality group.")
_CLASSES = flags.DEFINE_integer("num_classes", 20, "Number of classes.")
_OUT = flags.DEFINE_string("output_json", "bench/results/train_step.json",
                           "Where to write the results.")


def _random_batch(rng, batch, length, dims, num_classes):
  labels = np.zeros((batch, num_classes), np.float32)
  labels[np.arange(batch), np.arange(batch) // 2 % num_classes] = 1
  return {
      "inputs": tuple(rng.random((batch, length, d), dtype=np.float32)
                      for d in dims),
      "mask": np.ones((batch, length), bool),
      "labels": labels,
      "slot": np.arange(batch, dtype=np.int32),
  }


def time_train_step(config, batch, length, dims, num_classes, num_steps):
  """Returns (compile seconds, seconds per step) of the compiled step."""
  model = build_model(config.model, num_classes)
  tx = make_optimizer(config.train)
  mesh = parallel.make_mesh()
  state = create_train_state(model, tx, dims, jax.random.PRNGKey(0))
  state = jax.device_put(state, parallel.replicated_sharding(mesh))
  step_fn = steps.make_train_step(model, HEADS.get(config.model.head.kind),
                                  head_config(config.model), tx, mesh)
  rng = np.random.default_rng(0)
  data = parallel.to_global(_random_batch(rng, batch, length, dims,
                                          num_classes), mesh, batch)
  key = jax.random.PRNGKey(1)
  t0 = time.perf_counter()
  state, metrics = step_fn(state, data, key)
  jax.block_until_ready(metrics)
  compile_s = time.perf_counter() - t0
  t0 = time.perf_counter()
  for _ in range(num_steps):
    state, metrics = step_fn(state, data, key)
  jax.block_until_ready(metrics)
  return compile_s, (time.perf_counter() - t0) / num_steps


def main(argv):
  del argv
  config = _CONFIG.value
  batch = _BATCH.value or config.train.batch_size
  lengths = [int(s) for s in _SNIPPETS.value] or [config.data.num_snippets]
  dims = tuple(int(d) for d in _DIMS.value)
  rows = []
  for length in lengths:
    compile_s, step_s = time_train_step(config, batch, length, dims,
                                        _CLASSES.value, _STEPS.value)
    rows.append({"fusion": config.model.fusion.kind,
                 "head": config.model.head.kind, "batch": batch,
                 "num_snippets": length, "compile_s": compile_s,
                 "step_s": step_s, "steps_per_s": 1 / step_s,
                 "videos_per_s": batch / step_s})
  print(f"\nTrain step, {jax.device_count()} {jax.devices()[0].platform} "
        f"device(s), {os.cpu_count()} cores")
  print("| fusion | head | batch | snippets | compile s | steps/s | videos/s |")
  print("|---|---|---|---|---|---|---|")
  for r in rows:
    print(f"| {r['fusion']} | {r['head']} | {r['batch']} | {r['num_snippets']} "
          f"| {r['compile_s']:.1f} | {r['steps_per_s']:.3f} "
          f"| {r['videos_per_s']:.2f} |")
  os.makedirs(os.path.dirname(_OUT.value) or ".", exist_ok=True)
  with open(_OUT.value, "w", encoding="utf-8") as f:
    json.dump({"machine": platform.processor() or platform.machine(),
               "devices": jax.device_count(), "jax": jax.__version__,
               "rows": rows}, f, indent=2)
  print(f"Wrote {_OUT.value}")


if __name__ == "__main__":
  app.run(main)
