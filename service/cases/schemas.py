"""What the case endpoints take and give (field names are DESIGN.md's contract)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ..fields import Day, BodyId, Flag, Moment, text


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attachment(_In):
    name: text(200)
    size: StrictInt | None = Field(None, ge=0, le=10**12)
    content_type: str | None = Field(None, max_length=100)
    url: str | None = Field(None, max_length=1000)


class CaseSubmission(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "厂区土地证办不下来", "description": "出让金已于今年三月缴清，土地证三个月未办结，影响项目融资。",
         "amount": 3000000, "urgency": "normal", "attachments": [{"name": "出让金缴款凭证.pdf", "size": 182044}]}]})
    title: text(200) = Field(description="the problem in a line")
    description: text(20000)
    category: str | None = Field(None, description="a category key from GET /v1/directory")
    amount: Decimal | None = Field(None, ge=0, le=Decimal("1e15"), description="yuan")
    urgency: Literal["normal", "urgent"] = "normal"
    enterprise_id: BodyId | None = Field(None, description="only when an officer files on an enterprise's behalf")
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)


class TextBody(_In):
    text: text(20000)


class CommentBody(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "已与银行对接，下周一前给出放款时间。"}, {"text": "内部意见：建议暂缓，待区里先行协调。", "internal": True}]})
    text: text(20000)
    internal: Flag = Field(False, description="an internal note (内部意见): only the handling side reads it; "
                                              "otherwise a reply the enterprise reads too")


class ReasonBody(_In):
    reason: text(5000)


class OptionalReasonBody(_In):
    reason: str | None = Field(None, max_length=5000)


class EmptyBody(_In):
    pass


class ResolveBody(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"resolution": "已协调不动产登记中心加急办理，土地证已于12月2日发放。"}]})
    resolution: text(20000)


class ConfirmBody(_In):
    satisfied: Flag
    rating: StrictInt | None = Field(None, ge=1, le=5, description="1–5; required when satisfied")
    comment: str | None = Field(None, max_length=5000)


class ExtendBody(_In):
    until: Moment = Field(description="the new deadline, with its time zone; at most "
                          "CLOSEDLOOP_MAX_EXTENSION (default 90 days) past the current one")
    reason: text(5000)


class ApproveExtensionBody(_In):
    approve: Flag = True
    reason: str | None = Field(None, max_length=5000)


class ReassignBody(_In):
    lead_department: str
    co_departments: list[str] = Field(default_factory=list)


class FeedbackBody(_In):
    """回执: what the responsible unit reports back on a case it handles (督办反馈)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"progress": "已完成管网抢修方案论证，施工队伍已进场。", "next_step": "12月10日前完成主管道更换",
         "expected_done": "2026-12-15", "contact": "李科长", "phone": "0395-3100001"}]})
    progress: text(5000) = Field(description="办理情况: what has been done")
    next_step: str | None = Field(None, max_length=2000, description="下一步: what comes next")
    expected_done: Day | None = Field(None, description="预计办结日期 (local date)")
    contact: str | None = Field(None, max_length=60, description="承办人")
    phone: str | None = Field(None, max_length=40, description="联系电话")


class CallbackBody(_In):
    """回访: what the call to the enterprise found."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reached": True, "satisfied": True, "rating": 5, "comment": "企业表示土地证已领到，很满意"}]})
    reached: Flag = Field(description="the enterprise was reached (接通)")
    satisfied: Flag | None = Field(None, description="when reached: satisfied with how it was solved")
    rating: StrictInt | None = Field(None, ge=1, le=5, description="1–5, when reached")
    comment: str | None = Field(None, max_length=5000)


class DuplicateBody(_In):
    of: BodyId = Field(description="the original case: the same enterprise's, still open or handled")


ACTION_BODIES: dict[str, type[_In]] = {
    "accept": EmptyBody,
    "comment": CommentBody,
    "request-info": TextBody,
    "supplement": TextBody,
    "resolve": ResolveBody,
    "confirm": ConfirmBody,
    "escalate": ReasonBody,
    "extend": ExtendBody,
    "approve-extension": ApproveExtensionBody,
    "object": ReasonBody,
    "reassign": ReassignBody,
    "withdraw": OptionalReasonBody,
    "mark-duplicate": DuplicateBody,
    "feedback": FeedbackBody,
    "callback": CallbackBody,
}


class Routing(BaseModel):
    ruleset_version: str
    rules: list[dict[str, Any]]
    needs_triage: bool
    explanation: str
    scores: list[dict[str, Any]] = Field(
        [], description="the evidence weighed, best first (department, score, evidence; the first with "
                        "margin): empty when an ordinary rule decided, and for cases filed before weighing")


class CaseOut(BaseModel):
    id: int
    tracking_no: str
    enterprise_id: int
    title: str
    description: str
    category: str | None
    amount: Decimal | None
    urgency: str
    attachments: list[dict[str, Any]]
    status: str
    tier: int
    tier_key: str
    tier_name: str
    lead_department: str | None
    co_departments: list[str]
    needs_triage: bool
    officer_id: str | None
    district: str
    priority: str
    tags: list[str]
    sla_policy: str
    theme: str | None
    due_at: datetime | None
    warn_at: datetime | None
    due_provisional: bool
    paused: bool
    supervised: bool
    pending_extension: dict[str, Any] | None
    confirm_due_at: datetime | None
    sitting_id: int | None
    resolution: str | None
    rating: int | None
    duplicate_of: int | None = Field(None, description="重复件: the original case this one was closed into")
    routing: Routing | None = Field(description="how the rules placed it; null for the enterprise (cases/views.py)")
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int


class DeliveryOut(BaseModel):
    """One notification the event caused, and how its delivery went (the delivery log)."""

    id: int
    recipient_kind: str
    recipient: str
    channel: str | None
    status: str
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


class EventOut(BaseModel):
    id: int
    type: str
    at: datetime
    actor: str
    data: dict[str, Any]
    deliveries: list[DeliveryOut] = []


class CaseDetail(CaseOut):
    timeline: list[EventOut]


class CaseList(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None


BULK_ACTIONS = ("accept", "reassign", "escalate")


class BulkIn(_In):
    """Many cases, one action: each case in its own transaction, with its own event and result."""

    action: Literal["accept", "reassign", "escalate"]
    case_ids: list[BodyId] = Field(min_length=1, max_length=200)
    body: dict[str, Any] = Field(default_factory=dict, description="the action's body, as for one case")


class BulkResult(BaseModel):
    case_id: int
    status: int = Field(description="what the single action would have answered: 200, or the 4xx")
    detail: str | None = None
    case: CaseOut | None = None


class BulkOut(BaseModel):
    action: str
    done: int
    refused: int
    results: list[BulkResult]
