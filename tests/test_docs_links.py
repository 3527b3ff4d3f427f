"""Every relative link of README.md and docs/*.md points to a file that
exists and, with a #fragment, to a heading of that file; the README keeps
the test command that CI runs and stays short."""

import glob
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DOCS = [os.path.join(ROOT, "README.md")] + sorted(
    glob.glob(os.path.join(ROOT, "docs", "*.md")))

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the target ends at a space or ')'.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _text(path):
  with open(path, encoding="utf-8") as f:
    return f.read()


def links(markdown: str) -> list[str]:
  """Link targets outside code blocks and code spans."""
  prose = _CODE.sub("", _FENCE.sub("", markdown))
  return _LINK.findall(prose)


def slug(heading: str) -> str:
  """GitHub's anchor of a heading: lower case, punctuation dropped (letters,
  digits, '_' and '-' kept), spaces to '-'."""
  text = re.sub(r"`([^`]*)`", r"\1", heading.strip().lower())
  text = "".join(c for c in text if c.isalnum() or c in " _-")
  return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
  """Anchors of every heading; repeated ones get GitHub's -1, -2 suffixes."""
  seen: dict[str, int] = {}
  out = set()
  for line in _FENCE.sub("", markdown).splitlines():
    match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
    if not match:
      continue
    base = slug(match.group(1))
    n = seen.get(base, 0)
    seen[base] = n + 1
    out.add(base if n == 0 else f"{base}-{n}")
  return out


def test_slug_and_anchor_rules():
  assert slug("Gate selection rates (LGCA Table 6)") == (
      "gate-selection-rates-lgca-table-6")
  assert slug("Every head with `concat` and with `lgca`") == (
      "every-head-with-concat-and-with-lgca")
  assert slug("Cost (LGCA Tables 1–2)") == "cost-lgca-tables-12"
  assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}
  assert links("[x](a.md) `[y](b.md)` ![i](img/c.png)\n```\n[z](d.md)\n```") \
      == ["a.md", "img/c.png"]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_resolve(path):
  text = _text(path)
  broken = []
  for target in links(text):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
      continue
    file_part, _, fragment = target.partition("#")
    dest = (os.path.normpath(os.path.join(os.path.dirname(path), file_part))
            if file_part else path)
    if not os.path.exists(dest):
      broken.append(f"{target}: no file {os.path.relpath(dest, ROOT)}")
    elif fragment and dest.endswith(".md") and fragment not in anchors(
        _text(dest)):
      broken.append(f"{target}: no heading #{fragment}")
  assert not broken, f"{os.path.relpath(path, ROOT)}: {broken}"


def test_readme_is_short_and_keeps_the_ci_test_command():
  lines = _text(DOCS[0]).splitlines()
  assert len(lines) < 250
  # .ci/run runs the line two lines after the marker (after the ``` fence).
  marker = lines.index("<!-- test-command -->")
  assert lines[marker + 1].startswith("```")
  assert "pytest" in lines[marker + 2]
