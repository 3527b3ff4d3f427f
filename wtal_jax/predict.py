r"""Localizes actions in new videos with a trained run.

Usage:
  python -m wtal_jax.predict --workdir=RUN --inputs=PATH --output=segments.json \
      [--plots=DIR] [--top_k=N] [--min_score=S] [--on_bad_video=error|skip] \
      [--checkpoint=best|latest|STEP] [--seconds_per_snippet=S] [--audio_hop=S]

RUN is the --workdir of a training run (python -m wtal_jax.main); its
config.json, inference.json and checkpoints are all that is read, not the
training dataset. PATH is one of:

* a per-video folder: PATH/<modality>/<video>.npy, each (T, D), e.g.
  PATH/rgb/v1.npy and PATH/flow/v1.npy; audio features (if the model reads
  audio) in PATH/audio/<video>.npy at their own hop (--audio_hop);
* a W-TALC *-I3D-JOINTFeatures.npy file, with its video names from
  --video_names (videoname.npy or a text file; default
  <Name>-Annotations/videoname.npy next to the file);
* one video: rgb=v_rgb.npy,flow=v_flow.npy (named by --video_name), or a
  folder holding rgb.npy, flow.npy, ... (named after the folder).

Writes --output in the ActivityNet "results" format that
python -m wtal_jax.evaluate reads, with a "report" object (checkpoint,
skipped videos and why, notes), prints each video's best segments and, with
--plots, draws one figure per video: predicted segments, the CAS of the
predicted classes, the foreground score and the gate choices.

A bad video (a missing modality, a wrong feature width, NaN/inf values, too
few snippets, modalities of different lengths) stops with one line naming the
video, the modality and the fix; --on_bad_video=skip predicts the others and
lists it in the report. Exit status: 0 on success, 2 on bad input.

Runs trained before inference.json existed: --write_metadata re-creates it
from the run's training data (which must be available then).
"""

from __future__ import annotations

import functools
import os
import sys
import types

from absl import app, flags, logging

from wtal_jax import cli_errors

@functools.cache
def _flags() -> types.SimpleNamespace:
  """The command-line flags, defined on the first call.

  Only running the module as a program calls it, so that the module can be
  imported next to the other command-line modules (which also define
  ``--workdir``)."""
  workdir = flags.DEFINE_string(
      "workdir", None, "The training run's --workdir.")
  inputs = flags.DEFINE_string(
      "inputs", "", "Features to localize in: a per-video folder, a W-TALC "
      "JOINT features file or one video's files (see the usage above).")
  output = flags.DEFINE_string(
      "output", "", "Where to write the segments (ActivityNet results JSON).")
  plots = flags.DEFINE_string(
      "plots", "", "Folder for one figure per video (none when empty).")
  top_k = flags.DEFINE_integer(
      "top_k", 0, "Segments kept per video, best first (0: all).",
      lower_bound=0)
  min_score = flags.DEFINE_float(
      "min_score", None,
      "Drop segments scoring below this (default: keep all).")
  on_bad_video = flags.DEFINE_enum(
      "on_bad_video", "error", ["error", "skip"], "A video with unusable "
      "features: stop with an error, or skip it and list it in the report.")
  checkpoint = flags.DEFINE_string(
      "checkpoint", "best", "best (by the run's evaluation metric), latest, or "
      "a step number.")
  sps = flags.DEFINE_float(
      "seconds_per_snippet", None, "Seconds per feature snippet "
      "(frames_per_snippet / fps; default: the training data's).")
  audio_hop = flags.DEFINE_float(
      "audio_hop", 0.96, "Seconds between audio feature frames (VGGish: 0.96; "
      "give the snippet length for audio already on the snippet grid).")
  audio_dir = flags.DEFINE_string(
      "audio_dir", "", "Folder of <video>.npy audio features (default: "
      "PATH/audio of a per-video folder).")
  video_names = flags.DEFINE_string(
      "video_names", "", "W-TALC file: the names of its rows (videoname.npy, "
      "its annotation folder or a text file).")
  video_name = flags.DEFINE_string(
      "video_name", "", "One video: its name in the output.")
  rows = flags.DEFINE_integer(
      "rows", 5, "Segments printed per video.", lower_bound=0)
  write_metadata = flags.DEFINE_bool(
      "write_metadata", False, "Write RUN/inference.json from the run's "
      "training data and exit (for runs trained before it existed).")
  data_dir = flags.DEFINE_string(
      "data_dir", "", "With --write_metadata: where the run's dataset is, if "
      "not where it was trained.")
  return types.SimpleNamespace(**locals())  # Each local is a flag.


