"""The directory (名录): the city's tiers, districts, departments, themes, categories, meeting
series and officers, kept by the administrator as one YAML file.

The default describes Luohe (``luohe.yaml`` beside this module, from the reference notes);
``CLOSEDLOOP_DIRECTORY`` points a deployment at its own. Loading checks the file as a whole —
unique keys, every meeting series tied to a district or theme that exists, every district and
theme with its meeting — and reports each problem with its line, like the rule files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from routing_rules.language import Duration
from routing_rules.source import SourceError, SourceErrors, read_document, validate
from routing_rules.vocabulary import Tier, Vocabulary

DEFAULT_DIRECTORY = Path(__file__).parent / "luohe.yaml"

_KEY = r"^[a-z0-9][a-z0-9_-]*$"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class City(_Entry):
    key: str = Field(pattern=_KEY)
    name: str
    timezone: str = "Asia/Shanghai"
    tracking_prefix: str = Field(pattern=r"^[A-Z]{1,6}$")


class TierEntry(_Entry):
    number: int = Field(ge=1, le=5)
    key: str = Field(pattern=_KEY)
    name: str
    kind: Literal["person", "department", "meeting"]


_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
# A referenced value is sent to the host the channel names (in its URL, or as the key that signs for
# it), so a reference may name only a variable made to be a channel secret — never the service's own
# settings (CLOSEDLOOP_ADMIN_TOKEN, CLOSEDLOOP_DATABASE_URL, …) nor the machine's (HOME, PATH, …).
_SECRET_VAR = re.compile(r"CLOSEDLOOP_(SECRET|WEBHOOK|WECOM|DINGTALK)_[A-Z0-9_]+")
SECRET_VAR_RULE = "CLOSEDLOOP_SECRET_…, CLOSEDLOOP_WEBHOOK_…, CLOSEDLOOP_WECOM_… or CLOSEDLOOP_DINGTALK_…"


def secret_var_allowed(name: str) -> bool:
    return _SECRET_VAR.fullmatch(name) is not None


class Channel(_Entry):
    """A way to reach a recipient (通知渠道): a signed webhook, a WeCom group robot (企业微信群机器人),
    a DingTalk robot (钉钉机器人) or e-mail.

    Secrets are never written here: ``secret`` must be a ``${ENV_VAR}`` reference, and a robot's
    URL carries its key as one (``...send?key=${CLOSEDLOOP_WECOM_LAND}``). They are read from the
    environment when a message is sent, and only from variables named as channel secrets
    (:func:`secret_var_allowed`)."""

    name: str | None = Field(None, pattern=_KEY, description="unique per recipient; defaults to the kind")
    kind: Literal["webhook", "wecom", "dingtalk", "email"]
    url: str | None = None
    secret: str | None = Field(None, description="a ${ENV_VAR} reference, never the secret itself")
    to: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.kind


class District(_Entry):
    key: str = Field(pattern=_KEY)
    name: str
    code: str | None = Field(None, description="GB/T 2260 division code")


class Department(_Entry):
    key: str = Field(pattern=_KEY)
    name: str
    short_name: str
    duties: str = ""
    channels: tuple[Channel, ...] = ()


class Theme(_Entry):
    key: str = Field(pattern=_KEY)
    name: str


class Category(_Entry):
    key: str = Field(pattern=_KEY)
    name: str


class MeetingSeries(_Entry):
    """A meeting series (例会): who meets, when (cron in local time), and the agenda cut-off."""

    key: str = Field(pattern=_KEY)
    name: str
    tier: Literal[2, 4, 5]
    district: str | None = None
    theme: str | None = None
    schedule: str = Field(description="cron expression in the city's time zone")
    agenda_closes_before: str = "1 days"
    secretary: str | None = None
    # the number of the first sitting this system creates: a city's series are already counting
    first_number: int = Field(1, ge=1)
    # 发文代字: the issuing office's code on the series' supervision sheets (漯企督〔2026〕17号);
    # series with one office share one sequence. Silent: the district's (tier 2) or the city's
    # first character and 企督
    sheet_prefix: str | None = Field(None, pattern=r"^[\u4e00-\u9fff]{1,6}$")
    channels: tuple[Channel, ...] = Field((), description="how the series' secretary is reached")
    # what its documents carry (版头、版记; meetings/masthead.py gives the defaults where silent)
    office: str | None = Field(None, max_length=60, description="the issuing office (发文机关, 督办机关)")
    place: str | None = Field(None, max_length=60, description="会议地点")
    chair: str | None = Field(None, max_length=60, description="主持人")
    attending: tuple[str, ...] | None = Field(None, description="出席单位 (default: the units of the items)")
    observers: tuple[str, ...] | None = Field(None, description="列席单位")
    recorder: str | None = Field(None, max_length=30, description="记录人 (default: who recorded the minutes)")
    signer: str | None = Field(None, max_length=30, description="签发人")
    contact: str | None = Field(None, max_length=30, description="联系人")
    phone: str | None = Field(None, pattern=r"^[0-9()\-+ ]{5,30}$", description="联系电话")
    distribution: tuple[str, ...] | None = Field(None, description="分送 (default: the attending units)")
    copy_to: tuple[str, ...] | None = Field(None, description="抄送")
    minutes_per_item: int = Field(10, ge=1, le=120, description="每项汇报时间（分钟）")


class Officer(_Entry):
    """A chief service officer (首席服务官)."""

    key: str = Field(pattern=_KEY)
    name: str
    district: str | None = None
    title: str = ""
    channels: tuple[Channel, ...] = ()


class Directory(_Entry):
    city: City
    tiers: tuple[TierEntry, ...]
    districts: tuple[District, ...]
    departments: tuple[Department, ...]
    themes: tuple[Theme, ...]
    categories: tuple[Category, ...] = ()
    meeting_series: tuple[MeetingSeries, ...] = ()
    officers: tuple[Officer, ...] = ()
    # Enterprises are registered over the API, not here: they are reached through the city's
    # enterprise service platform (企业服务平台), which relays each message to the enterprise named
    # in it.
    enterprise_channels: tuple[Channel, ...] = ()

    def sheet_prefix(self, series_key: str) -> str:
        """The issuing office's code on a series' supervision sheets (发文代字): the directory's, or
        the district's first character (a county meeting) or the city's, and 企督."""
        series = next(s for s in self.meeting_series if s.key == series_key)
        if series.sheet_prefix:
            return series.sheet_prefix
        district = next((d for d in self.districts if d.key == series.district), None)
        return (district.name if district else self.city.name)[0] + "企督"

    def channels_for(self, kind: str, key: str) -> list[str]:
        """The channel references (``department:land-resources/webhook``) of a recipient."""
        owners = self._channels()[1]
        return owners.get("enterprises" if kind == "enterprise" else f"{kind}:{key}", [])

    def channel(self, ref: str) -> Channel | None:
        return self._channels()[0].get(ref)

    def _channels(self) -> tuple[dict[str, Channel], dict[str, list[str]]]:
        cached = self.__dict__.get("_channel_index")
        if cached is None:
            by_ref: dict[str, Channel] = {}
            owners: dict[str, list[str]] = {}
            for owner, channels in self._channel_owners():
                for c in channels:
                    by_ref[f"{owner}/{c.label}"] = c
                    owners.setdefault(owner, []).append(f"{owner}/{c.label}")
            cached = (by_ref, owners)
            object.__setattr__(self, "_channel_index", cached)
        return cached

    def _channel_owners(self):
        yield "enterprises", self.enterprise_channels
        for d in self.departments:
            yield f"department:{d.key}", d.channels
        for o in self.officers:
            yield f"officer:{o.key}", o.channels
        for s in self.meeting_series:
            yield f"secretary:{s.key}", s.channels

    def public(self) -> dict:
        """The directory as the API shows it: channels by name and kind, never their addresses."""
        data = self.model_dump(mode="json", exclude={"enterprise_channels"})
        for section in ("departments", "officers", "meeting_series"):
            for entry in data[section]:
                entry["channels"] = [{"name": c["name"] or c["kind"], "kind": c["kind"]} for c in entry["channels"]]
        data["enterprise_channels"] = [{"name": c.label, "kind": c.kind} for c in self.enterprise_channels]
        return data

    def vocabulary(self) -> Vocabulary:
        """The names routing rules may refer to (built once: the directory is immutable)."""
        cached = self.__dict__.get("_vocabulary")
        if cached is None:
            cached = self._build_vocabulary()
            object.__setattr__(self, "_vocabulary", cached)
        return cached

    def _build_vocabulary(self) -> Vocabulary:
        return Vocabulary(
            departments={d.key: d.name for d in self.departments},
            districts={d.key: d.name for d in self.districts},
            themes={t.key: t.name for t in self.themes},
            categories={c.key: c.name for c in self.categories},
            tiers=tuple(Tier(t.number, t.key, t.name) for t in self.tiers),
        )


def _check_channels(directory: Directory, fail) -> None:
    places = [(("enterprise_channels",), directory.enterprise_channels)]
    for section in ("departments", "officers", "meeting_series"):
        places += [((section, i, "channels"), e.channels) for i, e in enumerate(getattr(directory, section))]
    for where, channels in places:
        seen: set[str] = set()
        for j, c in enumerate(channels):
            here = where + (j,)
            if c.label in seen:
                fail(here, f"two channels named '{c.label}' for one recipient; give each a distinct name")
            seen.add(c.label)
            for field in ("url", "secret"):
                for name in _ENV_REF.findall(getattr(c, field) or ""):
                    if not secret_var_allowed(name):
                        fail(here + (field,), f"${{{name}}} is not a channel secret: its value would be sent to "
                                              f"the channel's host; put the secret in a variable named "
                                              f"{SECRET_VAR_RULE} and refer to that")
            if c.kind == "email":
                if not c.to:
                    fail(here, "an email channel needs 'to': the addresses it writes to")
                continue
            if not c.url:
                fail(here, f"a {c.kind} channel needs its 'url'")
            elif not c.url.startswith(("http://", "https://", "${")):
                fail(here + ("url",), "the url must start with http:// or https://")
            if c.secret is not None and not _ENV_REF.fullmatch(c.secret):
                # the value is not echoed: it may be a real secret pasted in by mistake
                fail(here + ("secret",), "write the secret as a ${ENV_VAR} reference and set it in the "
                                         "environment; secrets are not kept in the directory file")
            if c.kind in ("webhook", "dingtalk") and c.secret is None:
                fail(here, f"a {c.kind} channel is signed: give 'secret' as a ${{ENV_VAR}} reference")
            if c.kind == "wecom" and c.url and "key=" in c.url and not _ENV_REF.search(c.url.split("key=", 1)[1]):
                fail(here + ("url",), "the robot key is a secret: write key=${ENV_VAR}, not the key itself")
            if c.kind == "dingtalk" and c.url and "access_token=" in c.url and \
                    not _ENV_REF.search(c.url.split("access_token=", 1)[1]):
                fail(here + ("url",), "the access token is a secret: write access_token=${ENV_VAR}")


def directory_path() -> Path:
    return Path(os.environ.get("CLOSEDLOOP_DIRECTORY") or DEFAULT_DIRECTORY)


def load_directory(path: Path | str | None = None) -> Directory:
    """Read and check a directory file; :class:`SourceErrors` lists every problem with its line."""
    doc = read_document(path or directory_path())
    directory, errors = validate(Directory, doc.data, doc)
    if directory is None:
        raise SourceErrors(errors)

    def fail(where: tuple, reason: str) -> None:
        errors.append(doc.error(where, reason))

    for section in ("tiers", "districts", "departments", "themes", "categories", "meeting_series", "officers"):
        seen: set[str] = set()
        for i, entry in enumerate(getattr(directory, section)):
            if entry.key in seen:
                fail((section, i, "key"), f"duplicate key '{entry.key}' in {section}")
            seen.add(entry.key)
    if sorted(t.number for t in directory.tiers) != [1, 2, 3, 4, 5]:
        fail(("tiers",), "tiers must be numbered 1 to 5, each once")

    districts = {d.key for d in directory.districts}
    themes = {t.key for t in directory.themes}
    for i, s in enumerate(directory.meeting_series):
        here = ("meeting_series", i)
        if s.tier == 2 and s.district not in districts:
            fail(here + ("district",), f"a tier-2 series needs the district it serves; known: {', '.join(sorted(districts))}")
        if s.tier == 4 and s.theme not in themes:
            fail(here + ("theme",), f"a tier-4 series needs its theme; known: {', '.join(sorted(themes))}")
        try:
            Duration.parse(s.agenda_closes_before)
        except ValueError as exc:
            fail(here + ("agenda_closes_before",), str(exc))
    served = {s.district for s in directory.meeting_series if s.tier == 2}
    for i, d in enumerate(directory.districts):
        if d.key not in served:
            fail(("districts", i), f"district '{d.key}' has no tier-2 weekly meeting in meeting_series")
    themed = {s.theme for s in directory.meeting_series if s.tier == 4}
    for i, t in enumerate(directory.themes):
        if t.key not in themed:
            fail(("themes", i), f"theme '{t.key}' has no tier-4 weekly meeting in meeting_series")
    if not any(s.tier == 5 for s in directory.meeting_series):
        fail(("meeting_series",), "there is no tier-5 joint meeting series")
    _check_channels(directory, fail)
    for i, o in enumerate(directory.officers):
        if o.district is not None and o.district not in districts:
            fail(("officers", i, "district"), f"unknown district '{o.district}'")
    if errors:
        raise SourceErrors(errors)
    return directory


__all__ = ["Channel", "DEFAULT_DIRECTORY", "Directory", "SourceError", "SourceErrors", "directory_path",
           "load_directory", "secret_var_allowed"]
