"""NumPy evaluation for weakly-supervised temporal action localization.

* Post-processing recipes (``wtalc``, ``oic``) from per-video CAS, attention
  and class scores to detections: :func:`postprocess`,
  :func:`postprocess_many`, ``POSTPROCESS``. Which recipe each method
  publishes, with which parameters, is in :mod:`wtal_jax.recipes`.
* Detection mAP exactly as ActivityNet's official ``eval_detection.py``:
  :func:`detection_map`, with optional THUMOS14 ambiguous-segment removal.
* Classification mAP and AVE snippet accuracy.
* ActivityNet JSON I/O, also used by ``python -m wtal_jax.evaluate``.

``METHOD_NOTES`` is a Markdown summary of every interpretation made here.
Everything but :mod:`~wtal_jax.evaluation.runner`, which runs a model over a
split, is NumPy only; the standalone evaluator (``python -m
wtal_jax.evaluate``) imports no JAX.
"""

from wtal_jax.evaluation.detection_eval import ANET_TIOUS
from wtal_jax.evaluation.detection_eval import DetectionResult
from wtal_jax.evaluation.detection_eval import detection_map
from wtal_jax.evaluation.detection_eval import THUMOS_TIOUS
from wtal_jax.evaluation.detection_eval import THUMOS_TIOUS_FULL
from wtal_jax.evaluation.detections import Detections
from wtal_jax.evaluation.detections import GroundTruth
from wtal_jax.evaluation.json_io import EvaluationInputError
from wtal_jax.evaluation.json_io import read_ambiguous_txt
from wtal_jax.evaluation.json_io import read_ground_truth_json
from wtal_jax.evaluation.json_io import read_predictions_json
from wtal_jax.evaluation.json_io import ReadReport
from wtal_jax.evaluation.json_write import write_ground_truth_json
from wtal_jax.evaluation.json_write import write_predictions_json
from wtal_jax.evaluation.metrics import classification_map
from wtal_jax.evaluation.metrics import snippet_accuracy
from wtal_jax.evaluation.metrics import snippet_accuracy_counts
from wtal_jax.evaluation.nms import batched_nms
from wtal_jax.evaluation.postprocess import POSTPROCESS
from wtal_jax.evaluation.postprocess import postprocess
from wtal_jax.evaluation.postprocess import postprocess_many
from wtal_jax.evaluation.notes import METHOD_NOTES
