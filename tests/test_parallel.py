"""The data-parallel step gives the same losses and parameters on 1 and 4
devices: normalisation by global counts and per-example randomness make the
update independent of how the batch is split."""

import json
import os
import subprocess
import sys

import numpy as np

SCRIPT = os.path.join(os.path.dirname(__file__), "device_count_run.py")


def _run(devices, data_dir):
  out = subprocess.run(
      [sys.executable, SCRIPT, f"--devices={devices}", f"--data_dir={data_dir}",
       "--steps=3"], check=True, capture_output=True, text=True,
      env={**os.environ, "JAX_PLATFORMS": "cpu"})
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_one_and_four_devices_give_the_same_losses_and_params(data_dir):
  one, four = _run(1, data_dir), _run(4, data_dir)
  assert len(one["losses"]) == len(four["losses"]) == 3
  for a, b in zip(one["losses"], four["losses"]):
    assert a.keys() == b.keys()
    for k in a:
      np.testing.assert_allclose(a[k], b[k], rtol=2e-5, atol=1e-6, err_msg=k)
  for a, b in zip(one["params"], four["params"]):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
  # The run did learn something: parameters moved and losses changed.
  assert one["losses"][0]["loss"] != one["losses"][-1]["loss"]
