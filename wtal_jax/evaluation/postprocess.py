"""Post-processing registry: from per-video network outputs to detections.

A recipe turns one video's unpadded outputs, ``(cas_TxC, attention_T,
video_scores_C)``, into scored segments in seconds. ``POSTPROCESS`` maps a
recipe name to a per-video function; :func:`postprocess_many` runs a recipe on
many videos and batches the per-class NMS across all of them, which is what a
test-set evaluation should call (NMS is sequential within a class, so batching
across videos is where the speed comes from).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from wtal_jax.evaluation import nms as nms_lib
from wtal_jax.evaluation.detections import Detections
from wtal_jax.evaluation.oic import oic_proposals
from wtal_jax.evaluation.proposals import NmsSpec, Proposals
from wtal_jax.evaluation.wtalc import wtalc_proposals

ProposalFn = Callable[..., tuple[Proposals, NmsSpec]]

_PROPOSERS: dict[str, ProposalFn] = {
    "wtalc": wtalc_proposals,
    "oic": oic_proposals,
}


def _check_video(video_id, cas_TxC, attention_T, video_scores_C,
                 seconds_per_snippet):
  """Validates and converts one video's outputs; errors name the video."""
  cas = np.asarray(cas_TxC, np.float64)
  if cas.ndim != 2 or cas.shape[0] < 1 or cas.shape[1] < 1:
    raise ValueError(f"Video {video_id!r}: cas_TxC must be (T >= 1, C >= 1), "
                     f"got shape {cas.shape}.")
  if not np.all(np.isfinite(cas)):
    raise ValueError(f"Video {video_id!r}: cas_TxC has NaN or inf values.")
  scores = np.asarray(video_scores_C, np.float64).reshape(-1)
  if scores.shape[0] != cas.shape[1] or not np.all(np.isfinite(scores)):
    raise ValueError(f"Video {video_id!r}: video_scores_C must be "
                     f"{cas.shape[1]} finite numbers, got {scores.shape[0]} "
                     "values.")
  att = None
  if attention_T is not None:
    att = np.asarray(attention_T, np.float64).reshape(-1)
    if att.shape[0] != cas.shape[0] or not np.all(np.isfinite(att)):
      raise ValueError(f"Video {video_id!r}: attention_T must be "
                       f"{cas.shape[0]} finite numbers (one per real snippet)"
                       f", got {att.shape[0]} values.")
  sps = float(seconds_per_snippet)
  if not (np.isfinite(sps) and sps > 0):
    raise ValueError(f"Video {video_id!r}: seconds_per_snippet must be > 0, "
                     f"got {seconds_per_snippet!r}.")
  return cas, att, scores, sps


