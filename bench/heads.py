"""Every registered head with its own fusion and with LGCA, at the
``:synthetic`` budget and over seeds, on the synthetic THUMOS-shaped data.

Rows are heads on RGB + flow, plus CAAV on audio-visual features
(``rgb+flow`` + ``audio``, with ``--audio_visual``). Columns are fusions:

* ``own``: the head's published fusion, from its config in ``configs/``:
  the raw concatenation for UM, ASL, HAM-Net and 3C-Net, CCM for CO2-Net and
  the two-stage cross-attention for CAAV;
* ``lgca``: the LGCA config of the head (one stage for the RGB-flow heads,
  two for CAAV), or, for a head without one, one-stage leaky LGCA placed as
  its recipe places it (``recipes.lgca``);
* a named variant of LGCA (``head_runs.VARIANTS``), e.g.
  ``lgca_xavier`` (Xavier gates instead of gates started on ``X``);
* any registered fusion kind, e.g. ``concat``: the head's recipe with that
  fusion.

Every run is the config's ``:synthetic`` variant (its steps, crops, batch
and width) unless ``--steps``, ``--num_snippets`` or ``--batch_size`` say
otherwise, trained and evaluated with ``train_and_evaluate``. ``--jobs=2``
runs two trainings at once (more only slows a 2-core machine). Writes a
Markdown table (per seed, mean and spread of the average mAP@[0.1:0.7];
classification mAP, predicted segments and LGCA's gate selection rates per
run) and the full metrics as JSON to ``bench/results/``.

  python bench/heads.py [--heads=um,asl] [--fusions=own,lgca] \
      [--seeds=0,1,2] [--jobs=2] [--steps=0] [--noaudio_visual] \
      [--norgb_flow] \
      [--workdir=DIR]

The synthetic dataset is built on first use. With ``--workdir`` the bench
can be stopped and re-run: a run whose workdir already holds
``final_metrics.json`` for the same config is read back instead of trained
again, and the table and JSON are rewritten after every run, so a stopped
bench leaves the rows it finished.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import tempfile
import time

from absl import app, flags, logging

ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

# pylint: disable=g-import-not-at-top,wrong-import-position
from bench import heads_table
from bench.head_runs import (AV_SUFFIX, budgeted, config_for,
                             finished_metrics, selection_rates, thumos_configs,
                             train, worker_pool)
from wtal_jax.models.heads import HEADS

_HEADS = flags.DEFINE_list("heads", [], "Head kinds (default: every "
                           "registered head).")
_FUSIONS = flags.DEFINE_list("fusions", ["own", "lgca"], "Fusion columns: "
                             "'own', 'lgca', a variant of LGCA "
                             "(lgca_xavier, ...) or a fusion kind.")
_AV = flags.DEFINE_boolean("audio_visual", True, "Also run CAAV on "
                           "audio-visual features (rgb+flow, audio).")
_RGB_FLOW = flags.DEFINE_boolean("rgb_flow", True, "Run the heads on RGB + "
                                 "flow (--norgb_flow --audio_visual: only "
                                 "the audio-visual rows).")
_STEPS = flags.DEFINE_integer("steps", 0, "Training steps of every run (0: "
                              "each config's :synthetic budget).")
_SNIPPETS = flags.DEFINE_integer("num_snippets", 0,
                                 "Training length (0: the synthetic "
                                 "variant's, 256).")
_BATCH = flags.DEFINE_integer("batch_size", 0, "Batch size (0: the synthetic "
                              "variant's, 10).")
_BUILDER = flags.DEFINE_string("builder_config", "",
                               "synthetic_thumos builder config ('': the "
                               "variant's), e.g. tiny.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Dataset directory ('' = "
                                "$WTAL_JAX_DATA_DIR or ~/tensorflow_datasets).")
_WORKDIR = flags.DEFINE_string("workdir", "", "Where runs go (default: a "
                               "temporary directory).")
_OUT = flags.DEFINE_string("output_dir", os.path.join(ROOT, "bench",
                                                      "results"),
                           "Where the table and JSON go.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Experiment seeds; the "
                           "table shows each, their mean and spread.")
_JOBS = flags.DEFINE_integer("jobs", 1, "Trainings at once (each in its own "
                             "process).", lower_bound=1)


def apply_budget(config, seed: int):
  """The run of ``config`` for ``seed`` at the bench's budget."""
  return budgeted(config, seed, steps=_STEPS.value, evaluations=1,
                  num_snippets=_SNIPPETS.value, batch_size=_BATCH.value,
                  builder_config=_BUILDER.value, data_dir=_DATA_DIR.value)


