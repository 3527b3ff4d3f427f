"""CO2-Net on THUMOS14 I3D RGB and flow, fused by its cross-modal consensus
module (``ccm``).

Reproduces: CO2-Net (Hong et al., ACM MM 2021), Table 1, "CO2-Net":
THUMOS14 average mAP@0.1:0.7 = 44.6 (0.1:0.5 = 54.4, 0.1:0.9 = 35.7;
mAP@0.5 = 38.3).

Recipe (public ``run.sh``, ``options.py``; ``co2net.apply_thumos_recipe``):
500 snippets, every sequence filled (short videos stretched), batch 10 with 3
same-class pairs, Adam 5e-5 with weight decay 1e-3, 5000 iterations,
k = T // 7; loss weights 1 (both MILs, CASL, mutual), 0.8 (opposite, norm);
Kaiming-uniform initialisation; test-time post-processing is the ``co2net``
recipe (``evaluation/recipes.py``).
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import co2net


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.model.fusion.kind = "ccm"
  c.model.fusion.embed_dim = 0
  c.model.fusion.ccm_kernel_size = 3
  c.model.fusion.ccm_negative_slope = 0.2
  c.model.fusion.ccm_dropout = 0.5
  co2net.apply_thumos_recipe(c)
  c.train.eval_every = 200
  c.train.checkpoint_every = 200
  # CO2-Net's public test code drops predictions that overlap a THUMOS14
  # ambiguous segment before computing mAP; HAM-Net's does not.
  c.eval.remove_ambiguous = True
  c = config_lib.apply_variant(c, variant)
  if variant == "smoke":
    c.model.head.attention_dim = 16
  return c
