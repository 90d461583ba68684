"""Phonlap (ผลลัพธ์): developmental-evaluation plans for Thailand's education innovation areas."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
__version__ = "0.1.0"
