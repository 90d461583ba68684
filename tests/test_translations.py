"""Every UI string has a Thai translation, and the catalogs match the code."""

from app import catalog


def test_every_ui_string_is_translated_to_thai() -> None:
    extracted = catalog.extract()
    thai = catalog.read("th")
    missing = [m.id for m in extracted if m.id and not (thai.get(m.id) and thai.get(m.id).string)]
    assert missing == [], "run `phonlap translations` and translate: " + repr(missing[:10])


def test_thai_translations_keep_their_placeholders() -> None:
    import re

    for message in catalog.read("th"):
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        assert set(re.findall(r"%\(\w+\)", source)) == set(re.findall(r"%\(\w+\)", target)), source
