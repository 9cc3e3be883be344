"""Database migrations and the directory load: what `closedloop init` does."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

import migrations

from .directory import Directory
from .directory.models import Department, District, MeetingSeries, Officer
from .runtime import Runtime


def for_this_database(dialect: str):
    """Alembic's ``include_object`` for comparing the models with a database: an index the
    models create only on another kind of database (``Index.ddl_if``) is not missing here."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(obj, "_ddl_if", None) if type_ == "index" else None
        return only is None or only.dialect is None or only.dialect == dialect

    return include


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(rt: Runtime) -> None:
    cfg = alembic_config(rt.settings.database_url)
    with rt.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def load_directory_rows(session: Session, directory: Directory) -> dict[str, int]:
    """Upsert the directory file's entries (nothing is deleted: cases refer to old keys)."""
    counts = {}
    sections = [
        (District, directory.districts, lambda d: dict(key=d.key, name=d.name, code=d.code)),
        (Department, directory.departments,
         lambda d: dict(key=d.key, name=d.name, short_name=d.short_name, duties=d.duties)),
        (Officer, directory.officers, lambda o: dict(key=o.key, name=o.name, district=o.district, title=o.title)),
        (MeetingSeries, directory.meeting_series,
         lambda s: dict(key=s.key, name=s.name, tier=s.tier, district=s.district, theme=s.theme,
                        schedule=s.schedule, agenda_closes_before=s.agenda_closes_before, secretary=s.secretary)),
    ]
    for model, entries, values in sections:
        for entry in entries:
            session.merge(model(**values(entry)))
        session.flush()
        counts[model.__tablename__] = len(entries)
    return counts
