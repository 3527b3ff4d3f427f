"""Test-wide settings: fast compiles and a private data directory."""

import os

import jax
import pytest

# Compile time dominates the tiny test models; XLA's optimisation passes are
# not worth it here.
jax.config.update("jax_disable_most_optimizations", True)

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")


@pytest.fixture(scope="session")
def shared_dir():
  """The read-only reference data (../shared); tests needing it skip without."""
  path = os.path.abspath(SHARED)
  if not os.path.isdir(os.path.join(path, "data")):
    pytest.skip("../shared/data is not available")
  return path


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
  """A session-wide dataset directory with the tiny synthetic dataset."""
  path = str(tmp_path_factory.mktemp("tfds"))
  from data_prep import synthetic_thumos  # pylint: disable=g-import-not-at-top
  synthetic_thumos.build(path, "tiny")
  return path
