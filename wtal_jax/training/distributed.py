"""Starting JAX's multi-process runtime, and process-aware helpers.

A job runs as one process per host (TPU pod worker, GPU node) or, for tests,
several processes on one machine over loopback. Every process runs the same
command; ``initialize`` joins them into one JAX runtime before any JAX
computation, after which ``jax.devices()`` lists the devices of all processes
and the training mesh spans them.

How the processes find each other:

* explicit: ``coordinator_address``, ``num_processes`` and ``process_id``
  (``--coordinator_address=host:port --num_processes=N --process_id=i``);
* on a Cloud TPU VM: nothing to pass; ``jax.distributed.initialize()`` reads
  the pod's topology from the TPU metadata;
* otherwise the job is a single process and nothing is started.

On CPU, cross-process collectives use gloo over TCP.
"""

from __future__ import annotations

import dataclasses

import jax
from absl import logging


@dataclasses.dataclass(frozen=True)
class ProcessSetup:
  """How this process was started.

  Attributes:
    mode: ``"single"``, ``"explicit"`` or ``"tpu"``.
    coordinator_address: ``host:port`` of process 0 (explicit mode).
    num_processes: Number of processes in the job.
    process_id: This process's index.
  """

  mode: str
  coordinator_address: str | None = None
  num_processes: int = 1
  process_id: int = 0


def _on_cloud_tpu_vm() -> bool:
  try:
    from jax._src import cloud_tpu_init  # pylint: disable=g-import-not-at-top
  except ImportError:  # A JAX without the module cannot auto-detect either.
    return False
  return bool(getattr(cloud_tpu_init, "running_in_cloud_tpu_vm", False))


def resolve(coordinator_address: str | None = None,
            num_processes: int | None = None,
            process_id: int | None = None,
            tpu_auto: bool | None = None) -> ProcessSetup:
  """Decides how to start from the flags (pure; starts nothing).

  Args:
    coordinator_address: ``host:port`` of process 0, or None.
    num_processes: Total number of processes, or None.
    process_id: This process's index in ``[0, num_processes)``, or None.
    tpu_auto: Whether to auto-detect a TPU pod; None checks for a Cloud TPU VM.

  Returns:
    The resolved setup.

  Raises:
    ValueError: If only some of the explicit flags are given, or they are
      inconsistent.
  """
  given = {"coordinator_address": coordinator_address,
           "num_processes": num_processes, "process_id": process_id}
  if any(v is not None for v in given.values()):
    missing = [k for k, v in given.items() if v is None]
    if missing:
      raise ValueError(
          "A multi-process launch needs --coordinator_address, "
          "--num_processes and --process_id together; missing "
          f"{', '.join('--' + m for m in missing)}.")
    if ":" not in coordinator_address:
      raise ValueError(f"--coordinator_address={coordinator_address!r} must be "
                       "host:port, e.g. 127.0.0.1:12355.")
    if num_processes < 1 or not 0 <= process_id < num_processes:
      raise ValueError(f"--process_id={process_id} must be in "
                       f"[0, --num_processes={num_processes}).")
    return ProcessSetup("explicit", coordinator_address, num_processes,
                        process_id)
  if tpu_auto if tpu_auto is not None else _on_cloud_tpu_vm():
    return ProcessSetup("tpu")
  return ProcessSetup("single")


def initialize(setup: ProcessSetup, initialization_timeout: int = 300) -> None:
  """Joins the job's processes into one JAX runtime (no-op when single).

  Must run before anything touches a JAX backend (``jax.devices()``, any
  array). Uses gloo for collectives between CPU processes.
  """
  if setup.mode == "single":
    return
  # Read when the CPU client is created, i.e. after this call; gloo is the
  # default today, set explicitly so a changed default cannot break CPU jobs.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  if setup.mode == "tpu":
    jax.distributed.initialize(initialization_timeout=initialization_timeout)
  else:
    jax.distributed.initialize(
        coordinator_address=setup.coordinator_address,
        num_processes=setup.num_processes, process_id=setup.process_id,
        initialization_timeout=initialization_timeout)
  logging.info("Process %d of %d; %d local / %d global devices.",
               jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count())


def is_primary() -> bool:
  """Whether this process writes logs, metrics and other single-copy files."""
  return jax.process_index() == 0


def barrier(name: str) -> None:
  """Waits until every process reaches the barrier named ``name``."""
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
    multihost_utils.sync_global_devices(name)


def any_process(flag: bool) -> bool:
  """True on every process if ``flag`` is True on any of them."""
  if jax.process_count() == 1:
    return bool(flag)
  import numpy as np  # pylint: disable=g-import-not-at-top
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  flags_P = multihost_utils.process_allgather(np.asarray([int(flag)], np.int32))
  return bool(np.asarray(flags_P).any())
