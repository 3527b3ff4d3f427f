"""``Localizer``: a trained run applied to new videos' features.

  from wtal_jax import Localizer
  localizer = Localizer.from_workdir("/tmp/wtal_lgca")        # best checkpoint
  pred = localizer.predict({"rgb": rgb_TxD, "flow": flow_TxD})
  for seg in pred.top(5):
    print(seg.label, seg.start, seg.end, seg.score)

A run's workdir holds everything needed (``config.json``, ``inference.json``
and ``checkpoints/``); the training dataset is not opened. Videos go through
the evaluation code path (:func:`wtal_jax.evaluation.runner.run_inference`
and the run's post-processing recipe), padded into the same length buckets,
so the step compiles once per bucket and a video's segments equal those
``train_and_evaluate`` writes for it from the same checkpoint.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

import numpy as np

from data_prep import audio as audio_lib
from data_prep import validation
from wtal_jax.data.schema import DatasetMeta
from wtal_jax.data.source import SplitIndex
from wtal_jax.evaluation import runner
from wtal_jax.evaluation.detections import Detections
from wtal_jax.inference import checkpoint as checkpoint_lib
from wtal_jax.inference import inputs as inputs_lib
from wtal_jax.training import inference_file as metadata_lib
from wtal_jax.inference.errors import (BadVideoInput, PredictInputError,
                                       from_data_error)
from wtal_jax.models.heads import HEADS
from wtal_jax.models.model import build_model, head_config
from wtal_jax import parallel
from wtal_jax.training import run_files, steps

ON_BAD_VIDEO = ("error", "skip")
# A video's features, or a function that reads them (raising the converters'
# BadVideoError or BadVideoInput when they are unusable).
VideoArrays = Union[Mapping[str, Any], Callable[[], Mapping[str, Any]]]


@dataclasses.dataclass(frozen=True)
class Segment:
  """One localized action instance (times in seconds)."""

  start: float
  end: float
  label: str
  score: float


@dataclasses.dataclass
class VideoPrediction:
  """What the model says about one video.

  Attributes:
    video_id: The video's name.
    segments: Localized instances, in the recipe's order (see :meth:`top`).
    cas_TxC: Class activation sequence per snippet.
    foreground_T: Class-agnostic foreground (attention) score per snippet.
    video_scores_C: Video-level class scores.
    gate_probs: ``{gate: (T, P)}`` path probabilities of every fusion gate.
    class_names: Names of the C classes.
    output: The evaluation code's record of the video (for
      :func:`wtal_jax.analysis.plot_video`).
    detections: The segments as :class:`Detections` rows.
    notes: What was done to the input that a user should know (set by
      :meth:`Localizer.predict`; :class:`Predictions` holds them for many
      videos).
  """

  video_id: str
  segments: list[Segment]
  cas_TxC: np.ndarray
  foreground_T: np.ndarray
  video_scores_C: np.ndarray
  gate_probs: dict[str, np.ndarray]
  class_names: tuple[str, ...]
  output: runner.VideoOutput
  detections: Detections
  notes: list[str] = dataclasses.field(default_factory=list)

  @property
  def seconds_per_snippet(self) -> float:
    return self.output.seconds_per_snippet

  @property
  def gate_choices(self) -> dict[str, np.ndarray]:
    """``{gate: (T,)}`` the path with the largest probability per snippet."""
    return {k: np.argmax(v, -1) for k, v in self.gate_probs.items()}

  def top(self, k: int | None = None) -> list[Segment]:
    """The ``k`` highest-scoring segments (all when None), best first."""
    order = sorted(self.segments, key=lambda s: -s.score)
    return order if k is None else order[:k]


@dataclasses.dataclass
class Predictions:
  """The result of :meth:`Localizer.predict_many`.

  Attributes:
    videos: One prediction per usable video, in input order.
    detections: Every segment, grouped by video in input order (the rows
      ``train_and_evaluate`` writes to ``predictions.json``).
    skipped: ``{"video", "modality", "reason", "fix"}`` per video left out
      (``on_bad_video="skip"``).
    notes: Things done to the inputs a user should know.
  """

  videos: list[VideoPrediction]
  detections: Detections
  skipped: list[dict[str, str]]
  notes: list[str]

  def __getitem__(self, video_id: str) -> VideoPrediction:
    for v in self.videos:
      if v.video_id == video_id:
        return v
    raise KeyError(f"No prediction for video {video_id!r}.")


class _VideoList:
  """Prepared videos in the shape of a dataset split, so that the
  evaluation code runs on them unchanged."""

  def __init__(self, videos: Sequence[inputs_lib.PreparedVideo],
               metadata: metadata_lib.InferenceMetadata):
    self.name = "inputs"
    self._videos = list(videos)
    self.meta = DatasetMeta(class_names=metadata.class_names,
                            modality_dims=dict(metadata.modality_dims))
    self.index = SplitIndex(
        video_ids=tuple(v.video_id for v in videos),
        labels_VxC=np.zeros((len(videos), metadata.num_classes), np.float32),
        video_length_V=np.asarray([v.video_length for v in videos], np.int64),
        seconds_per_snippet_V=np.asarray(
            [v.seconds_per_snippet for v in videos], np.float64))
    self._num_classes = metadata.num_classes

  def __len__(self) -> int:
    return len(self._videos)

  def __getitem__(self, i: int) -> dict[str, Any]:
    v = self._videos[int(i)]
    # No ground truth: new videos are not annotated.
    return {"video_id": v.video_id,
            "seconds_per_snippet": np.float64(v.seconds_per_snippet),
            "labels": np.zeros((self._num_classes,), np.float32),
            "segments": np.zeros((0, 2)), "segment_labels": np.zeros(
                (0,), np.int32), "ambiguous": np.zeros((0, 2)),
            **{m: np.asarray(x, np.float32) for m, x in v.features.items()}}


class Localizer:
  """A trained model, its input normalisation and post-processing.

  Build it with :meth:`from_workdir`. Attributes: ``config`` (the run's
  config), ``metadata`` (:class:`~wtal_jax.training.inference_file.
  InferenceMetadata`), ``variables``, ``step`` (of the checkpoint) and
  ``workdir``.
  """

  def __init__(self, config, metadata: metadata_lib.InferenceMetadata,
               variables, step: int, workdir: str = ""):
    self.config = config
    self.metadata = metadata
    self.variables = variables
    self.step = int(step)
    self.workdir = workdir
    self.model = build_model(config.model, metadata.num_classes)
    self.mesh = parallel.make_mesh()
    self.eval_step = steps.make_eval_step(
        self.model, HEADS.get(config.model.head.kind),
        head_config(config.model), self.mesh)

  @classmethod
  def from_workdir(cls, workdir: str, checkpoint: str | int = "best"
                   ) -> "Localizer":
    """Restores a run from its workdir alone.

    Args:
      workdir: The ``--workdir`` of a training run.
      checkpoint: ``"best"`` (by the run's selection metric; the latest
        when none carries metrics), ``"latest"`` or a step number.

    Raises:
      PredictInputError: Not a workdir, or its inference metadata is missing
        (:class:`MissingMetadataError`, saying how to re-create it).
      NoCheckpointError: No checkpoint, an unknown step or a damaged one.
    """
    config = run_files.read_config(workdir)
    metadata = metadata_lib.read(workdir)
    model = build_model(config.model, metadata.num_classes)
    dims = tuple(sum(metadata.modality_dims[m] for m in g)
                 for g in metadata.groups)
    variables, step = checkpoint_lib.restore_variables(
        workdir, config, model, dims, checkpoint)
    return cls(config, metadata, variables, step, os.path.abspath(workdir))

  @property
  def class_names(self) -> tuple[str, ...]:
    return self.metadata.class_names

  @property
  def modality_names(self) -> tuple[str, ...]:
    """Names of the fused modality groups (for the gate strips of plots)."""
    return tuple(self.metadata.modalities)

  def predict(self, features: Mapping[str, Any],
              seconds_per_snippet: float | None = None,
              video_id: str = "video",
              audio_hop_s: float = audio_lib.VGGISH_HOP_S) -> VideoPrediction:
    """Localizes actions in one video.

    Args:
      features: ``{modality: (T, D)}`` raw features (as extracted; the run's
        normalisation is applied here); audio ``(T_audio, D)`` at its own
        hop.
      seconds_per_snippet: Snippet length in seconds (default: the training
        data's).
      video_id: Name used in the result.
      audio_hop_s: Seconds between audio frames (VGGish: 0.96; pass
        ``seconds_per_snippet`` for audio already on the snippet grid).

    Raises:
      BadVideoInput: The features are unusable; the message names the
        modality and the fix.
    """
    preds = self.predict_many({video_id: features}, seconds_per_snippet,
                              audio_hop_s)
    video = preds.videos[0]
    video.notes = list(preds.notes)
    return video

  def predict_many(self, videos: Union[Mapping[str, VideoArrays],
                                       Iterable[tuple[str, VideoArrays]]],
                   seconds_per_snippet: float | None = None,
                   audio_hop_s: float = audio_lib.VGGISH_HOP_S,
                   on_bad_video: str = "error") -> Predictions:
    """Localizes actions in many videos, batched into length buckets.

    Args:
      videos: ``{video_id: features}`` or ``(video_id, features)`` pairs;
        features as in :meth:`predict`, or a function returning them.
      seconds_per_snippet: As in :meth:`predict`.
      audio_hop_s: As in :meth:`predict`.
      on_bad_video: ``"error"`` raises on the first unusable video;
        ``"skip"`` leaves it out and lists it in ``Predictions.skipped``.

    Raises:
      BadVideoInput: With ``on_bad_video="error"``.
      PredictInputError: Duplicate video ids or a bad ``seconds_per_snippet``.
    """
    if on_bad_video not in ON_BAD_VIDEO:
      raise PredictInputError(f"on_bad_video must be one of {ON_BAD_VIDEO}, "
                              f"got {on_bad_video!r}.")
    sps = inputs_lib.check_seconds_per_snippet(
        self.metadata.seconds_per_snippet if seconds_per_snippet is None
        else seconds_per_snippet)
    items = videos.items() if isinstance(videos, Mapping) else videos
    prepared, skipped, notes, seen = [], [], [], set()
    unused: dict[tuple[str, ...], int] = {}
    for video_id, arrays in items:
      video_id = str(video_id)
      if video_id in seen:
        raise PredictInputError(f"Video {video_id!r} is given twice; video "
                                "names must be unique.")
      seen.add(video_id)
      try:
        if callable(arrays):
          arrays = arrays()
        video = inputs_lib.prepare_video(self.metadata, video_id, arrays, sps,
                                         audio_hop_s)
      except validation.BadVideoError as e:
        error = from_data_error(e, video_id)
      except BadVideoInput as e:
        error = e
      else:
        prepared.append(video)
        notes.extend(video.notes)
        if video.unused:
          unused[video.unused] = unused.get(video.unused, 0) + 1
        continue
      if on_bad_video == "error":
        raise error
      skipped.append(error.to_dict())
    trained = self.metadata.seconds_per_snippet
    if prepared and abs(sps - trained) > 1e-9 * trained:
      # The model's temporal filters count snippets, not seconds.
      notes.append(f"seconds_per_snippet {sps:g} differs from the training "
                   f"data's {trained:g}: the model sees actions at another "
                   "time scale than it was trained on.")
    reads = ", ".join(self.metadata.required_modalities)
    notes.extend(f"{', '.join(mods)} features of {n} video(s) not used: the "
                 f"model reads {reads}." for mods, n in unused.items())
    return self._run(prepared, skipped, notes)

  def _run(self, prepared, skipped, notes) -> Predictions:
    if not prepared:
      return Predictions([], Detections.empty(), skipped, notes)
    split = _VideoList(prepared, self.metadata)
    # The run's evaluation buckets: a test video is padded as in the
    # evaluation (same segments, to the last bit), and every call reuses
    # the steps compiled for them.
    outputs = runner.run_inference(
        self.eval_step, self.variables, split, self.metadata.groups,
        self.mesh, self.config.eval, self.metadata.normalizer,
        buckets=(tuple(self.metadata.eval_buckets)
                 or tuple(self.config.eval.buckets)))
    dets = runner.detect(outputs, self.metadata.recipe,
                         dict(self.metadata.recipe_params))
    return Predictions([self._video(o, dets) for o in outputs], dets,
                       skipped, notes)

  def _video(self, output: runner.VideoOutput,
             dets: Detections) -> VideoPrediction:
    mine = dets.take(dets.video == output.video_id)
    segments = [Segment(float(s), float(e), self.class_names[int(c)],
                        float(p))
                for s, e, c, p in zip(mine.t_start, mine.t_end, mine.label,
                                      mine.score)]
    return VideoPrediction(
        video_id=output.video_id, segments=segments, cas_TxC=output.cas_TxC,
        foreground_T=output.attention_T, video_scores_C=output.video_scores_C,
        gate_probs=dict(output.gate_probs), class_names=self.class_names,
        output=output, detections=mine)
