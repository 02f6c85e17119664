"""What every streamed response sends besides its events."""

from fastapi import Response


async def unbuffered_stream(response: Response) -> None:
    """A route dependency: FastAPI copies this header onto the route's event stream."""
    # Fly's proxy compresses a response that has no Content-Encoding for a client that accepts
    # one, and buffers the whole body to do it: the tokens would arrive together at the end.
    response.headers["Content-Encoding"] = "none"
