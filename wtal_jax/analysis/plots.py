"""Matplotlib figures of one video's localization and of gate selection rates.

The video figure follows CAAV Fig. 4, top to bottom on one time axis in
seconds: ground-truth segments (green), predicted segments (blue, opacity by
score), the class activation sequence of each ground-truth class as a
grey-scale strip (darker is stronger, as in CAAV), the class-agnostic
attention / foreground score, and one colour strip per gate and modality
showing the major (argmax) path of every snippet.

Figures are built with the object-oriented API on the Agg canvas, so nothing
touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from wtal_jax.analysis.selection import (GATE_TITLES, SelectionRates,
                                         default_modality_names,
                                         parse_gate_name, path_labels)

GT_COLOR = "tab:green"
PRED_COLOR = "tab:blue"
PATH_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def save(fig: Figure, path: str, dpi: int = 120) -> str:
  """Writes ``fig`` as a PNG (creating the folder) and returns the path."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  FigureCanvasAgg(fig)
  fig.savefig(path, dpi=dpi, format="png", bbox_inches="tight")
  return path


def _segments_row(ax, starts, ends, alphas, color, label):
  for s, e, a in zip(starts, ends, alphas):
    ax.axvspan(s, e, color=color, alpha=float(a), lw=0)
  ax.set_yticks([])
  ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)


def plot_video(output, detections=None, class_names: Sequence[str] = (),
               modality_names: Sequence[str] | None = None,
               title: str | None = None, max_cas_classes: int = 4,
               ground_truth: bool = True) -> Figure:
  """The CAAV Fig. 4 style figure of one video.

  Args:
    output: The video's :class:`~wtal_jax.evaluation.runner.VideoOutput`.
    detections: Post-processed :class:`Detections` (any videos; only this
      video's rows are drawn), or None.
    class_names: Class names by index (default ``class <i>``).
    modality_names: Names of the fused modality groups for the gate strips.
    title: Figure title (default: the video id).
    max_cas_classes: CAS strips drawn: the ground-truth classes, then the
      best-scoring predicted classes, up to this many.
    ground_truth: Whether the video is annotated. False (new, unannotated
      videos) drops the ground-truth row and marks; the CAS strips are then
      those of the predicted classes.

  Returns:
    The figure (save it with :func:`save`).
  """
  t = output.cas_TxC.shape[0]
  sps = output.seconds_per_snippet
  duration = t * sps
  name = (lambda c: class_names[c] if c < len(class_names) else f"class {c}")
  gt_classes = list(dict.fromkeys(int(c) for c in output.segment_labels_N))
  gt_classes += [int(c) for c in np.flatnonzero(output.labels_C)
                 if int(c) not in gt_classes]
  if not ground_truth:
    gt_classes = []
  if detections is not None:
    rows = np.flatnonzero(np.asarray(detections.video) == output.video_id)
  else:
    rows = np.zeros((0,), np.int64)
  pred_classes = [int(c) for c in dict.fromkeys(
      detections.label[rows][np.argsort(-detections.score[rows])])] if len(
          rows) else []
  cas_classes = (gt_classes + [c for c in pred_classes
                               if c not in gt_classes])[:max_cas_classes]
  if not cas_classes:
    cas_classes = [int(np.argmax(output.video_scores_C))]
  gates = sorted(output.gate_probs, key=lambda n: (
      list(GATE_TITLES).index(parse_gate_name(n)[0])
      if parse_gate_name(n)[0] in GATE_TITLES else 99, n))
  num_mods = 1 + max((parse_gate_name(g)[1] for g in gates), default=-1)
  mods = tuple(modality_names or default_modality_names(num_mods))

  kinds = ((["gt"] if ground_truth else []) + ["pred"]
           + [("cas", c) for c in cas_classes] + ["att"]
           + [("gate", g) for g in gates])
  heights = [0.5 if k in ("gt", "pred") else 1.3 if k == "att" else 0.45
             for k in kinds]
  fig = Figure(figsize=(11, 0.45 * sum(heights) + 1.2))
  axes = fig.subplots(len(kinds), 1, sharex=True,
                      gridspec_kw={"height_ratios": heights, "hspace": 0.15})
  extent = (0.0, duration, 0.0, 1.0)
  for ax, kind in zip(np.atleast_1d(axes), kinds):
    if kind == "gt":
      seg = output.segments_Nx2
      _segments_row(ax, seg[:, 0], seg[:, 1], np.full(len(seg), 0.8),
                    GT_COLOR, "ground truth")
    elif kind == "pred":
      # Predictions of the classes whose CAS is drawn, opacity by score.
      keep = [r for r in rows if int(detections.label[r]) in cas_classes]
      scores = np.asarray(detections.score[keep] if keep else np.zeros(0),
                          np.float64)
      # Scores of some recipes are negative (log-scale CAS, outer-inner
      # contrast), so opacity follows the score's place in the plotted range.
      lo, hi = (scores.min(), scores.max()) if scores.size else (0.0, 0.0)
      alphas = 0.15 + 0.75 * ((scores - lo) / (hi - lo) if hi > lo
                              else np.ones_like(scores))
      _segments_row(ax, detections.t_start[keep] if keep else scores,
                    detections.t_end[keep] if keep else scores, alphas,
                    PRED_COLOR, "prediction")
    elif kind == "att":
      time_T = (np.arange(t) + 0.5) * sps
      for s, e in (output.segments_Nx2 if ground_truth else ()):
        ax.axvspan(s, e, color=GT_COLOR, alpha=0.15, lw=0)
      ax.plot(time_T, output.attention_T, color="black", lw=0.8)
      # A weak foreground score would be a flat line on [0, 1].
      top = float(np.max(output.attention_T, initial=0.0))
      ax.set_ylim(0.0, 1.02 if top > 0.5 else max(1.2 * top, 1e-3))
      ax.set_ylabel("foreground", rotation=0, ha="right", va="center",
                    fontsize=8)
      ax.tick_params(labelsize=7)
    elif kind[0] == "cas":
      c = kind[1]
      cas = np.asarray(output.cas_TxC[:, c], np.float64)
      # Non-negative activations are drawn from 0, so a weak class stays
      # pale; a log-scale CAS (negative) over its own range.
      vmin = 0.0 if cas.min(initial=0.0) >= 0.0 else float(cas.min())
      ax.imshow(cas[None, :], aspect="auto", cmap="gray_r", extent=extent,
                vmin=vmin, vmax=max(float(cas.max(initial=vmin)), vmin + 1e-12),
                interpolation="nearest")
      ax.set_yticks([])
      marker = "" if c in gt_classes or not ground_truth else " (pred.)"
      ax.set_ylabel(f"CAS {name(c)}{marker}", rotation=0, ha="right",
                    va="center", fontsize=8)
    else:
      gate, m = parse_gate_name(kind[1])
      probs_TxP = np.asarray(output.gate_probs[kind[1]])
      labels = path_labels(gate, probs_TxP.shape[-1])
      colors = np.array([_rgb(PATH_COLORS[p % len(PATH_COLORS)])
                         for p in range(len(labels))])
      ax.imshow(colors[probs_TxP.argmax(-1)][None], aspect="auto",
                extent=extent, interpolation="nearest")
      ax.set_yticks([])
      ax.set_ylabel(f"{GATE_TITLES.get(gate, gate)} ({mods[m]})", rotation=0,
                    ha="right", va="center", fontsize=8)
      if m == num_mods - 1:
        ax.legend(handles=[Patch(color=colors[p], label=l)
                           for p, l in enumerate(labels)],
                  loc="center left", bbox_to_anchor=(1.005, 0.5 * num_mods),
                  fontsize=7, frameon=False)
  last = np.atleast_1d(axes)[-1]
  last.set_xlim(0.0, duration)
  last.set_xlabel("time (s)")
  fig.suptitle(title or output.video_id, fontsize=10)
  return fig


