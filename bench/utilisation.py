"""How much of this machine's FLOP rate training, evaluation and prediction
use, at the ``:synthetic`` shapes.

1. The peak: a jitted float32 matmul large enough to saturate the machine,
   in GFLOP/s (the best of a few sizes).
2. Training, for each head with its own fusion and with LGCA: the FLOPs of
   one compiled train step (XLA's cost analysis), checked against three
   times the forward FLOPs of ``analysis.flops`` (backward about twice the
   forward); the median step time after warm-up; GFLOP/s and the fraction of
   the peak; LGCA's step time and FLOPs over its head's own fusion's.
3. The evaluation pass of the default config over the test split (model
   outputs only, then post-processing and scoring), and
   ``Localizer.predict_many`` over the same videos: snippets/s, GFLOP/s of
   the useful forward FLOPs (each video at its own length) and the fraction
   of the peak.

The load average is recorded at the start and at the end; above
``--max_load`` at the start the bench refuses to report (another job would
distort every number) and says so.

  python bench/utilisation.py [--heads=um,asl,threec] [--steps=20]
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

# pylint: disable=g-import-not-at-top,wrong-import-position
from bench import report
from bench.head_runs import config_for, thumos_configs
from data_prep.prepared import open_dataset
from wtal_jax import analysis, config_lib, parallel
from wtal_jax.data import pipeline
from wtal_jax.evaluation import runner
from wtal_jax.evaluation.postprocess import from_eval_config
from wtal_jax.inference import Localizer
from wtal_jax.models.heads import HEADS
from wtal_jax.models.model import build_model, head_config
from wtal_jax.training import inference_file, steps
from wtal_jax.training.state import create_train_state, make_optimizer
from wtal_jax.training.train import Experiment

_HEADS = flags.DEFINE_list("heads", ["um", "asl", "threec", "hamnet",
                                     "co2net", "caav"], "Heads to time.")
_FUSIONS = flags.DEFINE_list("fusions", ["own", "lgca"], "Fusions to time.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed train steps per model.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed evaluation passes.")
_CONFIG = flags.DEFINE_string(
    "config", os.path.join(ROOT, "configs/thumos_lgca.py:synthetic"),
    "Config of the evaluation and prediction passes.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Dataset directory of the "
                                "passes ('' = the default).")
_MAX_LOAD = flags.DEFINE_float("max_load", 1.5, "Refuse to report above this "
                               "1-minute load average at the start.")
_OUT = flags.DEFINE_string("output_dir", os.path.join(ROOT, "bench",
                                                      "results"),
                           "Where the table and JSON go.")


def peak_gflops(sizes=(1024, 2048, 3072), repeats: int = 5) -> dict:
  """The best float32 matmul rate over a few sizes."""
  best = {}
  for n in sizes:
    a = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    times = []
    for _ in range(repeats):
      t0 = time.perf_counter()
      f(a).block_until_ready()
      times.append(time.perf_counter() - t0)
    rate = 2 * n ** 3 / min(times) / 1e9
    if rate > best.get("gflops", 0.0):
      best = {"gflops": rate, "size": n}
  return best


def _compiled_flops(fn, *args) -> float:
  analysis_ = fn.lower(*args).compile().cost_analysis()
  if isinstance(analysis_, (list, tuple)):
    analysis_ = analysis_[0]
  return float(analysis_["flops"])


def train_step_row(config, name: str, modality_dims) -> dict:
  """FLOPs and median time of one train step of ``config``."""
  groups = pipeline.parse_modalities(config.data.modalities)
  dims = pipeline.group_dims(groups, modality_dims)
  batch, length = config.train.batch_size, config.data.num_snippets
  model = build_model(config.model, 20)
  tx = make_optimizer(config.train)
  mesh = parallel.make_mesh()
  state = jax.device_put(
      create_train_state(model, tx, dims, jax.random.PRNGKey(0)),
      parallel.replicated_sharding(mesh))
  step = steps.make_train_step(model, HEADS.get(config.model.head.kind),
                               head_config(config.model), tx, mesh)
  rng = np.random.default_rng(0)
  labels = np.zeros((batch, 20), np.float32)
  labels[np.arange(batch), (np.arange(batch) // 2) % 20] = 1
  data = parallel.to_global({
      "inputs": tuple(0.6 * rng.random((batch, length, d), dtype=np.float32)
                      for d in dims),
      "mask": np.ones((batch, length), bool), "labels": labels,
      "counts": labels.copy(),
      "slot": np.arange(batch, dtype=np.int32)}, mesh, batch)
  key = jax.random.PRNGKey(1)
  step_flops = _compiled_flops(step, state, data, key)
  forward = analysis.flops(config, video_length=length, input_dims=dims,
                           num_classes=20).per_video["total"] * batch
  for _ in range(3):
    state, metrics = step(state, data, key)
  jax.block_until_ready(metrics)
  times = []
  for _ in range(_STEPS.value):
    t0 = time.perf_counter()
    state, metrics = step(state, data, key)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t0)
  seconds = statistics.median(times)
  return {"name": name, "fusion": config.model.fusion.kind,
          "head": config.model.head.kind, "batch": batch, "length": length,
          "step_gflop": step_flops / 1e9,
          "step_over_3x_forward": step_flops / (3 * forward),
          "step_ms": 1e3 * seconds, "gflops": step_flops / seconds / 1e9}


def _forward_flops(config, dims, lengths) -> float:
  """Useful forward FLOPs of the model over videos of ``lengths``: the
  cost is ``a T + b T^2`` (cross-attention is quadratic), fitted on two
  lengths."""
  t1, t2 = 256, 512
  f1, f2 = (analysis.flops(config, video_length=t, input_dims=dims,
                           num_classes=20).per_video["total"]
            for t in (t1, t2))
  b = (f2 / t2 - f1 / t1) / (t2 - t1)
  a = f1 / t1 - b * t1
  lengths = np.asarray(lengths, np.float64)
  return float(np.sum(a * lengths + b * lengths ** 2))


def pass_rows(config) -> list[dict]:
  """The evaluation pass and ``predict_many`` over the test split."""
  exp = Experiment(config)
  split = exp.dataset.split(config.data.test_split)
  state = exp.initial_state()
  variables = steps.variables_of(state)
  lengths = split.index.video_length_V
  flops = _forward_flops(config, exp.input_dims, lengths)
  snippets = int(np.sum(lengths))
  rows = []

  def timed(fn):
    fn()  # Compiles every bucket.
    times = []
    for _ in range(_REPEATS.value):
      t0 = time.perf_counter()
      fn()
      times.append(time.perf_counter() - t0)
    return statistics.median(times)

  outputs = []
  model_s = timed(lambda: outputs.append(runner.run_inference(
      exp.eval_step, variables, split, exp.groups, exp.mesh, config.eval,
      exp.stats)))
  recipe = from_eval_config(config.eval)
  post_s = timed(lambda: runner.detect(outputs[-1], *recipe))
  meta = inference_file.from_experiment(exp, *recipe)
  localizer = Localizer(config, meta, variables, step=0)
  videos = {}
  for i in range(len(split)):
    ex = split[i]
    videos[ex["video_id"]] = {m: np.asarray(ex[m])
                              for m in meta.required_modalities}
  predict_s = timed(lambda: localizer.predict_many(videos))
  for name, seconds, useful in (
      ("evaluation: model pass", model_s, flops),
      ("evaluation: post-processing", post_s, 0.0),
      ("evaluation: total", model_s + post_s, flops),
      ("predict_many", predict_s, flops)):
    rows.append({"name": name, "seconds": seconds,
                 "snippets_per_s": snippets / seconds,
                 "gflops": useful / seconds / 1e9})
  return rows


def main(argv):
  del argv
  load_start = os.getloadavg()[0]
  if load_start > _MAX_LOAD.value:
    print(f"Refusing to report: the 1-minute load average is {load_start:.2f}"
          f" (above {_MAX_LOAD.value}); other jobs share the CPU and would "
          "distort every rate. Run it on an idle machine.")
    return 1
  peak = peak_gflops()
  found = thumos_configs()
  quarter = {"rgb": 256, "flow": 256, "audio": 32}
  train_rows = []
  for head in _HEADS.value:
    for fusion in _FUSIONS.value:
      _, config = config_for(head, fusion, found)
      train_rows.append(train_step_row(config, f"{head} + {fusion}", quarter))
  config = config_lib.load_config(_CONFIG.value)
  config.data.data_dir = _DATA_DIR.value
  # Open (or build) the dataset once, before timing.
  open_dataset(config.data)
  pass_rows_ = pass_rows(config)
  load_end = os.getloadavg()[0]
  for r in train_rows + pass_rows_:
    r["fraction_of_peak"] = r["gflops"] / peak["gflops"]
  lines = [f"Peak: {peak['gflops']:.1f} GFLOP/s (float32 matmul "
           f"{peak['size']}²). Load average {load_start:.2f} at the start, "
           f"{load_end:.2f} at the end.", "",
           "| train step | GFLOP | XLA / (3 × forward) | ms | GFLOP/s | "
           "of peak | time / own | FLOPs / own |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
  own = {r["head"]: r for r in train_rows if r["name"].endswith("+ own")}
  for r in train_rows:
    base = own.get(r["head"])
    ratios = (f"{r['step_ms'] / base['step_ms']:.2f} | "
              f"{r['step_gflop'] / base['step_gflop']:.2f}"
              if base and base is not r else "- | -")
    lines.append(f"| {r['name']} | {r['step_gflop']:.2f} | "
                 f"{r['step_over_3x_forward']:.2f} | {r['step_ms']:.1f} | "
                 f"{r['gflops']:.1f} | {100 * r['fraction_of_peak']:.0f}% | "
                 f"{ratios} |")
  lines += ["", "| pass (default config, test split) | seconds | snippets/s "
            "| GFLOP/s | of peak |", "| --- | ---: | ---: | ---: | ---: |"]
  for r in pass_rows_:
    lines.append(f"| {r['name']} | {r['seconds']:.2f} | "
                 f"{r['snippets_per_s']:.0f} | {r['gflops']:.1f} | "
                 f"{100 * r['fraction_of_peak']:.0f}% |")
  table = "\n".join(lines)
  print(table)
  report.write(_OUT.value, "utilisation", table, {
      "machine": report.machine(load_start, load_end, jax=jax.__version__),
      "peak": peak, "train": train_rows, "passes": pass_rows_})
  return 0


if __name__ == "__main__":
  app.run(main)
