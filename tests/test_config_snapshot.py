"""Every config resolves to the values stored in ``tests/data/config_snapshot.json``.

The snapshot was taken before the recipes moved into ``wtal_jax/recipes/``
(from commit 859872d); each entry holds the resolved config and, separately,
the post-processing the run uses (``recipe`` and ``params``), since configs now
name theirs instead of leaving it to the head. A change to a recipe must
change the snapshot with it, in the same commit, saying why.

One difference is intended: the generated data is THUMOS-shaped, so the
``:synthetic`` and ``:smoke`` variants of every ActivityNet config are scored
at THUMOS14's tIoUs (three configs used ActivityNet's for every variant).
"""

import glob
import json
import os

import pytest

from wtal_jax import config_lib
from wtal_jax.evaluation import ANET_TIOUS, THUMOS_TIOUS
from wtal_jax.evaluation.postprocess import from_eval_config

ROOT = os.path.join(os.path.dirname(__file__), "..")
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))
SNAPSHOT = os.path.join(os.path.dirname(__file__), "data",
                        "config_snapshot.json")
# Scored at ActivityNet's tIoUs in every variant before the fix.
FIXED_TIOUS = ("anet_co2net.py", "anet_hamnet.py", "anet_lgca.py")


def resolved(path: str, variant: str) -> dict:
  config = config_lib.load_config(f"{path}:{variant}" if variant else path)
  recipe, params = from_eval_config(config.eval)
  out = json.loads(config.to_json_best_effort())
  del out["eval"]["postprocess"], out["eval"]["postprocess_params"]
  return {"config": out, "postprocess": {
      "recipe": recipe, "params": json.loads(json.dumps(params))}}


def expected(name: str, variant: str, snapshot) -> dict:
  want = snapshot[name + (f":{variant}" if variant else "")]
  if name in FIXED_TIOUS and variant:
    assert want["config"]["eval"]["tious"] == list(ANET_TIOUS)
    want["config"]["eval"]["tious"] = list(THUMOS_TIOUS)
  return want


@pytest.fixture(scope="module")
def snapshot():
  with open(SNAPSHOT, encoding="utf-8") as f:
    return json.load(f)


def test_the_snapshot_covers_every_config(snapshot):
  names = {os.path.basename(p) + (f":{v}" if v else "")
           for p in CONFIGS for v in config_lib.VARIANTS}
  assert names == set(snapshot)


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
@pytest.mark.parametrize("variant", config_lib.VARIANTS)
def test_config_resolves_to_its_snapshot(path, variant, snapshot):
  name = os.path.basename(path)
  assert resolved(path, variant) == expected(name, variant, snapshot)


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_generated_data_is_scored_at_thumos_tious(path):
  for variant in ("synthetic", "smoke"):
    config = config_lib.load_config(f"{path}:{variant}")
    assert config.data.name == "synthetic_thumos"
    assert tuple(config.eval.tious) == THUMOS_TIOUS, variant
  real = config_lib.load_config(path)
  want = ANET_TIOUS if real.data.name == "activitynet12" else THUMOS_TIOUS
  assert tuple(real.eval.tious) == want
