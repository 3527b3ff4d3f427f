"""Every config file loads in every variant, validates and names its data."""

import glob
import os

import pytest

from wtal_jax import config_lib, config_validation, recipes
from wtal_jax.data.registry import DATASETS
from wtal_jax.models.fusion import FUSIONS
from wtal_jax.models.heads import HEADS

ROOT = os.path.join(os.path.dirname(__file__), "..")
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))


def test_there_is_a_config_per_published_combination():
  names = {os.path.basename(p)[:-3] for p in CONFIGS}
  assert {"thumos_lgca", "thumos_caav", "thumos_hamnet", "thumos_co2net",
          "thumos_um", "thumos_asl", "thumos_3cnet", "thumos_lgca_caav",
          "thumos_lgca_um", "thumos_lgca_asl", "thumos_lgca_3cnet",
          "thumos_caav_av", "anet_lgca", "ave_caav"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
@pytest.mark.parametrize("variant", config_lib.VARIANTS)
def test_config_loads_and_validates(path, variant):
  config = config_lib.load_config(f"{path}:{variant}" if variant else path)
  config_validation.validate(config)
  assert config.model.fusion.kind in FUSIONS.names()
  assert config.model.head.kind in HEADS.names()
  assert config.data.name in DATASETS.names()
  if variant:
    assert config.data.name == "synthetic_thumos"
  else:
    assert config.data.name != "synthetic_thumos"
  with open(path, encoding="utf-8") as f:
    doc = f.read()
  # Each config cites what it reproduces.
  assert "Reproduces" in doc or "reproduces" in doc


def test_default_config_is_lgca_with_the_um_head():
  config = config_lib.load_config(os.path.join(ROOT, "configs/thumos_lgca.py"))
  um = config_lib.load_config(os.path.join(ROOT, "configs/thumos_lgca_um.py"))
  assert config.to_dict() == um.to_dict()
  assert (config.model.fusion.kind, config.model.head.kind) == ("lgca", "um")
  assert config.model.fusion.gate == "leaky"
  assert config.model.fusion.temperature == 0.1


def test_head_fields_come_from_config_then_published_defaults():
  from wtal_jax.models.heads import hamnet  # pylint: disable=g-import-not-at-top
  cfg = recipes.hamnet.head()
  del cfg["pool_kernel"]  # An older config without the key.
  cfg.dropout = 0.25
  head = hamnet.HAMNetHead.from_config(cfg, num_classes=7)
  assert head.num_classes == 7 and head.dropout == 0.25
  assert head.pool_kernel == recipes.hamnet.head().pool_kernel
  assert head.attention_dim == recipes.hamnet.head().attention_dim


def test_lgca_placement_and_gate_start_follow_the_head():
  def fusion(name):
    return config_lib.load_config(os.path.join(ROOT, "configs", name)
                                  ).model.fusion
  # On the raw streams of UM and ASL; behind the embedding of CAAV and
  # 3C-Net. Either way the inputs are non-negative and the skip gates start
  # on the unattended path.
  for name in ("thumos_lgca_um.py", "thumos_lgca_asl.py"):
    assert (fusion(name).embed_dim, fusion(name).gate_prior) == (0, 0.95)
  for name in ("thumos_lgca_caav.py", "thumos_caav_av.py",
               "thumos_lgca_3cnet.py", "anet_lgca.py"):
    assert (fusion(name).embed_dim, fusion(name).gate_prior) == (1024, 0.95)
