"""What every streamed response sends besides its events."""

from fastapi import Response


async def unbuffered_stream(response: Response) -> None:
    """A route dependency: FastAPI copies this header onto the route's event stream."""
    # Fly's proxy compresses, and so buffers, a response that has no Content-Encoding.
    response.headers["Content-Encoding"] = "none"
