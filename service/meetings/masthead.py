"""What every agenda, minutes and supervision sheet carries besides its items (版头与版记): the
issuing office, the place, who chairs, who attends and who sits in, who records and signs, the
contact, where the document is distributed — from the directory's meeting series, with the
defaults an office would write where the directory is silent. One place, so that the agenda, the
minutes and the sheets of one sitting say the same.

Defaults (docs/directory.md):

- issuing office (发文机关/督办机关): the county's (tier 2) or the city's 优化营商环境工作领导小组办公室;
- place: the office's meeting room (…会议室); chair: the county's or the city's leader in charge
  (tier 2 区/县政府分管负责同志, tier 4 市政府分管副市长, tier 5 市委、市政府主要负责同志);
- attending units (出席): the lead and co-handling units of the sitting's items; sitting in (列席):
  the chief service officers of the enterprises concerned;
- recorder and contact: 会议秘书 (the series' secretary, by office); signer: the chair;
- distribution (分送): the attending units; copy (抄送): the city's leaders' offices.

The sheets' category (督办类别) and their feedback requirement (反馈要求) are decided here too.
"""

from __future__ import annotations

from pydantic import BaseModel

from routing_rules.language import Duration


class Masthead(BaseModel):
    office: str
    place: str
    chair: str
    attending: list[str]
    observers: list[str]
    recorder: str
    signer: str
    contact: str
    phone: str
    distribution: list[str]
    copy_to: list[str]
    minutes_per_item: int


def _scope_name(directory, series) -> str:
    district = next((d for d in directory.districts if d.key == series.district), None) if series.tier == 2 else None
    return district.name if district else directory.city.name


def masthead(directory, series, units: list[str]) -> Masthead:
    """The series' document fields; ``units``: the lead and co-handling units of the sitting's items
    (who attends when the directory does not say)."""
    scope = _scope_name(directory, series)
    office = series.office or f"{scope}优化营商环境工作领导小组办公室"
    chair = series.chair or {2: f"{scope}政府分管负责同志", 4: "市政府分管副市长",
                             5: "市委、市政府主要负责同志"}.get(series.tier, "会议召集人")
    attending = list(series.attending) if series.attending is not None else list(dict.fromkeys(units))
    return Masthead(
        office=office, place=series.place or f"{office}会议室", chair=chair, attending=attending,
        observers=list(series.observers) if series.observers is not None else ["相关企业首席服务官"],
        recorder=series.recorder or "会议秘书", signer=series.signer or chair,
        contact=series.contact or series.secretary or "会议秘书", phone=series.phone or "",
        distribution=list(series.distribution) if series.distribution is not None else attending,
        copy_to=list(series.copy_to) if series.copy_to is not None else [f"{directory.city.name}委办公室",
                                                                          f"{directory.city.name}政府办公室"],
        minutes_per_item=series.minutes_per_item)


# 督办类别, in the order they outrank each other
LISTED, KEY, ORDINARY = "挂牌督办", "重点督办", "一般督办"


def category(case) -> str:
    """挂牌督办: a case the city's top meeting supervises (tier 5 or flagged supervised); 重点督办: a
    city meeting's (tier 4) or a key project's (the key-project deadline policy); else 一般督办."""
    if case.supervised or case.tier >= 5:
        return LISTED
    if case.tier >= 4 or case.sla_policy == "key-project":
        return KEY
    return ORDINARY


def feedback_requirement(interval: Duration, office: str) -> str:
    """反馈要求: how often and to whom the responsible unit reports until the matter is closed."""
    every = f"{interval.amount}个工作日" if interval.unit == "working_days" else str(interval)
    return (f"请责任单位自收到本督办单之日起每{every}向{office}书面反馈一次办理进展（填写回执，或在系统中"
            f"“报送办理情况”），办结后3个工作日内报送办结情况，直至销号。")


RECEIPT_FIELDS = ["办理情况", "下一步工作", "预计办结时间", "承办人", "联系电话", "单位负责人签字", "报送日期", "（单位盖章）"]
