"""Every registered head with ``concat`` and with ``lgca`` fusion, at one
training budget, on the synthetic THUMOS-shaped data.

For each head the recipe is the head's own config in ``configs/`` (the
``:synthetic`` variant of the THUMOS14 RGB + flow file whose fusion is
``concat``, and the one whose fusion is ``lgca``); a head without such a file
gets its module's ``default_config()`` on the other's recipe, with raw
concatenated features (``concat``) or one-stage leaky LGCA (the LGCA paper's
choice for RGB-flow heads). Both runs of a head then get the same budget (steps,
snippets, batch) and are trained and evaluated with ``train_and_evaluate``.
Writes a Markdown table of average mAP@[0.1:0.7] and the full metrics as JSON
to ``bench/results/``.

  python bench/heads.py [--heads=um,asl] [--fusions=concat,lgca] \
      [--steps=400] [--num_snippets=256] [--batch_size=10] \
      [--builder_config=full]

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
from wtal_jax import config_lib
from wtal_jax.models.heads import HEADS
from wtal_jax.training.train import train_and_evaluate

_HEADS = flags.DEFINE_list("heads", [], "Head kinds (default: every "
                           "registered head).")
_FUSIONS = flags.DEFINE_list("fusions", ["concat", "lgca"], "Fusion kinds.")
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
_SEED = flags.DEFINE_integer("seed", 0, "Experiment seed.")


# Every row compares fusions of the same two streams.
MODALITIES = ("rgb", "flow")


def recipes() -> dict[tuple[str, str], tuple[str, object]]:
  """``(head kind, fusion kind) -> (config file, :synthetic config)`` of the
  THUMOS14 RGB + flow configs in ``configs/``."""
  found = {}
  for path in sorted(glob.glob(os.path.join(ROOT, "configs", "thumos_*.py"))):
    config = config_lib.load_config(path + ":synthetic")
    if tuple(config.data.modalities) != MODALITIES:
      continue  # e.g. audio-visual CAAV: not comparable with RGB + flow.
    key = (config.model.head.kind, config.model.fusion.kind)
    # Several files may hold the same pair (thumos_lgca.py and
    # thumos_lgca_caav.py); the first in sorted order is used.
    found.setdefault(key, (os.path.relpath(path, ROOT), config))
  return found


def _default_head(kind):
  module = sys.modules[HEADS.get(kind).module.__module__]
  if hasattr(module, "default_config"):
    return module.default_config()
  if kind == "caav":
    return config_lib.caav_head()
  raise ValueError(f"Head {kind!r} has no config in configs/ and its module "
                   "has no default_config().")


def config_for(head: str, fusion: str, found) -> tuple[str, object]:
  """The recipe of ``head`` with ``fusion`` (see the module docstring)."""
  if (head, fusion) in found:
    return found[(head, fusion)]
  same_head = [v for (h, _), v in found.items() if h == head]
  source, base = same_head[0] if same_head else found[("caav", "lgca")]
  config = base.copy_and_resolve_references()
  if not same_head:
    config.model.head = _default_head(head)
  config.model.fusion.kind = fusion
  if fusion == "concat":
    config.model.fusion.embed_dim = 0
  elif fusion == "lgca":
    config_lib.lgca_fusion(config, num_stages=1)
  return f"{source} with fusion {fusion}", config


def apply_budget(config):
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
  config.seed = _SEED.value
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


def markdown(rows, fusions) -> str:
  head = "| head | " + " | ".join(f"{f} avg mAP (%)" for f in fusions)
  lines = [head + " | recipes |",
           "| --- | " + " | ".join("---:" for _ in fusions) + " | --- |"]
  for head_kind, runs in rows.items():
    cells = [f"{100 * runs[f]['avg_map']:.2f}" if f in runs else "-"
             for f in fusions]
    sources = "; ".join(f"{f}: {runs[f]['recipe']}" for f in fusions
                        if f in runs)
    lines.append(f"| {head_kind} | " + " | ".join(cells) + f" | {sources} |")
  return "\n".join(lines)


def write_results(rows, budget, seconds: float, base: str) -> str:
  """Writes the table (``base.md``) and the metrics (``base.json``)."""
  table = markdown(rows, _FUSIONS.value)
  text = (f"Average mAP@[0.1:0.1:0.7] on synthetic_thumos/{_BUILDER.value}, "
          f"budget {budget}, {seconds:.0f} s in all.\n\n{table}\n")
  with open(base + ".md", "w", encoding="utf-8") as f:
    f.write(text)
  with open(base + ".json", "w", encoding="utf-8") as f:
    json.dump({"budget": budget, "results": rows}, f, indent=2)
  return text


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)  # Checkpointing logs every save.
  heads = _HEADS.value or HEADS.names()
  found = recipes()
  workroot = _WORKDIR.value or tempfile.mkdtemp(prefix="bench_heads_")
  budget = {"steps": _STEPS.value,
            "num_snippets": _SNIPPETS.value or "synthetic default",
            "batch_size": _BATCH.value or "synthetic default",
            "builder_config": _BUILDER.value, "seed": _SEED.value}
  os.makedirs(_OUT.value, exist_ok=True)
  base = os.path.join(_OUT.value, f"heads-{time.strftime('%Y%m%d-%H%M%S')}")
  rows, t0 = {}, time.time()
  for head in heads:
    rows[head] = {}
    for fusion in _FUSIONS.value:
      recipe, config = config_for(head, fusion, found)
      config = apply_budget(config)
      workdir = os.path.join(workroot, f"{head}_{fusion}")
      start = time.time()
      metrics = finished_metrics(config, workdir)
      if metrics is None:
        print(f"=== {head} + {fusion} ({recipe})", flush=True)
        metrics = train_and_evaluate(config, workdir)
      else:
        print(f"=== {head} + {fusion}: finished before, read from {workdir}",
              flush=True)
      rows[head][fusion] = {
          "recipe": recipe, "avg_map": float(metrics["avg_map"]),
          # Wall time of this invocation (about 0 for a run read back).
          "seconds": time.time() - start,
          "metrics": {k: float(v) for k, v in metrics.items()
                      if isinstance(v, (int, float))}}
      write_results(rows, budget, time.time() - t0, base)
  print(write_results(rows, budget, time.time() - t0, base))
  print(f"Wrote {base}.md and {base}.json")


if __name__ == "__main__":
  app.run(main)
