r"""The LGCA ablation grid (LGCA Tables 1, 7 and 8) at a fixed training budget.

Trains every variant of the fusion for the same number of steps on the same
data and seeds, evaluates it on the test split, and writes a Markdown table
and JSON (``bench/results/ablations-<time>.{md,json}``). The variants:

* Table 7, regularisation: no cross-attention (``concat``), Gaussian input
  noise at scale 0.1 and 1.0, frozen random cross-attention, and hard, soft
  and leaky gates;
* Table 1, stages: 1- and 2-stage cross-attention without and with leaky
  gates;
* Table 8, gates: the 2-stage baseline, skip-connection gates only, the
  stage gate only, and both.

  python bench/ablations.py --config=configs/thumos_lgca_caav.py:synthetic \
      [--num_steps=400] [--seeds=0,1,2] [--variants=ca2,lgca2,...] \
      [--workdir_root=/tmp/ablations] [--output=bench/results/ablations]
  python bench/ablations.py --list

Every variant starts from the config's recipe (head, losses, optimizer,
data); only ``config.model.fusion`` changes. The default budget is the
config's own ``train.num_steps``; the full grid at the ``:synthetic`` budget
is 12 trainings per seed, so narrow it with ``--variants`` or lower
``--num_steps`` on a shared machine. The cost column is the fusion's forward
MFLOPs per snippet at the training length (XLA's count, see
``wtal_jax.analysis.flops``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import tempfile
import time

import jax
from absl import app, flags
from ml_collections import config_flags

from wtal_jax import analysis
from wtal_jax.training.train import train_and_evaluate


@dataclasses.dataclass(frozen=True)
class Variant:
  name: str
  group: str
  title: str
  fusion: dict


VARIANTS = (
    Variant("concat", "Table 7", "No cross-attention (concat)",
            dict(kind="concat")),
    Variant("noise0.1", "Table 7", "Gaussian noise (scale 0.1)",
            dict(kind="gaussian_noise", noise_scale=0.1)),
    Variant("noise1.0", "Table 7", "Gaussian noise (scale 1.0)",
            dict(kind="gaussian_noise", noise_scale=1.0)),
    Variant("frozen", "Table 7", "Frozen cross-attention (2 stages)",
            dict(kind="frozen_cross_attention", num_stages=2, skip="dense")),
    Variant("hard2", "Table 7", "Hard-gated cross-attention (2 stages)",
            dict(kind="lgca", num_stages=2, gate="hard")),
    Variant("soft2", "Table 7", "Soft-gated cross-attention (2 stages)",
            dict(kind="lgca", num_stages=2, gate="soft")),
    Variant("ca1", "Table 1", "1-stage cross-attention",
            dict(kind="lgca", num_stages=1, gate="none")),
    Variant("lgca1", "Table 1", "1-stage + leaky gate",
            dict(kind="lgca", num_stages=1, gate="leaky")),
    Variant("ca2", "Table 8", "2-stage cross-attention (baseline)",
            dict(kind="lgca", num_stages=2, gate="none")),
    Variant("skip2", "Table 8", "+ skip-connection gates",
            dict(kind="lgca", num_stages=2, gate="leaky", skip_gates=True,
                 stage_gate=False)),
    Variant("stage2", "Table 8", "+ stage gate",
            dict(kind="lgca", num_stages=2, gate="leaky", skip_gates=False,
                 stage_gate=True)),
    Variant("lgca2", "Table 8", "+ skip-connection & stage gates (LGCA)",
            dict(kind="lgca", num_stages=2, gate="leaky", skip_gates=True,
                 stage_gate=True)),
)
BY_NAME = {v.name: v for v in VARIANTS}

_CONFIG = config_flags.DEFINE_config_file(
    "config", "configs/thumos_lgca_caav.py:synthetic",
    "Recipe the variants start from (its fusion is replaced).",
    lock_config=False)
_NUM_STEPS = flags.DEFINE_integer("num_steps", 0,
                                  "Training steps per run (0: the config's).")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds; each variant runs once "
                           "per seed and the table shows mean ± std.")
_VARIANTS = flags.DEFINE_list("variants", [], "Variants to run (default all; "
                              "see --list).")
_LIST = flags.DEFINE_bool("list", False, "Print the variants and exit.")
_WORKDIR_ROOT = flags.DEFINE_string(
    "workdir_root", "", "Parent of the runs' workdirs (default: a new "
    "temporary folder). Re-using it resumes or re-scores finished runs.")
_OUTPUT = flags.DEFINE_string(
    "output", "", "Output path without extension (default "
    "bench/results/ablations-<YYYYmmdd-HHMMSS>).")


def variant_config(base, variant: Variant, seed: int, num_steps: int):
  """The base recipe with the variant's fusion, seed and budget."""
  config = base.copy_and_resolve_references()
  config.model.fusion.update(variant.fusion)
  config.seed = seed
  if num_steps:
    config.train.num_steps = num_steps
  n = config.train.num_steps
  config.train.eval_every = n
  config.train.checkpoint_every = n
  config.train.log_every = min(config.train.log_every, n)
  return config


