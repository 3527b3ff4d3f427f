"""CAAV (two-stage cross-attention, dense skips, open-max head) on AVE,
scored by snippet accuracy.

Reproduces: CAAV paper Table 1 / Table 2 (O-III, 2 stages): AVE snippet
accuracy 77.1%. Each 10-second video has 10 one-second snippets; the visual
modality is stored as ``rgb`` (ResNet-152 features in CAAV), the other is
VGGish audio. Every snippet is classified into one of the 28 events or
background and compared with its per-second label
(``config.eval.metric = "snippet_accuracy"``; checkpoints are ranked by it).

Data: ``ave`` config ``default``, prepared by ``python -m data_prep.build ave
--ave_dir=PATH/AVE_Dataset --features=PATH/AVE_features``. ``:synthetic``
and ``:smoke`` run on the generated THUMOS-shaped dataset (its rgb and
audio), where snippet labels come from the ground-truth segments.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import caav


def get_config(variant: str = ""):
  return config_lib.compose(
      caav, dataset="ave", modalities=("rgb", "audio"), variant=variant)
