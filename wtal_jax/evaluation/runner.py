"""Runs a model over a whole split and scores it.

Videos are evaluated whole, padded into length buckets (one compile per
bucket). Every process runs the same global batches and fills its own rows;
outputs are gathered so the metrics are computed over the whole split exactly
once.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Sequence

import jax
import numpy as np
import tqdm

from wtal_jax.data import pipeline
from wtal_jax.data.source import VideoSplit
from wtal_jax.evaluation.detection_eval import detection_map
from wtal_jax.evaluation.detections import Detections, GroundTruth
from wtal_jax.evaluation.metrics import classification_map
from wtal_jax.evaluation.postprocess import postprocess_many
from wtal_jax.evaluation import snippet_eval
from wtal_jax import parallel


@dataclasses.dataclass
class VideoOutput:
  """One video's test-time outputs, unpadded (T real snippets)."""

  video_id: str
  seconds_per_snippet: float
  cas_TxC: np.ndarray
  attention_T: np.ndarray
  video_scores_C: np.ndarray
  snippet_scores_TxC1: np.ndarray
  gate_probs: dict[str, np.ndarray]
  labels_C: np.ndarray
  segments_Nx2: np.ndarray
  segment_labels_N: np.ndarray
  ambiguous_Ax2: np.ndarray
  snippet_labels_T: np.ndarray | None = None


def run_inference(eval_step, variables, split: VideoSplit, groups, mesh,
                  eval_cfg, stats=None,
                  buckets: Sequence[int] | None = None) -> list[VideoOutput]:
  """Runs ``eval_step`` over every video of ``split`` (in split order).

  Videos are padded to ``buckets``; by default to
  :func:`~wtal_jax.data.pipeline.eval_buckets` of the split (fitted to its
  lengths when ``eval_cfg.num_buckets`` > 0).
  """
  lengths = split.index.video_length_V
  if buckets is None:
    buckets = pipeline.eval_buckets(lengths, eval_cfg)
  plan = pipeline.eval_plan(lengths, buckets, eval_cfg.max_snippets_per_batch,
                            row_multiple=mesh.devices.size)
  outputs: list[VideoOutput | None] = [None] * len(split)
  # On a terminal, process 0 shows how far the pass is; the bar is removed
  # when done (the caller prints the scores).
  bar = tqdm.tqdm(total=len(split), desc="  evaluating", unit=" videos",
                  leave=False, disable=None if jax.process_index() == 0
                  else True)
  for chunk in plan:
    rows = parallel.local_rows(mesh, len(chunk.videos))
    examples = {v: split[v] for v in chunk.videos if v >= 0}
    local = pipeline.eval_batch(split, groups, chunk, rows, stats, examples)
    global_batch = parallel.to_global(
        {k: v for k, v in local.items() if k != "video_index"}, mesh,
        len(chunk.videos))
    loc, gates = parallel.to_host(eval_step(variables, global_batch))
    for r, v in enumerate(chunk.videos):
      if v < 0:
        continue
      ex = examples[v]
      t = int(split.index.video_length_V[v])
      outputs[v] = VideoOutput(
          video_id=ex["video_id"],
          seconds_per_snippet=float(ex["seconds_per_snippet"]),
          cas_TxC=loc.cas_BxTxC[r, :t],
          attention_T=loc.attention_BxT[r, :t],
          video_scores_C=loc.video_scores_BxC[r],
          snippet_scores_TxC1=loc.snippet_scores_BxTxC1[r, :t],
          gate_probs={k: g[r, :t] for k, g in gates.items()},
          labels_C=ex["labels"],
          segments_Nx2=ex["segments"],
          segment_labels_N=ex["segment_labels"],
          ambiguous_Ax2=ex["ambiguous"],
          snippet_labels_T=ex.get("snippet_labels"))
    bar.update(sum(v >= 0 for v in chunk.videos))
  bar.close()
  missing = [i for i, o in enumerate(outputs) if o is None]
  if missing:
    raise RuntimeError(f"Evaluation plan missed videos {missing[:5]}...")
  return outputs  # type: ignore[return-value]


