"""The ``oic`` multi-threshold recipe (UM, ASL, HAM-Net, CO2-Net).

For one video, with ``T`` real snippets and ``C`` action classes:

1. **Classes.** Keep classes whose video score is ``>= class_threshold``; if
   none, keep the arg-max class (UM, ASL, CO2-Net).
2. **Upsampling.** Each signal is linearly interpolated to ``T * scale``
   points at positions ``j / scale`` (snippet units), extrapolating the last
   segment linearly past snippet ``T - 1``, as ``interp1d(...,
   fill_value='extrapolate')`` on ``arange(0, T, 1/scale)`` does in the public
   code (whose float ``arange`` may add one more point; here there are always
   exactly ``T * scale``).
3. **Thresholds.** For each ``(activation, thresholds)`` pass and each
   threshold ``th``, the points with ``activation > th`` (strict, which equals
   the public ``>= th and > 0`` selection everywhere except exact equality for
   ``th > 0``) form runs; each maximal run of at least ``min_len`` points is a
   proposal. ``activation`` is ``"cas"`` (the class's CAS), ``"attention"``
   (class-agnostic) or ``"product"`` (CAS times attention). UM uses two
   passes, CAS and feature magnitude (passed as the attention).
4. **Score.** The outer-inner contrast on ``score_activation``: the mean over
   the run minus the mean over the outer bands ``[floor(s - r*L), s)`` and
   ``(e, floor(e + r*L)]`` (inclusive end ``e``, length ``L``, ratio ``r =
   outer_ratio``, clipped to the video; 0 if both bands are empty), plus
   ``gamma`` times the class's video score. With ``score_on_thresholded``
   (UM), when a pass thresholds the scored signal itself, points below the
   threshold count as 0 in those means, because UM scores the thresholded
   copy of the CAS.
5. **Time.** Point ``j`` is at ``j * seconds_per_snippet / scale``; a run
   ``[s, e]`` becomes ``[s, e + 1]`` in those units.
6. **NMS** per class (see :mod:`wtal_jax.evaluation.nms`): ``"hard"`` with
   ``nms_iou`` (UM 0.6, ASL 0.4), Gaussian ``"soft"`` with ``nms_sigma``
   (HAM-Net and CO2-Net 0.3), or ``"hard_decay"`` (the public ASL scripts'
   ``--soft_nms``: hard NMS at ``nms_iou`` that keeps what it suppresses at
   a Gaussian-decayed score, ``nms_sigma`` 0.35), tIoU on seconds (``nms_length_offset = 1``
   adds one second to every length, as the public code's ``nms`` does).

The whole video is handled with array operations: one boolean
``(thresholds, classes, T * scale)`` mask per pass, run extraction by
differencing, and means by segment reductions. Only passes loop in Python.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from wtal_jax.evaluation import segments
from wtal_jax.evaluation.proposals import NmsSpec, Proposals

ACTIVATIONS = ("cas", "attention", "product")


def upsample_linear(x_RxT: np.ndarray, scale: int) -> np.ndarray:
  """Linear interpolation of each row to ``T * scale`` points (see module)."""
  if scale == 1:
    return x_RxT
  r, t = x_RxT.shape
  if t == 1:
    return np.repeat(x_RxT, scale, axis=1)
  pos = np.arange(t * scale) / scale
  i0 = np.minimum(np.floor(pos).astype(np.int64), t - 2)
  frac = pos - i0
  y0 = x_RxT[:, i0]
  return y0 + (x_RxT[:, i0 + 1] - y0) * frac


def _passes(activation, thresholds) -> list[tuple[str, np.ndarray]]:
  if isinstance(activation, str):
    names, lists = [activation], [thresholds]
  else:
    names = list(activation)
    lists = list(thresholds)
    if len(names) != len(lists):
      raise ValueError("oic: give one threshold list per activation, got "
                       f"{len(names)} activations and {len(lists)} lists.")
  out = []
  for name, th in zip(names, lists):
    if name not in ACTIVATIONS:
      raise ValueError(f"oic: activation must be one of {ACTIVATIONS}, got "
                       f"{name!r}.")
    th = np.asarray(th, np.float64).reshape(-1)
    if th.size == 0 or not np.all(np.isfinite(th)):
      raise ValueError(f"oic: thresholds for {name!r} must be finite numbers.")
    out.append((name, th))
  return out


def oic_proposals(cas_TxC: np.ndarray, attention_T: np.ndarray | None,
                  video_scores_C: np.ndarray, seconds_per_snippet: float, *,
                  activation: str | Sequence[str] = "cas",
                  thresholds: Sequence[float] | Sequence[Sequence[float]] = (
                      0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                  scale: int = 24, min_len: int = 1, outer_ratio: float = 0.25,
                  gamma: float = 0.2, class_threshold: float = 0.2,
                  score_activation: str = "cas",
                  score_on_thresholded: bool = False, nms: str = "soft",
                  nms_iou: float = 0.6, nms_sigma: float = 0.3,
                  nms_length_offset: float = 0.0
                  ) -> tuple[Proposals, NmsSpec]:
  """Proposals of one video by the ``oic`` recipe (see the module docstring).

  Args:
    cas_TxC: ``(T, C)`` class activation, background excluded, unpadded.
    attention_T: ``(T,)`` class-agnostic attention, or None if unused.
    video_scores_C: ``(C,)`` video-level class scores.
    seconds_per_snippet: Seconds per snippet.
    activation: Thresholded signal(s): a name of ``ACTIVATIONS`` or a list.
    thresholds: A list of thresholds, or one list per activation.
    scale: Integer upsampling factor (1: none).
    min_len: Minimum run length in upsampled points.
    outer_ratio: Outer band length as a fraction of the run length.
    gamma: Weight of the class's video score in the proposal score.
    class_threshold: Video-score threshold for the classes to localise.
    score_activation: Signal of the outer-inner contrast (``ACTIVATIONS``).
    score_on_thresholded: UM's zeroing of sub-threshold points (module doc).
    nms: ``"hard"``, ``"soft"``, ``"hard_decay"`` or ``"none"``.
    nms_iou: Hard-NMS tIoU threshold.
    nms_sigma: Gaussian width of ``soft`` and ``hard_decay``.
    nms_length_offset: Added to segment lengths in the NMS tIoU (1: the
      public code's ``e - s + 1`` in seconds; see nms.py).

  Returns:
    The proposals before NMS, and the NMS to apply per class.
  """
  t, c = cas_TxC.shape
  if int(scale) != scale or scale < 1:
    raise ValueError(f"oic: scale must be a positive integer, got {scale}.")
  scale = int(scale)
  passes = _passes(activation, thresholds)
  if score_activation not in ACTIVATIONS:
    raise ValueError(f"oic: score_activation must be one of {ACTIVATIONS}.")
  needs_att = {score_activation} | {p for p, _ in passes}
  if needs_att & {"attention", "product"} and attention_T is None:
    raise ValueError("oic: this configuration needs attention_T.")

  cls = np.flatnonzero(video_scores_C >= class_threshold)
  if cls.size == 0:
    cls = np.array([int(np.argmax(video_scores_C))])
  n_c = cls.size

  def signal(name):
    if name == "cas":
      return cas_TxC[:, cls].T
    if name == "attention":
      return np.broadcast_to(attention_T[None, :], (n_c, t))
    return (cas_TxC[:, cls] * attention_T[:, None]).T

  up = {name: upsample_linear(np.asarray(signal(name), np.float64), scale)
        for name in needs_att}
  score_up = up[score_activation]
  tp = t * scale
  parts = []
  for name, th in passes:
    act = up[name]
    mask = act[None, :, :] > th[:, None, None]  # (thresholds, classes, T')
    row, s, e = segments.mask_runs(mask.reshape(-1, tp))
    keep = (e - s) >= min_len
    row, s, e = row[keep], s[keep], e[keep]
    if score_on_thresholded and name == score_activation:
      sig = np.where(act[None] < th[:, None, None], 0.0, score_up[None])
      sig, sig_row = sig.reshape(-1, tp), row
    else:
      sig, sig_row = score_up, row % n_c
    length = e - s
    inner = segments.run_reduce(sig, sig_row, s, e, np.add) / length
    outer_s = np.maximum(0, np.floor(s - outer_ratio * length)).astype(np.int64)
    outer_e = np.minimum(tp - 1, np.floor((e - 1) + outer_ratio * length)
                         ).astype(np.int64) + 1
    outer_e = np.maximum(outer_e, e)
    n_out = (s - outer_s) + (outer_e - e)
    outer_sum = (segments.run_reduce(sig, sig_row, outer_s, s, np.add) +
                 segments.run_reduce(sig, sig_row, e, outer_e, np.add))
    outer = np.where(n_out > 0, outer_sum / np.maximum(n_out, 1), 0.0)
    label = cls[row % n_c]
    parts.append(Proposals(
        label=label, t_start=s * seconds_per_snippet / scale,
        t_end=e * seconds_per_snippet / scale,
        score=inner - outer + gamma * video_scores_C[label]))
  return Proposals.concatenate(parts), NmsSpec(
      nms, nms_iou, nms_sigma, nms_length_offset)
