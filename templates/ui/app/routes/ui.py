"""The chat page at `GET /` and the files it loads, from app/static/: no build step, no CDN."""

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")
# The files the page loads, by name: their content and media type.
FILES = {
    name: ((STATIC / name).read_text(encoding="utf-8"), media_type)
    for name, media_type in [("chat.js", "text/javascript"), ("chat.css", "text/css")]
}
# Script, style and requests from this origin only: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(tags=["ui"], include_in_schema=False)


@router.get("/")
async def chat_page() -> HTMLResponse:
    """The page itself; the conversation lives in the browser, not on the server."""
    return HTMLResponse(PAGE, headers=HEADERS)


@router.get("/ui/{name}")
async def page_file(name: str) -> Response:
    if name not in FILES:
        raise HTTPException(status_code=404)
    content, media_type = FILES[name]
    return Response(content, media_type=media_type, headers=HEADERS)
