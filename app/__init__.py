"""Phonlap (ผลลัพธ์): developmental-evaluation plans for Thailand's education innovation areas."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# templates/, static/, migrations/ and seeds/: beside app/ in a source checkout (editable
# install, `make run`, tests); inside the package in an installed wheel (pyproject's package-dir).
ROOT = PACKAGE if (PACKAGE / "templates").is_dir() else PACKAGE.parent
__version__ = "0.1.0"
