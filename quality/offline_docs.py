"""great-expectations Data Docs that open without internet: analysts read the report on
machines that may not reach a CDN, and the pages load Bootstrap, jQuery and fonts from one.

The pages of a validation run are plain HTML tables, so without those scripts and styles
they only need a stylesheet; this swaps every remote `<link>`/`<script>` for the local one
below. (The site's index builds its table with a script; the report links the validation
pages directly instead.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_REMOTE_LINK = re.compile(r"<link[^>]+href=[\"']https?://[^>]*>\s*", re.IGNORECASE)
_REMOTE_URL_IN_CSS = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)
_REMOTE_SCRIPT = re.compile(r"<script[^>]+src=[\"']https?://[^>]*>\s*</script>\s*", re.IGNORECASE)
STYLESHEET = "kundenstamm_offline.css"
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem auto;max-width:1100px;color:#1d2733;padding:0 1rem}
a{color:#2f6fb0}table{border-collapse:collapse;margin:.4rem 0 1rem}th,td{padding:.35rem .6rem;border-bottom:1px solid #e4e8ee;text-align:left;vertical-align:top}
h1,h2,h3,h4,h5,h6{margin:1.2rem 0 .4rem}.collapse:not(.show){display:none}
img[alt="Great Expectations"]{height:32px}.navbar,.sticky-top{margin-bottom:1rem}
.text-danger{color:#b42318}.text-success{color:#17803d}
"""


def make_offline(site_dir: Path) -> int:
    """Rewrites every page of the site in place; the number of pages changed."""
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        return 0
    (site_dir / STYLESHEET).write_text(CSS, encoding="utf-8")
    changed = 0
    for page in site_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        offline = _REMOTE_URL_IN_CSS.sub("none", _REMOTE_SCRIPT.sub("", _REMOTE_LINK.sub("", text)))
        if offline == text:
            continue
        href = os.path.relpath(site_dir / STYLESHEET, page.parent)
        offline = offline.replace("</head>", f"<link rel='stylesheet' href='{href}'></head>", 1)
        page.write_text(offline, encoding="utf-8")
        changed += 1
    return changed


def newest_validation_pages(site_dir: Path) -> dict[str, Path]:
    """Suite name -> the page of its newest validation run (the run folders sort by time)."""
    pages: dict[str, Path] = {}
    root = Path(site_dir) / "validations"
    if root.is_dir():
        for page in sorted(root.rglob("*.html")):
            pages[page.relative_to(root).parts[0]] = page
    return pages
