"""Builds wtal_jax feature datasets (TFDS, array_record; no TensorFlow needed).

Usage:
  python -m data_prep.build DATASET [--config=NAME] [--data_dir=DIR]
      [--seed=N] [--overwrite] [dataset flags]

Datasets:
{datasets}

The dataset is written to DATA_DIR/<dataset>/<config>/<version> (DATA_DIR:
--data_dir, else $WTAL_JAX_DATA_DIR, else ~/tensorflow_datasets) and read
back with tfds.builder_from_directory(dir).as_data_source(split). An existing
build is kept unless --overwrite. At the end the videos, instances and classes
of every split are printed, with anything skipped and why.

Examples:
  python -m data_prep.build synthetic_thumos
  python -m data_prep.build synthetic_thumos --config=tiny --data_dir=/tmp/d
  python -m data_prep.build synthetic_thumos --seed=3        # -> full_seed3
  python -m data_prep.build synthetic_thumos --config=tiny --num_train=48
  python -m data_prep.build thumos14 --layout=wtalc \
      --features=PATH/Thumos14reduced-I3D-JOINTFeatures.npy \
      --annotations=PATH/Thumos14reduced-Annotations [--audio_dir=PATH]
  python -m data_prep.build thumos14 --layout=per_video \
      --annotations=PATH/THUMOS14 --features=PATH/THUMOS14/features
  python -m data_prep.build activitynet12 \
      --features=PATH/ActivityNet1.2-I3D-JOINTFeatures.npy \
      --annotations=PATH/ActivityNet1.2-Annotations
  python -m data_prep.build ave --ave_dir=PATH/AVE_Dataset \
      --features=PATH/AVE_features

For the real releases, --config overrides the derived config name (layout,
'_audio' with --audio_dir, '_dim<D>' for non-I3D widths), and a report of the
build (counts, skipped videos and why, warnings) is written next to the
dataset as build_report.json and build_report.txt. A mistake in the flags or
the input files stops the build with one 'error: ...' line and exit status 2.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Callable

from absl import app
from absl import flags
from absl import logging

from data_prep import writer
from wtal_jax import cli_errors

# Set by _define_flags().
_CONFIG = None
_DATA_DIR = None
_SEED = None
_OVERWRITE = None
_NUM_TRAIN = None
_NUM_TEST = None
_MAX_SNIPPETS = None
_DIMS = None
_LAYOUT = None
_FEATURES = None
_ANNOTATIONS = None
_AUDIO_DIR = None
_AUDIO_HOP = None
_AUDIO_DIM = None
_AUDIO_MAX_MISMATCH = None
_STREAM_DIM = None
_FRAMES_PER_SNIPPET = None
_FPS = None
_ON_BAD_VIDEO = None
_OUT_OF_VIDEO = None
_AVE_DIR = None
_VISUAL_DIM = None


def _define_flags():
  """Defined only when run as a program, so that this module can be
  imported next to the other command-line modules (``wtal_jax.main``
  also defines ``--config``). Defining them again is a no-op."""
  global _CONFIG, _DATA_DIR, _SEED, _OVERWRITE, _NUM_TRAIN, _NUM_TEST
  global _MAX_SNIPPETS, _DIMS, _LAYOUT, _FEATURES, _ANNOTATIONS, _AUDIO_DIR
  global _AUDIO_HOP, _AUDIO_DIM, _AUDIO_MAX_MISMATCH, _STREAM_DIM
  global _FRAMES_PER_SNIPPET, _FPS, _ON_BAD_VIDEO, _OUT_OF_VIDEO, _AVE_DIR
  global _VISUAL_DIM
  if _CONFIG is not None:
    return
  _CONFIG = flags.DEFINE_string(
      "config", None,
      "Dataset config. synthetic_thumos: 'full' (all 200 train + 212 test "
      "videos, rgb/flow/audio 1024/1024/128; default) or 'tiny' (24 + 12 videos "
      "cropped to 96 snippets, widths 32/32/16), or a canonical name such as "
      "'full_seed3'. Real releases (thumos14, activitynet12, ave): overrides the "
      "derived config name.")
  _DATA_DIR = flags.DEFINE_string(
      "data_dir", None,
      f"TFDS data folder; default ${writer.DATA_DIR_ENV} or "
      "~/tensorflow_datasets.")
  _SEED = flags.DEFINE_integer(
      "seed", None,
      "Seed of the generated features (synthetic datasets); a seed other than "
      "the config's gets its own config name '<config>_seed<N>'.")
  _OVERWRITE = flags.DEFINE_bool(
      "overwrite", False, "Rebuild even if the dataset already exists.")
  _NUM_TRAIN = flags.DEFINE_integer(
      "num_train", None,
      "[synthetic_thumos] Number of train videos (class-balanced choice).")
  _NUM_TEST = flags.DEFINE_integer(
      "num_test", None, "[synthetic_thumos] Number of test videos.")
  _MAX_SNIPPETS = flags.DEFINE_integer(
      "max_snippets", None,
      "[synthetic_thumos] Crop every video to its first N snippets, keeping "
      "the instances inside.")
  _DIMS = flags.DEFINE_list(
      "dims", None, "[synthetic_thumos] Widths of rgb,flow,audio, e.g. 64,64,16.")

  # Flags of the converters of real feature releases.
  _LAYOUT = flags.DEFINE_enum(
      "layout", "wtalc", ["wtalc", "per_video"],
      "[thumos14, activitynet12] Release layout: 'wtalc' (one JOINT features "
      ".npy + W-TALC annotation folder) or 'per_video' (THUMOS14 only: "
      "features/{train,test}/{rgb,flow}/<video>.npy + gt.json + split files).")
  _FEATURES = flags.DEFINE_string(
      "features", None,
      "[thumos14, activitynet12, ave] wtalc: the <Name>-I3D-JOINTFeatures.npy "
      "file; per_video: the features folder (default <annotations>/features); "
      "ave: the folder with visual/ and audio/ (default <ave_dir>/features).")
  _ANNOTATIONS = flags.DEFINE_string(
      "annotations", None,
      "[thumos14, activitynet12] wtalc: the <Name>-Annotations folder; "
      "per_video: the folder with gt.json, split_train.txt, split_test.txt.")
  _AUDIO_DIR = flags.DEFINE_string(
      "audio_dir", None,
      "[thumos14, activitynet12] Folder of per-video <video>.npy audio features "
      "(VGGish, 128-d); aligned to the visual snippets, stored as 'audio'. "
      "Adds '_audio' to the config name.")
  _AUDIO_HOP = flags.DEFINE_float(
      "audio_hop", None,
      "[thumos14, activitynet12, ave] Seconds between audio frames (default "
      "0.96 for VGGish; 1.0 for AVE).")
  _AUDIO_DIM = flags.DEFINE_integer(
      "audio_dim", None, "[thumos14, activitynet12, ave] Audio width (128).")
  _AUDIO_MAX_MISMATCH = flags.DEFINE_float(
      "audio_max_mismatch", None,
      "[thumos14, activitynet12] Largest audio/video length disagreement, as a "
      "fraction of the video (default 0.1, never below 3 hops); beyond it the "
      "video is refused.")
  _STREAM_DIM = flags.DEFINE_integer(
      "stream_dim", None,
      "[thumos14, activitynet12] Width of each of RGB and flow (1024 for I3D).")
  _FRAMES_PER_SNIPPET = flags.DEFINE_float(
      "frames_per_snippet", None,
      "[thumos14, activitynet12] Frames per feature snippet (16).")
  _FPS = flags.DEFINE_float(
      "fps", None,
      "[thumos14, activitynet12] Frame rate of the feature extraction (25).")
  _ON_BAD_VIDEO = flags.DEFINE_enum(
      "on_bad_video", None, ["error", "skip"],
      "[thumos14, activitynet12, ave] A video with unusable data (missing "
      "file, wrong width, NaN/inf, empty or all-zero, audio length far off, "
      "unknown label, end < start): 'error' stops the build (default), 'skip' "
      "leaves it out and lists it in the report.")
  _OUT_OF_VIDEO = flags.DEFINE_enum(
      "out_of_video", None, ["keep", "drop", "error"],
      "[thumos14, activitynet12, ave] Ground-truth segments outside their "
      "video: 'keep' as annotated and report them (default; the official "
      "evaluation keeps them; ave: 'error'), 'drop' (reported) or 'error'.")
  _AVE_DIR = flags.DEFINE_string(
      "ave_dir", None,
      "[ave] The AVE_Dataset folder (Annotations.txt, trainSet.txt, "
      "valSet.txt, testSet.txt).")
  _VISUAL_DIM = flags.DEFINE_integer(
      "visual_dim", None,
      "[ave] Visual feature width (default: that of the first video).")


@dataclasses.dataclass
class BuildResult:
  """What a dataset command did."""

  name: str
  builder_dir: str
  report: writer.BuildReport
  built: bool  # False when an existing build was kept.
  seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class DatasetCommand:
  """One buildable dataset.

  Attributes:
    name: The DATASET argument.
    summary: One line for --help.
    flags: Names of the dataset-specific flags it reads; setting another
      dataset's flag is an error rather than silently ignored.
    run: Builds it from the parsed flags.
  """

  name: str
  summary: str
  flags: tuple[str, ...]
  run: Callable[[str, bool], BuildResult]


REGISTRY: dict[str, DatasetCommand] = {}


def register(command: DatasetCommand) -> DatasetCommand:
  if command.name in REGISTRY:
    raise ValueError(f"Dataset command {command.name!r} registered twice.")
  REGISTRY[command.name] = command
  return command


def _run_synthetic_thumos(data_dir: str, overwrite: bool) -> BuildResult:
  from data_prep import synthetic_thumos  # pylint: disable=g-import-not-at-top
  named = synthetic_thumos.parse_config_name(_CONFIG.value or "full")

  def pick(flag, value):
    return value if flag.value is None else flag.value

  dims = (None if _DIMS.value is None else
          tuple(int(d) for d in _DIMS.value))
  config = synthetic_thumos.make_config(
      named.name.split("_")[0],
      seed=pick(_SEED, named.seed),
      num_train=pick(_NUM_TRAIN, named.num_train),
      num_test=pick(_NUM_TEST, named.num_test),
      max_snippets=pick(_MAX_SNIPPETS, named.max_snippets),
      dims=named.dims if dims is None else dims)
  builder_dir, builder = writer.prepare(
      lambda: synthetic_thumos.make_builder(data_dir, config.name),
      overwrite=overwrite)
  name = f"synthetic_thumos/{config.name}"
  if builder is None:
    return BuildResult(name, builder_dir,
                       writer.report_from_directory(builder_dir), built=False)
  return BuildResult(name, builder_dir, builder.report, built=True)


register(DatasetCommand(
    name="synthetic_thumos",
    summary=("generated RGB/flow/audio features on the real THUMOS14 "
             "timings; configs full, tiny"),
    flags=("num_train", "num_test", "max_snippets", "dims"),
    run=_run_synthetic_thumos))

def _given(**values):
  """Options from the flags that were set (the rest keep their defaults)."""
  return {k: v for k, v in values.items() if v is not None}


def _converted(name: str, result) -> BuildResult:
  from data_prep import convert  # pylint: disable=g-import-not-at-top
  config = result.summary.get("config", "")
  return BuildResult(f"{name}/{config}", result.builder_dir,
                     convert.SummaryReport(result.summary, result.builder_dir),
                     built=result.built)


def _visual_options() -> dict:
  return _given(
      features=_FEATURES.value, annotations=_ANNOTATIONS.value,
      audio_dir=_AUDIO_DIR.value, audio_hop=_AUDIO_HOP.value,
      audio_dim=_AUDIO_DIM.value,
      audio_max_mismatch=_AUDIO_MAX_MISMATCH.value,
      stream_dim=_STREAM_DIM.value,
      frames_per_snippet=_FRAMES_PER_SNIPPET.value, fps=_FPS.value,
      on_bad_video=_ON_BAD_VIDEO.value, out_of_video=_OUT_OF_VIDEO.value,
      config_name=_CONFIG.value)


def _require(flag, why: str) -> None:
  if not flag.value:
    raise app.UsageError(f"--{flag.name} is required: {why}")


def _run_thumos14(data_dir: str, overwrite: bool) -> BuildResult:
  from data_prep import thumos14  # pylint: disable=g-import-not-at-top
  _require(_ANNOTATIONS, "the Thumos14reduced-Annotations folder (wtalc) or "
           "the folder with gt.json and the split files (per_video).")
  if _LAYOUT.value == "wtalc":
    _require(_FEATURES, "the Thumos14reduced-I3D-JOINTFeatures.npy file.")
  options = thumos14.Thumos14Options(layout=_LAYOUT.value,
                                     **{"features": None, **_visual_options()})
  return _converted("thumos14", thumos14.build(data_dir, options, overwrite))


def _run_activitynet12(data_dir: str, overwrite: bool) -> BuildResult:
  from data_prep import activitynet12  # pylint: disable=g-import-not-at-top
  _require(_FEATURES, "the ActivityNet1.2-I3D-JOINTFeatures.npy file.")
  _require(_ANNOTATIONS, "the ActivityNet1.2-Annotations folder.")
  options = activitynet12.ActivityNet12Options(layout=_LAYOUT.value,
                                               **_visual_options())
  return _converted("activitynet12",
                    activitynet12.build(data_dir, options, overwrite))


def _run_ave(data_dir: str, overwrite: bool) -> BuildResult:
  from data_prep import ave  # pylint: disable=g-import-not-at-top
  _require(_AVE_DIR, "the AVE_Dataset folder with Annotations.txt and the "
           "split files.")
  options = ave.AveOptions(ave_dir=_AVE_DIR.value, **_given(
      features=_FEATURES.value, visual_dim=_VISUAL_DIM.value,
      audio_dim=_AUDIO_DIM.value, audio_hop=_AUDIO_HOP.value,
      on_bad_video=_ON_BAD_VIDEO.value, out_of_video=_OUT_OF_VIDEO.value,
      config_name=_CONFIG.value))
  return _converted("ave", ave.build(data_dir, options, overwrite))


_VISUAL_FLAGS = ("layout", "features", "annotations", "audio_dir", "audio_hop",
                 "audio_dim", "audio_max_mismatch", "stream_dim",
                 "frames_per_snippet", "fps", "on_bad_video", "out_of_video")

register(DatasetCommand(
    name="thumos14",
    summary=("THUMOS14 I3D release, --layout=wtalc (default) or per_video; "
             "optional --audio_dir"),
    flags=_VISUAL_FLAGS, run=_run_thumos14))
register(DatasetCommand(
    name="activitynet12",
    summary="ActivityNet1.2 I3D release (W-TALC layout); optional --audio_dir",
    flags=_VISUAL_FLAGS, run=_run_activitynet12))
register(DatasetCommand(
    name="ave",
    summary="AVE per-second visual + audio features and labels (--ave_dir)",
    flags=("features", "audio_hop", "audio_dim", "on_bad_video",
           "out_of_video", "ave_dir", "visual_dim"),
    run=_run_ave))

__doc__ = __doc__.format(datasets="\n".join(
    f"  {c.name:18s} {c.summary}" for c in REGISTRY.values()))


def _check_flags(command: DatasetCommand) -> None:
  others = {f for c in REGISTRY.values() for f in c.flags} - set(command.flags)
  wrong = sorted(f for f in others if flags.FLAGS[f].present)
  if wrong:
    raise app.UsageError(
        f"{', '.join('--' + f for f in wrong)} do not apply to "
        f"{command.name}.")


def main(argv):
  if len(argv) != 2:
    raise app.UsageError(
        "Name exactly one dataset to build: "
        f"{', '.join(REGISTRY)} (see --help).")
  name = argv[1]
  if name not in REGISTRY:
    raise app.UsageError(
        f"Unknown dataset {name!r}; choose one of {', '.join(REGISTRY)}.")
  command = REGISTRY[name]
  _check_flags(command)
  if not flags.FLAGS["verbosity"].present:
    # What is built, a bar per split and the summary are printed; TFDS's
    # INFO logs would repeat them. --verbosity=0 brings them back.
    logging.set_verbosity(logging.WARNING)
  data_dir = _DATA_DIR.value or writer.default_data_dir()
  try:
    os.makedirs(data_dir, exist_ok=True)
  except OSError as e:
    raise app.UsageError(f"Data folder {data_dir} cannot be created "
                         f"({e.strerror}); pass a --data_dir you can write "
                         "to.") from e
  start = time.time()
  try:
    result = command.run(data_dir, _OVERWRITE.value)
  except ValueError as e:  # Flag values the dataset's config rejects.
    raise app.UsageError(str(e)) from e
  result.seconds = time.time() - start
  verb = (f"built in {result.seconds:.1f} s" if result.built else
          "already built (kept; --overwrite rebuilds)")
  print(result.report.format(f"{result.name}: {verb}\n  at "
                             f"{result.builder_dir}"))


def cli():
  """The command line, ``python -m data_prep.build`` (also for tools that run
  it in a child process)."""
  _define_flags()
  cli_errors.run(main)


if __name__ == "__main__":
  cli()
