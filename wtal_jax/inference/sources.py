"""The feature layouts ``python -m wtal_jax.predict --inputs=PATH`` reads.

* **Per-video folder**: ``PATH/<modality>/<video>.npy``, each ``(T, D)``;
  audio, if the model reads it, in ``PATH/audio/`` at its own hop. Read with
  the THUMOS14 per-video converter's reader (memory-mapped).
* **W-TALC joint file**: ``PATH`` is a ``*-I3D-JOINTFeatures.npy`` with one
  ``(T, 2 D)`` row per video (RGB then flow, trailing zero rows padding),
  named by a video-name list: ``videoname.npy`` of its annotation folder
  (found next to the file as ``<Name>-Annotations/``) or a text file. Read
  with the W-TALC converter's reader.
* **One video**: ``rgb=a.npy,flow=b.npy[,audio=c.npy]``, or a folder holding
  ``rgb.npy``, ``flow.npy``, ... (the video is named after the folder).

Each video is read only when predicted, so a bad file affects that video
alone; the readers' checks (:mod:`data_prep.validation`) name the file.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

import numpy as np

from data_prep import annotations as ann_lib
from data_prep import feature_files
from data_prep import validation
from wtal_jax.inference.errors import BadVideoInput, PredictInputError
from wtal_jax.inference.inputs import AUDIO
from wtal_jax.training.inference_file import InferenceMetadata

WTALC_SUFFIX = "-I3D-JOINTFeatures.npy"
LAYOUTS = ("per_video", "wtalc", "single")


@dataclasses.dataclass
class InputSet:
  """The videos found at ``--inputs``.

  Attributes:
    layout: One of ``LAYOUTS``.
    description: What was found, for the console.
    videos: ``(video_id, read)`` pairs; ``read()`` returns the video's
      ``{modality: array}`` or raises the readers' ``BadVideoError``.
    notes: Files found but not used, and why.
  """

  layout: str
  description: str
  videos: list[tuple[str, Callable[[], dict[str, Any]]]]
  notes: list[str] = dataclasses.field(default_factory=list)


def _load_npy(path: str, video: str, modality: str) -> np.ndarray:
  try:
    return np.load(path, mmap_mode="r")
  except (ValueError, OSError) as e:
    raise BadVideoInput(video, modality,
                        f"cannot read {path} as a numeric array ({e}).",
                        "write the features with numpy.save.") from None


def _audio_reader(audio_dir: str | None, video: str) -> dict[str, Any]:
  """``{"audio": array}`` from ``audio_dir/<video>.npy``, or ``{}`` when
  there is none (the missing modality is reported by the checks)."""
  if not audio_dir:
    return {}
  path = os.path.join(audio_dir, f"{video}.npy")
  return {AUDIO: _load_npy(path, video, AUDIO)} if os.path.exists(path) else {}


def _visual(metadata: InferenceMetadata) -> tuple[str, ...]:
  return tuple(m for m in metadata.required_modalities if m != AUDIO)


def per_video_folder(path: str, metadata: InferenceMetadata,
                     audio_dir: str | None = None) -> InputSet:
  """``PATH/<modality>/<video>.npy`` (see the module docstring)."""
  path = os.path.abspath(path)
  visual = _visual(metadata)
  audio_dir = audio_dir or (os.path.join(path, AUDIO)
                            if AUDIO in metadata.required_modalities else None)
  folders = sorted(d for d in os.listdir(path)
                   if os.path.isdir(os.path.join(path, d)))
  wanted = set(metadata.required_modalities)
  notes = [f"{os.path.join(path, d)}/ not used: the model reads "
           f"{', '.join(metadata.required_modalities)}."
           for d in folders if d not in wanted]
  # Every video with a file of any modality the model reads, so that a
  # video missing one modality is reported rather than silently left out.
  names: set[str] = set()
  for d in list(visual) + ([AUDIO] if audio_dir else []):
    folder = audio_dir if d == AUDIO else os.path.join(path, d)
    if os.path.isdir(folder):
      names.update(f[:-4] for f in os.listdir(folder) if f.endswith(".npy"))
  reader = feature_files.PerVideoFeatures(
      os.path.dirname(path), modalities=visual,
      widths={m: metadata.modality_dims[m] for m in visual})
  split = os.path.basename(path)

  def read(video):
    arrays = reader.read(split, video) if visual else {}
    arrays.update(_audio_reader(audio_dir, video))
    return arrays

  videos = [(v, (lambda v=v: read(v))) for v in sorted(names)]
  return InputSet("per_video", f"per-video folder {path}: {len(videos)} "
                  "videos", videos, notes)


def wtalc_file(path: str, metadata: InferenceMetadata,
               video_names: str | None = None,
               audio_dir: str | None = None) -> InputSet:
  """A W-TALC joint RGB+flow file (see the module docstring).

  Raises:
    PredictInputError: No video-name list, or one whose length differs from
      the file's rows.
  """
  dims = metadata.modality_dims
  if set(_visual(metadata)) - {"rgb", "flow"}:
    raise PredictInputError(
        f"{path}: a W-TALC file holds RGB and flow only; the model reads "
        f"{', '.join(metadata.required_modalities)}.")
  width = int(dims.get("rgb", dims.get("flow", 0)))
  if not video_names:
    base = os.path.basename(path)
    prefix = base[:-len(WTALC_SUFFIX)] if base.endswith(WTALC_SUFFIX) else ""
    guess = os.path.join(os.path.dirname(os.path.abspath(path)),
                         f"{prefix}-Annotations", "videoname.npy")
    if not prefix or not os.path.exists(guess):
      raise PredictInputError(
          f"{path}: the video names of its rows are needed: pass "
          "--video_names=<Name>-Annotations/videoname.npy (or a text file "
          "with one name per line, in row order).")
    video_names = guess
  try:
    names = ann_lib.read_video_names(video_names)
    joint = feature_files.WtalcJointFeatures(path, width)
    joint.check_count(len(names), video_names)
  except validation.DataError as e:
    raise PredictInputError(str(e)) from None
  notes = []
  unused = {"rgb", "flow"} - set(metadata.required_modalities)
  if unused:
    notes.append(f"{', '.join(sorted(unused))} of {path} not used: the model "
                 f"reads {', '.join(metadata.required_modalities)}.")

  def read(i, video):
    arrays = {m: a for m, a in joint.read("inputs", video, i).items()
              if m not in unused}
    arrays.update(_audio_reader(audio_dir, video))
    return arrays

  videos = [(v, (lambda i=i, v=v: read(i, v))) for i, v in enumerate(names)]
  return InputSet("wtalc", f"W-TALC file {path}: {len(videos)} videos",
                  videos, notes)


def single_video(files: dict[str, str], video_name: str = "") -> InputSet:
  """One video from ``{modality: file}``."""
  missing = [f for f in files.values() if not os.path.exists(f)]
  if missing:
    raise PredictInputError(f"--inputs: no such file {missing[0]}.")
  first = next(iter(files.values()))
  name = video_name or os.path.splitext(os.path.basename(first))[0]

  def read():
    return {m: _load_npy(f, name, m) for m, f in files.items()}

  return InputSet("single", f"one video {name!r}: " + ", ".join(
      f"{m}={f}" for m, f in files.items()), [(name, read)])


def parse_modality_files(spec: str) -> dict[str, str]:
  """``"rgb=a.npy,flow=b.npy"`` -> ``{"rgb": "a.npy", "flow": "b.npy"}``."""
  files = {}
  for part in spec.split(","):
    modality, sep, path = part.partition("=")
    if not sep or not modality.strip() or not path.strip():
      raise PredictInputError(
          f"--inputs={spec!r}: expected modality=file pairs separated by "
          "commas, e.g. rgb=v_rgb.npy,flow=v_flow.npy.")
    files[modality.strip()] = path.strip()
  return files


def open_inputs(path: str, metadata: InferenceMetadata,
                video_names: str | None = None, audio_dir: str | None = None,
                video_name: str = "") -> InputSet:
  """Finds the layout of ``path`` and lists its videos.

  Args:
    path: See the module docstring.
    metadata: The run's inference metadata (modalities, widths).
    video_names: W-TALC: the video-name list (default: found next to the
      file).
    audio_dir: Audio features ``<video>.npy`` (default: ``PATH/audio`` of a
      per-video folder).
    video_name: One video: its name (default: the folder or file name).

  Raises:
    PredictInputError: ``path`` does not exist or is no known layout.
  """
  if "=" in path and not os.path.exists(path):
    return single_video(parse_modality_files(path), video_name)
  if os.path.isfile(path):
    if not path.endswith(".npy"):
      raise PredictInputError(
          f"--inputs={path}: not a .npy file. Give a per-video folder "
          "(<modality>/<video>.npy), a W-TALC *-I3D-JOINTFeatures.npy file, "
          "or one video's files as rgb=a.npy,flow=b.npy.")
    return wtalc_file(path, metadata, video_names, audio_dir)
  if not os.path.isdir(path):
    raise PredictInputError(f"--inputs={path}: no such file or folder.")
  known = set(metadata.required_modalities) | {"rgb", "flow", AUDIO}
  entries = set(os.listdir(path))
  if any(os.path.isdir(os.path.join(path, e)) and e in known
         for e in entries):
    return per_video_folder(path, metadata, audio_dir)
  files = {e[:-4]: os.path.join(path, e) for e in sorted(entries)
           if e.endswith(".npy")}
  if files:
    return single_video(files, video_name or os.path.basename(
        os.path.abspath(path)))
  folders = ", ".join(metadata.required_modalities)
  raise PredictInputError(
      f"--inputs={path}: found neither modality folders ({folders}, each "
      "holding <video>.npy) nor one video's <modality>.npy files.")
