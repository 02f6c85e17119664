/**
 * Versions pinned into generated projects. One place to bump them; the
 * end-to-end tests install exactly these.
 */
export const PYTHON_IMAGE = "3.13-slim";
export const PYTHON_REQUIRES = ">=3.11";
export const UV_VERSION = "0.13.9";

/** Runtime dependencies of every generated project (PEP 508, pinned). */
export const PYTHON_DEPENDENCIES = [
  "fastapi==0.165.0",
  "uvicorn[standard]==0.54.0",
  "openai==3.57.0",
  // openai 3.x talks HTTP through httpx2; the app catches httpx2's errors and the tests use its client.
  "httpx2==2.16.2",
  "pydantic-settings==2.16.3",
];

/** Development dependencies of every generated project. */
export const PYTHON_DEV_DEPENDENCIES = ["pytest==9.2.0", "ruff==0.17.6", "fastapi-cli==0.0.34"];
