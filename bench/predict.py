r"""Inference throughput: videos per second of ``Localizer.predict_many``.

Runs a model over the synthetic THUMOS-shaped test split (212 videos) the
way ``python -m wtal_jax.predict`` does: features checked, normalised,
batched into the evaluation's length buckets, run, post-processed. The
first pass includes compiling the step once per bucket; the later passes are
warm and give the throughput.

The model is a trained run (``--workdir``, restored with
``Localizer.from_workdir``) or, without one, the default model
(``configs/thumos_lgca.py:synthetic``, LGCA + UM) at its initial parameters;
the output says which. Throughput does not depend on the parameters' values.

  python bench/predict.py [--workdir=RUN] [--repeats=2] [--num_videos=0] \
      [--output_json=bench/results/predict-<time>.json]

Prints a table and writes JSON so runs can be compared.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time

import jax
import numpy as np
from absl import app, flags

from wtal_jax import Localizer, config_lib
from wtal_jax.data import pipeline
from data_prep.prepared import open_dataset
from wtal_jax.training import inference_file as metadata_lib
from wtal_jax.training import steps
from wtal_jax.evaluation.postprocess import from_eval_config
from wtal_jax.training.train import Experiment

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT_CONFIG = os.path.join(ROOT, "configs/thumos_lgca.py:synthetic")

_WORKDIR = flags.DEFINE_string(
    "workdir", "", "A trained run; default: the untrained default model.")
_CONFIG = flags.DEFINE_string(
    "config", DEFAULT_CONFIG, "Config of the untrained model (no --workdir).")
_REPEATS = flags.DEFINE_integer("repeats", 2, "Warm passes timed.",
                                lower_bound=1)
_NUM_VIDEOS = flags.DEFINE_integer(
    "num_videos", 0, "Test videos used (0: the whole split).", lower_bound=0)
_OUTPUT = flags.DEFINE_string(
    "output_json", "", "Result file; default "
    "bench/results/predict-<YYYYmmdd-HHMMSS>.json.")


def untrained_localizer(config) -> tuple[Localizer, Experiment]:
  """The config's model at its initial parameters, with the metadata
  training would write."""
  exp = Experiment(config)
  meta = metadata_lib.from_experiment(exp, *from_eval_config(config.eval))
  variables = steps.variables_of(exp.initial_state())
  return Localizer(config, meta, variables, step=0), exp


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _WORKDIR.value:
    localizer = Localizer.from_workdir(_WORKDIR.value)
    config = localizer.config
    model = f"trained run {_WORKDIR.value}, step {localizer.step}"
  else:
    config = config_lib.load_config(_CONFIG.value)
    localizer, _ = untrained_localizer(config)
    model = ("untrained (initial parameters) "
             f"{os.path.relpath(_CONFIG.value, ROOT)}")
  split = open_dataset(config.data).split(config.data.test_split)
  n = len(split) if not _NUM_VIDEOS.value else min(_NUM_VIDEOS.value,
                                                   len(split))
  modalities = localizer.metadata.required_modalities
  videos = {}
  for i in range(n):
    ex = split[i]
    videos[ex["video_id"]] = {m: np.asarray(ex[m]) for m in modalities}
  snippets = int(sum(v[modalities[0]].shape[0] for v in videos.values()))

  def timed():
    t0 = time.perf_counter()
    preds = localizer.predict_many(videos)
    jax.block_until_ready(preds.videos[-1].cas_TxC)
    return time.perf_counter() - t0, preds

  load_before = os.getloadavg()[0]
  first, preds = timed()
  warm = [timed()[0] for _ in range(_REPEATS.value)]
  seconds = statistics.median(warm)
  buckets = sorted({pipeline.bucket_length(v[modalities[0]].shape[0],
                                           config.eval.buckets)
                    for v in videos.values()})
  cfg = localizer.config
  record = {
      "bench": "predict",
      "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
      "machine": {"platform": platform.platform(), "python": sys.version,
                  "jax": jax.__version__, "devices": str(jax.devices()),
                  "cpu_count": os.cpu_count(),
                  # The machine may be shared: other jobs slow the bench.
                  "load_average_1min": {"start": load_before,
                                        "end": os.getloadavg()[0]}},
      "model": model,
      "fusion": cfg.model.fusion.kind, "head": cfg.model.head.kind,
      "dataset": f"{config.data.name}/{config.data.builder_config}",
      "videos": n, "snippets": snippets, "buckets": buckets,
      "segments": len(preds.detections),
      "first_pass_seconds": first, "warm_seconds": warm,
      "videos_per_second": n / seconds,
      "snippets_per_second": snippets / seconds,
  }
  print(f"predict_many: {model}; {cfg.model.fusion.kind} + "
        f"{cfg.model.head.kind}; {record['dataset']} test split")
  print("| videos | snippets | buckets | first pass (s, with compiles) | "
        "warm pass (s) | videos/s | snippets/s |")
  print("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
  print(f"| {n} | {snippets} | {', '.join(map(str, buckets))} | {first:.2f} "
        f"| {seconds:.2f} | {n / seconds:.1f} | {snippets / seconds:.0f} |")
  stamp = time.strftime("%Y%m%d-%H%M%S")
  path = _OUTPUT.value or os.path.join(ROOT, "bench", "results",
                                       f"predict-{stamp}.json")
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)
  print(f"Wrote {path}")



if __name__ == "__main__":
  app.run(main)
