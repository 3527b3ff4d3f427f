"""Every registered head with its own fusion and with LGCA, at one training
budget and over seeds, on the synthetic THUMOS-shaped data.

Rows are heads on RGB + flow, plus CAAV on audio-visual features
(``rgb+flow`` + ``audio``, with ``--audio_visual``). Columns are fusions:

* ``own``: the head's published fusion, from its config in ``configs/``:
  the raw concatenation for UM, ASL, HAM-Net and 3C-Net, CCM for CO2-Net and
  the two-stage cross-attention for CAAV;
* ``lgca``: the LGCA config of the head (one stage for the RGB-flow heads,
  two for CAAV), or, for a head without one, one-stage leaky LGCA placed as
  its recipe places it (``recipes.lgca``);
* any registered fusion kind, e.g. ``concat``: the head's recipe with that
  fusion.

Every run of a budget gets the same steps, snippets and batch, and is trained
and evaluated with ``train_and_evaluate``. Writes a Markdown table (average
mAP@[0.1:0.7], classification mAP and the number of predicted segments per
run, the mean over seeds, and LGCA minus the head's own fusion) and the full
metrics as JSON to ``bench/results/``.

  python bench/heads.py [--heads=um,asl] [--fusions=own,lgca] \
      [--seeds=0,1] [--steps=400] [--num_snippets=256] [--batch_size=10] \
      [--noaudio_visual] [--builder_config=full] [--workdir=DIR]

The synthetic dataset is built on first use. With ``--workdir`` the bench
can be stopped and re-run: a run whose workdir already holds
``final_metrics.json`` for the same config is read back instead of trained
again, and the table and JSON are rewritten after every run, so a stopped
bench leaves the rows it finished.
"""

from __future__ import annotations

import glob
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
from wtal_jax import config_lib, recipes
from wtal_jax.models.heads import HEADS
from wtal_jax.training.train import train_and_evaluate

_HEADS = flags.DEFINE_list("heads", [], "Head kinds (default: every "
                           "registered head).")
_FUSIONS = flags.DEFINE_list("fusions", ["own", "lgca"], "Fusion kinds; "
                             "'own' is the head's published fusion.")
_AV = flags.DEFINE_boolean("audio_visual", True, "Also run CAAV on "
                           "audio-visual features (rgb+flow, audio).")
_STEPS = flags.DEFINE_integer("steps", 400, "Training steps of every run.")
_SNIPPETS = flags.DEFINE_integer("num_snippets", 0,
                                 "Training length (0: the synthetic "
                                 "variant's, 256).")
_BATCH = flags.DEFINE_integer("batch_size", 0, "Batch size (0: the synthetic "
                              "variant's, 10).")
_BUILDER = flags.DEFINE_string("builder_config", "full",
                               "synthetic_thumos builder config, e.g. tiny.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Dataset directory ('' = "
                                "$WTAL_JAX_DATA_DIR or ~/tensorflow_datasets).")
_WORKDIR = flags.DEFINE_string("workdir", "", "Where runs go (default: a "
                               "temporary directory).")
_OUT = flags.DEFINE_string("output_dir", os.path.join(ROOT, "bench",
                                                      "results"),
                           "Where the table and JSON go.")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Experiment seeds; the table "
                           "shows each and their mean.")


# Streams of a row: RGB + flow for every head; audio-visual for CAAV.
RGB_FLOW = ("rgb", "flow")
AUDIO_VISUAL = ("rgb+flow", "audio")
AV_SUFFIX = " (audio-visual)"


def row_name(head: str, modalities) -> str | None:
  """The table row of a config's head and streams (None: not compared)."""
  modalities = tuple(modalities)
  if modalities == RGB_FLOW:
    return head
  if modalities == AUDIO_VISUAL:
    return head + AV_SUFFIX
  return None


def thumos_configs() -> dict[tuple[str, str], tuple[str, object]]:
  """``(row, fusion kind) -> (config file, :synthetic config)`` of the
  THUMOS14 configs in ``configs/``."""
  found = {}
  for path in sorted(glob.glob(os.path.join(ROOT, "configs", "thumos_*.py"))):
    config = config_lib.load_config(path + ":synthetic")
    row = row_name(config.model.head.kind, config.data.modalities)
    if row is None:
      continue
    # Several files may hold the same pair (thumos_lgca.py and
    # thumos_lgca_um.py); the first in sorted order is used.
    found.setdefault((row, config.model.fusion.kind),
                     (os.path.relpath(path, ROOT), config))
  return found


