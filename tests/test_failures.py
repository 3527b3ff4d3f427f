"""Failure handling: a NaN loss stops training with the step and the term and
keeps the last good checkpoint; invalid configs fail before any compute
with a message naming the field; SIGTERM is recorded, not fatal."""

import os
import re
import signal

import jax
import numpy as np
import pytest

from wtal_jax import config_lib, config_validation
from wtal_jax.data import pipeline
from wtal_jax.training import preemption
from wtal_jax.training.checkpoints import Checkpointer
from wtal_jax.training.train import NonFiniteLossError, train_and_evaluate

ROOT = os.path.join(os.path.dirname(__file__), "..")
NAN_STEP = 3  # 1-based: the update that first sees the bad batch.


def _config(data_dir="/nonexistent", **train):
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.data.data_dir = data_dir
  config.train.update(train)
  return config


def test_nan_loss_stops_with_step_and_term_and_keeps_last_checkpoint(
    data_dir, tmp_path, monkeypatch):
  original = pipeline.TrainBatcher.batch

  def batch_with_nan(self, step):
    out = original(self, step)
    if step == NAN_STEP - 1:
      out["inputs"][0][0, 0, 0] = np.nan
    return out

  monkeypatch.setattr(pipeline.TrainBatcher, "batch", batch_with_nan)
  config = _config(data_dir, num_steps=5, checkpoint_every=1, eval_every=100,
                   log_every=1)
  with pytest.raises(NonFiniteLossError) as err:
    train_and_evaluate(config, str(tmp_path))
  message = str(err.value)
  assert f"Non-finite loss at step {NAN_STEP}" in message
  assert re.search(r"loss/\w+=nan", message), message
  assert f"last good checkpoint (step {NAN_STEP - 1}) is kept" in message
  ckpt = Checkpointer(str(tmp_path))
  assert ckpt.latest_step() == NAN_STEP - 1
  restored = ckpt.restore(NAN_STEP - 1, None)
  leaves = jax.tree_util.tree_leaves(restored)
  assert all(np.all(np.isfinite(np.asarray(x))) for x in leaves)


@pytest.mark.parametrize("field,value,match", [
    ("model.fusion.kind", "lgcaa", "unknown fusion 'lgcaa'"),
    ("model.head.kind", "caaav", "unknown head 'caaav'"),
    ("model.fusion.num_stages", 3, "LGCA supports 1 or 2 stages"),
    ("model.fusion.gate", "sigmoid", "model.fusion.gate"),
    ("model.fusion.embed_dim", -4, "model.fusion.embed_dim"),
    ("model.fusion.gate_prior", 1.0, "model.fusion.gate_prior"),
    ("model.fusion.attended_activation", "relu",
     "model.fusion.attended_activation"),
    ("model.fusion.stage1_feature", "z1", "model.fusion.stage1_feature"),
    ("model.fusion.gated_activation", "gelu",
     "model.fusion.gated_activation"),
    ("model.fusion.recalibration", "se", "model.fusion.recalibration"),
    ("data.normalize", "zscore", "data.normalize"),
    ("model.head.dropout", 1.0, "model.head.dropout"),
    ("model.head.classifier", "sigmoid", "model.head.classifier"),
    ("model.head.cas", "logit", "model.head.cas"),
    ("model.head.pseudo_threshold", 1.5, "model.head.pseudo_threshold"),
    ("model.head.cont_window", 0, "model.head.cont_window"),
    ("train.lr", 0.0, "train.lr"),
    ("train.b2", 1.0, "train.b2"),
    ("train.batch_size", 0, "train.batch_size"),
    ("train.log_every", 0, "train.log_every"),
    ("data.num_snippets", 1, "data.num_snippets"),
    ("data.snippet_sampling", "middle", "data.snippet_sampling"),
    ("eval.tious", (0.5, 1.5), "eval.tious"),
    ("eval.postprocess", "nms_only", "unknown recipe 'nms_only'"),
    ("eval.buckets", (32, 0), "eval.buckets"),
])
def test_invalid_config_names_the_field(field, value, match):
  config = _config()
  *parents, leaf = field.split(".")
  node = config
  for p in parents:
    node = node[p]
  node[leaf] = value
  with pytest.raises(config_validation.ConfigError, match=re.escape(match)):
    config_validation.validate(config)
  assert f"config.{field}" in str(_error(config))