def run(workdir: str, inputs: str, output: str, plots: str = "",
        top_k: int = 0, min_score: float | None = None,
        on_bad_video: str = "error", checkpoint: str = "best",
        seconds_per_snippet: float | None = None, audio_hop: float = 0.96,
        audio_dir: str = "", video_names: str = "", video_name: str = "",
        rows: int = 5, out=sys.stdout) -> dict:
  """Predicts, writes and prints; the function behind the command line.

  Returns:
    The report written into the output file.

  Raises:
    PredictInputError: Bad workdir, inputs or (with ``on_bad_video=
      "error"``) a bad video; also when every video was skipped.
  """
  # Imported here so that --help does not pay for JAX and the model code.
  from wtal_jax.inference import (Localizer, PredictInputError,  # pylint: disable=g-import-not-at-top
                                  report, sources)

  if not inputs or not output:
    raise PredictInputError("--inputs and --output are required (or "
                            "--write_metadata alone).")
  localizer = Localizer.from_workdir(workdir, checkpoint)
  meta = localizer.metadata
  cfg = localizer.config
  print(f"Run {localizer.workdir}: {cfg.model.fusion.kind} + "
        f"{cfg.model.head.kind}, checkpoint step {localizer.step} "
        f"({checkpoint}); {meta.num_classes} classes; reads "
        + ", ".join(f"{m} ({d})" for m, d in meta.modality_dims.items())
        + f"; {meta.recipe} post-processing", file=out, flush=True)
  found = sources.open_inputs(inputs, meta, video_names or None,
                              audio_dir or None, video_name)
  if not found.videos:
    raise PredictInputError(f"--inputs={inputs}: no videos found "
                            f"({found.description}).")
  print(f"Inputs: {found.description}", file=out, flush=True)
  preds = localizer.predict_many(found.videos, seconds_per_snippet,
                                 audio_hop, on_bad_video)
  kept = report.filter_detections(preds.detections, top_k, min_score)
  summary = {
      "workdir": localizer.workdir, "checkpoint": str(checkpoint),
      "checkpoint_step": localizer.step, "inputs": os.path.abspath(inputs)
      if os.path.exists(inputs) else inputs, "layout": found.layout,
      "videos_found": len(found.videos), "videos_predicted":
      len(preds.videos), "skipped": preds.skipped,
      "notes": found.notes + preds.notes,
      "filters": {"top_k": top_k, "min_score": min_score},
      "post_processing": {"recipe": meta.recipe,
                          "params": dict(meta.recipe_params)}}
  report.write_output(output, kept, meta.class_names,
                      [v.video_id for v in preds.videos], summary)
  for v in preds.videos:
    print(report.video_table(v.video_id, v.cas_TxC.shape[0],
                             v.seconds_per_snippet, kept.detections,
                             meta.class_names, rows), file=out)
  if plots:
    _plot(localizer, preds, kept.detections, plots, out)
  for s in preds.skipped:
    print(f"skipped {s['video']}: {s['modality']}: {s['reason']}", file=out)
  for note in summary["notes"]:
    print(f"note: {note}", file=out)
  left = kept.below_min_score + kept.beyond_top_k
  print(f"Wrote {output}: {len(kept.detections)} segments in "
        f"{len(preds.videos)} videos"
        + (f" ({left} left out by --top_k/--min_score)" if left else "")
        + (f"; {len(preds.skipped)} skipped" if preds.skipped else ""),
        file=out, flush=True)
  if not preds.videos:
    raise PredictInputError(
        f"No video could be predicted: all {len(preds.skipped)} were "
        f"skipped, e.g. {preds.skipped[0]['video']}: "
        f"{preds.skipped[0]['reason']} (all listed in {output}).")
  return summary


def _plot(localizer, preds, dets, folder: str, out) -> None:
  from wtal_jax import analysis  # pylint: disable=g-import-not-at-top
  from wtal_jax.inference.report import file_stem  # pylint: disable=g-import-not-at-top
  cfg = localizer.config
  for v in preds.videos:
    title = (f"{v.video_id} | {cfg.model.fusion.kind} + {cfg.model.head.kind}"
             f" | step {localizer.step}")
    fig = analysis.plot_video(v.output, dets, localizer.class_names,
                              localizer.modality_names, title=title,
                              ground_truth=False)
    analysis.save(fig, os.path.join(folder,
                                    f"{file_stem(v.video_id)}_cas.png"))
  print(f"Wrote {len(preds.videos)} figures to {folder}", file=out)


def main(argv):
  args = _flags()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not args.workdir.value:
    raise app.UsageError("--workdir is required: the training run's "
                         "--workdir.")
  if not flags.FLAGS["verbosity"].present:
    # The tables and the report are the output; the libraries' INFO logs
    # (a block per checkpoint restore) would bury them.
    logging.set_verbosity(logging.WARNING)
  if args.write_metadata.value:
    from wtal_jax.inference.recreate import recreate  # pylint: disable=g-import-not-at-top
    print(f"Wrote {recreate(args.workdir.value, args.data_dir.value)}")
    return 0
  run(args.workdir.value, args.inputs.value, args.output.value,
      args.plots.value, args.top_k.value, args.min_score.value,
      args.on_bad_video.value, args.checkpoint.value, args.sps.value,
      args.audio_hop.value, args.audio_dir.value, args.video_names.value,
      args.video_name.value, args.rows.value)
  return 0


def cli():
  """The command line (also for running it in-process, e.g. in tests)."""
  _flags()
  cli_errors.run(main)


if __name__ == "__main__":
  cli()
