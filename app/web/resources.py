"""The area's resources in four dimensions and its data catalogue."""

from fastapi import APIRouter

router = APIRouter(prefix="/areas/{slug}")
