"""Readers of the public I3D feature layouts, one video at a time.

* **W-TALC** ``<Name>-I3D-JOINTFeatures.npy``: one row per video of
  ``videoname.npy`` (same order), each ``(T, 2 * D)`` with RGB in ``[:D]``
  and flow in ``[D:]``; trailing all-zero rows are padding. Usually a pickled
  object array of per-video arrays, which cannot be memory-mapped: it is
  loaded once (the only copy of the features in memory) and each video's
  array is released as soon as it has been written. A plain ``(V, T_max,
  2 * D)`` array is memory-mapped instead.
* **Per-video** ``features/<split>/{rgb,flow}/<video>.npy``, each ``(T, D)``,
  memory-mapped.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

from data_prep import validation
from data_prep.validation import BadVideoError, DataError

MODALITIES = ("rgb", "flow")


def _npy_dtype(path: str) -> tuple[tuple[int, ...], np.dtype]:
  with open(path, "rb") as f:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
      shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    else:
      shape, _, dtype = np.lib.format.read_array_header_2_0(f)
  return shape, dtype


class WtalcJointFeatures:
  """The W-TALC joint RGB+flow features file, read lazily.

  Args:
    path: The ``.npy`` file.
    stream_dim: Width D of each stream (1024 for I3D); rows are ``2 * D``.
  """

  def __init__(self, path: str, stream_dim: int = 1024):
    if not os.path.exists(path):
      raise DataError(
          f"{path} is missing: --features must name the W-TALC features file, "
          "e.g. Thumos14reduced-I3D-JOINTFeatures.npy.")
    self.path = path
    self.stream_dim = int(stream_dim)
    self._array = None
    self._is_object = False

  def _load(self) -> np.ndarray:
    if self._array is None:
      shape, dtype = _npy_dtype(self.path)
      self._is_object = dtype.hasobject
      if self._is_object:
        self._array = np.load(self.path, allow_pickle=True)
      else:
        if len(shape) != 3:
          raise DataError(f"{self.path}: expected an object array of (T, "
                          f"{2 * self.stream_dim}) arrays or a (videos, T, "
                          f"{2 * self.stream_dim}) array, got shape {shape}.")
        self._array = np.load(self.path, mmap_mode="r")
    return self._array

  def __len__(self) -> int:
    return len(self._load())

  def check_count(self, num_annotated: int, ann_dir: str) -> None:
    """The features must have exactly one row per annotated video, since
    rows are matched to videos by position."""
    n = len(self)
    if n != num_annotated:
      raise DataError(
          f"{self.path} holds {n} videos but {ann_dir}/videoname.npy lists "
          f"{num_annotated}: "
          + ("some annotated videos have no features"
             if n < num_annotated else "some feature rows have no annotation")
          + ". Rows are matched to videos by position, so the two must come "
          "from the same release.")

  def read(self, split: str, video: str, index: int) -> dict[str, np.ndarray]:
    """Checked ``{"rgb": (T, D), "flow": (T, D)}`` of the video at ``index``.

    Raises:
      BadVideoError: Wrong shape or width, NaN/inf, empty or all-zero.
    """
    raw = self._load()[index]
    if raw is None:
      raise RuntimeError(f"{video}: features already released.")
    joint = np.asarray(raw)
    where = f"{self.path}[{index}]"
    if joint.ndim != 2 or joint.shape[-1] != 2 * self.stream_dim:
      raise BadVideoError(
          split, video, "rgb+flow",
          f"expected a (T, {2 * self.stream_dim}) joint RGB+flow array, got "
          f"shape {joint.shape} (from {where}).",
          "use the I3D JOINT features file of this release (RGB and flow "
          f"{self.stream_dim} wide each), or set --stream_dim.")
    joint = validation.strip_padding(joint)
    d = self.stream_dim
    return {name: validation.check_feature_array(split, video, name, part, d,
                                                 where)
            for name, part in (("rgb", joint[:, :d]), ("flow", joint[:, d:]))}

  def release(self, index: int) -> None:
    """Frees one video's array once written (object arrays only)."""
    if self._is_object and self._array is not None:
      self._array[index] = None


class PerVideoFeatures:
  """``<root>/<split>/{rgb,flow}/<video>.npy`` feature files.

  Args:
    root: The ``features`` folder.
    stream_dim: Width D of each stream.
    modalities: Sub-folders to read.
    widths: Width of each modality, when they differ (default: every
      modality ``stream_dim`` wide).
  """

  def __init__(self, root: str, stream_dim: int = 1024,
               modalities: Sequence[str] = MODALITIES,
               widths: Mapping[str, int] | None = None):
    if not os.path.isdir(root):
      raise DataError(
          f"{root} is not a folder: --features must name the per-video "
          "features folder, holding {train,test}/{rgb,flow}/<video>.npy.")
    self.root = root
    self.stream_dim = int(stream_dim)
    self.modalities = tuple(modalities)
    self.widths = {m: int((widths or {}).get(m, stream_dim))
                   for m in self.modalities}

  def path(self, split: str, modality: str, video: str) -> str:
    return os.path.join(self.root, split, modality, f"{video}.npy")

  def videos_on_disk(self, split: str) -> set[str]:
    """Every video that has a file in any modality folder of the split."""
    found: set[str] = set()
    for m in self.modalities:
      folder = os.path.join(self.root, split, m)
      if os.path.isdir(folder):
        found.update(f[:-4] for f in os.listdir(folder) if f.endswith(".npy"))
    return found

  def read(self, split: str, video: str) -> dict[str, np.ndarray]:
    """Checked, equally long ``{modality: (T, D)}`` arrays (memory-mapped).

    RGB and flow extracted separately can differ by one snippet at the end;
    they are cut to the shorter. A larger difference is an error.

    Raises:
      BadVideoError: A file is missing, or a check fails.
    """
    out = {}
    for m in self.modalities:
      path = self.path(split, m, video)
      if not os.path.exists(path):
        raise BadVideoError(split, video, m, f"no feature file {path}.",
                            "add the file, or run with --on_bad_video=skip "
                            "to leave the video out.")
      try:
        arr = np.load(path, mmap_mode="r")
      except ValueError as e:
        raise BadVideoError(split, video, m,
                            f"cannot read {path} as a numeric array ({e}).") \
            from e
      out[m] = validation.check_feature_array(split, video, m, arr,
                                              self.widths[m], path)
    return validation.trim_to_common_length(split, video, out)
