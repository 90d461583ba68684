"""The area navigation: one list of an area's pages, each shown only to those who may open it.

base.html shows it under the header of every page whose context holds an `area` the reader may
read (the projector page leaves it out). The permission beside each page is the one its route
declares (`ReadArea`, `EditArea`, `FacilitateArea`); tests/web/test_area_nav.py holds them
together.
"""

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request

from app.i18n import N_, gettext, localized
from app.services.access import Permission, Principal


@dataclass(frozen=True)
class AreaPage:
    segment: str  # the path under /areas/{slug}, "" for the overview
    route: str  # the route's name, for url_for
    title: str  # a msgid
    permission: Permission
    section: tuple[str, ...] = ()  # other first segments shown as part of this page


AREA_PAGES: tuple[AreaPage, ...] = (
    AreaPage("", "area_overview", N_("Overview"), Permission.read, ("comments", "brief")),
    AreaPage("plan", "plan_editor", N_("Plan editor"), Permission.edit),
    AreaPage("problems", "problems", N_("Problems"), Permission.read),
    AreaPage("progress", "progress", N_("Progress"), Permission.read),
    AreaPage("units", "org_units", N_("Units"), Permission.read),
    AreaPage("map", "area_map", N_("Results chain map"), Permission.read),
    AreaPage("present", "present", N_("Present"), Permission.read),
    AreaPage("workshops", "workshops", N_("Workshops"), Permission.facilitate),
    AreaPage(
        "learning",
        "learning",
        N_("Learning"),
        Permission.read,
        (
            "reflections",
            "questions",
            "proposals",
            "outcomes",
            "partners",
            "principles",
            "resources",
            "data",
            "versions",
        ),
    ),
    AreaPage("timeline", "timeline", N_("Timeline"), Permission.read),
    AreaPage("committee", "committee", N_("Committee"), Permission.read, ("meetings",)),
    AreaPage("history", "area_history", N_("History"), Permission.read),
)


@dataclass(frozen=True)
class Tab:
    title: str
    href: str
    current: Literal["page", "true"] | None  # aria-current: this page, or a page within it


@dataclass(frozen=True)
class AreaNav:
    label: str  # the landmark's name
    tabs: list[Tab]


def area_nav(request: Request, principal: Principal, area: Any) -> AreaNav | None:
    """The tabs this reader may open, the current one marked; None for one who may not read."""
    if area is None or not principal.can(Permission.read, area.id):
        return None
    base = request.url_for("area_overview", slug=area.slug).path  # one lookup, not nine
    here = request.url.path.removeprefix(base).strip("/")
    first = here.split("/", 1)[0]
    tabs = [
        Tab(gettext(page.title), f"{base}/{page.segment}".rstrip("/"), _current(page, here, first))
        for page in AREA_PAGES
        if principal.can(page.permission, area.id)
    ]
    label = gettext("Pages of %(area)s", area=localized(area))
    return AreaNav(label, tabs)


def _current(page: AreaPage, here: str, first: str) -> Literal["page", "true"] | None:
    if here == page.segment:
        return "page"
    if (page.segment and first == page.segment) or first in page.section:
        return "true"
    return None
