"""A FastAPI service that streams LLM answers over Server-Sent Events."""
