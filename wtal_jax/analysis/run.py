"""Loading a finished (or running) training run for analysis.

``train_and_evaluate`` leaves in its workdir ``config.json`` (the config),
``checkpoints/`` (Orbax: the latest step and the best by average mAP),
``metrics.jsonl``, ``tensorboard/`` and ``predictions.json``. This module
rebuilds the :class:`~wtal_jax.training.train.Experiment` from the config,
restores a checkpoint into it, and feeds analysis code whole test videos.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator, Sequence

import numpy as np

from wtal_jax.data import pipeline
from wtal_jax.data.source import SplitIndex, VideoSplit
from wtal_jax.evaluation import runner
from wtal_jax.training import steps
from wtal_jax.training.checkpoints import Checkpointer
from wtal_jax.evaluation.postprocess import from_eval_config
from wtal_jax.training import run_files
from wtal_jax.training.train import Experiment

CHECKPOINT_CHOICES = ("best", "latest")


@dataclasses.dataclass
class LoadedRun:
  """A restored run.

  Attributes:
    experiment: Model, data, statistics and compiled evaluation step.
    variables: The restored model variables.
    step: The checkpoint's training step.
    workdir: Where the run lives.
  """

  experiment: Experiment
  variables: dict[str, Any]
  step: int
  workdir: str

  @property
  def config(self):
    return self.experiment.config

  @property
  def modality_names(self) -> tuple[str, ...]:
    return tuple(self.config.data.modalities)


def load_run(workdir: str, checkpoint: str = "best",
             config=None) -> LoadedRun:
  """Restores a run's model from its workdir.

  Args:
    workdir: The ``--workdir`` of the training run.
    checkpoint: ``best`` (by average mAP; falls back to the latest when no
      checkpoint carries metrics) or ``latest``.
    config: Overrides ``workdir/config.json`` (e.g. to point
      ``data.data_dir`` elsewhere).

  Raises:
    FileNotFoundError: If there is no config (``NotARunError``) or no
      checkpoint.
    ValueError: On an unknown ``checkpoint`` choice.
  """
  if checkpoint not in CHECKPOINT_CHOICES:
    raise ValueError(f"checkpoint must be one of {CHECKPOINT_CHOICES}, got "
                     f"{checkpoint!r}.")
  config = config if config is not None else run_files.read_config(workdir)
  exp = Experiment(config)
  ckpt = Checkpointer(workdir)
  try:
    step = ckpt.best_step() if checkpoint == "best" else None
    step = step if step is not None else ckpt.latest_step()
    if step is None:
      raise FileNotFoundError(
          f"No checkpoint in {ckpt.directory}; train first (python -m "
          f"wtal_jax.main --workdir={workdir} ...).")
    state = ckpt.restore(step, exp.initial_state())
  finally:
    ckpt.close()
  return LoadedRun(exp, steps.variables_of(state), int(step), workdir)


class SplitSubset:
  """Some videos of a :class:`VideoSplit`, usable wherever a split is."""

  def __init__(self, split: VideoSplit, indices: Sequence[int]):
    self._split = split
    self._indices = [int(i) for i in indices]
    self.name = split.name
    self.meta = split.meta
    idx = np.asarray(self._indices, np.int64)
    full = split.index
    self.index = SplitIndex(
        video_ids=tuple(full.video_ids[i] for i in self._indices),
        labels_VxC=full.labels_VxC[idx],
        video_length_V=full.video_length_V[idx],
        seconds_per_snippet_V=full.seconds_per_snippet_V[idx])

  def __len__(self) -> int:
    return len(self._indices)

  def __getitem__(self, i: int) -> dict[str, Any]:
    return self._split[self._indices[int(i)]]


def video_subset(split: VideoSplit, video_ids: Sequence[str]) -> SplitSubset:
  """The named videos of ``split``, in the given order.

  Raises:
    KeyError: If a video is not in the split.
  """
  position = {v: i for i, v in enumerate(split.index.video_ids)}
  missing = [v for v in video_ids if v not in position]
  if missing:
    examples = ", ".join(split.index.video_ids[:3])
    raise KeyError(f"Videos {missing} are not in split {split.name!r} "
                   f"({len(split)} videos, e.g. {examples}).")
  return SplitSubset(split, [position[v] for v in video_ids])


def eval_batches(split, groups, eval_cfg, stats=None,
                 row_multiple: int = 1) -> Iterator[dict]:
  """Whole-video, length-bucketed batches of a split (as in evaluation), on
  one host; padded rows and snippets have ``mask`` False."""
  lengths = split.index.video_length_V
  plan = pipeline.eval_plan(lengths, pipeline.eval_buckets(lengths, eval_cfg),
                            eval_cfg.max_snippets_per_batch, row_multiple)
  for chunk in plan:
    yield pipeline.eval_batch(split, groups, chunk, None, stats)


def run_batches(run: LoadedRun, split_name: str | None = None
                ) -> Iterator[dict]:
  """:func:`eval_batches` of a run's split (default: its test split)."""
  exp = run.experiment
  split = exp.dataset.split(split_name or exp.config.data.test_split)
  return eval_batches(split, exp.groups, exp.config.eval, exp.stats)


def video_outputs(run: LoadedRun, video_ids: Sequence[str],
                  split_name: str | None = None
                  ) -> tuple[list[runner.VideoOutput], Any]:
  """Model outputs and post-processed detections of some videos.

  Returns:
    ``(outputs, detections)``: one :class:`runner.VideoOutput` per video
    and their :class:`~wtal_jax.evaluation.detections.Detections` under the
    run's post-processing recipe.
  """
  exp = run.experiment
  split = exp.dataset.split(split_name or exp.config.data.test_split)
  subset = video_subset(split, video_ids)
  outputs = runner.run_inference(exp.eval_step, run.variables, subset,
                                 exp.groups, exp.mesh, exp.config.eval,
                                 exp.stats)
  return outputs, runner.detect(outputs, *from_eval_config(exp.config.eval))
