"""What the pages say (用语): the Chinese names of roles, statuses, events and actions, the forms
of the actions a page offers, and errors put the way a person reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import Problem

ROLES = {"enterprise": "企业", "officer": "首席服务官", "department": "部门", "secretary": "会议秘书",
         "admin": "管理员", "leader": "领导"}
STATUSES = {"open": "待受理", "in_progress": "办理中", "waiting_enterprise": "待企业补充材料",
            "resolved": "已办结待确认", "closed": "已办结", "withdrawn": "已撤回"}
EVENTS = {"submitted": "提交诉求", "routed": "自动分办", "accepted": "受理", "commented": "留言",
          "info_requested": "要求补充材料", "supplemented": "补充材料", "resolved": "办结", "confirmed": "企业确认",
          "closed": "办结确认", "reopened": "重办", "escalated": "升级", "supervised": "督办",
          "extension_requested": "申请延期", "extension_decided": "延期审批", "objected": "异议",
          "reassigned": "重新分办", "withdrawn": "撤回", "duplicated": "重复件", "assigned": "交办",
          "carried_over": "结转下次会议", "warned": "临期提醒", "reminded": "督办提醒", "auto_closed": "默认办结",
          "deadline_recounted": "时限按正式日历调整", "deadline_confirmed": "时限按正式日历确认",
          "fed_back": "报送办理情况", "called_back": "回访", "callback_overdue": "回访逾期"}
NOTICES = {"submitted": "诉求已提交，已按规则分办到承办部门。", "done": "已办理。",
           "minutes": "会议纪要已记录，各项决定已落实到案件。", "approved": "已通过，企业账号已开通。",
           "refused": "已不予通过。", "reloaded": "规则已重新加载并生效。", "redriven": "已重新投递。",
           "gone": "该通知已不在投递失败之列（可能已被他人重新投递）。"}

_TEXT = {"kind": "textarea"}
ACTION_FORMS: dict[str, dict[str, Any]] = {
    "accept": {"action": "accept", "label": "受理", "fields": []},
    "resolve": {"action": "resolve", "label": "办结", "fields": [{"name": "resolution", "label": "办理结果", **_TEXT}]},
    "request-info": {"action": "request-info", "label": "要求补充材料",
                     "fields": [{"name": "text", "label": "需要补充的材料", **_TEXT}]},
    "supplement": {"action": "supplement", "label": "补充材料",
                   "fields": [{"name": "text", "label": "补充的材料", **_TEXT}]},
    "confirm": {"action": "confirm", "label": "确认办理结果", "fields": [
        {"name": "satisfied", "label": "是否满意", "kind": "choice", "choices": [("1", "满意"), ("0", "不满意（重办）")]},
        {"name": "rating", "label": "评分", "kind": "choice",
         "choices": [("5", "★★★★★"), ("4", "★★★★"), ("3", "★★★"), ("2", "★★"), ("1", "★")]}]},
    "escalate": {"action": "escalate", "label": "升级", "fields": [{"name": "reason", "label": "升级理由", **_TEXT}]},
    "object": {"action": "object", "label": "提出异议（非本部门职责）",
               "fields": [{"name": "reason", "label": "异议理由", **_TEXT}]},
    "withdraw": {"action": "withdraw", "label": "撤回诉求", "fields": [{"name": "reason", "label": "撤回原因", **_TEXT}]},
    "comment": {"action": "comment", "label": "留言", "fields": [{"name": "text", "label": "留言内容", **_TEXT}]},
    "reassign": {"action": "reassign", "label": "分办", "fields": [
        {"name": "lead_department", "label": "牵头部门", "kind": "department"},
        {"name": "co_departments", "label": "协办部门（可多选）", "kind": "departments"}]},
    "extend": {"action": "extend", "label": "申请延期", "fields": [
        {"name": "until", "label": "延至", "kind": "moment"}, {"name": "reason", "label": "延期理由", **_TEXT}]},
    "callback": {"action": "callback", "label": "记录回访结果", "fields": [
        {"name": "reached", "label": "是否联系上企业", "kind": "choice", "choices": [("1", "已联系上"), ("0", "未联系上")]},
        {"name": "satisfied", "label": "企业是否满意", "kind": "choice",
         "choices": [("", "（未联系上时不填）"), ("1", "满意"), ("0", "不满意（重办）")]},
        {"name": "comment", "label": "回访记录", **_TEXT}]},
    "feedback": {"action": "feedback", "label": "报送办理情况（回执）", "fields": [
        {"name": "progress", "label": "办理情况", **_TEXT}, {"name": "next_step", "label": "下一步工作", **_TEXT},
        {"name": "contact", "label": "承办人", **_TEXT}, {"name": "phone", "label": "联系电话", **_TEXT}]},
    "approve-extension": {"action": "approve-extension", "label": "审批延期", "fields": [
        {"name": "approve", "label": "是否同意", "kind": "choice", "choices": [("1", "同意"), ("0", "不同意")]},
        {"name": "reason", "label": "意见", **_TEXT}]},
}


def action_body(action: str, form: dict[str, Any], tz) -> dict[str, Any]:
    """A form's fields as the action's API body (the API's own model then checks them)."""
    body: dict[str, Any] = {f["name"]: form.get(f["name"], "") for f in ACTION_FORMS[action]["fields"]}
    body = {k: v.strip() if isinstance(v, str) else v for k, v in body.items()}
    if action == "confirm":
        body["satisfied"] = body["satisfied"] == "1"
        body["rating"] = int(body["rating"]) if body["rating"].isdigit() else None
    if action == "callback":
        body = {"reached": body["reached"] == "1", "comment": body["comment"] or None,
                **({"satisfied": body["satisfied"] == "1"} if body["satisfied"] in ("0", "1") else {})}
    if action == "feedback":
        body = {k: v for k, v in body.items() if v or k == "progress"}
    if action == "approve-extension":
        body["approve"] = body["approve"] == "1"
        body["reason"] = body["reason"] or None
    if action == "reassign":
        body["co_departments"] = [d for d in form.get("co_departments", []) if d != body["lead_department"]]
    if action == "extend" and body["until"]:
        try:  # the browser's datetime-local is the city's local time
            body["until"] = datetime.fromisoformat(body["until"]).replace(tzinfo=tz).isoformat()
        except ValueError:
            pass  # left as typed: the model names the field
    return body


_PROBLEMS = {400: "请求有误", 403: "无权办理", 404: "未找到", 409: "案件状态已变化，请刷新后再办理",
             412: "案件已被他人更新，请刷新后再办理", 422: "填写有误", 429: "操作过于频繁"}


def problem(exc: Problem) -> str:
    """A refusal of the domain, led by what it means for the person; the detail after it."""
    return f"{_PROBLEMS.get(exc.status, '无法办理')}：{exc.detail}"


_FIELD_ERRORS = {"missing": "必填", "string_too_short": "必填", "string_too_long": "内容过长",
                 "greater_than_equal": "不能为负数", "less_than_equal": "数值过大", "decimal_parsing": "请填写数字"}


def field_error(error: dict) -> str:
    return _FIELD_ERRORS.get(error.get("type", ""), "填写有误") + f"（{error.get('msg', '')}）"


def local(rt, moment: datetime | None) -> str:
    return moment.astimezone(rt.calendar.tz).strftime("%Y-%m-%d %H:%M") if moment else "—"


def actor(rt, actor: str) -> str:
    role, _, who = actor.partition(":")
    if role == "department":
        who = next((d.name for d in rt.directory.departments if d.key == who), who)
    elif role == "officer":
        who = next((o.name for o in rt.directory.officers if o.key == who), who)
    return f"{ROLES.get(role, '系统' if role == 'system' else role)} {who}".strip()


def note(event: str, data: dict) -> str:
    for key in ("resolution", "text", "reason", "comment", "title"):
        if data.get(key):
            return str(data[key])[:200]
    return ""


def time_left(rt, case, now: datetime) -> str:
    """What a queue shows of a deadline: working days left, or how long overdue, or paused."""
    from ..cases import machine

    if case.status not in machine.RUNNING or case.due_at is None:
        return "计时暂停" if case.status in machine.PAUSED else ""
    if case.due_at < now:
        return f"超期 {(now - case.due_at).total_seconds() / 86400:.1f} 天"
    return f"剩余 {rt.calendar.working_seconds_between(now, case.due_at) / 86400:.1f} 个工作日"
