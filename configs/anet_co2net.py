"""CO2-Net on ActivityNet1.2 I3D RGB and flow with the ``ccm`` fusion.

Reproduces: CO2-Net (Hong et al., ACM MM 2021), Table 2, "CO2-Net":
ActivityNet1.2 average mAP@0.5:0.05:0.95 = 26.4 (mAP@0.5 = 43.3,
mAP@0.75 = 26.3). The recipe (public ``run.sh``, ``ANT_CO2``) is
``wtal_jax/recipes/co2net.py``.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import co2net


def get_config(variant: str = ""):
  return config_lib.compose(co2net, dataset="activitynet12", variant=variant)
