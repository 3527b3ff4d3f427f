"""Shared machinery for writing wtal_jax feature datasets with TFDS.

Every dataset builder (synthetic or a converter of a real feature release)
subclasses :class:`FeatureDatasetBuilder`, which fixes what all of them share:
the record schema, the TFDS metadata, ``array_record`` files written in
generation order (shuffling makes building about ten times slower and buys
nothing, since readers index randomly), and a :class:`BuildReport` of what was
written and what was skipped and why. :func:`prepare` runs a builder without
downloads or statistics (neither needs TensorFlow then).

On the console a build prints what it builds and one progress bar per split
(on a terminal), instead of TFDS's download messages and per-file bars.

Builds are safe to share: :func:`prepare` holds a lock file beside the
dataset while it writes, so processes that build the same dataset at once
wait for the first one and then use what it wrote.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import fcntl
import os
import shutil
import tempfile
import time
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import tensorflow_datasets as tfds
import tqdm

from wtal_jax.data import schema
from wtal_jax.data.source import DATA_DIR_ENV, default_data_dir  # noqa: F401

FILE_FORMAT = "array_record"
# How long a build waits for another process that is building the same
# dataset (the full synthetic dataset builds in seconds; a real release in
# minutes).
LOCK_TIMEOUT_S = 3600.0


@dataclasses.dataclass
class SplitCounts:
  """What one split holds: videos, instances and the classes present."""

  videos: int = 0
  instances: int = 0
  classes: set[int] = dataclasses.field(default_factory=set)


class BuildReport:
  """Counts what a build wrote per split, and what it skipped and why."""

  def __init__(self, class_names=()):
    self.class_names = tuple(class_names)
    self.splits: dict[str, SplitCounts] = {}
    self.skipped: list[dict[str, str]] = []
    self.notes: list[str] = []

  def add_example(self, split: str, example: Mapping[str, Any]) -> None:
    counts = self.splits.setdefault(split, SplitCounts())
    counts.videos += 1
    seg_labels = np.asarray(example["segment_labels"]).reshape(-1)
    counts.instances += int(seg_labels.size)
    counts.classes.update(int(c) for c in seg_labels)
    counts.classes.update(
        int(c) for c in np.flatnonzero(np.asarray(example["labels"]) > 0))

  def skip(self, split: str, video: str, reason: str) -> None:
    self.skipped.append({"split": split, "video": video, "reason": reason})

  def note(self, text: str) -> None:
    self.notes.append(text)

  def format(self, title: str = "") -> str:
    """A human-readable summary for the end of a build."""
    lines = [title] if title else []
    for split, c in self.splits.items():
      lines.append(f"  {split}: {c.videos} videos, {c.instances} instances, "
                   f"{len(c.classes)} classes")
    if self.skipped:
      lines.append(f"  skipped {len(self.skipped)} videos:")
      lines.extend(f"    {s['split']}/{s['video']}: {s['reason']}"
                   for s in self.skipped)
    else:
      lines.append("  skipped: nothing")
    lines.extend(f"  note: {n}" for n in self.notes)
    return "\n".join(lines)


def report_from_directory(builder_dir: str) -> BuildReport:
  """Recounts a built dataset (reads every example; used when not rebuilt)."""
  builder = tfds.builder_from_directory(builder_dir)
  meta = schema.DatasetMeta.from_metadata(builder.info.metadata)
  report = BuildReport(meta.class_names)
  for split in builder.info.splits:
    source = builder.as_data_source(split)
    for i in range(len(source)):
      report.add_example(split, source[i])
  for s in meta.skipped:
    report.skip(s["split"], s["video"], s["reason"])
  return report


class FeatureDatasetBuilder(tfds.core.GeneratorBasedBuilder):
  """Base of every wtal_jax dataset builder.

  Subclasses provide :meth:`dataset_meta` (class names, modality widths,
  provenance) and :meth:`split_examples` (``(key, example)`` pairs per split,
  examples from :func:`wtal_jax.data.schema.make_example`). Videos left out
  must be reported with ``self.report.skip(split, video, reason)`` while
  generating; they are stored in the metadata's ``skipped`` list too.
  """

  @abc.abstractmethod
  def dataset_meta(self) -> schema.DatasetMeta:
    """Dataset-level facts stored in the TFDS metadata."""

  @abc.abstractmethod
  def split_names(self) -> tuple[str, ...]:
    """The splits this builder writes."""

  @abc.abstractmethod
  def split_examples(self, split: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields ``(unique key, example)`` of one split in a fixed order."""

  def split_size(self, split: str) -> int | None:
    """How many videos ``split_examples(split)`` considers, for the progress
    bar; None when unknown."""
    del split
    return None

  @property
  def report(self) -> BuildReport:
    if not hasattr(self, "_report"):
      self._report = BuildReport(self.dataset_meta().class_names)
    return self._report

  def _info(self) -> tfds.core.DatasetInfo:
    meta = self.dataset_meta()
    return tfds.core.DatasetInfo(
        builder=self,
        description=self.__class__.__doc__,
        features=schema.features_dict(meta.modality_dims, meta.num_classes,
                                      meta.has_snippet_labels),
        metadata=meta.to_metadata(),
        disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # features are generated or read from local files
    return {split: self._generate_examples(split)
            for split in self.split_names()}

  def _log_download_bytes(self) -> None:
    # TFDS announces a download of "Unknown size"; nothing is downloaded.
    print(f"Building dataset {self.info.full_name} in {self.data_dir} ...",
          flush=True)

  def _log_download_done(self) -> None:
    pass  # The caller prints what was built (BuildReport.format).

  def _generate_examples(self, split):
    examples = tqdm.tqdm(self.split_examples(split), desc=f"  {split}",
                         total=self.split_size(split), unit=" videos",
                         disable=None)  # None: no bar unless on a terminal.
    for key, example in examples:
      self.report.add_example(split, example)
      yield key, example
    # The metadata is written after generation, so skips found while
    # generating still reach it.
    self.info.metadata["skipped"] = list(self.report.skipped)


def builder_dir_exists(builder_dir: str) -> bool:
  """Whether a finished dataset is at ``builder_dir`` (TFDS writes
  ``dataset_info.json`` last, into a temporary folder renamed at the end)."""
  return os.path.exists(os.path.join(builder_dir, "dataset_info.json"))


class BuildLockTimeout(TimeoutError):
  """Another process held a dataset's build lock for too long."""


@contextlib.contextmanager
def build_lock(builder_dir: str, timeout_s: float = LOCK_TIMEOUT_S):
  """Holds ``<builder_dir>.lock`` (an exclusive ``flock``) while building.

  The kernel releases the lock when its holder exits, crashed or not, so a
  killed build never blocks the next one.

  Raises:
    BuildLockTimeout: Another process held the lock for ``timeout_s``.
  """
  path = builder_dir.rstrip(os.sep) + ".lock"
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "a", encoding="utf-8") as f:
    deadline, announced = time.monotonic() + timeout_s, False
    while True:
      try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
      except BlockingIOError:
        if not announced:
          print(f"Waiting for another process that is building {builder_dir} "
                f"(lock {path}) ...", flush=True)
          announced = True
        if time.monotonic() > deadline:
          raise BuildLockTimeout(
              f"Waited {timeout_s:.0f} s for the process building "
              f"{builder_dir} (it holds {path}). Stop it, or build the "
              "dataset once with python -m data_prep.build, then retry."
          ) from None
        time.sleep(0.5)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


