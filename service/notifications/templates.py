"""What a message says (消息模板): Chinese text per event and per reader, with the tracking number,
the enterprise, the tier, the deadline in local time, and what the reader must do.

A message is rendered when it is sent, from the payload written with the change (the case as it
was then) and the directory's names; the same text goes to every channel, as Markdown for the
robots and as plain text for e-mail. In the Markdown every name and text from the payload is
escaped (service/textsafe.py): an enterprise's title must not post a link or an image into an
official group chat; the one link is ours, built from the public URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..directory import Directory
from ..textsafe import chat_text as md

# event type -> (title, what happened). Fields: {no} tracking number, {ent} enterprise, {title}
# the demand, {tier} tier name, {due} deadline, {lead} lead department, {sitting} the meeting.
HAPPENED: dict[str, tuple[str, str]] = {
    "submitted": ("诉求已登记", "{ent}提交的诉求“{title}”已登记，编号 {no}。"),
    "routed": ("新诉求交办", "{ent}反映：“{title}”。已交{lead}牵头办理，当前层级：{tier}，办理时限：{due}。"),
    "accepted": ("诉求已受理", "诉求 {no}“{title}”已由{lead}受理。"),
    "commented": ("诉求有新留言", "诉求 {no}“{title}”有新的办理意见。"),
    "noted": ("诉求有内部意见", "诉求 {no}“{title}”有新的内部意见（企业不可见）。"),
    "duplicated": ("重复诉求已合并", "诉求 {no}“{title}”与您此前反映的问题相同，已合并到原诉求办理，请关注原诉求的进展。"),
    "duplicate_merged": ("重复诉求并入", "同一企业就诉求 {no}“{title}”再次反映的问题已并入本件办理。"),
    "info_requested": ("请补充材料", "办理单位需要您补充材料，诉求 {no}“{title}”的办理时限暂停计时。"),
    "supplemented": ("企业已补充材料", "{ent}已为诉求 {no}“{title}”补充材料，办理时限恢复计时，至 {due}。"),
    "resolved": ("诉求已办结", "{ent}的诉求 {no}“{title}”已由{lead}办结。"),
    "closed": ("诉求已闭环", "{ent}的诉求 {no}“{title}”已闭环销号。"),
    "reopened": ("诉求重新办理", "{ent}对诉求 {no}“{title}”的办理结果不满意，已提级至{tier}重新办理，时限：{due}。"),
    "escalated": ("诉求升级", "诉求 {no}“{title}”（{ent}）逾期未办结，已升至第{tier_no}级：{tier}。新的时限：{due}。"),
    "warning": ("临期提醒", "诉求 {no}“{title}”（{ent}）将于 {due} 到期（{tier}）。"),
    "supervised": ("督办", "诉求 {no}“{title}”（{ent}）在{tier}逾期，已列为督办事项。"),
    "reminded": ("督办提醒", "督办诉求 {no}“{title}”（{ent}）仍未办结，本期未收到办理情况反馈。"),
    "fed_back": ("办理情况反馈", "{lead}报送了诉求 {no}“{title}”（{ent}）的办理进展。"),
    "callback_overdue": ("回访逾期", "已闭环诉求 {no}“{title}”（{ent}）的回访已过期限，尚未记录回访结果。"),
    "deadline_recounted": ("办理时限调整", "因节假日安排公布，诉求 {no}“{title}”（{ent}）的办理时限按正式日历重新计算为 {due}。"),
    "extension_requested": ("延期申请", "{lead}申请延长诉求 {no}“{title}”的办理时限。"),
    "extension_decided": ("延期申请已处理", "诉求 {no}“{title}”的延期申请已处理，时限：{due}。"),
    "objected": ("办理单位提出异议", "{lead}对诉求 {no}“{title}”的交办提出异议，请研判改派。"),
    "reassigned": ("诉求改派", "诉求 {no}“{title}”已改由{lead}牵头办理，时限：{due}。"),
    "withdrawn": ("诉求已撤回", "{ent}已撤回诉求 {no}“{title}”。"),
    "assigned": ("会议交办", "经{sitting}研究，{ent}的诉求 {no}“{title}”交由{lead}牵头办理，办结时限：{due}。"),
    "carried_over": ("结转下次会议", "诉求 {no}“{title}”（{ent}）结转至{sitting}。"),
}

# (event type, reader) -> what the reader must do; reader: lead, co, officer, enterprise, secretary.
TODO: dict[tuple[str, str], str] = {
    ("submitted", "enterprise"): "可凭编号随时查询办理进度。",
    ("routed", "lead"): "请于 {due} 前受理并办结，办理结果在系统中反馈。",
    ("routed", "co"): "贵单位为协办单位，请配合{lead}办理。",
    ("routed", "officer"): "请跟踪办理进度，必要时协调。",
    ("accepted", "enterprise"): "如需补充情况，可在系统中留言。",
    ("info_requested", "enterprise"): "请尽快在系统中补充材料。",
    ("supplemented", "lead"): "请于 {due} 前办结。",
    ("resolved", "enterprise"): "请在 {confirm_due} 前确认是否满意；逾期未确认视为满意。",
    ("resolved", "officer"): "请提醒企业确认办理结果。",
    ("reopened", "lead"): "请于 {due} 前重新办结。",
    ("reopened", "co"): "请配合{lead}重新办理。",
    ("reopened", "officer"): "请跟踪重新办理进度。",
    ("reopened", "enterprise"): "诉求已重新办理，可随时查询进度。",
    ("escalated", "lead"): "请于 {due} 前办结。",
    ("escalated", "co"): "请配合{lead}办理。",
    ("escalated", "officer"): "请跟踪并协调办理。",
    ("escalated", "enterprise"): "您的诉求已提级办理，可随时查询进度。",
    ("escalated", "secretary"): "请将其列入会议材料。",
    ("warning", "lead"): "请在到期前办结，逾期将自动升级。",
    ("warning", "officer"): "请督促办理单位按期办结。",
    ("supervised", "lead"): "请立即办理并报告进展。",
    ("supervised", "secretary"): "请纳入督办台账。",
    ("reminded", "lead"): "请立即办理，并在案件页“报送办理情况”报告进展。",
    ("fed_back", "officer"): "请跟踪办理进度。",
    ("callback_overdue", "officer"): "请尽快回访企业，并在回访清单中记录结果。",
    ("fed_back", "secretary"): "请纳入督办台账。",
    ("deadline_recounted", "lead"): "请于 {due} 前办结。",
    ("deadline_recounted", "officer"): "请按调整后的时限跟踪办理。",
    ("extension_requested", "officer"): "请审核延期申请。",
    ("objected", "officer"): "请尽快研判并改派。",
    ("reassigned", "lead"): "请于 {due} 前受理并办结。",
    ("assigned", "lead"): "请按会议要求于 {due} 前办结，并报告办理进展。",
    ("assigned", "co"): "请配合{lead}办理。",
    ("assigned", "officer"): "请跟踪会议交办事项的办理。",
    ("assigned", "enterprise"): "您的诉求已经会议研究交办，可随时查询进度。",
    ("carried_over", "secretary"): "请将其列入下次会议议程。",
    ("carried_over", "lead"): "请准备下次会议汇报材料。",
}


@dataclass(frozen=True)
class Message:
    title: str
    text: str      # plain text, for e-mail
    markdown: str  # for WeCom and DingTalk
    link: str


def reader(recipient_kind: str, recipient: str, case: dict) -> str:
    if recipient_kind == "department":
        return "lead" if recipient == case.get("lead_department") else "co"
    return recipient_kind


def local(ts: str | None, tz: ZoneInfo) -> str:
    if not ts:
        return "（暂停计时）"
    return datetime.fromisoformat(ts).astimezone(tz).strftime("%Y年%m月%d日 %H:%M")


def render_digest(payload: dict, tz: ZoneInfo) -> Message:
    """A secretary's digest of a published agenda (议程摘要)."""
    sitting = payload["sitting"]
    items = payload.get("items") or []

    def lines(esc) -> list[str]:
        out = [f"会议时间：{local(sitting['starts_at'], tz)}；议程已截止，共 {sitting['total']} 项"
               f"（上次结转 {sitting['carried_over']} 项）。"]
        for i in items[:30]:
            out.append(f"{i['seq']}. {esc(i['tracking_no'])} {esc(i['enterprise'])}：{esc(i['matter'])}"
                       f"（牵头：{esc(i['lead'] or '待明确')}；逾期 {i['overdue_days']} 天）")
        if len(items) > 30:
            out.append(f"……另有 {len(items) - 30} 项，见完整议程。")
        return out + ["请审阅议程并通知参会单位。"]

    heading = f"【会议议程】{sitting['title']}"
    link = sitting["link"]
    text = "\n".join([heading, *lines(str), f"完整议程：{link}"])
    markdown = "\n\n".join([f"### {md(heading)}", *lines(md), f"[完整议程]({link})"])
    return Message(heading, text, markdown, link)


