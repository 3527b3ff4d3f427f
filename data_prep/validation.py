"""Checks applied to every video of a real feature release before it is stored.

Converters never drop data silently. A problem with one video raises
:class:`BadVideoError`, which names the split, the video, the field and a fix;
a converter run with ``on_bad_video="skip"`` turns it into an entry of the
build report instead. Problems that make the whole input unusable (a missing
file, features that cannot be matched to the annotations) raise
:class:`DataError` and always stop the build.

Ground-truth segments that lie (partly) outside their video are a property of
the public annotations (a few THUMOS14 and many ActivityNet1.2 instances end
after the annotated duration); by default they are kept exactly as annotated,
so that detection mAP matches the official evaluation, and each one is listed
in the report (``out_of_video="keep"``). ``"drop"`` removes them (reported),
``"error"`` refuses them.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np

from wtal_jax.cli_errors import UserInputError

ON_BAD_VIDEO = ("error", "skip")
OUT_OF_VIDEO = ("keep", "drop", "error")

# Segment bounds within this many seconds of the video's end are inside it:
# annotations are written with a few decimals and durations with more.
EXTENT_TOLERANCE_S = 1e-3


class DataError(UserInputError, ValueError):
  """The input cannot be converted as a whole (e.g. a file is missing)."""


class BadVideoError(DataError):
  """One video's data is unusable.

  Attributes:
    split: The split being built.
    video: The video name.
    field: What is wrong (``rgb``, ``flow``, ``audio``, ``segments``,
      ``labels``, a file path, ...).
    problem: What was found.
    fix: How to fix it ("" when the problem says it all).
  """

  def __init__(self, split: str, video: str, field: str, problem: str,
               fix: str = ""):
    self.split, self.video, self.field, self.problem = split, video, field, problem
    self.fix = fix
    message = f"{split}/{video}, field {field!r}: {problem}"
    if fix:
      message += f" Fix: {fix}"
    super().__init__(message)

  @property
  def reason(self) -> str:
    """The one-line reason stored in the report when the video is skipped."""
    return f"{self.field}: {self.problem}"


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
  if value not in choices:
    raise DataError(f"{name} must be one of {list(choices)}, got {value!r}.")
  return value


def strip_padding(feats_TxD: np.ndarray) -> np.ndarray:
  """Drops trailing all-zero rows (the W-TALC release pads with them).

  Returns a view; a video that is all zeros comes back with T = 0.
  """
  if feats_TxD.ndim != 2 or feats_TxD.shape[0] == 0:
    return feats_TxD
  nonzero_T = np.any(feats_TxD != 0, axis=1)
  last = np.flatnonzero(nonzero_T)
  return feats_TxD[:int(last[-1]) + 1 if last.size else 0]


def check_feature_array(split: str, video: str, field: str,
                        feats: np.ndarray, width: int,
                        source: str = "") -> np.ndarray:
  """Checks one modality of one video: shape ``(T, width)``, T > 0, finite,
  not all zeros.

  Args:
    split: Split name (for the message).
    video: Video name.
    field: Modality name (``rgb``, ``flow``, ``audio``, ...).
    feats: The array as read.
    width: Expected feature width D.
    source: The file it came from (for the message).

  Returns:
    The array (unchanged).

  Raises:
    BadVideoError: Naming the video, the field and what is wrong.
  """
  where = f" (from {source})" if source else ""
  arr = np.asarray(feats)
  if arr.ndim != 2:
    raise BadVideoError(split, video, field,
                        f"expected a (T, {width}) array, got shape "
                        f"{arr.shape}{where}.",
                        "check that the file is a feature release of this "
                        "layout.")
  if arr.shape[1] != width:
    raise BadVideoError(split, video, field,
                        f"feature width {arr.shape[1]}, expected {width}"
                        f"{where}.",
                        "use the release the layout names (I3D: 1024 per "
                        "stream; VGGish: 128), or set the width option.")
  if arr.shape[0] == 0:
    raise BadVideoError(split, video, field,
                        f"no snippets (empty or all-zero video){where}.",
                        "re-extract the features of this video, or run with "
                        "--on_bad_video=skip to leave it out.")
  if not np.issubdtype(arr.dtype, np.floating):
    raise BadVideoError(split, video, field,
                        f"dtype {arr.dtype}, expected floating point{where}.")
  finite = np.isfinite(arr)
  if not finite.all():
    bad_rows = np.flatnonzero(~finite.all(axis=1))
    raise BadVideoError(split, video, field,
                        f"{int((~finite).sum())} NaN/inf values in "
                        f"{bad_rows.size} snippets (first at snippet "
                        f"{int(bad_rows[0])}){where}.",
                        "re-extract the features of this video, or run with "
                        "--on_bad_video=skip to leave it out.")
  if not arr.any():
    raise BadVideoError(split, video, field,
                        f"all {arr.shape[0]} snippets are zeros{where}.",
                        "re-extract the features of this video, or run with "
                        "--on_bad_video=skip to leave it out.")
  return arr


# Streams extracted separately (RGB and flow, say) can disagree by one
# snippet at the end of a video; a larger disagreement means they were not
# extracted on the same snippet grid.
MAX_LENGTH_DIFFERENCE = 1


def trim_to_common_length(split: str, video: str,
                          feats: Mapping[str, np.ndarray]
                          ) -> dict[str, np.ndarray]:
  """Cuts checked modalities of one video to their shortest length.

  Args:
    split: Split name (for the message).
    video: Video name.
    feats: ``{modality: (T_m, D_m)}`` arrays that passed
      :func:`check_feature_array`.

  Returns:
    The arrays cut to the shortest ``T`` (views).

  Raises:
    BadVideoError: If the lengths differ by more than
      :data:`MAX_LENGTH_DIFFERENCE` snippets.
  """
  lengths = {m: int(a.shape[0]) for m, a in feats.items()}
  shortest = min(lengths.values())
  if max(lengths.values()) - shortest > MAX_LENGTH_DIFFERENCE:
    raise BadVideoError(split, video, "+".join(feats),
                        f"modalities have different lengths {lengths}.",
                        "re-extract them on the same snippet grid.")
  return {m: a[:shortest] for m, a in feats.items()}


@dataclasses.dataclass(frozen=True)
class CheckedSegments:
  """Ground truth of one video after :func:`check_segments`.

  Attributes:
    segments_Nx2: Kept instances in seconds (float64, values unchanged).
    labels_N: Their class indices.
    outside: ``(start, end)`` of every instance that lies outside the video.
    dropped: How many of those were removed (``out_of_video="drop"``).
    zero_length: ``(start, end)`` of instances with start == end (kept).
  """

  segments_Nx2: np.ndarray
  labels_N: np.ndarray
  outside: tuple[tuple[float, float], ...]
  dropped: int
  zero_length: tuple[tuple[float, float], ...]


def check_segments(split: str, video: str, segments: Sequence[Sequence[float]],
                   labels: Sequence[str], class_index: Mapping[str, int],
                   extent_s: float, out_of_video: str = "keep",
                   source: str = "") -> CheckedSegments:
  """Validates the ground-truth instances of one video.

  Args:
    split: Split name.
    video: Video name.
    segments: ``[start, end]`` per instance, seconds.
    labels: Class name per instance.
    class_index: Class name to index (the dataset's class list).
    extent_s: The video's length in seconds; an instance with start < 0 or
      end > extent (beyond :data:`EXTENT_TOLERANCE_S`) lies outside it.
    out_of_video: ``keep``, ``drop`` or ``error`` for instances outside.
    source: The annotation file (for messages).

  Raises:
    BadVideoError: Unknown label, end < start, mismatched lengths, non-finite
      bounds, or an instance outside the video with ``out_of_video="error"``.
  """
  where = f" in {source}" if source else ""
  segs_Nx2 = np.asarray(segments, np.float64).reshape(-1, 2) if len(
      segments) else np.zeros((0, 2), np.float64)
  if len(labels) != segs_Nx2.shape[0]:
    raise BadVideoError(split, video, "labels",
                        f"{segs_Nx2.shape[0]} segments but {len(labels)} "
                        f"labels{where}.", "the annotation files disagree.")
  unknown = sorted({l for l in labels if l not in class_index})
  if unknown:
    raise BadVideoError(split, video, "labels",
                        f"label(s) {unknown} not in the class list "
                        f"({len(class_index)} classes){where}.",
                        "fix the label or the class list.")
  if not np.isfinite(segs_Nx2).all():
    raise BadVideoError(split, video, "segments",
                        f"non-finite segment bounds{where}.")
  reversed_N = segs_Nx2[:, 1] < segs_Nx2[:, 0]
  if reversed_N.any():
    s, e = segs_Nx2[np.flatnonzero(reversed_N)[0]]
    raise BadVideoError(split, video, "segments",
                        f"{int(reversed_N.sum())} segment(s) with end < start, "
                        f"e.g. [{s}, {e}]{where}.", "fix the annotation.")
  labels_N = np.asarray([class_index[l] for l in labels], np.int32)
  outside_N = ((segs_Nx2[:, 0] < -EXTENT_TOLERANCE_S)
               | (segs_Nx2[:, 1] > extent_s + EXTENT_TOLERANCE_S))
  outside = tuple((float(s), float(e)) for s, e in segs_Nx2[outside_N])
  if outside and out_of_video == "error":
    raise BadVideoError(split, video, "segments",
                        f"{len(outside)} segment(s) outside the video "
                        f"[0, {extent_s:.3f}] s, e.g. {list(outside[0])}"
                        f"{where}.",
                        "fix the annotation, or build with "
                        "--out_of_video=keep (store as annotated) or drop.")
  dropped = 0
  if outside and out_of_video == "drop":
    dropped = len(outside)
    segs_Nx2, labels_N = segs_Nx2[~outside_N], labels_N[~outside_N]
  zero_N = segs_Nx2[:, 1] == segs_Nx2[:, 0]
  zero_length = tuple((float(s), float(e)) for s, e in segs_Nx2[zero_N])
  return CheckedSegments(segs_Nx2, labels_N, outside, dropped, zero_length)
