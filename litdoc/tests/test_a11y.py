"""axe-core on every page of the built test site (and on LITDOC_BROWSER_PAGES), and of the real sites
this repository builds (litdoc's own pages, and the site of the project that holds litdoc, when there is
one), light and dark: no violations. axe-core is dev tooling only, pinned in tests/axe/package-lock.json and installed with
`npm ci` there (by this fixture when it is missing and npm is on the PATH); litdoc itself needs no Node.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.sitefixtures import run_subprocess
from tests.test_browser import EXTRA_PAGES, browser, open_page, site, site_pages  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

AXE_DIR = Path(__file__).resolve().parent / "axe"
LITDOC_PROJECT = Path(__file__).resolve().parents[1]
# The project around litdoc (this repository's annotated package), if this checkout has one.
OUTER_PROJECT = LITDOC_PROJECT.parent
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE_JS.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("axe-core is not installed and npm is not on the PATH (cd litdoc/tests/axe && npm ci)")
        result = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=AXE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0 or not AXE_JS.is_file():
            pytest.skip(f"npm ci in {AXE_DIR} failed: {result.stderr.strip()[-300:]}")
    return AXE_JS


def axe_violations(page, axe_js: Path):
    """axe's violations as (rule id, impact, first three targets), with the WCAG 2.x A/AA rules and
    axe's best practices, as a reader meets the page."""
    page.add_script_tag(path=str(axe_js))
    result = page.evaluate("""() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v =>
        [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(' '))]))""")
    return result


def test_no_axe_violations_light_and_dark(browser, site, axe_script):  # noqa: F811 (fixtures)
    found = {}
    for path in site_pages(site) + EXTRA_PAGES:
        for scheme in ("light", "dark"):
            context, page, errors, _ = open_page(browser, path, 1000, scheme)
            try:
                violations = axe_violations(page, axe_script)
                if violations:
                    found[f"{path.name} ({scheme})"] = violations
            finally:
                context.close()
    assert found == {}


def _has_site(project: Path) -> bool:
    pyproject = project / "pyproject.toml"
    return pyproject.is_file() and "[tool.litdoc]" in pyproject.read_text(encoding="utf-8")


@pytest.mark.parametrize("project", [LITDOC_PROJECT, OUTER_PROJECT], ids=["litdoc", "outer"])
def test_real_sites_have_no_axe_violations(browser, axe_script, project, tmp_path):  # noqa: F811 (fixtures)
    """Every page of a real site, built fresh into a temporary folder (not the committed one)."""
    if not _has_site(project):
        pytest.skip(f"{project} has no [tool.litdoc] site")
    output = tmp_path / "site"
    built = run_subprocess("build", "--output", str(output), "--cache", "", cwd=project)
    assert built.returncode == 0, built.stderr[-2000:]
    found = {}
    for path in sorted(output.rglob("*.html")):
        for scheme in ("light", "dark"):
            context, page, _, _ = open_page(browser, path, 1000, scheme)
            try:
                violations = axe_violations(page, axe_script)
                if violations:
                    found[f"{path.relative_to(output)} ({scheme})"] = violations
            finally:
                context.close()
    assert found == {}
