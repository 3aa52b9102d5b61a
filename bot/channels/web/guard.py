"""Only the chat page itself may post to the web chat.

Every POST must say `Content-Type: application/json` (a page elsewhere can send
`text/plain` without asking the browser's permission; `application/json` from another
origin needs a CORS preflight, which this service never grants) and must come from the
page's own origin: `Origin` (or, when a browser leaves it out, `Referer`) equal to
HOTLINE_PUBLIC_URL's origin or to the origin the request itself was sent to. Anything else
is refused before anything is read or written.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Settings


def refuse_foreign(request: Request, settings: Settings) -> Response | None:
    """403 for a post from another origin (or none), 415 for a body not declared JSON;
    None when the post may go on."""
    origin = request.headers.get("origin") or _origin(request.headers.get("referer"))
    if origin is None or origin.lower() not in _allowed(request, settings):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return JSONResponse({"error": "unsupported_media_type"}, status_code=415)
    return None


def _allowed(request: Request, settings: Settings) -> set[str]:
    allowed = set()
    if settings.public_url:
        public = _origin(settings.public_url)
        if public is not None:
            allowed.add(public.lower())
    host = request.headers.get("host")
    if host:
        allowed.add(f"{request.url.scheme}://{host}".lower())
    return allowed


def _origin(url: str | None) -> str | None:
    """`scheme://host[:port]` of a URL; None for no URL, `null` or a non-web one."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"
