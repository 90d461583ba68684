"""Extract UI strings and keep the th/en catalogs in step (`phonlap translations`)."""

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from app import ROOT
from app.i18n import LOCALE_DIR, LOCALES

METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Msg": None, "fail": None}


def extract() -> Catalog:
    catalog = Catalog(project="phonlap", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str):  # noqa: ANN201
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def read(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="phonlap")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def update() -> dict[str, int]:
    """Merge newly extracted strings into each catalog; returns untranslated counts."""
    template = extract()
    missing = {}
    for locale in LOCALES:
        catalog = read(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
        missing[locale] = sum(1 for m in catalog if m.id and not m.string)
    return missing
