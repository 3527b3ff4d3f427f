"""Stopping cleanly on SIGTERM (a pre-emption notice).

Schedulers (Slurm, Kubernetes, Cloud TPU maintenance) send SIGTERM some
seconds before they kill a job. The handler only records the request; the
training loop checks it after each step, saves a checkpoint and stops, so the
same command resumes later exactly where the job stopped. In a multi-process
job the processes agree on the step to stop at, since a notice may reach
them at different moments but the checkpoint must be written by all of them
at the same step.
"""

from __future__ import annotations

import signal
import threading

from wtal_jax.training import distributed

# 128 + SIGTERM: what a shell reports for a job ended by SIGTERM, and
# non-zero so that schedulers retry the job rather than mark it complete.
EXIT_CODE = 128 + signal.SIGTERM


class Preempted(Exception):
  """Training stopped on a stop request after saving a checkpoint.

  Attributes:
    step: The step of the saved checkpoint; re-running resumes there.
  """

  def __init__(self, step: int, signal_name: str = "SIGTERM"):
    super().__init__(f"Stopped on {signal_name} after step {step}; a "
                     f"checkpoint of step {step} was saved. Re-run the same "
                     "command to resume.")
    self.step = step


class StopRequest:
  """Records SIGTERM while installed (a context manager).

  Usage::

    with StopRequest() as stop:
      for step in ...:
        ...
        if stop.requested():
          save(); raise Preempted(step)
  """

  def __init__(self, signals=(signal.SIGTERM,)):
    self._signals = tuple(signals)
    self._previous = {}
    self._event = threading.Event()
    self.signal_name = "SIGTERM"

  def _handle(self, signum, frame):  # pylint: disable=unused-argument
    self.signal_name = signal.Signals(signum).name
    self._event.set()

  def __enter__(self) -> "StopRequest":
    # Handlers can only be installed from the main thread; elsewhere (e.g.
    # a notebook's worker thread) the job simply is not pre-emptible.
    if threading.current_thread() is threading.main_thread():
      for s in self._signals:
        self._previous[s] = signal.signal(s, self._handle)
    return self

  def __exit__(self, *exc) -> None:
    for s, handler in self._previous.items():
      signal.signal(s, handler)
    self._previous.clear()

  def request(self) -> None:
    """Asks for a stop as a signal would (for callers and tests)."""
    self._event.set()

  def requested(self) -> bool:
    """Whether any process has received a stop request.

    A collective in multi-process jobs: every process must call it at the
    same step.
    """
    return distributed.any_process(self._event.is_set())
