"""The runs of the head benches (``bench/heads.py``,
``bench/convergence.py``): which config each cell runs (a head's own fusion,
LGCA, a named variant of LGCA or another fusion, at the ``:synthetic``
variant of the THUMOS14 configs in ``configs/``), training one in a fresh
process, and reading back finished runs."""

from __future__ import annotations

import concurrent.futures
import contextlib
import glob
import json
import multiprocessing
import os
import threading
import time

from absl import logging

from wtal_jax import config_lib, recipes

ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# Streams of a row: RGB + flow for every head; audio-visual for CAAV.
RGB_FLOW = ("rgb", "flow")
AUDIO_VISUAL = ("rgb+flow", "audio")
AV_SUFFIX = " (audio-visual)"

# Named LGCA variants: the head's LGCA config with these fields of
# ``config.model.fusion`` changed (``head.<field>``: of ``config.model.head``).
VARIANTS = {
    # The gates' Xavier start (no prior on the unattended path).
    "lgca_xavier": {"gate_prior": 0.0},
    # Skip gates that read attended features minus their video's mean.
    "lgca_centred": {"gate_centred_input": True},
    # Per-snippet skip gates: centred input and biases kept at their start,
    # so that no gate can switch a whole video.
    "lgca_per_snippet": {"gate_centred_input": True, "gate_fixed_bias": True},
    # Attended features activated by tanh before gating (LGCA §4.2).
    "lgca_tanh": {"attended_activation": "tanh"},
    # CAAV's cross-attended tanh(X + X~(1)) as Eq. 8's X_att(1).
    "lgca_eq4": {"stage1_feature": "cross_attended"},
    # CAAV's tanh on the gated stage outputs instead of Eq. 7/9's ReLU.
    "lgca_tanh_out": {"gated_activation": "tanh"},
    # LGCA in place of a head's own cross-modal module (CO2-Net's CCM)
    # instead of on top of it.
    "lgca_without_ccm": {"recalibration": "none"},
}
# LGCA attached in front of 3C-Net's whole head (on the raw streams, both of
# its FCs kept), as LGCA goes in front of every other head, instead of in
# place of its second FC (LGCA §4.2).
VARIANTS["lgca_attached"] = {"embed_dim": 0, "head.num_fc": 2}
# Both: per-snippet skip gates and tanh on the gated outputs.
VARIANTS["lgca_per_snippet_tanh_out"] = {**VARIANTS["lgca_per_snippet"],
                                         **VARIANTS["lgca_tanh_out"]}


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
  if fusion in VARIANTS:
    source, config = config_for(row, "lgca", found)
    config = config.copy_and_resolve_references()
    for key, value in VARIANTS[fusion].items():
      part, _, field = key.rpartition(".")
      config.model[part or "fusion"][field] = value
    changes = ", ".join(f"{k}={v}" for k, v in VARIANTS[fusion].items())
    return f"{source} with {changes}", config
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


def budgeted(config, seed: int, *, steps: int = 0, evaluations: int = 1,
             num_snippets: int = 0, batch_size: int = 0,
             builder_config: str = "", data_dir: str = ""):
  """A copy of ``config`` for ``seed``; each non-zero argument replaces the
  ``:synthetic`` variant's value (``steps`` with ``evaluations`` evenly
  spaced evaluations)."""
  config = config.copy_and_resolve_references()
  if steps:
    config_lib.set_synthetic_budget(config, steps, evaluations=evaluations)
    config.train.log_every = max(1, min(50, steps))
  if num_snippets:
    config.data.num_snippets = num_snippets
  if batch_size:
    config.train.batch_size = batch_size
  if builder_config:
    config.data.builder_config = builder_config
  config.data.data_dir = data_dir
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


def test_records(workdir: str) -> list[dict]:
  """A run's test evaluations (``metrics.jsonl``) in step order."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    records = [json.loads(line) for line in f]
  return sorted((r for r in records if r.get("split") == "test"),
                key=lambda r: r["step"])


def selection_rates(workdir: str) -> dict[str, float]:
  """The gate selection rates of a run's last test evaluation
  (``gate_rate/<gate>/<path>``; empty without gates)."""
  records = test_records(workdir)
  last = records[-1] if records else {}
  return {k: float(v) for k, v in last.items() if k.startswith("gate_rate/")}


def _exit_with_parent(parent_pid: int, poll_seconds: float) -> None:
  """Worker initializer: end this worker once its bench process is gone.

  A worker whose bench was killed (SIGKILL, a closed terminal) would
  otherwise go on training every queued run into the same workdirs, beside
  whatever is started next.
  """
  def watch():
    while os.getppid() == parent_pid:
      time.sleep(poll_seconds)
    os._exit(1)  # pylint: disable=protected-access
  threading.Thread(target=watch, daemon=True).start()


@contextlib.contextmanager
def worker_pool(jobs: int, poll_seconds: float = 1.0):
  """A pool of ``jobs`` spawned training processes that dies with the bench.

  Spawned, not forked: a forked process would inherit JAX's threads. On any
  exception in the bench (Ctrl-C included) the queued runs are cancelled and
  the running ones terminated, instead of the pool's default of finishing
  every submitted run first; a bench killed outright takes its workers with
  it through ``_exit_with_parent``.

  Args:
    jobs: number of trainings at once.
    poll_seconds: how often a worker checks that its bench is alive.

  Yields:
    The ``concurrent.futures.ProcessPoolExecutor``.
  """
  pool = concurrent.futures.ProcessPoolExecutor(
      jobs, mp_context=multiprocessing.get_context("spawn"),
      initializer=_exit_with_parent,
      initargs=(os.getpid(), poll_seconds))
  try:
    yield pool
  except BaseException:
    processes = list((pool._processes or {}).values())  # pylint: disable=protected-access
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
      process.terminate()
    for process in processes:
      process.join(timeout=10)
    raise
  pool.shutdown(wait=True)


def train(config_json: str, workdir: str) -> dict:
  """One training in a fresh process (``--jobs``): its final metrics."""
  import ml_collections  # pylint: disable=g-import-not-at-top
  from wtal_jax.training.train import train_and_evaluate  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)
  config = ml_collections.ConfigDict(json.loads(config_json))
  return train_and_evaluate(config, workdir)
