#!/usr/bin/python3
"""Builds RyoritsuBallot.ttf: the ballot boxes ☐ ☑ ☒ (U+2610–2612) cut from DejaVu Sans.

IPAex has no ballot-box glyphs, and the printed forms need them as real text so that a PDF
reader (or pdftotext) gives back ☑ before a chosen option. The Bitstream Vera licence lets
us modify the font as long as the result is not named "Bitstream" or "Vera", hence the
new family name.

Run on Debian 12 with `apt-get install fonts-dejavu-core python3-fonttools`:
    /usr/bin/python3 assets/fonts/make-ballot-font.py
"""

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

SOURCE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
OUT = Path(__file__).with_name("RyoritsuBallot.ttf")
FAMILY = "Ryoritsu Ballot"

options = subset.Options()
options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
options.layout_features = []
options.hinting = False
options.notdef_outline = True
font = TTFont(SOURCE)
subsetter = subset.Subsetter(options)
subsetter.populate(unicodes=[0x2610, 0x2611, 0x2612])
subsetter.subset(font)

names = {
    1: FAMILY,
    3: f"{FAMILY} Regular (subset of DejaVu Sans 2.37)",
    4: FAMILY,
    6: FAMILY.replace(" ", ""),
}
for record in font["name"].names:
    if record.nameID in names:
        record.string = names[record.nameID]
font.save(OUT)
print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
