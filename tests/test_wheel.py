"""`newsarchive demo` from an installed package, run from another directory: the bundled
pages and the Datasette files ship as package data, nothing is read from the checkout."""

from __future__ import annotations

import site
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with newsarchive installed from the repository as a wheel (``pip install .``).

    The dependencies are not downloaded again: the venv sees the test environment's
    site-packages through a ``.pth`` line, which adds the directory only, so the editable
    install of the checkout there is not loaded; ``archive`` comes from the wheel.
    """
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-cache-dir", str(REPO)],
        check=True,
        capture_output=True,
    )
    return venv


def test_the_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    where = subprocess.run(
        [installed / "bin" / "python", "-c", "import archive.demo.site as s; print(s.CORPUS_DIR)"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed) and Path(where, "manifest.jsonl").exists()
    assert len(list(Path(where, "pages").glob("*.html.gz"))) == 26
    datasette = Path(where).parent.parent / "publish" / "datasette"
    assert (datasette / "metadata.json").exists() and list((datasette / "plugins").glob("*.py"))


def test_demo_runs_from_an_installed_package(installed, tmp_path):
    result = subprocess.run(
        [installed / "bin" / "newsarchive", "demo", "--data", str(tmp_path / "demo-data")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "articles extracted" in result.stdout
    exported = list((tmp_path / "demo-data" / "export").glob("*.txt"))
    assert len(exported) >= 15
