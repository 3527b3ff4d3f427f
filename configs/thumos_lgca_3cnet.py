"""LGCA (one stage, leaky gates) in 3C-Net on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 2 "+ single-stage leaky gated cross-attention"
and Table 3 row "Ours (on 3C-Net)": THUMOS14 avg mAP@[0.1:0.1:0.7] = 34.4
(59.2 / 53.6 / 43.6 / 33.8 / 26.6 / 16.1 / 7.8). As in the paper, LGCA
replaces 3C-Net's second modality-specific FC (``wtal_jax/recipes/lgca.py``).
"""

from wtal_jax import config_lib
from wtal_jax.recipes import lgca, threec


def get_config(variant: str = ""):
  return config_lib.compose(
      threec, dataset="thumos14", fusion=lgca.one_stage, variant=variant)
