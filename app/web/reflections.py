"""Reflections (What? So what? Now what?), what their Now-what lines became, change proposals and learning questions."""

from fastapi import APIRouter

router = APIRouter(prefix="/areas/{slug}")
