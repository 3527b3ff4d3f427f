"""Action selection learning (ASL) on THUMOS14 RGB + flow, with its own
fusion: the raw I3D RGB and flow features concatenated (the classifier reads
both, each actionness head one stream).

Reproduces: LGCA paper Table 3 (also Table 9), row "ASL [19]", RGB-flow:
THUMOS14 avg mAP@[0.1:0.1:0.7] = 40.4 (67.3 / 61.2 / 51.5 / 41.3 / 30.6 /
19.7 / 11.1). The recipe (ASL's public code) is ``wtal_jax/recipes/asl.py``;
the public code trains up to 5000 epochs and keeps the best evaluation, here
a fixed 10000 steps with the best checkpoint kept.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import asl


def get_config(variant: str = ""):
  return config_lib.compose(asl, dataset="thumos14", variant=variant)
