"""LGCA (one stage, leaky gates) + the ASL head on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 3 (also Table 9), row "Ours (on ASL)":
THUMOS14 avg mAP@[0.1:0.1:0.7] = 41.0 (68.0 / 61.3 / 52.6 / 42.8 / 31.4 /
20.1 / 11.1). The classifier reads LGCA's fused output, each actionness head
its modality's LGCA stream (``FusionOutput.per_modality``).
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import asl


def get_config(variant: str = ""):
  c = config_lib.base_config()
  asl.apply_thumos_recipe(c)
  config_lib.lgca_fusion(c, num_stages=1)
  c = config_lib.apply_variant(c, variant)
  if variant == "smoke":
    asl.smoke_widths(c)
  return c
