"""The import structure: layers that only import downwards, no cycles, and
every package importable alone.

The layers, lowest first (docs/layout.md draws them). A module may import its
own layer (no cycle allowed) and the layers below, never one above:

0. ``ops``, ``registry``, ``cli_errors``, ``parallel``: no project imports.
1. ``data``, ``losses``, ``models``, ``evaluation``: the pure parts.
2. ``data_prep``: dataset builders and converters (reads ``data``'s schema).
3. ``training``, ``config_validation``: the train and evaluation loops.
4. ``inference``, ``analysis``, ``recipes``, ``config_lib``: what runs on top
   of training, and the configs.
5. The command lines (``main``, ``predict``, ``visualize``, ``evaluate``) and
   the ``wtal_jax`` package itself.

Every import counts, at module level or inside a function, and so does
``importlib.import_module("...")`` with a literal name.
"""

import ast
import concurrent.futures
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PACKAGES = ("wtal_jax", "data_prep")

LAYERS = {
    "wtal_jax.ops": 0, "wtal_jax.registry": 0, "wtal_jax.cli_errors": 0,
    "wtal_jax.parallel": 0,
    "wtal_jax.data": 1, "wtal_jax.losses": 1, "wtal_jax.models": 1,
    "wtal_jax.evaluation": 1,
    "data_prep": 2,
    "wtal_jax.training": 3, "wtal_jax.config_validation": 3,
    "wtal_jax.inference": 4, "wtal_jax.analysis": 4, "wtal_jax.recipes": 4,
    "wtal_jax.config_lib": 4,
    "wtal_jax.main": 5, "wtal_jax.predict": 5, "wtal_jax.visualize": 5,
    "wtal_jax.evaluate": 5, "wtal_jax": 5,
}


def _modules() -> dict[str, str]:
  """Module name -> file, for every module of the project's packages."""
  out = {}
  for package in PACKAGES:
    for folder, _, files in os.walk(os.path.join(ROOT, package)):
      for f in files:
        if not f.endswith(".py"):
          continue
        rel = os.path.relpath(os.path.join(folder, f), ROOT)[:-3]
        name = rel.replace(os.sep, ".").removesuffix(".__init__")
        out[name] = os.path.join(folder, f)
  return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
  """The project module ``name`` refers to (a module, or the package whose
  attribute it is), or None outside the project."""
  while name and name not in MODULES:
    name = name.rpartition(".")[0]
  return name or None


def _imports(module: str, path: str) -> set[str]:
  with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read(), path)
  package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
  found = set()
  for node in ast.walk(tree):
    names = []
    if isinstance(node, ast.Import):
      names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        parts = package.split(".")
        base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
      # ``from pkg import sub`` imports the submodule when there is one.
      names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
               for a in node.names]
    elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") ==
          "import_module" and node.args and
          isinstance(node.args[0], ast.Constant)):
      names = [node.args[0].value]
    for n in names:
      target = _resolve(n)
      if target and target != module:
        found.add(target)
  return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _layer(module: str) -> tuple[str, int]:
  unit = module
  while unit not in LAYERS:
    unit = unit.rpartition(".")[0]
    assert unit, f"{module} is in no layer; add its package to LAYERS."
  return unit, LAYERS[unit]


def test_every_module_has_a_layer():
  for m in MODULES:
    _layer(m)


def test_no_module_imports_a_layer_above_its_own():
  upward = []
  for m, targets in GRAPH.items():
    unit, level = _layer(m)
    for t in targets:
      t_unit, t_level = _layer(t)
      if t_level > level:
        upward.append(f"{m} (layer {level}) imports {t} (layer {t_level})")
  assert not upward, "\n".join(sorted(upward))


def _cycles(graph) -> list[list[str]]:
  """Strongly connected components with more than one member (Tarjan)."""
  index, low, stack, on_stack, out = {}, {}, [], set(), []
  counter = [0]

  def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in graph.get(v, ()):
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while True:
        w = stack.pop()
        on_stack.discard(w)
        component.append(w)
        if w == v:
          break
      if len(component) > 1:
        out.append(sorted(component))

  for v in sorted(graph):
    if v not in index:
      visit(v)
  return out


def test_no_import_cycles_between_modules():
  assert not _cycles(GRAPH)


def test_no_import_cycles_between_packages():
  units = {}
  for m, targets in GRAPH.items():
    units.setdefault(_layer(m)[0], set()).update(
        _layer(t)[0] for t in targets)
  for u, targets in units.items():
    targets.discard(u)
  assert not _cycles(units)


def test_the_cycle_finder_finds_cycles():
  assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
      ["a", "b", "c"]]
  assert not _cycles({"a": {"b"}, "b": set()})


def test_models_hold_no_training_recipe():
  # What a method trains with lives in wtal_jax/recipes/, not beside its
  # modules.
  for m, path in MODULES.items():
    if not m.startswith("wtal_jax.models"):
      continue
    with open(path, encoding="utf-8") as f:
      text = f.read()
    for needle in ("set_training", "c.train.", "c.data."):
      assert needle not in text, (path, needle)


UNITS_TO_IMPORT = sorted({_layer(m)[0] for m in MODULES})


@pytest.fixture(scope="module")
def fresh_imports():
  """Imports each package or top-level module alone, in a new interpreter."""
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}

  def run(unit):
    return subprocess.run([sys.executable, "-c", f"import {unit}"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)

  with concurrent.futures.ThreadPoolExecutor(4) as pool:
    return dict(zip(UNITS_TO_IMPORT, pool.map(run, UNITS_TO_IMPORT)))


@pytest.mark.parametrize("unit", UNITS_TO_IMPORT)
def test_each_package_imports_alone(unit, fresh_imports):
  proc = fresh_imports[unit]
  assert proc.returncode == 0, proc.stderr[-2000:]
