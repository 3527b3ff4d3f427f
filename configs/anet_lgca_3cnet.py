"""LGCA (one stage, leaky gates) in 3C-Net on ActivityNet1.2 RGB and flow.

Reproduces: LGCA paper Table 4 (also Table 10), row "Ours (on 3C-Net)":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 21.5. LGCA replaces 3C-Net's second
modality-specific FC (see configs/thumos_lgca_3cnet.py); ActivityNet settings
as in configs/anet_3cnet.py.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import lgca, threec


def get_config(variant: str = ""):
  return config_lib.compose(
      threec, dataset="activitynet12", fusion=lgca.one_stage, variant=variant)
