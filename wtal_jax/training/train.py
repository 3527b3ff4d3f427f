"""``train_and_evaluate(config, workdir)``: the whole job as a library call.

Trains with the data-parallel step, evaluates on the test split every
``config.train.eval_every`` steps, keeps the latest and the best checkpoint,
and resumes from the latest checkpoint when re-run in the same workdir. The
final evaluation prints the mAP table and writes the test-set predictions as
ActivityNet JSON (``workdir/predictions.json``) so any run can be re-scored
with ``python -m wtal_jax.evaluate``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import jax
import numpy as np
from absl import logging

from wtal_jax import config_validation
from wtal_jax.cli_errors import UserInputError
from wtal_jax.data import normalization, pipeline
from data_prep.prepared import open_dataset
from wtal_jax.evaluation import runner, snippet_eval
from wtal_jax.evaluation.json_write import (write_ground_truth_json,
                                         write_predictions_json)
from wtal_jax.evaluation.postprocess import from_eval_config
from wtal_jax.models.heads import HEADS
from wtal_jax.models.model import build_model, head_config
from wtal_jax import parallel
from wtal_jax.training import (distributed, inference_file, preemption,
                               run_files, steps)
from wtal_jax.training.checkpoints import Checkpointer
from wtal_jax.training.reporting import (MetricWriter, Progress,
                                         format_duration, gate_metrics)
from wtal_jax.training.state import create_train_state, make_optimizer


class NonFiniteLossError(UserInputError, FloatingPointError):
  """Training produced a NaN or infinite loss (the message suggests a lower
  learning rate or a check of the features)."""


def _check_finite(step: int, metrics: dict[str, Any],
                  last_checkpoint: int | None = None) -> None:
  bad = [k for k, v in metrics.items()
         if k == "loss" or k.startswith("loss/")
         if not np.all(np.isfinite(np.asarray(v)))]
  if bad:
    terms = ", ".join(f"{k}={float(np.asarray(metrics[k])):.4g}" for k in bad)
    kept = ("no checkpoint was saved yet" if last_checkpoint is None else
            f"the last good checkpoint (step {last_checkpoint}) is kept")
    raise NonFiniteLossError(
        f"Non-finite loss at step {step}: {terms}. Training stopped; {kept}. "
        "Lower config.train.lr or check the features for NaN/inf values.")


class Experiment:
  """The pieces of a run, built once from the config (also used by
  analysis tools that need the model, data and compiled steps)."""

  def __init__(self, config):
    config_validation.validate(config)
    self.config = config
    # Process 0 builds a generated dataset; the others wait for it.
    self.dataset = open_dataset(config.data,
                                process_index=jax.process_index(),
                                process_count=jax.process_count())
    self.meta = self.dataset.meta
    config_validation.validate_against_dataset(config, self.meta)
    self.groups = pipeline.parse_modalities(config.data.modalities)
    self.input_dims = pipeline.group_dims(self.groups, self.meta.modality_dims)
    self.stats = None
    mode = config.data.get("normalize", "none")
    if mode != "none":
      modalities = sorted({m for g in self.groups for m in g})
      self.stats = normalization.compute_stats(
          self.dataset.split(config.data.train_split), modalities, mode)
    self.model = build_model(config.model, self.meta.num_classes)
    self.head_spec = HEADS.get(config.model.head.kind)
    # The losses and predict function see the head at the model's width.
    self.head_cfg = head_config(config.model)
    self.tx = make_optimizer(config.train)
    self.mesh = parallel.make_mesh()
    key = jax.random.PRNGKey(config.seed)
    self.init_key, self.train_key = jax.random.split(key)
    self.eval_step = steps.make_eval_step(self.model, self.head_spec,
                                          self.head_cfg, self.mesh)

  def initial_state(self):
    return create_train_state(self.model, self.tx, self.input_dims,
                              self.init_key)

  def evaluate(self, state, split_name: str | None = None) -> runner.EvalResult:
    split = self.dataset.split(split_name or self.config.data.test_split)
    return runner.evaluate(self.eval_step, steps.variables_of(state), split,
                           self.groups, self.mesh, self.config.eval,
                           *from_eval_config(self.config.eval), stats=self.stats)


def _count(n: int) -> str:
  """``15.78M`` / ``5.2K`` / ``312``: a parameter count at a glance."""
  if n >= 1e6:
    return f"{n / 1e6:.2f}M"
  return f"{n / 1e3:.1f}K" if n >= 1e3 else str(n)


def _summary_table(result: runner.EvalResult, meta) -> str:
  snippet = f"{result.snippet.table()}\n" if result.snippet else ""
  return (f"{snippet}{result.detection.table()}\n"
          f"classification mAP {100 * result.metrics['cls_map']:.2f} | "
          f"{int(result.metrics['num_videos'])} test videos | "
          f"{meta.num_classes} classes")


def train_and_evaluate(config, workdir: str) -> dict[str, float]:
  """Trains and evaluates the model described by ``config`` in ``workdir``.

  Args:
    config: An ``ml_collections.ConfigDict`` (see ``configs/``).
    workdir: Where checkpoints, metrics, TensorBoard events and predictions
      go. Re-running in the same workdir resumes from the latest checkpoint.

  Returns:
    The final test metrics (``avg_map``, ``map@<tiou>``, ``cls_map``, ...).
  """
  workdir = run_files.make_workdir(workdir)
  exp = Experiment(config)
  train_split = exp.dataset.split(config.data.train_split)
  tcfg = config.train

  # Placed on the global mesh first, so a restore yields global arrays on
  # every process.
  state = jax.device_put(exp.initial_state(),
                         parallel.replicated_sharding(exp.mesh))
  ckpt = Checkpointer(workdir)
  restored = ckpt.restore_latest(state)
  if restored is not None:
    state = restored
    if distributed.is_primary():
      print(f"Resuming from step {int(state.step)} ({ckpt.directory}).",
            flush=True)
      run_files.trim_metrics(workdir, int(state.step))
  # After the restore: a config that does not fit the workdir's checkpoint
  # stops the run and leaves the files of the run that wrote it.
  if jax.process_index() == 0:
    run_files.write_config(workdir, config)
    # What wtal_jax.Localizer needs to run the model without the dataset.
    inference_file.write(workdir, inference_file.from_experiment(
        exp, *from_eval_config(config.eval)))
  start = int(state.step)

  train_step = steps.make_train_step(exp.model, exp.head_spec, exp.head_cfg,
                                     exp.tx, exp.mesh)
  batcher = pipeline.TrainBatcher(
      split=train_split, groups=exp.groups, batch_size=tcfg.batch_size,
      num_pairs=config.data.num_pairs, num_snippets=config.data.num_snippets,
      snippet_sampling=config.data.snippet_sampling, seed=config.seed,
      rows=parallel.local_rows(exp.mesh, tcfg.batch_size), stats=exp.stats)
  writer = MetricWriter(workdir, tensorboard=config.get("tensorboard", True),
                        purge_step=start + 1 if restored is not None else None)
  progress = Progress(start, tcfg.num_steps)
  n_params = sum(x.size for x in jax.tree_util.tree_leaves(state.params))
  if distributed.is_primary():
    print(f"{config.model.fusion.kind} + {config.model.head.kind} | "
          f"{_count(n_params)} params | {len(train_split)} train videos | "
          f"{exp.mesh.devices.size} device(s), {jax.process_count()} "
          f"process(es) | steps {start}->{tcfg.num_steps}", flush=True)

  last_eval = None
  eval_seconds = 0.0  # Of this invocation's evaluations, inside the loop.
  t_start = time.perf_counter()
  with preemption.StopRequest() as stop:
    for step, local_batch in batcher.iterate(start, tcfg.num_steps):
      global_batch = parallel.to_global(
          {k: v for k, v in local_batch.items() if k != "video_index"},
          exp.mesh, tcfg.batch_size)
      state, metrics = train_step(state, global_batch, exp.train_key)
      metrics = parallel.to_host(metrics)
      done = step + 1
      _check_finite(done, metrics, ckpt.latest_step())
      if done % tcfg.log_every == 0 or done == tcfg.num_steps:
        writer.write(done, "train", {**metrics, "lr": tcfg.lr})
        shown = {"loss": float(metrics["loss"])}
        shown.update({k.split("/", 1)[1]: float(v) for k, v in metrics.items()
                      if k.startswith("loss/")})
        progress.report(done, shown)
      if done % tcfg.eval_every == 0 or done == tcfg.num_steps:
        last_eval = exp.evaluate(state)
        eval_seconds += last_eval.seconds
        writer.write(done, "test", {**last_eval.metrics, **gate_metrics(
            o.gate_probs for o in last_eval.outputs),
                                    "eval_seconds": last_eval.seconds})
        score = snippet_eval.selection_metric(config.eval)
        progress.report(done, {f"test {score}": 100 * last_eval.metrics[score]},
                        extra=f"eval {format_duration(last_eval.seconds)}",
                        timing=False)
        # The checkpointer ranks by its "avg_map" slot; it holds the score
        # config.eval.metric selects.
        ckpt.save(done, state, {"avg_map": last_eval.metrics[score]})
      elif done % tcfg.checkpoint_every == 0:
        ckpt.save(done, state)
      if done < tcfg.num_steps and stop.requested():
        ckpt.save(done, state, force=True)
        writer.close()
        ckpt.close()
        raise preemption.Preempted(done, stop.signal_name)

  if last_eval is None:  # Already trained: re-evaluate the restored state.
    last_eval = exp.evaluate(state)
  if jax.process_index() == 0:
    write_predictions_json(os.path.join(workdir, "predictions.json"),
                           last_eval.detections, exp.meta.class_names)
    # With the predictions, so that any run can be re-scored on its own
    # (python -m wtal_jax.evaluate --ground_truth=... --predictions=...).
    write_ground_truth_json(
        os.path.join(workdir, "ground_truth.json"),
        runner.ground_truth(last_eval.outputs, exp.meta.class_names))
    final = {**last_eval.metrics, "step": int(state.step),
             "best_step": ckpt.best_step(),
             # Wall time of the training loop, its evaluations included,
             # and of those evaluations (this invocation only).
             "train_seconds": time.perf_counter() - t_start,
             "eval_seconds": eval_seconds}
    run_files.atomic_write_json(os.path.join(workdir, "final_metrics.json"),
                                final)
    print(_summary_table(last_eval, exp.meta), flush=True)
  writer.close()
  ckpt.close()
  logging.info("Finished at step %d: avg mAP %.4f", int(state.step),
               last_eval.metrics["avg_map"])
  return dict(last_eval.metrics)
