"""Every table, imported in one place for Alembic and for `closedloop init`."""

from .accounts.models import Account, WebSession
from .attachments.models import CaseFile
from .callbacks.models import Callback
from .audit.models import AuditEntry
from .auth.models import ApiKey
from .cases.models import Case, CaseEvent, CaseTier, IdempotencyRecord, TrackingCounter
from .db import Base
from .directory.models import Department, District, MeetingSeries, Officer, Sitting
from .enterprises.models import Enterprise, EnterpriseChange
from .meetings.models import AgendaItem, Assignment, Minutes
from .notifications.models import Circuit, OutboxMessage
from .reports.models import CaseFact, ReportMonth, RolledMonth, RollupWatermark
from .similarity.models import CaseBand, CaseSignature, SimilarityQueue

__all__ = ["Account", "AgendaItem", "ApiKey", "AuditEntry", "Assignment", "Callback", "Minutes", "Base", "Case", "CaseBand", "CaseEvent", "CaseFact", "CaseFile", "CaseSignature", "CaseTier", "Department", "District", "Enterprise", "EnterpriseChange",
           "Circuit", "IdempotencyRecord", "MeetingSeries", "Officer", "OutboxMessage", "ReportMonth", "RolledMonth",
           "RollupWatermark", "SimilarityQueue", "Sitting", "TrackingCounter", "WebSession"]