def postprocess_many(recipe: str, cas_list: Sequence[np.ndarray],
                     attention_list: Sequence[np.ndarray | None] | None,
                     video_scores: Sequence[np.ndarray],
                     seconds_per_snippet: float | Sequence[float],
                     video_ids: Sequence[str], **params) -> Detections:
  """Runs a recipe on many videos, with one batched NMS over all of them.

  Args:
    recipe: A name in ``POSTPROCESS`` (``"wtalc"`` or ``"oic"``).
    cas_list: Per video, ``(T_v, C)`` CAS of the real snippets.
    attention_list: Per video, ``(T_v,)`` attention or None; None for all.
    video_scores: Per video, ``(C,)`` video-level class scores.
    seconds_per_snippet: One value, or one per video.
    video_ids: Per video, its id.
    **params: Recipe parameters (see the recipe's proposal function).

  Returns:
    Detections grouped by video in input order; within a video, kept
    segments in the recipe's proposal order.
  """
  if recipe not in _PROPOSERS:
    raise KeyError(f"Unknown post-processing recipe {recipe!r}; known: "
                   f"{sorted(_PROPOSERS)}.")
  proposer = _PROPOSERS[recipe]
  n = len(cas_list)
  if attention_list is None:
    attention_list = [None] * n
  if np.ndim(seconds_per_snippet) == 0:
    seconds_per_snippet = [seconds_per_snippet] * n
  lengths = {len(attention_list), len(video_scores), len(seconds_per_snippet),
             len(video_ids)}
  if lengths != {n}:
    raise ValueError("postprocess_many: per-video sequences differ in length.")
  props, spec = [], NmsSpec()
  for vid, cas, att, sc, sps in zip(video_ids, cas_list, attention_list,
                                    video_scores, seconds_per_snippet):
    cas, att, sc, sps = _check_video(vid, cas, att, sc, sps)
    p, spec = proposer(cas, att, sc, sps, **params)
    props.append(p)
  counts = np.array([len(p) for p in props], np.int64)
  allp = Proposals.concatenate(props)
  video_index = np.repeat(np.arange(n), counts)
  num_classes = int(allp.label.max()) + 1 if len(allp) else 1
  keep, score = nms_lib.batched_nms(
      video_index * num_classes + allp.label, allp.t_start, allp.t_end,
      allp.score, kind=spec.kind, iou=spec.iou, sigma=spec.sigma,
      length_offset=spec.length_offset)
  ids = np.asarray([str(v) for v in video_ids])
  return Detections(video=ids[video_index[keep]] if n else ids,
                    label=allp.label[keep], t_start=allp.t_start[keep],
                    t_end=allp.t_end[keep], score=score)


def _per_video(recipe: str, cas_TxC, attention_T, video_scores_C,
               seconds_per_snippet: float, video_id: str, **params
               ) -> Detections:
  return postprocess_many(recipe, [cas_TxC], [attention_T], [video_scores_C],
                          [seconds_per_snippet], [video_id], **params)


POSTPROCESS: dict[str, Callable[..., Detections]] = {
    name: functools.partial(_per_video, name) for name in _PROPOSERS}


def postprocess(recipe: str, cas_TxC: np.ndarray,
                attention_T: np.ndarray | None, video_scores_C: np.ndarray,
                seconds_per_snippet: float, video_id: str,
                **params) -> Detections:
  """Runs a post-processing recipe on one video.

  Args:
    recipe: ``"wtalc"`` or ``"oic"`` (see their modules for the parameters
      and the documented interpretation of the public code).
    cas_TxC: ``(T, C)`` CAS of the real (unpadded) snippets, background
      excluded.
    attention_T: ``(T,)`` attention, or None for recipes that do not use it.
    video_scores_C: ``(C,)`` video-level class scores.
    seconds_per_snippet: Snippet index to seconds (``frames / fps``).
    video_id: The video's id, copied to every detection.
    **params: Recipe parameters.

  Returns:
    The video's detections. For many videos, :func:`postprocess_many` is
    faster and returns the same detections.
  """
  if recipe not in POSTPROCESS:
    raise KeyError(f"Unknown post-processing recipe {recipe!r}; known: "
                   f"{sorted(POSTPROCESS)}.")
  return POSTPROCESS[recipe](cas_TxC, attention_T, video_scores_C,
                             seconds_per_snippet, video_id, **params)


def parameter_names(recipe: str) -> tuple[str, ...]:
  """The keyword parameters a recipe takes (beyond a video's outputs)."""
  fixed = 4  # cas_TxC, attention_T, video_scores_C, seconds_per_snippet.
  sig = inspect.signature(_PROPOSERS[recipe])
  return tuple(list(sig.parameters)[fixed:])


def from_eval_config(eval_cfg) -> tuple[str, dict[str, Any]]:
  """The post-processing a config names, ``(recipe, params)``.

  ``eval_cfg.postprocess`` names the recipe (the method's recipe module sets
  its published one); ``eval_cfg.postprocess_params[recipe]`` holds that
  recipe's parameters, so naming another recipe starts from its defaults.
  """
  name = eval_cfg.postprocess
  params = eval_cfg.get("postprocess_params", {}).get(name, {})
  return name, dict(params.to_dict() if hasattr(params, "to_dict")
                    else params)
