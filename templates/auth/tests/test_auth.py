"""API keys: 401 without one, rotation with two, public health check and docs, and the
refusal to start open on Fly.io."""

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.auth import key_id
from app.config import SettingError
from app.main import create_app
from tests.support import make_settings

OLD_KEY = "sk-old-0123456789abcdef"
NEW_KEY = "sk-new-fedcba9876543210"
CHAT = {"messages": [{"role": "user", "content": "hello there"}]}


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture
def keyed() -> TestClient:
    return TestClient(create_app(make_settings(api_keys=f"{OLD_KEY}, {NEW_KEY}")))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no header"),
        pytest.param(bearer("sk-wrong-0123456789abcdef"), id="unknown key"),
        pytest.param({"authorization": OLD_KEY}, id="no scheme"),
        pytest.param({"authorization": f"Basic {OLD_KEY}"}, id="other scheme"),
        pytest.param({"authorization": "Bearer "}, id="empty"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
def test_requests_without_a_valid_key_get_401(
    keyed: TestClient, headers: dict[str, str], path: str
) -> None:
    with keyed as client:
        response = client.post(path, json=CHAT, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "error": {
            "code": "unauthorized",
            "message": "Missing or unknown API key: send Authorization: Bearer <key>.",
        }
    }


def test_both_keys_work_during_a_rotation(keyed: TestClient) -> None:
    with keyed as client:
        for key in (OLD_KEY, NEW_KEY):
            assert client.post("/v1/chat", json=CHAT, headers=bearer(key)).status_code == 200
            stream = client.post("/v1/chat/stream", json=CHAT, headers=bearer(f" {key} "))
            assert stream.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/docs", "/redoc", "/openapi.json"])
def test_health_and_docs_need_no_key(keyed: TestClient, path: str) -> None:
    with keyed as client:
        assert client.get(path).status_code == 200


def test_docs_can_be_switched_off() -> None:
    settings = make_settings(api_keys=OLD_KEY, docs_enabled=False)
    with TestClient(create_app(settings)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404
        assert client.get("/healthz").status_code == 200


def test_mounted_apps_are_covered_too() -> None:
    app = create_app(make_settings(api_keys=OLD_KEY))
    app.mount("/mounted", Starlette(routes=[Route("/", lambda _: PlainTextResponse("inside"))]))
    with TestClient(app) as client:
        assert client.get("/mounted/").status_code == 401
        assert client.get("/mounted/", headers=bearer(OLD_KEY)).text == "inside"


def test_a_cors_preflight_is_not_asked_for_a_key() -> None:
    settings = make_settings(api_keys=OLD_KEY, cors_origins="https://app.example.com")
    with TestClient(create_app(settings)) as client:
        response = client.options(
            "/v1/chat",
            headers={"origin": "https://app.example.com", "access-control-request-method": "POST"},
        )
        assert response.status_code == 200
        refused = client.post("/v1/chat", json=CHAT, headers={"origin": "https://app.example.com"})
        assert refused.status_code == 401
        # The 401 carries CORS headers, so the page can read it.
        assert refused.headers["access-control-allow-origin"] == "https://app.example.com"


def test_without_keys_the_api_is_open_off_fly(client: TestClient) -> None:
    assert client.post("/v1/chat", json=CHAT).status_code == 200


def test_on_fly_the_app_refuses_to_start_without_keys() -> None:
    with pytest.raises(SettingError, match="API_KEYS is not set"):
        create_app(make_settings(fly_app_name="my-api"))


def test_short_keys_are_refused_at_startup() -> None:
    with pytest.raises(SettingError, match="at least 16 characters"):
        create_app(make_settings(api_keys=f"{OLD_KEY},short"))


def test_openapi_declares_the_bearer_scheme(keyed: TestClient) -> None:
    with keyed as client:
        schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    chat = schema["paths"]["/v1/chat"]["post"]
    assert chat["security"] == [{"apiKey": []}]
    assert "401" in chat["responses"]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_key_ids_tell_keys_apart_without_showing_them() -> None:
    assert key_id(OLD_KEY) != key_id(NEW_KEY)
    assert len(key_id(OLD_KEY)) == 8
    assert key_id(OLD_KEY) not in OLD_KEY
