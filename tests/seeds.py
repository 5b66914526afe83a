"""The raw seed files, read from ../shared/seeds/ beside the project."""

import json
from pathlib import Path

import pytest
from django.conf import settings

SEEDS_DIR = Path(settings.BASE_DIR).parent / "shared" / "seeds"
FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "seed_articles.json"

# Seed file -> slug of the piece the fixtures made of it.
SEED_SLUGS = {
    "000_e5e2b52ac800a774.txt": "de-bijna-coup-kent-aan-russische-kant-alleen-verliezers",
    "001_d795838efdc0c2e1.txt": "opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is",
    "002_19155bdbfa8b189d.txt": (
        "poetins-missie-aan-de-oekraiense-grens-levert-resultaten-op-maar-de-risicos-groeien"
    ),
    "003_f9184eccdf6dd040.txt": (
        "soldatenvrouwen-confronteren-commandant-dugin-roept-verhuld-op-tot-moord-op-poetin"
    ),
}


def seed_path(name: str) -> Path:
    path = SEEDS_DIR / name
    if not path.exists():
        pytest.skip(f"no seed files at {SEEDS_DIR}")
    return path


def seed_text(name: str) -> str:
    return seed_path(name).read_text(encoding="utf-8")


def fixture_articles() -> dict[str, dict]:
    """The fixture's articles by slug, as the JSON holds them."""
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return {
        row["fields"]["slug"]: row["fields"] for row in rows if row["model"] == "archive.article"
    }
