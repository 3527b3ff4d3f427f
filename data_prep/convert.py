"""The builder shared by the converters of real feature releases.

A converter (THUMOS14, ActivityNet1.2, AVE) describes its input as a
:class:`ConversionSpec`: the class list, the annotated videos of each split,
and a function that reads one video's checked visual features. This module
turns that into a TFDS dataset, one video at a time:

* every video is validated (:mod:`data_prep.validation`); a bad one stops the
  build with a message naming the split, video and field, or, with
  ``on_bad_video="skip"``, is left out and listed in the report;
* audio, when given, is aligned to the visual grid (:mod:`data_prep.audio`);
* ground-truth segments are checked against the video's extent, which is the
  longer of the annotated duration and the feature grid (``T *
  seconds_per_snippet``); a video without an annotated duration gets the grid;
* the build ends with a report (videos, instances and classes per split;
  skipped videos with reasons; warnings such as instances outside their video
  or audio length mismatches), printed and written next to the dataset as
  ``build_report.json`` and ``build_report.txt``.

Memory: the features are read one video at a time (memory-mapped, or, for a
pickled W-TALC release that cannot be mapped, loaded once), and each video's
input array is released as soon as its record is serialized. TFDS keeps the
serialized records of a split in memory until the split is finished; without
TensorFlow it cannot spill them to disk (its spill files use
``tf.io.gfile``), so :func:`records_in_memory` lifts its 1 GB spill threshold
for the build. Every video is thus held either as input or as its serialized
record, never both: at most about one copy of the features is in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import tensorflow_datasets as tfds
from tensorflow_datasets.core import shuffle as tfds_shuffle

from data_prep import audio as audio_lib
from data_prep import validation
from data_prep import writer
from data_prep.annotations import VideoAnnotation
from wtal_jax.data import schema

REPORT_JSON = "build_report.json"
REPORT_TXT = "build_report.txt"
_KEY_SPACE = 1 << 128
# Warnings listed by video in the printed summary before "... and N more".
_SHOWN_PER_KIND = 5


@dataclasses.dataclass
class ConversionSpec:
  """What a converter reads and how.

  Attributes:
    name: Dataset name (``thumos14``, ...).
    config_name: Builder config (``wtalc``, ``per_video_audio``, ...).
    class_names: The class list, label index order.
    splits: Split name to its annotated videos, in stored order.
    read_visual: ``(split, annotation) -> {modality: (T, D)}``, checked and
      of equal T; raises :class:`validation.BadVideoError`.
    visual_dims: Width of each visual modality.
    seconds_per_snippet: Snippet index to seconds.
    frames_per_snippet: Informational, stored in the metadata.
    fps: Informational, stored in the metadata.
    source: Provenance text.
    audio: Audio to align, or None.
    on_bad_video: ``error`` or ``skip``.
    out_of_video: ``keep``, ``drop`` or ``error`` for instances outside
      their video.
    release: Called with ``(split, annotation)`` after a video is written.
    snippet_labels: ``(annotation, T, class_index) -> (T,)`` per-snippet
      labels with background = C (AVE), or None.
    skipped: ``(split, video, reason)`` decided before reading features,
      e.g. feature files without an annotation (``split`` may name no
      split of the dataset, e.g. ``unassigned``).
    notes: Remarks for the report.
  """

  name: str
  config_name: str
  class_names: tuple[str, ...]
  splits: Mapping[str, Sequence[VideoAnnotation]]
  read_visual: Callable[[str, VideoAnnotation], dict[str, np.ndarray]]
  visual_dims: Mapping[str, int]
  seconds_per_snippet: float
  frames_per_snippet: float | None = None
  fps: float | None = None
  source: str = ""
  audio: audio_lib.AudioSpec | None = None
  on_bad_video: str = "error"
  out_of_video: str = "keep"
  release: Callable[[str, VideoAnnotation], None] | None = None
  snippet_labels: Callable[[VideoAnnotation, int, Mapping[str, int]],
                           np.ndarray] | None = None
  skipped: Sequence[tuple[str, str, str]] = ()
  notes: Sequence[str] = ()

  def __post_init__(self):
    validation.check_choice("on_bad_video", self.on_bad_video,
                            validation.ON_BAD_VIDEO)
    validation.check_choice("out_of_video", self.out_of_video,
                            validation.OUT_OF_VIDEO)

  @property
  def modality_dims(self) -> dict[str, int]:
    dims = dict(self.visual_dims)
    if self.audio is not None:
      dims["audio"] = self.audio.dim
    return dims


def record_key(i: int, n: int) -> int:
  """Key of the i-th of n records: increasing (TFDS sorts records by key),
  evenly spread over TFDS's 128-bit key space."""
  return (i * _KEY_SPACE) // max(n, 1)


