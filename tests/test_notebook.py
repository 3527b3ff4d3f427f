"""notebooks/gate_analysis.ipynb executes headless on the :smoke config."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NOTEBOOK = os.path.join(ROOT, "notebooks", "gate_analysis.ipynb")


def test_gate_analysis_notebook_executes(data_dir, monkeypatch):
  monkeypatch.setenv("WTAL_JAX_NOTEBOOK_DATA_DIR", data_dir)
  monkeypatch.setenv("WTAL_JAX_NOTEBOOK_CONFIG", "configs/thumos_lgca_caav.py:smoke")
  monkeypatch.delenv("WTAL_JAX_WORKDIR", raising=False)
  monkeypatch.setenv("MPLBACKEND", "Agg")
  monkeypatch.setenv("JAX_PLATFORMS", "cpu")
  # As in conftest: compile time dominates the tiny model.
  monkeypatch.setenv("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
  nb = nbformat.read(NOTEBOOK, as_version=4)
  client = NotebookClient(nb, timeout=300, kernel_name="python3",
                          resources={"metadata": {"path": ROOT}})
  client.execute()
  outputs = [o for cell in nb.cells if cell.cell_type == "code"
             for o in cell.get("outputs", [])]
  errors = [o for o in outputs if o.output_type == "error"]
  assert not errors, errors[0].get("evalue")
  displayed = [o.get("data", {}) for o in outputs
               if o.output_type == "display_data"]
  markdown = "\n".join(d.get("text/markdown", "") for d in displayed)
  assert "| Skip-conn. stage-1 | X |" in markdown
  assert "MFLOPs/snippet" in markdown
  # The bar chart and the video plot.
  assert sum("image/png" in d for d in displayed) == 2


@pytest.mark.parametrize("cell_source", ["WTAL_JAX_WORKDIR", "repo_root"])
def test_notebook_documents_its_inputs(cell_source):
  nb = nbformat.read(NOTEBOOK, as_version=4)
  assert any(cell_source in c.source for c in nb.cells)
  assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
