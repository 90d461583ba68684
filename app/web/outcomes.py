"""Emergent outcomes (outcome harvesting) and guiding principles."""

from fastapi import APIRouter

router = APIRouter(prefix="/areas/{slug}")
