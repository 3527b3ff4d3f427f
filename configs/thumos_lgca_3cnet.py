"""LGCA (one stage, leaky gates) in 3C-Net on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 2 "+ single-stage leaky gated cross-attention"
and Table 3 row "Ours (on 3C-Net)": THUMOS14 avg mAP@[0.1:0.1:0.7] = 34.4
(59.2 / 53.6 / 43.6 / 33.8 / 26.6 / 16.1 / 7.8). As in the paper, LGCA
replaces 3C-Net's second modality-specific FC: the fusion's per-modality
embedding (FC + ReLU, slope 0) is 3C-Net's first FC, and the head keeps no FC
of its own (``num_fc = 0``).
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import threec


def get_config(variant: str = ""):
  c = config_lib.base_config()
  threec.apply_recipe(c, after_lgca=True)
  config_lib.lgca_fusion(c, num_stages=1)
  return config_lib.apply_variant(c, variant)
