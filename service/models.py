"""Every table, imported in one place for Alembic and for `closedloop init`."""

from .accounts.models import Account, WebSession
from .attachments.models import CaseFile
from .audit.models import AuditEntry
from .auth.models import ApiKey
from .cases.models import Case, CaseEvent, CaseTier, IdempotencyRecord, TrackingCounter
from .db import Base
from .directory.models import Department, District, MeetingSeries, Officer, Sitting
from .enterprises.models import Enterprise, EnterpriseChange
from .meetings.models import AgendaItem, Assignment, Minutes
from .notifications.models import Circuit, OutboxMessage
from .reports.models import CaseFact, ReportMonth, RolledMonth, RollupWatermark

__all__ = ["Account", "AgendaItem", "ApiKey", "AuditEntry", "Assignment", "Minutes", "Base", "Case", "CaseEvent", "CaseFact", "CaseFile", "CaseTier", "Department", "District", "Enterprise", "EnterpriseChange",
           "Circuit", "IdempotencyRecord", "MeetingSeries", "Officer", "OutboxMessage", "ReportMonth", "RolledMonth",
           "RollupWatermark", "Sitting", "TrackingCounter", "WebSession"]
