"""Routing in the service: the active rule set is the runtime's; reloading it is recorded."""

from __future__ import annotations

from routing_rules import SourceErrors

from .. import audit


def reload(session, rt, actor: str, request=None) -> list[dict] | None:
    """Validate the rule files on disk and activate them. On any error the running set stays and
    the errors (file, line, reason) are returned; either way the attempt is in the audit log."""
    before = rt.rules.current.version
    try:
        rt.rules.reload()
    except SourceErrors as exc:
        errors = [{"file": e.file, "line": e.line, "reason": e.reason} for e in exc.errors]
        audit.record(session, actor, "rules.reload", before, {"refused": errors[:20]}, rt.clock(), request)
        return errors
    audit.record(session, actor, "rules.reload", rt.rules.current.version, {"previous_version": before},
                 rt.clock(), request)
    return None
