import pytest
from fastapi.testclient import TestClient


def test_the_chat_page_is_served_at_the_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    page = response.text
    assert '<script src="/ui/chat.js" defer></script>' in page
    assert 'id="prompt"' in page
    assert 'id="stop"' in page


def test_the_script_and_the_stylesheet_come_from_this_origin(client: TestClient) -> None:
    script = client.get("/ui/chat.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"/v1/chat/stream"' in script.text
    style = client.get("/ui/chat.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/", "/ui/chat.js", "/ui/chat.css"])
def test_nothing_is_loaded_from_elsewhere(client: TestClient, path: str) -> None:
    text = client.get(path).text
    assert "http://" not in text
    assert "https://" not in text


def test_only_the_page_and_its_files_are_served(client: TestClient) -> None:
    for path in ["/", "/ui/chat.js", "/ui/chat.css"]:
        assert client.get(path).status_code == 200
    assert client.get("/ui/other.js").status_code == 404


def test_the_page_is_not_part_of_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/ui/") for path in paths)
