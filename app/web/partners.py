"""Outcome mapping: boundary partners, their progress markers and the markers' ratings per period."""

from fastapi import APIRouter

router = APIRouter(prefix="/areas/{slug}")