def prepare(make_builder: Callable[[], FeatureDatasetBuilder],
            overwrite: bool = False
            ) -> tuple[str, FeatureDatasetBuilder | None]:
  """Writes a builder's dataset unless it is already there.

  Safe to call from several processes at once: one builds while the others
  wait on the build lock, then find the finished dataset and keep it.

  Args:
    make_builder: Returns the builder, constructed with its ``data_dir`` and
      ``file_format="array_record"``. Called again after an existing folder
      is removed: a builder made on a finished folder carries that folder's
      info and cannot write a new one.
    overwrite: Rebuild even if the dataset exists.

  Returns:
    ``(builder directory, the builder that wrote it)``; the builder is None
    when an existing dataset was kept. Its ``report`` holds the counts.
  """
  builder = make_builder()
  builder_dir = str(builder.data_dir)
  if builder_dir_exists(builder_dir) and not overwrite:
    return builder_dir, None
  with build_lock(builder_dir):
    return _prepare_locked(make_builder, builder, builder_dir, overwrite)


def _prepare_locked(make_builder, builder, builder_dir: str, overwrite: bool):
  if builder_dir_exists(builder_dir) and not overwrite:
    return builder_dir, None  # Another process finished it while we waited.
  if os.path.exists(builder_dir):
    shutil.rmtree(builder_dir)
    builder = make_builder()
  # Nothing is downloaded; keep TFDS's download folder out of data_dir. The
  # builder shows its own bar per split (TFDS's would add one per file).
  tfds.disable_progress_bar()
  with tempfile.TemporaryDirectory() as download_dir:
    builder.download_and_prepare(
        download_dir=download_dir,
        download_config=tfds.download.DownloadConfig(
            compute_stats=tfds.download.ComputeStatsMode.SKIP))
  return builder_dir, builder
