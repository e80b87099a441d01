"""Copy the shipped police.uk archive from the shared data folder and check it.

Run ``python scripts/build_police_uk.py [SHARED_DATA]`` from the repository root
(``SHARED_DATA`` defaults to ``../shared/data``). The archive ships unchanged: the whole
Hampshire Constabulary street files for 2021-03 to 2022-05, as police.uk lays out a
download (``YYYY-MM/YYYY-MM-hampshire-street.csv``); the copy is checked against the
SHA-256 recorded in ``data/police_uk/README.md``.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "hampshire-street-2021-03-to-2022-05.zip"
SHA256 = "f142f0d507df7d310a3143b22530aa19602f3232d5efd53ceb79875a8d5a03b9"


def build(shared: Path) -> Path:
    """Copy the archive into ``data/police_uk/`` and check its SHA-256."""
    src = shared / "police_uk" / "hampshire" / NAME
    out = ROOT / "data" / "police_uk" / NAME
    shutil.copy2(src, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{out}: SHA-256 {digest}, expected {SHA256}")
    return out


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    print(f"wrote {build(shared)} (SHA-256 checked)")
