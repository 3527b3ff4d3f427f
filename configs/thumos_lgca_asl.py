"""LGCA (one stage, leaky gates) + the ASL head on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 3 (also Table 9), row "Ours (on ASL)":
THUMOS14 avg mAP@[0.1:0.1:0.7] = 41.0 (68.0 / 61.3 / 52.6 / 42.8 / 31.4 /
20.1 / 11.1). The classifier reads LGCA's fused output, each actionness head
its modality's LGCA stream (``FusionOutput.per_modality``).
"""

from wtal_jax import config_lib
from wtal_jax.recipes import asl, lgca


def get_config(variant: str = ""):
  return config_lib.compose(
      asl, dataset="thumos14", fusion=lgca.one_stage, variant=variant)
