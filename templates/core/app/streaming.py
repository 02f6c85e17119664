"""What every streamed response sends besides its events."""

from fastapi import Response

# Fly's proxy compresses a response that has no Content-Encoding for a client that accepts
# one (browsers and httpx do), and buffers the whole body to do it: the tokens of a stream
# would arrive together at its end. `none` makes the proxy pass the body on as it is sent.
STREAM_HEADERS = {"Content-Encoding": "none"}


async def unbuffered_stream(response: Response) -> None:
    """A route dependency: FastAPI copies these headers onto the route's event stream."""
    response.headers.update(STREAM_HEADERS)