@contextlib.contextmanager
def records_in_memory():
  """Keeps TFDS from spilling serialized records to disk during a build.

  TFDS spills a split's records to disk once they pass 1 GB, through
  ``tf.io.gfile``, which fails without TensorFlow. The records replace the
  released input arrays, so keeping them costs no second copy.
  """
  old = tfds_shuffle.MAX_MEM_BUFFER_SIZE
  tfds_shuffle.MAX_MEM_BUFFER_SIZE = sys.maxsize
  try:
    yield
  finally:
    tfds_shuffle.MAX_MEM_BUFFER_SIZE = old


class ConvertedDataset(writer.FeatureDatasetBuilder, skip_registration=True):
  """Writes a :class:`ConversionSpec` as a wtal_jax TFDS dataset."""

  VERSION = tfds.core.Version("1.0.0")

  def __init__(self, spec: ConversionSpec, **kwargs):
    self.spec = spec
    self.warnings: list[dict[str, str]] = []
    config = tfds.core.BuilderConfig(name=spec.config_name,
                                     description=spec.source)
    super().__init__(config=config, file_format=writer.FILE_FORMAT, **kwargs)

  def dataset_meta(self) -> schema.DatasetMeta:
    s = self.spec
    return schema.DatasetMeta(
        class_names=tuple(s.class_names), modality_dims=s.modality_dims,
        frames_per_snippet=s.frames_per_snippet, fps=s.fps, source=s.source,
        has_snippet_labels=s.snippet_labels is not None)

  def split_names(self) -> tuple[str, ...]:
    return tuple(self.spec.splits)

  def warn(self, split: str, video: str, kind: str, detail: str) -> None:
    self.warnings.append({"split": split, "video": video, "kind": kind,
                          "detail": detail})

  def split_size(self, split: str) -> int:
    return len(self.spec.splits[split])

  def split_examples(self, split: str) -> Iterator[tuple[int, dict[str, Any]]]:
    spec = self.spec
    first = split == next(iter(spec.splits))
    for s, video, reason in spec.skipped:
      # Files that belong to no split are reported with the first one.
      if s == split or (first and s not in spec.splits):
        self.report.skip(s, video, reason)
    videos = spec.splits[split]
    class_index = {c: i for i, c in enumerate(spec.class_names)}
    written = 0
    for i, ann in enumerate(videos):
      try:
        example = self._convert(split, ann, class_index)
      except validation.BadVideoError as e:
        if spec.on_bad_video == "error":
          raise
        self.report.skip(split, ann.video, e.reason)
        continue
      finally:
        if spec.release is not None:
          spec.release(split, ann)
      written += 1
      yield record_key(i, len(videos)), example
    if not written:
      reasons = sorted({s["reason"] for s in self.report.skipped
                        if s["split"] == split})[:3]
      raise validation.DataError(
          f"{spec.name}/{spec.config_name}: every video of split {split!r} "
          f"was skipped (e.g. {reasons}); nothing to write.")

  def _convert(self, split: str, ann: VideoAnnotation,
               class_index: Mapping[str, int]) -> dict[str, Any]:
    spec = self.spec
    sps = spec.seconds_per_snippet
    feats = dict(spec.read_visual(split, ann))
    t = next(iter(feats.values())).shape[0]
    if spec.audio is not None:
      aligned = audio_lib.load_aligned(spec.audio, split, ann.video, t, sps)
      feats["audio"] = aligned.features_TxD
      if aligned.note:
        self.warn(split, ann.video, "audio length", aligned.note)
    grid_s = t * sps
    duration = grid_s if ann.duration is None else ann.duration
    extent = max(duration, grid_s)
    checked = validation.check_segments(
        split, ann.video, ann.segments, ann.labels, class_index, extent,
        spec.out_of_video, source="annotations")
    for start, end in checked.outside:
      self.warn(split, ann.video, "segment outside the video",
                f"[{start}, {end}] vs video extent {extent:.3f} s ("
                + ("dropped" if checked.dropped else "kept as annotated") + ")")
    for start, end in checked.zero_length:
      self.warn(split, ann.video, "zero-length segment",
                f"[{start}, {end}] kept as annotated")
    labels = np.zeros(len(spec.class_names), np.float32)
    labels[checked.labels_N] = 1.0
    snippet_labels = None
    if spec.snippet_labels is not None:
      snippet_labels = spec.snippet_labels(ann, t, class_index)
    return schema.make_example(
        video_id=ann.video, modalities=feats, labels=labels,
        segments=checked.segments_Nx2, segment_labels=checked.labels_N,
        seconds_per_snippet=sps, duration=duration,
        ambiguous=np.asarray(ann.ambiguous, np.float64).reshape(-1, 2),
        snippet_labels=snippet_labels)

  def summary(self) -> dict[str, Any]:
    """The build report as a JSON-ready dict."""
    r = self.report
    return {
        "dataset": self.spec.name,
        "config": self.spec.config_name,
        "source": self.spec.source,
        "seconds_per_snippet": self.spec.seconds_per_snippet,
        "modality_dims": self.spec.modality_dims,
        "num_classes": len(self.spec.class_names),
        "splits": {s: {"videos": c.videos, "instances": c.instances,
                       "classes": len(c.classes)}
                   for s, c in r.splits.items()},
        "skipped": list(r.skipped),
        "warnings": list(self.warnings),
        "notes": list(self.spec.notes),
    }


