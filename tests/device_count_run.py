"""Runs a few smoke-config train steps on N forced CPU devices in float64 and
prints the step metrics and the parameters as JSON. Used by test_parallel.py,
which launches it in fresh processes (the device count and x64 mode are fixed
at JAX start-up).

Why float64: the device count changes the order in which the batch is summed.
In float32 that rounding difference (~1e-7 of the summands) is amplified by
Adam, which divides each gradient by its own RMS: on a gradient near zero it
becomes a visible share of an lr-sized step, by an amount that depends on the
CPU's vector width. In float64 the same difference is ~1e-16, far below Adam's
epsilon, so a tight comparison tests the update rule and not the CPU.

  python tests/device_count_run.py --devices=4 --data_dir=DIR --steps=3
"""

import argparse
import json
import os
import sys


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--devices", type=int, required=True)
  parser.add_argument("--data_dir", required=True)
  parser.add_argument("--steps", type=int, default=3)
  args = parser.parse_args()
  os.environ["XLA_FLAGS"] = (
      f"--xla_force_host_platform_device_count={args.devices}")
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  jax.config.update("jax_platforms", "cpu")
  jax.config.update("jax_disable_most_optimizations", True)
  jax.config.update("jax_enable_x64", True)
  from wtal_jax import config_lib  # pylint: disable=g-import-not-at-top
  from wtal_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  from wtal_jax import parallel  # pylint: disable=g-import-not-at-top
  from wtal_jax.training import steps  # pylint: disable=g-import-not-at-top
  from wtal_jax.training.train import Experiment  # pylint: disable=g-import-not-at-top

  root = os.path.join(os.path.dirname(__file__), "..")
  config = config_lib.load_config(
      os.path.join(root, "configs/thumos_lgca_caav.py:smoke"))
  config.data.data_dir = args.data_dir
  exp = Experiment(config)
  assert jax.device_count() == args.devices

  def f64(tree):
    return jax.tree_util.tree_map(
        lambda x: x.astype(np.float64)
        if np.issubdtype(x.dtype, np.floating) else x, tree)

  # The model initialises float32 parameters; cast the state and the inputs
  # so that every product, and so every sum, is float64.
  state = jax.device_put(f64(exp.initial_state()),
                         parallel.replicated_sharding(exp.mesh))
  train_step = steps.make_train_step(exp.model, exp.head_spec,
                                     exp.head_cfg, exp.tx, exp.mesh)
  batcher = pipeline.TrainBatcher(
      exp.dataset.split("train"), exp.groups, config.train.batch_size,
      config.data.num_pairs, config.data.num_snippets,
      config.data.snippet_sampling, config.seed,
      rows=parallel.local_rows(exp.mesh, config.train.batch_size),
      stats=exp.stats)
  records = []
  for step in range(args.steps):
    batch = batcher.batch(step)
    batch.pop("video_index")
    global_batch = parallel.to_global(f64(batch), exp.mesh,
                                      config.train.batch_size)
    state, metrics = train_step(state, global_batch, exp.train_key)
    assert np.asarray(metrics["loss"]).dtype == np.float64
    records.append({k: float(np.asarray(v)) for k, v in metrics.items()
                    if k.startswith("loss") or k == "grad_norm"})
  leaves = jax.tree_util.tree_leaves(parallel.to_host(state.params))
  json.dump({"metrics": records,
             "params": [np.asarray(x, np.float64).ravel().tolist()
                        for x in leaves]}, sys.stdout)


if __name__ == "__main__":
  main()
