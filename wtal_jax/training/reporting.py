"""Console progress with ETA, JSONL metrics and TensorBoard event files.

Only process 0 writes. TensorBoard files are written with ``tensorboardX``,
which needs no TensorFlow, and :func:`read_events` reads them back without
TensorBoard.

Scalar names (the same in ``metrics.jsonl`` and, prefixed with the split, in
TensorBoard): ``loss``, ``loss/<term>`` (each unweighted term), ``lr``,
``grad_norm``, ``gate_rate/<gate>/<path>`` and ``gate_prob/<gate>/<path>``
(selection rate and mean probability of every gate path, e.g.
``train/gate_rate/skip2_gate_1/X_Xatt1_Xtilde2``; on the test split measured
at evaluation, on the train split over the step's batch), and the evaluation
metrics ``map@<tiou>``, ``avg_map``, ``cls_map``. TensorBoard tags allow
only ``[-/\\w.]``, so there ``map@0.5`` reads ``map_0.5`` (:func:`tb_tag`).
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import struct
import sys
import time
from typing import Iterable, Mapping

import jax
import numpy as np

from wtal_jax.models.fusion.lgca import GATE_PATHS


def format_duration(seconds: float) -> str:
  """``3725 -> '1h02m05s'``, ``65 -> '1m05s'``, ``4.2 -> '4s'``."""
  if not math.isfinite(seconds):
    return "?"
  seconds = int(round(seconds))
  h, rem = divmod(seconds, 3600)
  m, s = divmod(rem, 60)
  if h:
    return f"{h}h{m:02d}m{s:02d}s"
  if m:
    return f"{m}m{s:02d}s"
  return f"{s}s"


class Progress:
  """Tracks step throughput and prints ``step i/N ... ETA`` lines.

  The rate ignores the first measured step, which includes compilation, so
  the first line has no rate and says ``ETA ?``. The last step's line has no
  ETA, and lines with ``timing=False`` (evaluations) show neither.
  """

  def __init__(self, start_step: int, total_steps: int, stream=None):
    self.start_step = start_step
    self.total_steps = total_steps
    self.stream = stream or sys.stdout
    self._t0 = None
    self._s0 = None

  def rate(self, step: int) -> float:
    """Steps per second since the first completed step (NaN until a step
    after it has completed)."""
    now = time.perf_counter()
    if self._t0 is None:
      self._t0, self._s0 = now, step
    if step <= self._s0:
      return float("nan")
    return (step - self._s0) / max(now - self._t0, 1e-9)

  def line(self, step: int, scalars: Mapping[str, float], extra: str = "",
           timing: bool = True) -> str:
    """``step i/N (p%) | scalars | rate | ETA | extra``.

    Args:
      step: The completed step.
      scalars: Name -> value, shown with 4 significant digits.
      extra: Appended as is.
      timing: Show the rate and the ETA (training lines; an evaluation's
        duration would distort them).
    """
    pct = 100.0 * step / max(self.total_steps, 1)
    parts = [f"step {step}/{self.total_steps} ({pct:.0f}%)"]
    parts += [f"{k} {v:.4g}" for k, v in scalars.items()]
    if timing:
      rate = self.rate(step)
      if math.isfinite(rate):
        parts.append(f"{rate:.2f} steps/s")
      if step < self.total_steps:
        eta = (self.total_steps - step) / rate if rate > 0 else float("nan")
        parts.append(f"ETA {format_duration(eta)}")
    if extra:
      parts.append(extra)
    return " | ".join(parts)

  def report(self, step: int, scalars: Mapping[str, float], extra: str = "",
             timing: bool = True):
    if jax.process_index() == 0:
      print(self.line(step, scalars, extra, timing), file=self.stream,
            flush=True)


_GATE_METRIC = re.compile(r"^gate_(rate|prob)/(?P<gate>.+)_gate_\d+$")


def path_slug(label: str) -> str:
  """A TensorBoard-safe name of a gate path: ``"X + X_att(1) + X̃(2)"`` ->
  ``"X_Xatt1_Xtilde2"`` (tags allow only ``[-/\\w.]``)."""
  terms = [t.strip().replace("X̃", "Xtilde").replace("X_att", "Xatt")
           for t in label.split("+")]
  return "_".join(re.sub(r"[^A-Za-z0-9]", "", t) for t in terms)


_INVALID_TAG_CHARS = re.compile(r"[^-/\w.]")


def tb_tag(split: str, key: str) -> str:
  """The TensorBoard tag of a metric: ``("test", "map@0.5") ->
  "test/map_0.5"`` (characters TensorBoard rejects become ``_``)."""
  return _INVALID_TAG_CHARS.sub("_", f"{split}/{key}")


def element_names(key: str, size: int) -> list[str]:
  """Names of the elements of a vector metric: gate paths for
  ``gate_rate/<gate>_gate_<m>`` and ``gate_prob/...``, else indices."""
  match = _GATE_METRIC.match(key)
  labels = GATE_PATHS.get(match["gate"]) if match else None
  if labels is None or len(labels) != size:
    return [str(i) for i in range(size)]
  return [path_slug(label) for label in labels]


def _to_scalars(metrics: Mapping[str, object]) -> dict[str, float]:
  """Flattens vector metrics (e.g. gate rates per path) to ``name/<element>``."""
  out = {}
  for k, v in metrics.items():
    arr = np.asarray(v)
    if arr.ndim == 0:
      out[k] = float(arr)
    else:
      flat = arr.reshape(-1)
      for name, x in zip(element_names(k, flat.size), flat):
        out[f"{k}/{name}"] = float(x)
  return out


def gate_metrics(gate_probs: Iterable[Mapping[str, np.ndarray]]
                 ) -> dict[str, np.ndarray]:
  """Selection rate and mean probability of every gate path over videos.

  Args:
    gate_probs: Per video, ``{gate name: (T, P)}`` probabilities of its real
      snippets (``VideoOutput.gate_probs``).

  Returns:
    ``{"gate_rate/<gate>": (P,), "gate_prob/<gate>": (P,)}``, the names the
    train step uses.
  """
  wins: dict[str, np.ndarray] = {}
  sums: dict[str, np.ndarray] = {}
  counts: dict[str, int] = {}
  for probs in gate_probs:
    for name, p_TxP in probs.items():
      p_TxP = np.asarray(p_TxP, np.float64)
      w = np.bincount(p_TxP.argmax(-1), minlength=p_TxP.shape[-1])
      wins[name] = wins.get(name, 0) + w
      sums[name] = sums.get(name, 0) + p_TxP.sum(0)
      counts[name] = counts.get(name, 0) + p_TxP.shape[0]
  out = {}
  for name in wins:
    n = max(counts[name], 1)
    out[f"gate_rate/{name}"] = wins[name] / n
    out[f"gate_prob/{name}"] = sums[name] / n
  return out


class MetricWriter:
  """Appends metrics to ``workdir/metrics.jsonl`` and TensorBoard events.

  Each JSONL line is ``{"step": s, "split": "train"|"test", name: value...}``.
  """

  def __init__(self, workdir: str, tensorboard: bool = True,
               purge_step: int | None = None):
    """Opens the writers.

    Args:
      workdir: The run's directory.
      tensorboard: Also write TensorBoard events under ``workdir/tensorboard``.
      purge_step: When resuming, the first step that will be written again:
        TensorBoard (and :func:`read_events`) hide the interrupted job's
        events from this step on, so replayed steps are not shown twice.
    """
    self.enabled = jax.process_index() == 0
    self.path = os.path.join(workdir, "metrics.jsonl")
    self._tb = None
    if self.enabled:
      os.makedirs(workdir, exist_ok=True)
      if tensorboard:
        from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
        self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"),
                                 purge_step=purge_step)

  def write(self, step: int, split: str, metrics: Mapping[str, object]) -> None:
    if not self.enabled:
      return
    scalars = _to_scalars(metrics)
    with open(self.path, "a", encoding="utf-8") as f:
      f.write(json.dumps({"step": int(step), "split": split, **scalars}) + "\n")
    if self._tb is not None:
      for k, v in scalars.items():
        self._tb.add_scalar(tb_tag(split, k), v, int(step))
      self._tb.flush()

  def close(self) -> None:
    if self._tb is not None:
      self._tb.close()


def _records(path: str) -> Iterable[bytes]:
  """The payloads of a TFRecord file (length, crc, data, crc)."""
  with open(path, "rb") as f:
    while True:
      header = f.read(12)
      if len(header) < 12:
        return
      (length,) = struct.unpack("<Q", header[:8])
      data = f.read(length)
      f.read(4)
      if len(data) < length:
        return  # A record still being written.
      yield data


def read_events(logdir: str) -> dict[str, list[tuple[int, float]]]:
  """Scalars of every TensorBoard event file under ``logdir``.

  A ``SessionLog.START`` event at step s (what a resumed run writes, see
  :class:`MetricWriter`) hides the earlier values of steps >= s, as
  TensorBoard does.

  Returns:
    ``{tag: [(step, value), ...]}`` in file order.
  """
  from tensorboardX.proto import event_pb2  # pylint: disable=g-import-not-at-top
  out: dict[str, list[tuple[int, float]]] = {}
  # Event files are named by creation time, so sorting is write order.
  paths = sorted(glob.glob(os.path.join(logdir, "**", "*tfevents*"),
                           recursive=True), key=os.path.basename)
  for path in paths:
    for data in _records(path):
      event = event_pb2.Event.FromString(data)
      if (event.HasField("session_log") and
          event.session_log.status == event_pb2.SessionLog.START):
        out = {tag: [(s, x) for s, x in values if s < event.step]
               for tag, values in out.items()}
        continue
      for value in event.summary.value:
        if value.HasField("simple_value"):
          x = value.simple_value
        elif value.HasField("tensor") and value.tensor.float_val:
          x = value.tensor.float_val[0]
        else:
          continue
        out.setdefault(value.tag, []).append((int(event.step), float(x)))
  return out


def read_metrics(workdir: str) -> list[dict]:
  """Reads ``workdir/metrics.jsonl`` back (for tests, notebooks, plots)."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]