def own_fusion(row: str, found) -> tuple[str, object]:
  """The config of ``row`` with its head's published (non-LGCA) fusion."""
  head = row.removesuffix(AV_SUFFIX)
  for rows in (row, head):
    own = [v for (r, f), v in sorted(found.items())
           if r == rows and f != "lgca"]
    if own:
      break
  if not own:
    raise ValueError(f"No config in configs/ gives head {head!r} its own "
                     "fusion.")
  source, config = own[0]
  if rows == row:
    return source, config
  # E.g. audio-visual CAAV: its LGCA recipe with the fusion of RGB-flow CAAV.
  av_source, av_config = next(v for (r, _), v in sorted(found.items())
                              if r == row)
  av_config = av_config.copy_and_resolve_references()
  av_config.model.fusion = config.model.fusion.copy_and_resolve_references()
  return f"{av_source} with the fusion of {source}", av_config


def config_for(row: str, fusion: str, found) -> tuple[str, object]:
  """The recipe of ``row`` with ``fusion`` (see the module docstring)."""
  if fusion == "own":
    return own_fusion(row, found)
  if (row, fusion) in found:
    return found[(row, fusion)]
  same_row = [v for (r, _), v in sorted(found.items()) if r == row]
  source, base = same_row[0] if same_row else found[("caav", "lgca")]
  config = base.copy_and_resolve_references()
  if not same_row:
    config.model.head = recipes.for_head(row).head()
  if fusion == "concat":
    recipes.fusions.concat(config)
  elif fusion == "lgca":
    recipes.lgca.one_stage(config)
  else:
    config.model.fusion.kind = fusion
  return f"{source} with fusion {fusion}", config


def apply_budget(config, seed: int):
  config.train.num_steps = _STEPS.value
  config.train.eval_every = _STEPS.value
  config.train.checkpoint_every = _STEPS.value
  config.train.log_every = max(1, min(50, _STEPS.value))
  if _SNIPPETS.value:
    config.data.num_snippets = _SNIPPETS.value
  if _BATCH.value:
    config.train.batch_size = _BATCH.value
  config.data.builder_config = _BUILDER.value
  config.data.data_dir = _DATA_DIR.value
  config.seed = seed
  config.tensorboard = False
  return config


def finished_metrics(config, workdir: str) -> dict | None:
  """The final metrics of a finished run of ``config`` in ``workdir``, or None
  when there is none (or it was made with another config)."""
  metrics_path = os.path.join(workdir, "final_metrics.json")
  config_path = os.path.join(workdir, "config.json")
  if not (os.path.exists(metrics_path) and os.path.exists(config_path)):
    return None
  with open(config_path, encoding="utf-8") as f:
    if json.load(f) != json.loads(config.to_json_best_effort()):
      return None
  with open(metrics_path, encoding="utf-8") as f:
    return json.load(f)


def _mean(values):
  return sum(values) / len(values) if values else float("nan")


