from fastapi.testclient import TestClient

from app.main import create_app
from tests.fake_upstream import FakeUpstream
from tests.support import make_settings


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "provider": "mock",
        "model": "test-model",
        "region": None,
    }


def test_healthz_reports_the_fly_region() -> None:
    with TestClient(create_app(make_settings(fly_region="ams"))) as client:
        assert client.get("/healthz").json()["region"] == "ams"


def test_healthz_never_calls_the_provider(
    upstream_client: TestClient, upstream: FakeUpstream
) -> None:
    response = upstream_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["provider"] == "openai-compatible"
    assert upstream.requests == []


def test_openapi_names_every_operation(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = {
        operation["operationId"]: (path, method)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    always = {
        "healthz": ("/healthz", "get"),
        "chat": ("/v1/chat", "post"),
        "chat_stream": ("/v1/chat/stream", "post"),
    }
    assert operations.items() >= always.items()  # optional features add their own
    stream = schema["paths"]["/v1/chat/stream"]["post"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream
    assert client.get("/docs").status_code == 200


def test_readyz_reports_each_check_a_feature_declares(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert all(body["checks"].values())