@pytest.mark.parametrize("kind,field,value", [
    ("ccm", "ccm_weight_init", "orthogonal"),
    # A head's init, not CCM's: CCM follows the public CO2-Net code or Xavier.
    ("ccm", "ccm_weight_init", "pytorch"),
    ("ccm", "ccm_dropout", 1.0),
    ("lgca", "ccm_weight_init", "kaiming"),
    ("lgca", "ccm_kernel_size", 0),
])
def test_invalid_ccm_settings_name_the_field(kind, field, value):
  """CCM's settings are checked wherever CCM runs: as the fusion, and in
  front of LGCA (``recalibration="ccm"``)."""
  config = _config()
  config.model.fusion.kind = kind
  if kind == "lgca":
    config.model.fusion.num_stages = 1
    config.model.fusion.recalibration = "ccm"
  config.model.fusion[field] = value
  assert f"config.model.fusion.{field}" in str(_error(config))
  config.model.fusion.recalibration = "none"
  if kind == "lgca":  # Without CCM its settings are not read.
    assert _error(config) is None


@pytest.mark.parametrize("name", ["thumos_um", "thumos_asl", "thumos_hamnet"])
def test_invalid_weight_init_names_the_field(name):
  config = config_lib.load_config(
      os.path.join(ROOT, f"configs/{name}.py:smoke"))
  config.model.head.weight_init = "pytorch"
  assert _error(config) is None
  config.model.head.weight_init = "kaiming"
  error = str(_error(config))
  assert "config.model.head.weight_init" in error and "pytorch" in error


def test_invalid_center_form_names_the_field():
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_3cnet.py:smoke"))
  assert _error(config) is None
  config.model.head.center_form = "code"
  assert "config.model.head.center_form" in str(_error(config))


def test_postprocess_parameters_are_checked_before_training():
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_3cnet.py:smoke"))
  config.eval.postprocess_params.wtalc = {"class_scores": "cas_topk",
                                          "class_filter": "half_max",
                                          "class_weight": 1.0}
  assert _error(config) is None
  config.eval.postprocess_params.wtalc.class_filter = "max"
  assert "config.eval.postprocess_params.wtalc.class_filter" in str(
      _error(config))
  config.eval.postprocess_params.wtalc.class_filter = "half_max"
  config.eval.postprocess_params.wtalc.window = 3
  assert "takes no parameter 'window'" in str(_error(config))


def test_nms_kind_is_checked_before_training():
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_asl.py:smoke"))
  config.eval.postprocess_params.oic.nms = "hard_decay"
  assert _error(config) is None
  config.eval.postprocess_params.oic.nms = "soft_decay"
  error = str(_error(config))
  assert "config.eval.postprocess_params.oic.nms" in error
  assert "hard_decay" in error


def _error(config):
  try:
    config_validation.validate(config)
  except config_validation.ConfigError as e:
    return e
  return None


def test_batch_must_split_over_the_devices(monkeypatch):
  monkeypatch.setattr(config_validation.jax, "device_count", lambda: 3)
  with pytest.raises(config_validation.ConfigError,
                     match=r"config\.train\.batch_size: 8 is not divisible by "
                           r"the 3 devices"):
    config_validation.validate(_config())


def test_loss_schedule_must_name_a_loss_term():
  config = _config()
  config.model.head.loss_delay = {"pseudo": 10}
  with pytest.raises(config_validation.ConfigError,
                     match=r"loss_delay\.pseudo: 'pseudo' is not a loss term"):
    config_validation.validate(config)


def test_validation_runs_before_the_dataset_is_opened(tmp_path):
  # The data directory does not exist; the config error must come first.
  config = _config("/nonexistent/data", lr=-1.0)
  with pytest.raises(config_validation.ConfigError, match="config.train.lr"):
    train_and_evaluate(config, str(tmp_path))
  assert not os.path.exists(os.path.join(tmp_path, "checkpoints"))


def test_sigterm_is_recorded_while_installed_and_restored_after():
  before = signal.getsignal(signal.SIGTERM)
  with preemption.StopRequest() as stop:
    assert not stop.requested()
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.requested() and stop.signal_name == "SIGTERM"
  assert signal.getsignal(signal.SIGTERM) is before
  err = preemption.Preempted(7)
  assert err.step == 7 and "step 7" in str(err)
  assert preemption.EXIT_CODE == 143
