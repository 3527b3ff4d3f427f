"""The device mesh and host-local to global batch assembly.

One code path serves one CPU, N local devices and multi-host pods: the mesh
has a single ``batch`` axis over all devices; each process fills the rows of
the global batch that live on its own devices, and
``jax.make_array_from_process_local_data`` assembles the global array.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

BATCH_AXIS = "batch"


def make_mesh() -> Mesh:
  """A 1-D mesh over every device of every process."""
  return jax.make_mesh((jax.device_count(),), (BATCH_AXIS,),
                       axis_types=(AxisType.Auto,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(BATCH_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def local_rows(mesh: Mesh, global_rows: int) -> range:
  """The rows of a ``(global_rows, ...)`` batch held by this process.

  Raises:
    ValueError: If the device count does not divide the batch.
  """
  n = mesh.devices.size
  if global_rows % n:
    raise ValueError(f"Batch of {global_rows} rows cannot be split over {n} "
                     f"devices; use a multiple of {n}.")
  index_map = batch_sharding(mesh).addressable_devices_indices_map(
      (global_rows,))
  starts = sorted({idx[0].start or 0 for idx in index_map.values()})
  per_device = global_rows // n
  lo, hi = starts[0], starts[-1] + per_device
  if hi - lo != per_device * len(starts):
    raise ValueError("This process's devices do not hold a contiguous block "
                     "of the batch; the mesh device order is unexpected.")
  return range(lo, hi)


def to_global(local_batch, mesh: Mesh, global_rows: int):
  """Assembles process-local rows into global arrays sharded over ``batch``."""
  sharding = batch_sharding(mesh)

  def put(x):
    x = np.asarray(x)
    return jax.make_array_from_process_local_data(
        sharding, x, (global_rows,) + x.shape[1:])

  return jax.tree_util.tree_map(put, local_batch)


def to_host(tree):
  """Fetches (possibly multi-host sharded) arrays as NumPy on every host."""
  if jax.process_count() == 1:
    return jax.tree_util.tree_map(np.asarray, tree)
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  return jax.tree_util.tree_map(
      np.asarray, multihost_utils.process_allgather(tree, tiled=True))
