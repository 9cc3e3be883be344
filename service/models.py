"""Every table, imported in one place for Alembic and for `closedloop init`."""

from .auth.models import ApiKey
from .cases.models import Case, CaseEvent, CaseTier, IdempotencyRecord, TrackingCounter
from .db import Base
from .directory.models import Department, District, MeetingSeries, Officer, Sitting
from .enterprises.models import Enterprise
from .notifications.models import Circuit, OutboxMessage

__all__ = ["ApiKey", "Base", "Case", "CaseEvent", "CaseTier", "Department", "District", "Enterprise",
           "Circuit", "IdempotencyRecord", "MeetingSeries", "Officer", "OutboxMessage", "Sitting", "TrackingCounter"]
