"""Which recipient gets which change: the routing of `customer_changes` to outboxes.

The routing is data: `Settings.DEFAULT_ROUTING`, replaced as a whole by a small TOML file
when one exists (`Settings.routing_path()`, by default `routing.toml` beside the published
file), so what the file says is exactly what is routed:

    [routes]
    consent_withdrawn = ["marketing"]
    "updated.street" = ["shop"]

A key is a change type of the feed (`CHANGE_TYPES`: `updated` routes every updated
column) or `updated.<column>` for one column of `customers`. Anything else is refused with
an error naming it: a misspelt key would otherwise route nothing, silently.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from warehouse.golden import COMPARED
from warehouse.golden_ids import CHANGE_TYPES
from warehouse.settings import Settings

# A recipient names a folder of the outbox: plain lower-case words, nothing that leaves it.
_RECIPIENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# marketing_consent changes are typed consent_given / consent_withdrawn, never `updated`.
UPDATED_COLUMNS = tuple(c for c in COMPARED if c != "marketing_consent")
ROUTE_KEYS = CHANGE_TYPES + tuple(f"updated.{c}" for c in UPDATED_COLUMNS)


class RoutingError(ValueError):
    """The routing names a change type or recipient that cannot be."""


@dataclass(frozen=True)
class Routing:
    # (route key, recipient), sorted: the same routing always gives the same pairs.
    pairs: tuple[tuple[str, str], ...]
    source: str  # where it came from, for messages

    @property
    def recipients(self) -> list[str]:
        return sorted({recipient for _, recipient in self.pairs})


def check_routing(routes: Mapping[str, object], source: str) -> Routing:
    """The routing as pairs, or a RoutingError that says what is wrong and what would be right."""
    pairs = set()
    for key, recipients in routes.items():
        if key not in ROUTE_KEYS:
            raise RoutingError(
                f"{source}: unknown change type {key!r}; known are {', '.join(CHANGE_TYPES)} "
                f"and updated.<column> for a column of customers ({', '.join(UPDATED_COLUMNS)})")
        if isinstance(recipients, str):
            recipients = [recipients]
        if not isinstance(recipients, (list, tuple)):
            raise RoutingError(f"{source}: {key!r} must name a list of recipients, not {recipients!r}")
        for recipient in recipients:
            if not isinstance(recipient, str) or not _RECIPIENT.match(recipient):
                raise RoutingError(f"{source}: recipient {recipient!r} of {key!r} must be lower-case letters, "
                                   "digits, '-' or '_' (it names the outbox folder)")
            pairs.add((key, recipient))
    return Routing(tuple(sorted(pairs)), source)


def load_routing(settings: Settings) -> Routing:
    """The routing file when it exists, else the settings' default."""
    path = Path(settings.routing_path())
    if not path.exists():
        return check_routing(Settings.DEFAULT_ROUTING, "default routing (Settings.DEFAULT_ROUTING)")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RoutingError(f"{path}: not valid TOML: {error}") from error
    unknown = set(document) - {"routes"}
    if unknown or not isinstance(document.get("routes"), dict):
        raise RoutingError(f"{path}: expected one table [routes] (change type = [recipients]), "
                           f"found {', '.join(sorted(document)) or 'nothing'}")
    return check_routing(document["routes"], str(path))
