"""The ceiling for bench/intake.py: the least a FastAPI service can do for ``POST /v1/cases`` —
the fastest honest one: an async endpoint on an async driver (psycopg's AsyncConnection), which
validates the same body with pydantic, writes it with one INSERT and answers 201 with the row.
No key, no routing, no events. Same database, same uvicorn, same number of processes as the
real intake; the shared reference (../shared/bench/ceiling_app.py) does the same on asyncpg."""

import asyncio
import json
import os
from decimal import Decimal
from typing import Literal

import psycopg
from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

DSN = os.environ["CLOSEDLOOP_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
POOL = 10


class Attachment(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    size: int | None = Field(None, ge=0)


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20000)
    category: str | None = None
    amount: Decimal | None = Field(None, ge=0)
    urgency: Literal["normal", "urgent"] = "normal"
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)


app = FastAPI()


@app.on_event("startup")
async def connect() -> None:
    app.state.pool = asyncio.Queue()
    for _ in range(POOL):
        app.state.pool.put_nowait(await psycopg.AsyncConnection.connect(DSN, autocommit=True))


@app.post("/v1/cases", status_code=201)
async def submit(body: Submission) -> Response:
    conn = await app.state.pool.get()
    try:
        cur = await conn.execute("INSERT INTO bench_bare (title, description, body) VALUES (%s, %s, %s::jsonb) "
                                 "RETURNING id, created_at", (body.title, body.description, body.model_dump_json()))
        new_id, created_at = await cur.fetchone()
    finally:
        app.state.pool.put_nowait(conn)
    out = {"id": new_id, "created_at": created_at.isoformat(), **body.model_dump(mode="json")}
    return Response(json.dumps(out, ensure_ascii=False), status_code=201, media_type="application/json")