def _rgb(hex_color: str) -> tuple[float, float, float]:
  h = hex_color.lstrip("#")
  return tuple(int(h[i:i + 2], 16) / 255.0 for i in (0, 2, 4))


def plot_selection_rates(table: SelectionRates, title: str = "") -> Figure:
  """Grouped bars of the selection rate ζ: one panel per gate, one bar group
  per path, one bar per modality."""
  gates = table.gates
  if not gates:
    raise ValueError("The selection-rate table is empty: the model has no "
                     "gates (fusion kind without LGCA gates, or gate='none').")
  mods = table.modalities
  widths = [max(len(table.paths(g)), 2) for g in gates]
  fig = Figure(figsize=(1.5 * sum(widths) + 1.5, 3.4))
  axes = np.atleast_1d(fig.subplots(1, len(gates), sharey=True,
                                    gridspec_kw={"width_ratios": widths}))
  bar = 0.8 / len(mods)
  for ax, gate in zip(axes, gates):
    paths = table.paths(gate)
    x = np.arange(len(paths))
    for j, m in enumerate(mods):
      rates = [100 * table.rate(gate, p, m) for p in paths]
      bars = ax.bar(x + (j - (len(mods) - 1) / 2) * bar, rates, bar,
                    label=m, color=f"C{j}")
      for b, r in zip(bars, rates):
        ax.annotate(f"{r:.0f}", (b.get_x() + b.get_width() / 2, r),
                    ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels(paths, fontsize=8, rotation=15)
    ax.set_title(GATE_TITLES.get(gate, gate), fontsize=9)
    ax.set_ylim(0, 110)
  axes[0].set_ylabel("selection rate ζ (%)")
  axes[-1].legend(fontsize=8, frameon=False)
  if title:
    fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  return fig
