"""Every config resolves to the values stored in ``tests/data/config_snapshot.json``.

Each entry holds the resolved config and, separately, the post-processing the
run uses (``recipe`` and ``params``). The snapshot was first taken before the
recipes moved into ``wtal_jax/recipes/`` (commit 859872d), and the move kept
every value but one intended fix: the generated data is THUMOS-shaped, so the
``:synthetic`` and ``:smoke`` variants of every ActivityNet config are scored
at THUMOS14's tIoUs. A change to a recipe must change the snapshot with it,
in the same commit, saying why:

  python tests/test_config_snapshot.py   # rewrites the snapshot
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


def resolved(path: str, variant: str) -> dict:
  config = config_lib.load_config(f"{path}:{variant}" if variant else path)
  recipe, params = from_eval_config(config.eval)
  out = json.loads(config.to_json_best_effort())
  del out["eval"]["postprocess"], out["eval"]["postprocess_params"]
  return {"config": out, "postprocess": {
      "recipe": recipe, "params": json.loads(json.dumps(params))}}


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
  name = os.path.basename(path) + (f":{variant}" if variant else "")
  assert resolved(path, variant) == snapshot[name]


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_generated_data_is_scored_at_thumos_tious(path):
  for variant in ("synthetic", "smoke"):
    config = config_lib.load_config(f"{path}:{variant}")
    assert config.data.name == "synthetic_thumos"
    assert tuple(config.eval.tious) == THUMOS_TIOUS, variant
  real = config_lib.load_config(path)
  want = ANET_TIOUS if real.data.name == "activitynet12" else THUMOS_TIOUS
  assert tuple(real.eval.tious) == want


if __name__ == "__main__":
  with open(SNAPSHOT, "w", encoding="utf-8") as out:
    json.dump({os.path.basename(p) + (f":{v}" if v else ""): resolved(p, v)
               for p in CONFIGS for v in config_lib.VARIANTS}, out, indent=1,
              sort_keys=True)
  print(f"Wrote {SNAPSHOT}")
