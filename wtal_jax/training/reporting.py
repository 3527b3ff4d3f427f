"""Console progress with ETA, JSONL metrics and TensorBoard event files.

Only process 0 writes. TensorBoard files are written with ``tensorboardX``,
which needs no TensorFlow.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Mapping

import jax
import numpy as np


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

  The rate ignores the first measured step, which includes compilation.
  """

  def __init__(self, start_step: int, total_steps: int, stream=None):
    self.start_step = start_step
    self.total_steps = total_steps
    self.stream = stream or sys.stdout
    self._t0 = None
    self._s0 = None

  def rate(self, step: int) -> float:
    """Steps per second since the first completed step."""
    now = time.perf_counter()
    if self._t0 is None:
      self._t0, self._s0 = now, step
      return float("nan")
    return (step - self._s0) / max(now - self._t0, 1e-9)

  def line(self, step: int, scalars: Mapping[str, float], extra: str = "") -> str:
    rate = self.rate(step)
    eta = (self.total_steps - step) / rate if rate > 0 else float("nan")
    pct = 100.0 * step / max(self.total_steps, 1)
    parts = [f"step {step}/{self.total_steps} ({pct:.0f}%)"]
    parts += [f"{k} {v:.4g}" for k, v in scalars.items()]
    if math.isfinite(rate):
      parts.append(f"{rate:.2f} steps/s")
    parts.append(f"ETA {format_duration(eta)}")
    if extra:
      parts.append(extra)
    return " | ".join(parts)

  def report(self, step: int, scalars: Mapping[str, float], extra: str = ""):
    if jax.process_index() == 0:
      print(self.line(step, scalars, extra), file=self.stream, flush=True)


def _to_scalars(metrics: Mapping[str, object]) -> dict[str, float]:
  """Flattens vector metrics (e.g. gate rates per path) to ``name/i``."""
  out = {}
  for k, v in metrics.items():
    arr = np.asarray(v)
    if arr.ndim == 0:
      out[k] = float(arr)
    else:
      for i, x in enumerate(arr.reshape(-1)):
        out[f"{k}/{i}"] = float(x)
  return out


class MetricWriter:
  """Appends metrics to ``workdir/metrics.jsonl`` and TensorBoard events.

  Each JSONL line is ``{"step": s, "split": "train"|"test", name: value...}``.
  """

  def __init__(self, workdir: str, tensorboard: bool = True):
    self.enabled = jax.process_index() == 0
    self.path = os.path.join(workdir, "metrics.jsonl")
    self._tb = None
    if self.enabled:
      os.makedirs(workdir, exist_ok=True)
      if tensorboard:
        from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
        self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"))

  def write(self, step: int, split: str, metrics: Mapping[str, object]) -> None:
    if not self.enabled:
      return
    scalars = _to_scalars(metrics)
    with open(self.path, "a", encoding="utf-8") as f:
      f.write(json.dumps({"step": int(step), "split": split, **scalars}) + "\n")
    if self._tb is not None:
      for k, v in scalars.items():
        self._tb.add_scalar(f"{split}/{k}", v, int(step))
      self._tb.flush()

  def close(self) -> None:
    if self._tb is not None:
      self._tb.close()


def read_metrics(workdir: str) -> list[dict]:
  """Reads ``workdir/metrics.jsonl`` back (for tests, notebooks, plots)."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]
