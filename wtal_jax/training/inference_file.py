"""What a trained run needs at inference, written into its workdir.

``train_and_evaluate`` writes ``workdir/inference.json`` next to
``config.json``: the class names, the width of every modality, the modality
groups the model reads, the seconds per snippet of the training data, the
post-processing recipe with its parameters, and the input normalisation
statistics of the training split. With it and a checkpoint,
:class:`wtal_jax.Localizer` runs the model on new features without the
training dataset.

The normalisation object is stored generically: its class (module and name)
and every field, NumPy arrays as lists with their dtype. JSON floats written
by Python round-trip exactly, so restored statistics are bit-identical and a
new normalisation mode needs no change here.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from typing import Any, Mapping, Sequence

import numpy as np

from wtal_jax.cli_errors import UserInputError
from wtal_jax.data import pipeline
from wtal_jax.training import run_files

INFERENCE_FILE = "inference.json"
FORMAT_VERSION = 1
_ARRAY = "__ndarray__"
_OBJECT = "__object__"


class MissingMetadataError(UserInputError, ValueError):
  """The workdir does not record what inference needs (the message says how
  to re-create it)."""


@dataclasses.dataclass(frozen=True)
class InferenceMetadata:
  """Everything about a run's data that inference needs.

  Attributes:
    class_names: Action class names, in the model's output order.
    modality_dims: Width of every modality the model reads.
    modalities: The config's modality groups (``("rgb", "flow")``,
      ``("rgb+flow", "audio")``, ...).
    seconds_per_snippet: Snippet index to seconds of the training data
      (the default for new videos).
    frames_per_snippet: Informational, from the dataset.
    fps: Informational, from the dataset.
    recipe: Post-processing recipe name.
    recipe_params: Its parameters.
    normalize: ``config.data.normalize`` of the run.
    normalizer: The fitted normalisation (anything with
      ``apply(modality, x_TxD)``), or None for raw features.
    eval_buckets: The bucket lengths of the run's test evaluation (fitted
      to its test split when ``config.eval.num_buckets`` > 0). Prediction
      pads videos to them, so that a test video's segments are those of the
      evaluation; empty in older runs (``config.eval.buckets`` then).
    dataset: Provenance: name, builder config and source of the training
      data.
  """

  class_names: tuple[str, ...]
  modality_dims: Mapping[str, int]
  modalities: tuple[str, ...]
  seconds_per_snippet: float
  recipe: str
  recipe_params: Mapping[str, Any]
  normalize: str = "none"
  normalizer: Any = None
  frames_per_snippet: float | None = None
  fps: float | None = None
  dataset: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  eval_buckets: tuple[int, ...] = ()

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  @property
  def groups(self) -> tuple[tuple[str, ...], ...]:
    """``("rgb+flow", "audio") -> (("rgb", "flow"), ("audio",))``."""
    return tuple(tuple(g.split("+")) for g in self.modalities)

  @property
  def required_modalities(self) -> tuple[str, ...]:
    """Every modality the model reads, in group order."""
    return tuple(dict.fromkeys(m for g in self.groups for m in g))


def from_experiment(experiment, recipe: str,
                    recipe_params: Mapping[str, Any]) -> InferenceMetadata:
  """The metadata of a :class:`~wtal_jax.training.train.Experiment`."""
  config, meta = experiment.config, experiment.meta
  index = experiment.dataset.split(config.data.train_split).index
  values, counts = np.unique(index.seconds_per_snippet_V, return_counts=True)
  required = {m for g in experiment.groups for m in g}
  return InferenceMetadata(
      class_names=tuple(meta.class_names),
      modality_dims={m: int(d) for m, d in meta.modality_dims.items()
                     if m in required},
      modalities=tuple(config.data.modalities),
      # The most common value: datasets store one per video, and they agree.
      seconds_per_snippet=float(values[np.argmax(counts)]) if len(values)
      else float("nan"),
      recipe=recipe, recipe_params=dict(recipe_params),
      normalize=str(config.data.get("normalize", "none")),
      normalizer=experiment.stats,
      frames_per_snippet=meta.frames_per_snippet, fps=meta.fps,
      dataset={"name": config.data.name,
               "builder_config": config.data.get("builder_config") or "",
               "source": meta.source},
      eval_buckets=pipeline.eval_buckets(
          experiment.dataset.split(config.data.test_split).index
          .video_length_V, config.eval))


def _encode(value: Any) -> Any:
  if isinstance(value, np.ndarray):
    return {_ARRAY: value.tolist(), "dtype": str(value.dtype),
            "shape": list(value.shape)}
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, Mapping):
    return {str(k): _encode(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_encode(v) for v in value]
  if value is None or isinstance(value, (str, int, float, bool)):
    return value
  cls = type(value)
  fields = ({f.name: getattr(value, f.name)
             for f in dataclasses.fields(value)}
            if dataclasses.is_dataclass(value) else vars(value))
  return {_OBJECT: f"{cls.__module__}:{cls.__qualname__}",
          "fields": {k: _encode(v) for k, v in fields.items()}}


def _decode(value: Any) -> Any:
  if isinstance(value, list):
    # JSON has no tuples; the configs' parameters are tuples.
    return tuple(_decode(v) for v in value)
  if not isinstance(value, dict):
    return value
  if _ARRAY in value:
    return np.asarray(value[_ARRAY], dtype=value["dtype"]).reshape(
        value["shape"])
  if _OBJECT in value:
    module, _, name = value[_OBJECT].partition(":")
    cls = importlib.import_module(module)
    for part in name.split("."):
      cls = getattr(cls, part)
    fields = {k: _decode(v) for k, v in value["fields"].items()}
    if dataclasses.is_dataclass(cls):
      return cls(**fields)
    obj = cls.__new__(cls)
    obj.__dict__.update(fields)
    return obj
  return {k: _decode(v) for k, v in value.items()}


def to_json(metadata: InferenceMetadata) -> dict[str, Any]:
  """The JSON object of ``inference.json``."""
  out = {"format_version": FORMAT_VERSION}
  for f in dataclasses.fields(metadata):
    out[f.name] = _encode(getattr(metadata, f.name))
  return out


def from_json(obj: Mapping[str, Any], source: str = "") -> InferenceMetadata:
  """Inverse of :func:`to_json`.

  Raises:
    MissingMetadataError: On a file of another format version or without a
      required field.
  """
  version = obj.get("format_version")
  if version != FORMAT_VERSION:
    raise MissingMetadataError(
        f"{source or INFERENCE_FILE} has format version {version!r}; this "
        f"wtal_jax reads version {FORMAT_VERSION}. Re-create it with "
        "python -m wtal_jax.predict --workdir=RUN --write_metadata.")
  names = {f.name for f in dataclasses.fields(InferenceMetadata)}
  kwargs = {k: _decode(v) for k, v in obj.items() if k in names}
  try:
    meta = InferenceMetadata(**kwargs)
  except TypeError as e:
    raise MissingMetadataError(
        f"{source or INFERENCE_FILE} is incomplete ({e}). Re-create it with "
        "python -m wtal_jax.predict --workdir=RUN --write_metadata.") from None
  return dataclasses.replace(
      meta, class_names=tuple(meta.class_names),
      modality_dims={k: int(v) for k, v in meta.modality_dims.items()},
      modalities=tuple(meta.modalities),
      recipe_params=dict(meta.recipe_params), dataset=dict(meta.dataset))


def write(workdir: str, metadata: InferenceMetadata) -> str:
  """Writes ``workdir/inference.json`` atomically and returns its path."""
  path = os.path.join(workdir, INFERENCE_FILE)
  run_files.atomic_write_json(path, to_json(metadata))
  return path


def read(workdir: str) -> InferenceMetadata:
  """Reads ``workdir/inference.json``.

  Raises:
    MissingMetadataError: If the workdir has none (a run written before
      training recorded it, or not a training workdir); the message says how
      to re-create it.
  """
  path = os.path.join(workdir, INFERENCE_FILE)
  if not os.path.exists(path):
    raise MissingMetadataError(
        f"{path} does not exist: the run does not record what inference "
        "needs (class names, feature widths, normalisation statistics, "
        "post-processing). Runs trained by this version write it; for an "
        "older run, re-create it from its training data with: python -m "
        f"wtal_jax.predict --workdir={workdir} --write_metadata (the "
        "dataset of the run's config.json must be available).")
  try:
    with open(path, encoding="utf-8") as f:
      obj = json.load(f)
  except ValueError as e:
    raise MissingMetadataError(
        f"{path} is not valid JSON ({e}). Re-create it with python -m "
        f"wtal_jax.predict --workdir={workdir} --write_metadata.") from None
  return from_json(obj, path)


def describe(metadata: InferenceMetadata) -> Sequence[str]:
  """One line per fact, for ``--help``-style summaries and logs."""
  dims = ", ".join(f"{m} {d}" for m, d in metadata.modality_dims.items())
  return (f"{metadata.num_classes} classes; modalities {dims}",
          f"seconds per snippet {metadata.seconds_per_snippet:g}; "
          f"post-processing {metadata.recipe}; normalisation "
          f"{metadata.normalize}")