def format_summary(summary: Mapping[str, Any], title: str = "") -> str:
  """The report as text: counts, skipped videos, warnings grouped by kind."""
  lines = [title] if title else []
  for split, c in summary["splits"].items():
    lines.append(f"  {split}: {c['videos']} videos, {c['instances']} "
                 f"instances, {c['classes']} classes")
  skipped = summary["skipped"]
  if skipped:
    lines.append(f"  skipped {len(skipped)} videos:")
    lines.extend(f"    {s['split']}/{s['video']}: {s['reason']}"
                 for s in skipped)
  else:
    lines.append("  skipped: nothing")
  kinds: dict[str, list[Mapping[str, str]]] = {}
  for w in summary["warnings"]:
    kinds.setdefault(w["kind"], []).append(w)
  for kind, items in kinds.items():
    videos = len({(w["split"], w["video"]) for w in items})
    lines.append(f"  warning: {kind}: {len(items)} in {videos} videos")
    lines.extend(f"    {w['split']}/{w['video']}: {w['detail']}"
                 for w in items[:_SHOWN_PER_KIND])
    if len(items) > _SHOWN_PER_KIND:
      lines.append(f"    ... and {len(items) - _SHOWN_PER_KIND} more (see "
                   f"{REPORT_JSON})")
  lines.extend(f"  note: {n}" for n in summary["notes"])
  return "\n".join(lines)


class SummaryReport:
  """A summary with the ``format(title)`` of :class:`writer.BuildReport`, for
  the build CLI."""

  def __init__(self, summary: Mapping[str, Any], builder_dir: str = ""):
    self.summary = summary
    self.builder_dir = builder_dir

  def format(self, title: str = "") -> str:
    text = format_summary(self.summary, title)
    if self.builder_dir:
      text += (f"\n  report: {os.path.join(self.builder_dir, REPORT_JSON)} "
               f"and {REPORT_TXT}")
    return text


def write_report(builder_dir: str, summary: Mapping[str, Any]) -> None:
  """Writes ``build_report.json`` and ``build_report.txt`` into the dataset
  folder."""
  with open(os.path.join(builder_dir, REPORT_JSON), "w",
            encoding="utf-8") as f:
    json.dump(summary, f, indent=1)
  with open(os.path.join(builder_dir, REPORT_TXT), "w", encoding="utf-8") as f:
    f.write(format_summary(summary, f"{summary['dataset']}/"
                           f"{summary['config']}") + "\n")


def read_report(builder_dir: str) -> dict[str, Any] | None:
  path = os.path.join(builder_dir, REPORT_JSON)
  if not os.path.exists(path):
    return None
  with open(path, encoding="utf-8") as f:
    return json.load(f)


@dataclasses.dataclass
class ConversionResult:
  """What :func:`convert` did."""

  builder_dir: str
  summary: dict[str, Any]
  built: bool


def convert(make_builder: Callable[[], ConvertedDataset],
            overwrite: bool = False) -> ConversionResult:
  """Builds a converter's dataset (unless present) and writes its report.

  Args:
    make_builder: Returns a fresh :class:`ConvertedDataset` (see
      :func:`writer.prepare`).
    overwrite: Rebuild even if it exists.
  """
  with records_in_memory():
    builder_dir, builder = writer.prepare(make_builder, overwrite=overwrite)
  if builder is None:
    summary = read_report(builder_dir)
    if summary is None:
      summary = _summary_from_directory(builder_dir)
    return ConversionResult(builder_dir, summary, built=False)
  summary = builder.summary()
  write_report(builder_dir, summary)
  return ConversionResult(builder_dir, summary, built=True)


def _summary_from_directory(builder_dir: str) -> dict[str, Any]:
  report = writer.report_from_directory(builder_dir)
  return {"dataset": os.path.basename(os.path.dirname(os.path.dirname(
      builder_dir))), "config": os.path.basename(os.path.dirname(builder_dir)),
          "splits": {s: {"videos": c.videos, "instances": c.instances,
                         "classes": len(c.classes)}
                     for s, c in report.splits.items()},
          "skipped": report.skipped, "warnings": [], "notes": []}