def fusion_mflops(config) -> float:
  report = analysis.flops(config)
  return report.per_snippet["fusion"] / 1e6


def _mean_std(xs: list[float]) -> str:
  if len(xs) == 1:
    return f"{100 * xs[0]:.2f}"
  return f"{100 * statistics.mean(xs):.2f} ± {100 * statistics.stdev(xs):.2f}"


def markdown_table(rows: list[dict], num_steps: int, seeds: list[int],
                   config_name: str) -> str:
  """Rows grouped by paper table, one line per variant."""
  lines = [f"Config `{config_name}`, {num_steps} steps, seeds "
           f"{', '.join(map(str, seeds))}; mAP (%) on the test split, "
           f"mean ± std over seeds.", "",
           "| Table | Variant | Avg mAP | mAP@0.5 | cls mAP | fusion "
           "MFLOPs/snippet | train s |",
           "|---|---|---:|---:|---:|---:|---:|"]
  for r in rows:
    runs = r["runs"]
    lines.append(
        f"| {r['group']} | {r['title']} | "
        f"{_mean_std([x['avg_map'] for x in runs])} | "
        f"{_mean_std([x['map@0.5'] for x in runs])} | "
        f"{_mean_std([x['cls_map'] for x in runs])} | "
        f"{r['fusion_mflops_per_snippet']:.2f} | "
        f"{statistics.mean(x['train_seconds'] for x in runs):.0f} |")
  return "\n".join(lines)


def run_grid(base, variants, seeds, num_steps, workdir_root) -> list[dict]:
  """Trains and evaluates every variant for every seed."""
  rows = []
  for v in variants:
    runs = []
    for seed in seeds:
      config = variant_config(base, v, seed, num_steps)
      workdir = os.path.join(workdir_root, f"{v.name}-seed{seed}")
      print(f"=== {v.name} (seed {seed}) -> {workdir}", flush=True)
      t0 = time.perf_counter()
      metrics = train_and_evaluate(config, workdir)
      runs.append({"seed": seed, "workdir": workdir,
                   "train_seconds": time.perf_counter() - t0,
                   **{k: float(x) for k, x in metrics.items()}})
    rows.append({"name": v.name, "group": v.group, "title": v.title,
                 "fusion": v.fusion,
                 "fusion_mflops_per_snippet": fusion_mflops(config),
                 "runs": runs})
  return rows


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _LIST.value:
    for v in VARIANTS:
      print(f"{v.name:10s} {v.group}  {v.title}")
    return
  unknown = [n for n in _VARIANTS.value if n not in BY_NAME]
  if unknown:
    raise app.UsageError(f"Unknown variants {unknown}; choose from "
                         f"{list(BY_NAME)} (--list).")
  variants = ([BY_NAME[n] for n in _VARIANTS.value] if _VARIANTS.value
              else list(VARIANTS))
  seeds = [int(s) for s in _SEEDS.value]
  base = _CONFIG.value
  num_steps = _NUM_STEPS.value or base.train.num_steps
  root = _WORKDIR_ROOT.value or tempfile.mkdtemp(prefix="wtal_ablations_")
  os.makedirs(root, exist_ok=True)
  output = _OUTPUT.value or os.path.join(
      "bench", "results", time.strftime("ablations-%Y%m%d-%H%M%S"))
  config_name = config_flags.get_config_filename(flags.FLAGS["config"])
  rows = run_grid(base, variants, seeds, num_steps, root)
  table = markdown_table(rows, num_steps, seeds, config_name)
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  with open(output + ".md", "w", encoding="utf-8") as f:
    f.write(table + "\n")
  with open(output + ".json", "w", encoding="utf-8") as f:
    json.dump({"config": config_name, "num_steps": num_steps, "seeds": seeds,
               "machine": platform.machine(), "jax": jax.__version__,
               "devices": jax.device_count(), "rows": rows}, f, indent=2)
  print(table)
  print(f"Wrote {output}.md and {output}.json")


if __name__ == "__main__":
  app.run(main)
