"""LGCA (one stage, leaky gates) + W-TAL's uncertainty-modeling head (UM) on
THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 3 (also Table 9), row "Ours (on W-TAL)":
THUMOS14 avg mAP@[0.1:0.1:0.7] = 41.7 (67.5 / 61.6 / 53.4 / 42.4 / 34.1 /
22.3 / 10.4). LGCA's output [Z_rgb; Z_flow] (2 x 1024) replaces the
concatenated features at UM's input; UM's losses and optimizer are unchanged.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import lgca, um


def get_config(variant: str = ""):
  return config_lib.compose(
      um, dataset="thumos14", fusion=lgca.one_stage, variant=variant)
