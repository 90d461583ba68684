"""Make Thai text copied out of the PDFs come back as typed: a fix to the vendored Sarabun files.

Why: HarfBuzz always splits SARA AM (ำ) into NIKHAHIT + SARA AA glyphs (it must, to stack a tone
mark between them), and WeasyPrint writes one Unicode text per glyph in the PDF's ToUnicode map,
taken from the first place the glyph is drawn. The SARA AA glyph then stands for both "า" and
"ำ": whichever came first wins, so "จำนวน" is copied as "จานวน", or "สำนักงาน" as "สำนักงำน",
and a tone mark inside the cluster (น้ำ) is lost.

The fix gives the SARA AA that ends a SARA AM its own glyphs: a copy of SARA AA for each thing
that can stand before it (NIKHAHIT alone, or NIKHAHIT joined with one of the four tone marks, in
the font's normal and narrow forms), put in by a contextual substitution added to the font's
`ccmp` feature. Each copy is drawn only at the end of one kind of cluster, so its text in the map
is always right ("ำ", "่ำ", "้ำ", ...), and the plain SARA AA glyph only ever means "า".

Run once on the vendored files (idempotent):
    python -m app.thai_font static/vendor/fonts/sarabun/sarabun-thai-*.woff2
"""

import copy
import sys
from pathlib import Path

from fontTools.otlLib.builder import buildCoverage, buildLookup, buildSingleSubstSubtable
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables import otTables as ot

SARA_AA = "uni0E32"
# what stands before the SARA AA of a SARA AM -> the copy of SARA AA drawn after it
COPIES = {
    "uni0E32.am": ("uni0E4D", "uni0E4D.narrow"),
    "uni0E32.am48": ("uni0E4D0E48", "uni0E4D0E48.narrow"),
    "uni0E32.am49": ("uni0E4D0E49", "uni0E4D0E49.narrow"),
    "uni0E32.am4A": ("uni0E4D0E4A", "uni0E4D0E4A.narrow"),
    "uni0E32.am4B": ("uni0E4D0E4B", "uni0E4D0E4B.narrow"),
}


def is_fixed(font: TTFont) -> bool:
    return all(name in font.getGlyphOrder() for name in COPIES)


def fix_sara_am(font: TTFont) -> bool:
    """Add the copies and the substitution; False when the font has them already or is not
    a Thai font with the glyphs named as in Sarabun."""
    order = font.getGlyphOrder()
    if is_fixed(font) or SARA_AA not in order or "GSUB" not in font:
        return False
    font.setGlyphOrder(order + list(COPIES))
    glyf, hmtx = font["glyf"], font["hmtx"]
    for name in COPIES:
        glyf.glyphs[name] = copy.deepcopy(glyf[SARA_AA])
        hmtx.metrics[name] = hmtx.metrics[SARA_AA]
    font["maxp"].numGlyphs = len(font.getGlyphOrder())
    _add_substitution(font)
    return True


def _add_substitution(font: TTFont) -> None:
    gsub = font["GSUB"].table
    lookups = gsub.LookupList.Lookup
    ids = font.getReverseGlyphMap()
    rules = []
    for name, before in COPIES.items():
        present = [g for g in before if g in ids]
        if not present:
            continue
        lookups.append(buildLookup([buildSingleSubstSubtable({SARA_AA: name})]))
        rules.append(_chain_rule(present, len(lookups) - 1, ids))
    lookups.append(buildLookup(rules))
    gsub.LookupList.LookupCount = len(lookups)
    chain = len(lookups) - 1
    for record in gsub.FeatureList.FeatureRecord:
        if record.FeatureTag == "ccmp":
            record.Feature.LookupListIndex.append(chain)
            record.Feature.LookupCount = len(record.Feature.LookupListIndex)


def _chain_rule(before: list[str], lookup_index: int, ids: dict[str, int]) -> ot.ChainContextSubst:
    rule = ot.ChainContextSubst()
    rule.Format = 3
    rule.BacktrackGlyphCount, rule.BacktrackCoverage = 1, [buildCoverage(before, ids)]
    rule.InputGlyphCount, rule.InputCoverage = 1, [buildCoverage([SARA_AA], ids)]
    rule.LookAheadGlyphCount, rule.LookAheadCoverage = 0, []
    record = ot.SubstLookupRecord()
    record.SequenceIndex, record.LookupListIndex = 0, lookup_index
    rule.SubstCount, rule.SubstLookupRecord = 1, [record]
    return rule


def main(paths: list[str]) -> None:
    for path in map(Path, paths):
        font = TTFont(path)
        if fix_sara_am(font):
            font.flavor = "woff2" if path.suffix == ".woff2" else font.flavor
            font.save(path)
            print(f"fixed: {path}")
        else:
            print(f"unchanged: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