def table_rows(heads, found, rgb_flow: bool = True,
               audio_visual: bool = True) -> list[str]:
  """The rows to run: every head on RGB + flow (``--rgb_flow``), then the
  audio-visual ones (``--audio_visual``) whose head is among ``heads``."""
  out = list(heads) if rgb_flow else []
  if audio_visual:
    out += sorted({r for (r, _) in found if r.endswith(AV_SUFFIX)
                   and r.removesuffix(AV_SUFFIX) in heads})
  return out


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)  # Checkpointing logs every save.
  heads = _HEADS.value or HEADS.names()
  found = thumos_configs()
  workroot = _WORKDIR.value or tempfile.mkdtemp(prefix="bench_heads_")
  os.makedirs(workroot, exist_ok=True)
  budget = {"steps": _STEPS.value or ":synthetic",
            "num_snippets": _SNIPPETS.value or ":synthetic",
            "batch_size": _BATCH.value or ":synthetic",
            "builder_config": _BUILDER.value or ":synthetic",
            "seeds": _SEEDS.value, "jobs": _JOBS.value}
  os.makedirs(_OUT.value, exist_ok=True)
  base = os.path.join(_OUT.value, f"heads-{time.strftime('%Y%m%d-%H%M%S')}")
  rows, t0 = {}, time.time()
  runs = []
  for seed in _SEEDS.value:
    for row in table_rows(heads, found, _RGB_FLOW.value, _AV.value):
      for fusion in _FUSIONS.value:
        recipe, config = config_for(row, fusion, found)
        config = apply_budget(config.copy_and_resolve_references(), int(seed))
        slug = row.replace(AV_SUFFIX, "_av")
        runs.append((row, fusion, seed, recipe, config,
                     os.path.join(workroot, f"{slug}_{fusion}_seed{seed}")))

  def record(run, metrics, seconds):
    row, fusion, seed, recipe, config, workdir = run
    rows.setdefault(row, {}).setdefault(fusion, {})[seed] = {
        "recipe": recipe, "fusion_kind": config.model.fusion.kind,
        "steps": config.train.num_steps,
        "avg_map": float(metrics["avg_map"]),
        # Wall time of this invocation (about 0 for a run read back).
        "seconds": seconds,
        "selection_rates": selection_rates(workdir),
        "metrics": {k: float(v) for k, v in metrics.items()
                    if isinstance(v, (int, float))}}
    heads_table.write(rows, _FUSIONS.value, _SEEDS.value, budget,
                      time.time() - t0, base)

  todo = []
  for run in runs:
    row, fusion, seed, recipe, config, workdir = run
    metrics = finished_metrics(config, workdir)
    if metrics is None:
      todo.append(run)
    else:
      print(f"=== {row} + {fusion} (seed {seed}): finished before, read "
            f"from {workdir}", flush=True)
      record(run, metrics, 0.0)
  with worker_pool(_JOBS.value) as pool:
    pending = {}
    for run in todo:
      row, fusion, seed, recipe, config, workdir = run
      print(f"=== {row} + {fusion} (seed {seed}): {recipe}", flush=True)
      pending[pool.submit(train, config.to_json_best_effort(),
                          workdir)] = (run, time.time())
    for future in concurrent.futures.as_completed(pending):
      run, start = pending[future]
      record(run, future.result(), time.time() - start)
      print(f"--- {run[0]} + {run[1]} (seed {run[2]}): avg mAP "
            f"{100 * rows[run[0]][run[1]][run[2]]['avg_map']:.2f}",
            flush=True)
  print(heads_table.write(rows, _FUSIONS.value, _SEEDS.value, budget,
                          time.time() - t0, base))
  print(f"Wrote {base}.md and {base}.json")


if __name__ == "__main__":
  app.run(main)
