"""Checks one new video's features and puts them on the model's snippet grid.

The checks are the converters' (:mod:`data_prep.validation`): every modality
the model reads must be present, ``(T, D)`` with the width the model was
trained on, finite, floating point and not all zeros; visual streams may
differ by one snippet at the end (they are cut to the shorter), no more.
Audio arrives at its own hop (VGGish: 0.96 s) and is aligned to the visual
grid exactly as the converter aligns it (:mod:`data_prep.audio`), within the
same length tolerance.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

from data_prep import audio as audio_lib
from data_prep import validation
from wtal_jax.inference.errors import (BadVideoInput, PredictInputError,
                                       from_data_error)
from wtal_jax.training.inference_file import InferenceMetadata

AUDIO = "audio"
# Stands in for the split in the converters' messages and notes.
SOURCE = "inputs"


@dataclasses.dataclass(frozen=True)
class PreparedVideo:
  """One video ready for the model.

  Attributes:
    video_id: Its name.
    features: ``{modality: (T, D)}`` on one snippet grid (may be views of
      memory-mapped files; read when batched).
    seconds_per_snippet: Snippet index to seconds.
    notes: Things done to the input that a user should know (audio
      resampled over a length difference).
    unused: Modalities given that the model does not read.
  """

  video_id: str
  features: Mapping[str, np.ndarray]
  seconds_per_snippet: float
  notes: tuple[str, ...] = ()
  unused: tuple[str, ...] = ()

  @property
  def video_length(self) -> int:
    return int(next(iter(self.features.values())).shape[0])


def min_snippets(recipe: str, params: Mapping[str, Any]) -> int:
  """The fewest snippets a video must have to be localized.

  A single snippet has no temporal extent to localize within: both recipes
  threshold the activation relative to the video itself (``wtalc``: between
  its minimum and maximum; ``oic``: contrasting a region with its
  surroundings). ``wtalc`` also needs runs of ``min_len`` snippets.
  """
  needed = 2
  if recipe == "wtalc":
    needed = max(needed, int(params.get("min_len", 2)))
  return needed


def check_seconds_per_snippet(value: float) -> float:
  """Raises :class:`PredictInputError` unless ``value`` is positive."""
  try:
    value = float(value)
  except (TypeError, ValueError):
    value = float("nan")
  if not (math.isfinite(value) and value > 0):
    raise PredictInputError(
        f"seconds_per_snippet must be a positive number of seconds, got "
        f"{value!r}. It is frames_per_snippet / fps of the feature "
        "extraction (THUMOS14 I3D: 16 / 25 = 0.64).")
  return value


def prepare_video(metadata: InferenceMetadata, video_id: str,
                  arrays: Mapping[str, Any], seconds_per_snippet: float,
                  audio_hop_s: float = audio_lib.VGGISH_HOP_S,
                  sources: Mapping[str, str] | None = None) -> PreparedVideo:
  """Checks one video's features and aligns them to one snippet grid.

  Args:
    metadata: The run's inference metadata (modalities and widths).
    video_id: The video's name (for messages and the output).
    arrays: ``{modality: array}``; visual modalities ``(T, D)`` on the
      snippet grid, audio ``(T_audio, D)`` at ``audio_hop_s``.
    seconds_per_snippet: Seconds per visual snippet.
    audio_hop_s: Seconds between audio frames (pass ``seconds_per_snippet``
      for audio already on the snippet grid).
    sources: ``{modality: file}`` the arrays came from, for messages.

  Returns:
    The video on the model's grid.

  Raises:
    BadVideoInput: A required modality is missing, an array fails a check,
      the modalities' lengths disagree beyond the converters' tolerance, or
      the video is shorter than :func:`min_snippets`.
  """
  sources = dict(sources or {})
  required = metadata.required_modalities
  for m in required:
    if m not in arrays:
      given = ", ".join(sorted(arrays)) or "none"
      raise BadVideoInput(
          video_id, m, f"missing (given: {given}); the model reads "
          f"{', '.join(required)}.",
          f"give this video's {m} features ({metadata.modality_dims[m]} "
          "wide), or pass --on_bad_video=skip to leave it out.")
  notes = []
  try:
    checked = {m: validation.check_feature_array(
        SOURCE, video_id, m, arrays[m], metadata.modality_dims[m],
        sources.get(m, "")) for m in required}
    visual = {m: a for m, a in checked.items() if m != AUDIO}
    if visual:
      feats = validation.trim_to_common_length(SOURCE, video_id, visual)
      video_length = next(iter(feats.values())).shape[0]
    else:  # Audio alone: its own extent on the snippet grid.
      feats = {}
      video_length = max(1, int(round(checked[AUDIO].shape[0] * audio_hop_s
                                      / seconds_per_snippet)))
    if AUDIO in checked:
      spec = audio_lib.AudioSpec("", hop_s=float(audio_hop_s),
                                 dim=metadata.modality_dims[AUDIO])
      aligned = audio_lib.align_checked(spec, SOURCE, video_id,
                                        checked[AUDIO], video_length,
                                        seconds_per_snippet,
                                        sources.get(AUDIO, ""))
      feats[AUDIO] = aligned.features_TxD
      if aligned.note:
        notes.append(aligned.note.replace(f"{SOURCE}/", "", 1))
  except validation.BadVideoError as e:
    raise from_data_error(e, video_id) from None
  need = min_snippets(metadata.recipe, metadata.recipe_params)
  if video_length < need:
    raise BadVideoInput(
        video_id, "+".join(required),
        f"{video_length} snippet(s) of {seconds_per_snippet:g} s; at least "
        f"{need} are needed to localize anything.",
        "check that the features cover the whole video, or pass "
        "--on_bad_video=skip to leave it out.")
  return PreparedVideo(video_id, {m: feats[m] for m in required},
                       float(seconds_per_snippet), tuple(notes),
                       tuple(sorted(set(arrays) - set(required))))
