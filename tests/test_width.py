"""``config.model.width``: every hidden width follows it, widths that follow
the input follow the data, norm-tied loss constants keep their share, and a
width the model cannot take stops the run before any compute."""

import glob
import math
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from wtal_jax import config_lib, config_validation
from wtal_jax.data import pipeline
from wtal_jax.models import width as width_lib
from wtal_jax.models.model import build_model, head_config
from wtal_jax.training.state import create_train_state, make_optimizer

ROOT = os.path.join(os.path.dirname(__file__), "..")
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))
QUARTER = {"rgb": 256, "flow": 256, "audio": 32}


def _config(name, variant=""):
  path = os.path.join(ROOT, "configs", name)
  return config_lib.load_config(f"{path}:{variant}" if variant else path)


def _kernels(config, modality_dims, num_classes=20):
  """Parameter shapes of the config's model, by path."""
  groups = pipeline.parse_modalities(config.data.modalities)
  dims = pipeline.group_dims(groups, modality_dims)
  model = build_model(config.model, num_classes)
  state = create_train_state(model, make_optimizer(config.train), dims,
                             jax.random.PRNGKey(0))
  flat = jax.tree_util.tree_flatten_with_path(state.params)[0]
  return {jax.tree_util.keystr(k): v.shape for k, v in flat}


@pytest.mark.parametrize("name,path,published", [
    ("thumos_um.py", "['head']['conv']['kernel']", (3, 512, 2048)),
    ("thumos_asl.py", "['head']['classifier']['fc1']['kernel']", (512, 512)),
    ("thumos_hamnet.py", "['head']['att_conv1']['conv']['kernel']",
     (3, 512, 512)),
    ("thumos_co2net.py",
     "['head']['attention_0']['conv1']['conv']['kernel']", (3, 256, 512)),
    ("thumos_caav.py", "['fusion']['embed_0']['fc']['kernel']", (256, 1024)),
    ("thumos_lgca_3cnet.py", "['fusion']['embed_0']['fc']['kernel']",
     (256, 1024)),
])
def test_hidden_widths_follow_the_width_and_input_widths_the_data(
    name, path, published):
  config = _config(name)
  full = _kernels(config, QUARTER)[path]
  assert full == published
  config.model.width = 0.25
  quarter = _kernels(config, QUARTER)[path]
  # The output (hidden) width scales; the input width is the data's.
  assert quarter[:-1] == published[:-1]
  assert quarter[-1] == published[-1] // 4


def test_parameter_count_of_um_follows_the_width():
  config = _config("thumos_um.py")
  counts = {}
  for w in (1.0, 0.5, 0.25):
    config.model.width = w
    shapes = _kernels(config, QUARTER)
    counts[w] = sum(math.prod(s) for s in shapes.values())
  d, c = 512, 20
  for w, n in counts.items():
    h = round(2048 * w)
    assert n == 3 * d * h + h + h * c  # conv (+ bias) and classifier


def test_width_one_changes_nothing():
  for path in CONFIGS:
    config = config_lib.load_config(path)
    assert config.model.width == 1.0
    assert width_lib.resolve(config.model).to_dict() == config.model.to_dict()


def test_norm_tied_constants_keep_their_share():
  config = _config("thumos_um.py")
  config.model.width = 0.25
  head = head_config(config.model)
  assert head.hidden_dim == 512
  assert head.margin == pytest.approx(100.0 * 0.5)
  assert head.loss_weights.um == pytest.approx(5e-4 / 0.25)
  # Features of a quarter of the width have half the norm, so the squared
  # term (m - |f_a| + |f_b|)^2 is a quarter as large, and 4x its weight
  # gives it the same share.
  f_full, f_quarter = 30.0, 15.0
  full = 5e-4 * (100.0 - f_full) ** 2
  quarter = head.loss_weights.um * (head.margin - f_quarter) ** 2
  assert quarter == pytest.approx(full)
  assert width_lib.resolve(width_lib.resolve(config.model)).to_dict() == (
      width_lib.resolve(config.model).to_dict())


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_every_synthetic_config_is_quarter_width_on_raw_features(path):
  config = config_lib.load_config(f"{path}:synthetic")
  assert config.data.normalize == "none"
  assert config.model.width == 0.25
  assert config.data.builder_config == "full_dims256-256-32"
  assert config.data.num_snippets == 256 and config.train.batch_size == 10
  if config.model.fusion.kind == "lgca":
    assert config.model.fusion.gate_prior == 0.95
  published = config_lib.load_config(path)
  assert config.model.head.to_dict() == published.model.head.to_dict()


@pytest.mark.parametrize("value,message", [
    (0.0, "must be a number > 0"),
    (-1.0, "must be a number > 0"),
    (1e-4, "round to 0"),
])
def test_a_width_the_model_cannot_take_is_a_config_error(value, message):
  config = _config("thumos_lgca_um.py", "synthetic")
  config.model.width = value
  with pytest.raises(config_validation.ConfigError, match=message):
    config_validation.validate(config)


def test_a_bad_width_stops_the_command_line_in_one_line(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "wtal_jax.main",
       "--config=configs/thumos_lgca.py:smoke", f"--workdir={tmp_path}/run",
       "--config.model.width=0.001"], cwd=ROOT, capture_output=True,
      text=True, timeout=300, env={**os.environ, "JAX_PLATFORMS": "cpu"})
  assert proc.returncode == 2
  lines = [l for l in proc.stderr.splitlines() if l.strip()]
  assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
  assert "config.model.width" in lines[0] and "round to 0" in lines[0]
  assert not os.path.exists(tmp_path / "run" / "checkpoints")
  np.testing.assert_equal(proc.stdout.strip(), "")