def markdown(rows, fusions, seeds) -> str:
  """Two tables: the summary (mean avg mAP over seeds per fusion, and LGCA
  minus the head's own fusion) and every run with its classification mAP and
  number of predicted segments.

  ``rows[row][fusion][seed]`` holds a run's record (``avg_map``, ``metrics``,
  ``recipe``, ``fusion_kind``).
  """
  seeds = [str(s) for s in seeds]
  show_gap = "own" in fusions and "lgca" in fusions
  head = ("| head | " + " | ".join(f"{f} avg mAP (%)" for f in fusions)
          + (" | lgca − own |" if show_gap else " |"))
  lines = [f"Mean over seeds {', '.join(seeds)}.", "", head,
           "| --- | " + " | ".join("---:" for _ in fusions)
           + (" | ---: |" if show_gap else " |")]
  means = {}
  for row, runs in rows.items():
    cells = []
    for f in fusions:
      done = [100 * runs[f][s]["avg_map"] for s in seeds
              if s in runs.get(f, {})]
      means[(row, f)] = _mean(done) if len(done) == len(seeds) else None
      kind = next(iter(runs[f].values()))["fusion_kind"] if runs.get(f) else ""
      label = f" ({kind})" if f == "own" and kind else ""
      cells.append("-" if not done else f"{_mean(done):.2f}{label}"
                   + ("" if len(done) == len(seeds) else
                      f" ({len(done)} of {len(seeds)} seeds)"))
    gap = ""
    if show_gap:
      a, b = means[(row, "lgca")], means[(row, "own")]
      gap = " | " + ("-" if a is None or b is None else f"{a - b:+.2f}")
    lines.append(f"| {row} | " + " | ".join(cells) + gap + " |")
  lines += ["", "| head | fusion | seed | avg mAP (%) | cls mAP (%) | "
            "segments | classes predicted | recipe |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
  for row, runs in rows.items():
    for f in fusions:
      for s in seeds:
        if s not in runs.get(f, {}):
          continue
        r, m = runs[f][s], runs[f][s]["metrics"]
        lines.append(
            f"| {row} | {f} ({r['fusion_kind']}) | {s} | "
            f"{100 * r['avg_map']:.2f} | {100 * m.get('cls_map', float('nan')):.2f}"
            f" | {m.get('num_predictions', float('nan')):.0f} | "
            f"{m.get('num_predicted_classes', float('nan')):.0f} | "
            f"{r['recipe']} |")
  return "\n".join(lines)


def write_results(rows, budget, seconds: float, base: str) -> str:
  """Writes the tables (``base.md``) and the metrics (``base.json``)."""
  table = markdown(rows, _FUSIONS.value, _SEEDS.value)
  text = (f"Average mAP@[0.1:0.1:0.7] on synthetic_thumos/{_BUILDER.value}, "
          f"budget {budget}, {seconds:.0f} s in all.\n\n{table}\n")
  with open(base + ".md", "w", encoding="utf-8") as f:
    f.write(text)
  with open(base + ".json", "w", encoding="utf-8") as f:
    json.dump({"budget": budget, "results": rows}, f, indent=2)
  return text


def table_rows(heads, found) -> list[str]:
  """The rows to run: every head on RGB + flow, then the audio-visual ones
  (with ``--audio_visual``) whose head is among ``heads``."""
  out = list(heads)
  if _AV.value:
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
  budget = {"steps": _STEPS.value,
            "num_snippets": _SNIPPETS.value or "synthetic default",
            "batch_size": _BATCH.value or "synthetic default",
            "builder_config": _BUILDER.value, "seeds": _SEEDS.value}
  os.makedirs(_OUT.value, exist_ok=True)
  base = os.path.join(_OUT.value, f"heads-{time.strftime('%Y%m%d-%H%M%S')}")
  rows, t0 = {}, time.time()
  for seed in _SEEDS.value:
    for row in table_rows(heads, found):
      for fusion in _FUSIONS.value:
        recipe, config = config_for(row, fusion, found)
        config = apply_budget(config, int(seed))
        slug = row.replace(AV_SUFFIX, "_av")
        workdir = os.path.join(workroot, f"{slug}_{fusion}_seed{seed}")
        name = f"{row} + {fusion} (seed {seed})"
        start = time.time()
        metrics = finished_metrics(config, workdir)
        if metrics is None:
          print(f"=== {name}: {recipe}", flush=True)
          metrics = train_and_evaluate(config, workdir)
        else:
          print(f"=== {name}: finished before, read from {workdir}",
                flush=True)
        rows.setdefault(row, {}).setdefault(fusion, {})[seed] = {
            "recipe": recipe, "fusion_kind": config.model.fusion.kind,
            "avg_map": float(metrics["avg_map"]),
            # Wall time of this invocation (about 0 for a run read back).
            "seconds": time.time() - start,
            "metrics": {k: float(v) for k, v in metrics.items()
                        if isinstance(v, (int, float))}}
        write_results(rows, budget, time.time() - t0, base)
  print(write_results(rows, budget, time.time() - t0, base))
  print(f"Wrote {base}.md and {base}.json")


if __name__ == "__main__":
  app.run(main)
