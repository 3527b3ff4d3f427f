"""Convergence curves: a head with its own fusion and with LGCA, trained long
at the ``:synthetic`` settings and evaluated every ``--eval_every`` steps.

Plots the average mAP@[0.1:0.7] of every run against the step, and LGCA's
gate selection rates (the share of test snippets on which each skip gate
picks the unattended path ``X``) against the step, and writes the curves as
JSON to ``bench/results/``:

  python bench/convergence.py [--head=um] [--fusions=own,lgca] \
      [--steps=5000] [--eval_every=500] [--seeds=0,1] [--jobs=2] \
      [--workdir=DIR] [--plot=docs/images/convergence_um.png]

Runs whose workdir holds ``final_metrics.json`` for the same config are read
back, not trained again.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import tempfile
import time

from absl import app, flags, logging

ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

# pylint: disable=g-import-not-at-top,wrong-import-position
from bench.head_runs import (budgeted, config_for, finished_metrics,
                             test_records, thumos_configs, train,
                             worker_pool)

_HEAD = flags.DEFINE_string("head", "um", "Head kind (a row of "
                            "bench/heads.py).")
_FUSIONS = flags.DEFINE_list("fusions", ["own", "lgca"], "Fusion columns, "
                             "as in bench/heads.py.")
_STEPS = flags.DEFINE_integer("steps", 5000, "Training steps of every run.")
_EVAL_EVERY = flags.DEFINE_integer("eval_every", 500, "Steps between "
                                   "evaluations.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1"], "Experiment seeds.")
_JOBS = flags.DEFINE_integer("jobs", 2, "Trainings at once.", lower_bound=1)
_WORKDIR = flags.DEFINE_string("workdir", "", "Where runs go (default: a "
                               "temporary directory).")
_PLOT = flags.DEFINE_string("plot", "", "Where the figure goes (default: "
                            "next to the JSON).")
_SNIPPETS = flags.DEFINE_integer("num_snippets", 0, "Training length (0: "
                                 "the synthetic variant's).")
_BATCH = flags.DEFINE_integer("batch_size", 0, "Batch size (0: the "
                              "synthetic variant's).")
_BUILDER = flags.DEFINE_string("builder_config", "", "synthetic_thumos "
                               "builder config ('': the variant's).")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Dataset directory.")
_OUT = flags.DEFINE_string("output_dir", os.path.join(ROOT, "bench",
                                                      "results"),
                           "Where the JSON goes.")


def plot(runs: dict, path: str, head: str) -> None:
  """avg mAP against step (left) and LGCA's skip-gate selection rate of
  ``X`` against step (right)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, (ax_map, ax_gate) = plt.subplots(1, 2, figsize=(11, 4))
  styles = {0: "-", 1: "--", 2: ":"}
  modality = {0: "rgb", 1: "flow"}
  for (fusion, seed), points in sorted(runs.items()):
    steps = [p["step"] for p in points]
    style = styles.get(int(seed) % 3, "-")
    color = "C0" if fusion == "own" else "C1"
    ax_map.plot(steps, [100 * p["avg_map"] for p in points], style,
                color=color, marker="o", label=f"{fusion}, seed {seed}")
    for key in sorted({k for p in points for k in p
                       if k.startswith("gate_rate/skip1") and k.endswith("/X")}):
      m = int(key.split("/")[1].rsplit("_", 1)[1])
      ax_gate.plot(steps, [100 * p.get(key, float("nan")) for p in points],
                   style, color=f"C{2 + m}", marker="o",
                   label=f"{fusion} {modality.get(m, m)}, seed {seed}")
  ax_map.set(xlabel="step", ylabel="avg mAP@[0.1:0.7] (%)",
             title=f"{head}: own fusion and LGCA")
  ax_gate.set(xlabel="step", ylabel="snippets on X (%)", ylim=(-5, 105),
              title="LGCA stage-1 skip gates: selection rate of X")
  for ax in (ax_map, ax_gate):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  found = thumos_configs()
  workroot = _WORKDIR.value or tempfile.mkdtemp(prefix="bench_convergence_")
  os.makedirs(workroot, exist_ok=True)
  todo, workdirs = [], {}
  for seed in _SEEDS.value:
    for fusion in _FUSIONS.value:
      recipe, config = config_for(_HEAD.value, fusion, found)
      config = budgeted(
          config, int(seed), steps=_STEPS.value,
          evaluations=max(1, _STEPS.value // _EVAL_EVERY.value),
          num_snippets=_SNIPPETS.value, batch_size=_BATCH.value,
          builder_config=_BUILDER.value, data_dir=_DATA_DIR.value)
      workdir = os.path.join(workroot, f"{_HEAD.value}_{fusion}_seed{seed}")
      workdirs[(fusion, seed)] = workdir
      if finished_metrics(config, workdir) is None:
        print(f"=== {_HEAD.value} + {fusion} (seed {seed}): {recipe}",
              flush=True)
        todo.append((config.to_json_best_effort(), workdir))
  with worker_pool(_JOBS.value) as pool:
    for _ in concurrent.futures.as_completed(
        [pool.submit(train, *job) for job in todo]):
      pass
  runs = {key: test_records(wd) for key, wd in workdirs.items()}
  os.makedirs(_OUT.value, exist_ok=True)
  base = os.path.join(_OUT.value, f"convergence-{_HEAD.value}-"
                      f"{time.strftime('%Y%m%d-%H%M%S')}")
  with open(base + ".json", "w", encoding="utf-8") as f:
    json.dump({"head": _HEAD.value, "steps": _STEPS.value,
               "runs": {f"{fu}/seed{s}": [
                   {k: v for k, v in p.items()
                    if k in ("step", "avg_map", "cls_map")
                    or k.startswith("gate_rate/")} for p in points]
                        for (fu, s), points in runs.items()}}, f, indent=1)
  figure = _PLOT.value or base + ".png"
  plot(runs, figure, _HEAD.value)
  lines = ["| fusion | seed | " + " | ".join(
      str(p["step"]) for p in next(iter(runs.values()))) + " |"]
  lines.append("| --- | ---: |" + " ---: |" * len(next(iter(runs.values()))))
  for (fusion, seed), points in sorted(runs.items()):
    lines.append(f"| {fusion} | {seed} | " + " | ".join(
        f"{100 * p['avg_map']:.2f}" for p in points) + " |")
  print("\n".join(lines))
  print(f"Wrote {base}.json and {figure}")


if __name__ == "__main__":
  app.run(main)
