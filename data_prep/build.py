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

import functools
import dataclasses
import os
import time
import types
from typing import Callable

from absl import app
from absl import flags
from absl import logging

from data_prep import writer
from wtal_jax import cli_errors

@functools.cache
def _flags() -> types.SimpleNamespace:
  """The command-line flags, defined on the first call.

  Only running the module as a program calls it, so that the module can be
  imported next to the other command-line modules (which also define
  ``--config``)."""
  config = flags.DEFINE_string(
      "config", None,
      "Dataset config. synthetic_thumos: 'full' (all 200 train + 212 test "
      "videos, rgb/flow/audio 1024/1024/128; default) or 'tiny' (24 + 12 "
      "videos cropped to 96 snippets, widths 32/32/16), or a canonical name "
      "such as 'full_seed3'. Real releases (thumos14, activitynet12, ave): "
      "overrides the derived config name.")
  data_dir = flags.DEFINE_string(
      "data_dir", None,
      f"TFDS data folder; default ${writer.DATA_DIR_ENV} or "
      "~/tensorflow_datasets.")
  seed = flags.DEFINE_integer(
      "seed", None,
      "Seed of the generated features (synthetic datasets); a seed other than "
      "the config's gets its own config name '<config>_seed<N>'.")
  overwrite = flags.DEFINE_bool(
      "overwrite", False, "Rebuild even if the dataset already exists.")
  num_train = flags.DEFINE_integer(
      "num_train", None,
      "[synthetic_thumos] Number of train videos (class-balanced choice).")
  num_test = flags.DEFINE_integer(
      "num_test", None, "[synthetic_thumos] Number of test videos.")
  max_snippets = flags.DEFINE_integer(
      "max_snippets", None,
      "[synthetic_thumos] Crop every video to its first N snippets, keeping "
      "the instances inside.")
  dims = flags.DEFINE_list(
      "dims", None,
      "[synthetic_thumos] Widths of rgb,flow,audio, e.g. 64,64,16.")

  # Flags of the converters of real feature releases.
  layout = flags.DEFINE_enum(
      "layout", "wtalc", ["wtalc", "per_video"],
      "[thumos14, activitynet12] Release layout: 'wtalc' (one JOINT features "
      ".npy + W-TALC annotation folder) or 'per_video' (THUMOS14 only: "
      "features/{train,test}/{rgb,flow}/<video>.npy + gt.json + split files).")
  features = flags.DEFINE_string(
      "features", None,
      "[thumos14, activitynet12, ave] wtalc: the <Name>-I3D-JOINTFeatures.npy "
      "file; per_video: the features folder (default <annotations>/features); "
      "ave: the folder with visual/ and audio/ (default <ave_dir>/features).")
  annotations = flags.DEFINE_string(
      "annotations", None,
      "[thumos14, activitynet12] wtalc: the <Name>-Annotations folder; "
      "per_video: the folder with gt.json, split_train.txt, split_test.txt.")
  audio_dir = flags.DEFINE_string(
      "audio_dir", None,
      "[thumos14, activitynet12] Folder of per-video <video>.npy audio "
      "features (VGGish, 128-d); aligned to the visual snippets, stored as "
      "'audio'. "
      "Adds '_audio' to the config name.")
  audio_hop = flags.DEFINE_float(
      "audio_hop", None,
      "[thumos14, activitynet12, ave] Seconds between audio frames (default "
      "0.96 for VGGish; 1.0 for AVE).")
  audio_dim = flags.DEFINE_integer(
      "audio_dim", None, "[thumos14, activitynet12, ave] Audio width (128).")
  audio_max_mismatch = flags.DEFINE_float(
      "audio_max_mismatch", None,
      "[thumos14, activitynet12] Largest audio/video length disagreement, as a "
      "fraction of the video (default 0.1, never below 3 hops); beyond it the "
      "video is refused.")
  stream_dim = flags.DEFINE_integer(
      "stream_dim", None,
      "[thumos14, activitynet12] Width of each of RGB and flow (1024 for I3D).")
  frames_per_snippet = flags.DEFINE_float(
      "frames_per_snippet", None,
      "[thumos14, activitynet12] Frames per feature snippet (16).")
  fps = flags.DEFINE_float(
      "fps", None,
      "[thumos14, activitynet12] Frame rate of the feature extraction (25).")
  on_bad_video = flags.DEFINE_enum(
      "on_bad_video", None, ["error", "skip"],
      "[thumos14, activitynet12, ave] A video with unusable data (missing "
      "file, wrong width, NaN/inf, empty or all-zero, audio length far off, "
      "unknown label, end < start): 'error' stops the build (default), 'skip' "
      "leaves it out and lists it in the report.")
  out_of_video = flags.DEFINE_enum(
      "out_of_video", None, ["keep", "drop", "error"],
      "[thumos14, activitynet12, ave] Ground-truth segments outside their "
      "video: 'keep' as annotated and report them (default; the official "
      "evaluation keeps them; ave: 'error'), 'drop' (reported) or 'error'.")
  ave_dir = flags.DEFINE_string(
      "ave_dir", None,
      "[ave] The AVE_Dataset folder (Annotations.txt, trainSet.txt, "
      "valSet.txt, testSet.txt).")
  visual_dim = flags.DEFINE_integer(
      "visual_dim", None,
      "[ave] Visual feature width (default: that of the first video).")
  return types.SimpleNamespace(**locals())  # Each local is a flag.


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
  args = _flags()
  from data_prep import synthetic_thumos  # pylint: disable=g-import-not-at-top
  named = synthetic_thumos.parse_config_name(args.config.value or "full")

  def pick(flag, value):
    return value if flag.value is None else flag.value

  dims = (None if args.dims.value is None else
          tuple(int(d) for d in args.dims.value))
  config = synthetic_thumos.make_config(
      named.name.split("_")[0],
      seed=pick(args.seed, named.seed),
      num_train=pick(args.num_train, named.num_train),
      num_test=pick(args.num_test, named.num_test),
      max_snippets=pick(args.max_snippets, named.max_snippets),
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
  args = _flags()
  return _given(
      features=args.features.value, annotations=args.annotations.value,
      audio_dir=args.audio_dir.value, audio_hop=args.audio_hop.value,
      audio_dim=args.audio_dim.value,
      audio_max_mismatch=args.audio_max_mismatch.value,
      stream_dim=args.stream_dim.value,
      frames_per_snippet=args.frames_per_snippet.value, fps=args.fps.value,
      on_bad_video=args.on_bad_video.value,
      out_of_video=args.out_of_video.value,
      config_name=args.config.value)


def _require(flag, why: str) -> None:
  if not flag.value:
    raise app.UsageError(f"--{flag.name} is required: {why}")


def _run_thumos14(data_dir: str, overwrite: bool) -> BuildResult:
  args = _flags()
  from data_prep import thumos14  # pylint: disable=g-import-not-at-top
  _require(args.annotations, "the Thumos14reduced-Annotations folder (wtalc) "
           "or the folder with gt.json and the split files (per_video).")
  if args.layout.value == "wtalc":
    _require(args.features, "the Thumos14reduced-I3D-JOINTFeatures.npy file.")
  options = thumos14.Thumos14Options(layout=args.layout.value,
                                     **{"features": None, **_visual_options()})
  return _converted("thumos14", thumos14.build(data_dir, options, overwrite))


def _run_activitynet12(data_dir: str, overwrite: bool) -> BuildResult:
  args = _flags()
  from data_prep import activitynet12  # pylint: disable=g-import-not-at-top
  _require(args.features, "the ActivityNet1.2-I3D-JOINTFeatures.npy file.")
  _require(args.annotations, "the ActivityNet1.2-Annotations folder.")
  options = activitynet12.ActivityNet12Options(layout=args.layout.value,
                                               **_visual_options())
  return _converted("activitynet12",
                    activitynet12.build(data_dir, options, overwrite))


def _run_ave(data_dir: str, overwrite: bool) -> BuildResult:
  args = _flags()
  from data_prep import ave  # pylint: disable=g-import-not-at-top
  _require(args.ave_dir, "the AVE_Dataset folder with Annotations.txt and the "
           "split files.")
  options = ave.AveOptions(ave_dir=args.ave_dir.value, **_given(
      features=args.features.value, visual_dim=args.visual_dim.value,
      audio_dim=args.audio_dim.value, audio_hop=args.audio_hop.value,
      on_bad_video=args.on_bad_video.value,
      out_of_video=args.out_of_video.value,
      config_name=args.config.value))
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
  args = _flags()
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
  data_dir = args.data_dir.value or writer.default_data_dir()
  try:
    os.makedirs(data_dir, exist_ok=True)
  except OSError as e:
    raise app.UsageError(f"Data folder {data_dir} cannot be created "
                         f"({e.strerror}); pass a --data_dir you can write "
                         "to.") from e
  start = time.time()
  try:
    result = command.run(data_dir, args.overwrite.value)
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
  _flags()
  cli_errors.run(main)


if __name__ == "__main__":
  cli()
