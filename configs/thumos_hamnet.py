"""HAM-Net on THUMOS14 I3D RGB + flow, concatenated (no cross-modal fusion).

Reproduces: HAM-Net (Islam et al., AAAI 2021), Table 2, "HAM-Net (Ours)":
THUMOS14 average mAP@0.1:0.7 = 39.8 (mAP@0.5 = 31.0). CO2-Net's Table 1
lists HAM-Net's updated public-code numbers, 39.8 at 0.1:0.7 and 32.5 at
0.1:0.9.

Recipe: Adam 1e-5 with weight decay 1e-3, batch 20, 500 snippets (every
sequence filled, short videos stretched, as the public sampler does), 100
epochs of the 200 training videos (1000 steps); loss weights 0.8 BCL, 0.8 SAL,
0.2 SSAL, 0.2 HAL, 0.8 sparsity, 0.8 guide; gamma 0.2; k = T // 10; test-time
post-processing is the ``hamnet`` recipe (``evaluation/recipes.py``);
Kaiming-uniform initialisation and the drop threshold ``gamma * max(a)`` of
the public training loss.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import hamnet


def get_config(variant: str = ""):
  c = config_lib.base_config()
  config_lib.raw_concat(c)
  c.model.head = hamnet.default_config()
  config_lib.set_training(c, num_snippets=500, sampling="uniform_stretch",
                          num_pairs=0, lr=1e-5, weight_decay=1e-3,
                          batch_size=20, num_steps=1000)
  c.train.eval_every = 50
  c.train.checkpoint_every = 50
  c.train.log_every = 10
  c = config_lib.apply_variant(c, variant)
  if variant == "smoke":
    c.model.head.attention_dim = 16
  return c