def render(payload: dict, recipient_kind: str, recipient: str, directory: Directory, enterprise: str,
           tz: ZoneInfo, public_url: str) -> Message:
    if payload.get("type") == "agenda_published":
        return render_digest(payload, tz)
    case = payload.get("case") or {}
    data = payload.get("data") or {}
    kind = payload.get("type", "")
    departments = {d.key: d.name for d in directory.departments}
    tiers = {t.number: t.name for t in directory.tiers}
    sitting = data.get("sitting") or data.get("minutes_of") or {}
    series = {s.key: s.name for s in directory.meeting_series}
    sitting_name = ""
    if sitting:
        sitting_name = f"{series.get(sitting.get('series'), sitting.get('series', ''))}第{sitting.get('number')}次会议" \
                       f"（{local(sitting.get('starts_at'), tz)}）"
    fields = {
        "no": case.get("tracking_no") or f"#{case.get('id')}", "ent": enterprise, "title": case.get("title", ""),
        "tier_no": case.get("tier"), "tier": tiers.get(case.get("tier"), f"第{case.get('tier')}级"),
        "due": local(case.get("due_at"), tz), "lead": departments.get(case.get("lead_department"), "待分派单位"),
        "sitting": sitting_name or "会议", "confirm_due": local(case.get("confirm_due_at"), tz),
    }
    title, happened = HAPPENED.get(kind, ("诉求动态", "诉求 {no}“{title}”有新动态（" + kind + "）。"))
    todo = TODO.get((kind, reader(recipient_kind, recipient, case)))

    def lines(esc) -> list[str]:
        f = {k: esc(v) if isinstance(v, str) else v for k, v in fields.items()}
        out = [happened.format_map(f)]
        if kind == "escalated" and sitting_name:
            out.append(f"已列入{f['sitting']}议程。")
        if kind == "resolved" and data.get("resolution"):
            out.append(f"办理结果：{esc(str(data['resolution']))}")
        if kind == "closed" and data.get("callback") and recipient_kind == "officer":
            # the call-back it owes is the officer's (回访清单); the closure itself asks nothing of them
            why = "企业逾期未确认" if data["callback"] == "by_default" else "本件抽中回访"
            out.append(f"{why}，请于 {local(data.get('callback_due'), tz)} 前回访企业，并在回访清单中记录结果。")
        if kind == "callback_overdue":
            out.append(f"回访期限：{local(data.get('callback_due'), tz)}；已尝试 {data.get('attempts', 0)} 次。")
        out.append(f"企业：{f['ent']}；当前层级：第{f['tier_no']}级 {f['tier']}；"
                   f"办理时限：{f['due'] if case.get('due_at') else '不计时'}")
        return out + ([todo.format_map(f)] if todo else [])

    link = f"{public_url}/v1/cases/{case.get('id')}"
    heading = f"【{title}】{fields['no']}"
    text = "\n".join([heading, *lines(str), f"详情：{link}"])
    markdown = "\n\n".join([f"### {md(heading)}", *lines(md), f"[查看详情]({link})"])
    return Message(heading, text, markdown, link)
