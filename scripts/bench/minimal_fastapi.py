"""The framework floor: FastAPI with one route shaped like the generated app's /healthz and
nothing else (no middleware, no dependency), served by the same uvicorn as the generated app.
What any FastAPI route costs on this machine, between the bare ASGI ceiling and the app."""

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]
    provider: str
    model: str
    region: str | None


app = FastAPI()


@app.get("/healthz")
async def healthz() -> Health:
    return Health(status="ok", provider="mock", model="mock-echo", region=None)