def ground_truth(outputs: Sequence[VideoOutput],
                 class_names: Sequence[str]) -> GroundTruth:
  """The ground-truth instances (and ambiguous segments) of the videos."""
  cat = lambda xs, shape: (np.concatenate(xs) if xs else np.zeros(shape))
  rep = lambda o, n: [o.video_id] * n
  return GroundTruth(
      video=sum((rep(o, len(o.segment_labels_N)) for o in outputs), []),
      label=cat([o.segment_labels_N for o in outputs], (0,)).astype(np.int64),
      t_start=cat([o.segments_Nx2[:, 0] for o in outputs], (0,)),
      t_end=cat([o.segments_Nx2[:, 1] for o in outputs], (0,)),
      videos=[o.video_id for o in outputs],
      ambiguous_video=sum((rep(o, len(o.ambiguous_Ax2)) for o in outputs), []),
      ambiguous_start=cat([o.ambiguous_Ax2[:, 0] for o in outputs], (0,)),
      ambiguous_end=cat([o.ambiguous_Ax2[:, 1] for o in outputs], (0,)),
      class_names=tuple(class_names))


def detect(outputs: Sequence[VideoOutput], recipe: str,
           params: dict[str, Any]) -> Detections:
  """Post-processes every video into scored segments."""
  return postprocess_many(
      recipe, [o.cas_TxC for o in outputs], [o.attention_T for o in outputs],
      [o.video_scores_C for o in outputs],
      [o.seconds_per_snippet for o in outputs],
      [o.video_id for o in outputs], **params)


@dataclasses.dataclass
class EvalResult:
  """Scores of one evaluation.

  Attributes:
    metrics: Flat scalars for logging: ``map@<tiou>``, ``avg_map``,
      ``cls_map``, ``num_videos``, ``num_predictions`` (segments),
      ``num_predicted_classes`` and, with snippet labels, ``snippet_acc``.
    detection: The full detection result (per-class APs, table).
    detections: All predicted segments.
    outputs: Per-video model outputs (for plots and analysis).
    seconds: Wall time of inference plus scoring.
    snippet: Snippet accuracy details (``config.eval.metric =
      "snippet_accuracy"`` or a dataset with snippet labels), else None.
  """

  metrics: dict[str, float]
  detection: Any
  detections: Detections
  outputs: list[VideoOutput]
  seconds: float
  snippet: Any = None


def evaluate(eval_step, variables, split: VideoSplit, groups, mesh, eval_cfg,
             recipe: str, recipe_params: dict[str, Any],
             stats=None) -> EvalResult:
  """Inference, post-processing and scoring of one split.

  Args:
    eval_step: From :func:`wtal_jax.training.steps.make_eval_step`.
    variables: Model variables.
    split: The split to evaluate.
    groups: Parsed modality groups.
    mesh: The device mesh.
    eval_cfg: ``config.eval`` (buckets, batch size, tIoUs, ambiguous removal).
    recipe: Post-processing recipe name.
    recipe_params: Its parameters.
    stats: Input standardisation (as in training), or None.
  """
  t0 = time.perf_counter()
  score_name = snippet_eval.selection_metric(eval_cfg)
  outputs = run_inference(eval_step, variables, split, groups, mesh, eval_cfg,
                          stats)
  dets = detect(outputs, recipe, recipe_params)
  result = detection_map(ground_truth(outputs, split.meta.class_names), dets,
                         tious=tuple(eval_cfg.tious),
                         remove_ambiguous=eval_cfg.get("remove_ambiguous",
                                                       False))
  scalars = {f"map@{t:g}": float(m) for t, m in
             zip(result.tious, result.map_per_tiou)}
  scalars["avg_map"] = float(result.average)
  scalars["cls_map"] = float(classification_map(
      np.stack([o.video_scores_C for o in outputs]),
      np.stack([o.labels_C for o in outputs])))
  snippet = None
  if score_name == "snippet_acc" or (
      outputs and outputs[0].snippet_labels_T is not None):
    snippet = snippet_eval.snippet_scores(outputs, split.meta.class_names)
    scalars["snippet_acc"] = float(snippet.accuracy)
  scalars["num_videos"] = float(len(outputs))
  # A model that classifies but does not localize shows here first: few
  # segments, or segments of one class everywhere.
  scalars["num_predictions"] = float(len(dets.score))
  scalars["num_predicted_classes"] = float(len(np.unique(dets.label)))
  return EvalResult(scalars, result, dets, outputs, time.perf_counter() - t0,
                    snippet)
