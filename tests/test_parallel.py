"""The data-parallel step gives the same losses, gradient norms and parameters
on 1 and 4 devices: normalisation by global counts and per-example randomness
make the update independent of how the batch is split.

The runs are in float64 (see device_count_run.py): the check is then about the
update rule, not about the order in which a given CPU sums the batch.
"""

import json
import os
import subprocess
import sys

import numpy as np

SCRIPT = os.path.join(os.path.dirname(__file__), "device_count_run.py")

# In float64 the two runs differ by ~1e-15 (summation order). A bug in the
# normalisation (a count not summed over devices, a wrong divisor) moves the
# losses by a factor and the parameters by a share of an lr-sized step; Adam
# amplifies float64 rounding by at most ~1e-16 / eps (1e-8), i.e. ~1e-8 of a
# step, so these tolerances hold on any CPU and still catch such bugs.
RTOL, ATOL = 1e-9, 1e-10


def _run(devices, data_dir):
  out = subprocess.run(
      [sys.executable, SCRIPT, f"--devices={devices}", f"--data_dir={data_dir}",
       "--steps=3"], check=True, capture_output=True, text=True,
      env={**os.environ, "JAX_PLATFORMS": "cpu"})
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_one_and_four_devices_give_the_same_losses_and_params(data_dir):
  one, four = _run(1, data_dir), _run(4, data_dir)
  assert len(one["metrics"]) == len(four["metrics"]) == 3
  for step, (a, b) in enumerate(zip(one["metrics"], four["metrics"])):
    assert a.keys() == b.keys() and "grad_norm" in a
    for k in a:
      np.testing.assert_allclose(b[k], a[k], rtol=RTOL, atol=ATOL,
                                 err_msg=f"step {step} {k}")
  assert len(one["params"]) == len(four["params"])
  for a, b in zip(one["params"], four["params"]):
    np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL)
  # The run did learn something: parameters moved and losses changed.
  assert one["metrics"][0]["loss"] != one["metrics"][-1]["loss"]
