"""The ceiling for bench/intake.py: a bare FastAPI endpoint that inserts one row, on the same
database, server and settings as the real intake, and nothing else."""

import os

from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from service.db import JSONType, make_engine

engine = make_engine(os.environ["CLOSEDLOOP_DATABASE_URL"])
metadata = MetaData()
bare = Table("bench_bare", metadata, Column("id", Integer, primary_key=True), Column("title", Text),
             Column("body", JSONType))
metadata.create_all(engine)
app = FastAPI()


@app.post("/bare", status_code=201)
def insert_one(body: dict):
    with engine.begin() as conn:
        new_id = conn.execute(insert(bare).values(title=body.get("title"), body=body).returning(bare.c.id)).scalar()
    return {"id": new_id}
