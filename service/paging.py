"""One way to page every list (``items`` and ``next_cursor``), and one refusal for a query
parameter an endpoint does not take — so that ``?cursor=`` or a typo never silently returns page
one (docs/api.md, "Lists")."""

from __future__ import annotations

import base64

from fastapi import Request

from .errors import Invalid


def encode_cursor(kind: str, last: int | str) -> str:
    """An opaque cursor: the list's kind and the last key of the page (keyset, never an offset)."""
    return base64.urlsafe_b64encode(f"{kind}{last}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, numeric: bool = True, bound: int = 2**31 - 1) -> int | str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(kind):
            raise ValueError
        if not numeric:
            return raw[len(kind):]
        value = int(raw[len(kind):])
        if not 0 < value <= bound:
            raise ValueError
        return value
    except ValueError:
        raise Invalid("cursor: not a cursor this list gave; pass next_cursor from the previous page") from None


_DECLARED: dict[int, frozenset[str]] = {}


def _declared(route) -> frozenset[str]:
    names = _DECLARED.get(id(route))
    if names is None:
        found: set[str] = set()

        def walk(dependant) -> None:
            for param in dependant.query_params:
                found.add(param.alias or param.name)
            for sub in dependant.dependencies:
                walk(sub)

        walk(route.dependant)
        names = _DECLARED[id(route)] = frozenset(found)
    return names


async def known_query(request: Request) -> None:
    """Refuse query parameters the endpoint does not take, naming them and the ones it does."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    declared = _declared(route)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise Invalid(f"{unknown[0]}: not a query parameter of {request.method} {route.path}; it takes: {known}",
                      errors=[{"field": name, "message": "unknown query parameter"} for name in unknown])
