"""The chat page: `GET /` serves a small page that streams answers from /v1/chat/stream.

No build step and nothing from a CDN: the page, its script and its stylesheet are the
files in app/static/, read once at startup and served from this origin only.
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

STATIC = Path(__file__).resolve().parent.parent / "static"

PAGE = (STATIC / "index.html").read_text(encoding="utf-8")
SCRIPT = (STATIC / "chat.js").read_text(encoding="utf-8")
STYLE = (STATIC / "chat.css").read_text(encoding="utf-8")

# Script, style and requests from this origin only: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}

router = APIRouter(tags=["ui"], include_in_schema=False)


@router.get("/")
async def chat_page() -> HTMLResponse:
    """The page itself; the conversation lives in the browser, not on the server."""
    headers = {
        **HEADERS,
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(PAGE, headers=headers)


@router.get("/ui/chat.js")
async def chat_script() -> Response:
    return Response(SCRIPT, media_type="text/javascript; charset=utf-8", headers=HEADERS)


@router.get("/ui/chat.css")
async def chat_style() -> Response:
    return Response(STYLE, media_type="text/css; charset=utf-8", headers=HEADERS)
