"""3C-Net on THUMOS14 RGB + flow, with its own (late) fusion: each stream
keeps its raw I3D features and its own two FC layers inside the head.

Reproduces: LGCA paper Table 2 "Baseline (w/o cross-attention)" and Table 3
row "3C-Net [22]": THUMOS14 avg mAP@[0.1:0.1:0.7] = 33.1 (57.1 / 51.4 / 41.7 /
33.7 / 26.0 / 15.1 / 6.4). The recipe (3C-Net's public code) is
``wtal_jax/recipes/threec.py``.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import threec


def get_config(variant: str = ""):
  return config_lib.compose(threec, dataset="thumos14", variant=variant)
