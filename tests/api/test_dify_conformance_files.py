"""File upload and preview, feedback lists, chat-only endpoints on completion apps, routing
and HTTP methods, where Kiln once differed from Dify (found by a spec review)."""

from pathlib import Path

import httpx
import pytest

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.files import (
    PNG,
    file_part,
    files_app,
    multipart,
    stored_files,
    upload,
    use_tmp_storage,
)

BOUNDARY_TYPE = "multipart/form-data; boundary=kilnboundary"
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again."
)


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


async def _raw_upload(client: httpx.AsyncClient, key: str, body: bytes) -> httpx.Response:
    headers = {**auth(key), "Content-Type": BOUNDARY_TYPE}
    return await client.post("/v1/files/upload", content=body, headers=headers)


# --- POST /v1/files/upload --------------------------------------------------------------------


async def test_upload_stores_a_png_named_jpg(client: httpx.AsyncClient) -> None:
    """Dify api/services/file_service.py FileService.upload_file never inspects the bytes:
    only the blacklist, the `datasets` source and the size limit can refuse a file; and
    dify-api-behavior.md §12.1: "No extension whitelist for app uploads; any type is stored
    ... Type checks happen later when the file is used". A PNG saved as `.jpg` (common from
    phone/browser exports) is a 201 in Dify."""
    _, key = await make_app(chat_dsl())
    resp = await upload(client, key, PNG, "photo.jpg", "image/jpeg")
    assert resp.status_code == 201, resp.text
    assert resp.json()["extension"] == "jpg"


async def test_upload_accepts_an_empty_file(client: httpx.AsyncClient) -> None:
    """Dify FileService.upload_file: `file_size = len(content)` is only compared with the
    per-class maximum; a zero-byte file is stored (201, `size: 0`)."""
    _, key = await make_app(chat_dsl())
    resp = await upload(client, key, b"", "blank.png", "image/png")
    assert resp.status_code == 201, resp.text
    assert resp.json()["size"] == 0


async def test_missing_file_part_wins_over_part_count(
    client: httpx.AsyncClient, storage_root: Path
) -> None:
    """Dify api/controllers/service_api/app/file.py checks `if "file" not in request.files:
    raise NoFileUploadedError()` *before* `if len(request.files) > 1: raise
    TooManyFilesError()`. Two file parts, neither called `file`, are therefore 400
    `no_file_uploaded`."""
    _, key = await make_app(chat_dsl())
    body = multipart([file_part(PNG, "a.png", name="doc"), file_part(PNG, "b.png", name="img")])
    resp = await _raw_upload(client, key, body)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {
        "code": "no_file_uploaded",
        "message": "Please upload your file.",
        "status": 400,
    }
    assert stored_files(storage_root) == []


async def test_part_count_is_checked_before_the_file_itself(
    client: httpx.AsyncClient, storage_root: Path
) -> None:
    """Dify api/controllers/service_api/app/file.py: `len(request.files) > 1` ->
    TooManyFilesError is raised before `if not file.mimetype: raise
    UnsupportedFileTypeError()`. A `file` part without Content-Type plus a second file part
    is 400 `too_many_files`."""
    _, key = await make_app(chat_dsl())
    body = multipart([file_part(PNG, content_type=None), file_part(PNG, "b.png", name="other")])
    resp = await _raw_upload(client, key, body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "too_many_files"
    assert stored_files(storage_root) == []


async def test_long_name_is_cut_at_the_first_dot(client: httpx.AsyncClient) -> None:
    """Dify FileService.upload_file: `if len(filename) > 200: filename =
    filename.split(".")[0][:200] + "." + extension` (every version): the stem is what
    precedes the *first* dot."""
    _, key = await make_app(chat_dsl())
    name = "report.v2." + "x" * 220 + ".txt"
    resp = await upload(client, key, b"words", name, "text/plain")
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "report.txt"
    assert resp.json()["extension"] == "txt"


async def test_extension_is_not_truncated(client: httpx.AsyncClient) -> None:
    """Dify FileService.upload_file: `extension = os.path.splitext(filename)[1].lstrip(".")
    .lower()` is stored and returned as is (UploadFile.extension is String(255))."""
    _, key = await make_app(chat_dsl())
    ext = "a" * 40
    resp = await upload(client, key, b"data", f"blob.{ext}", "application/octet-stream")
    assert resp.status_code == 201, resp.text
    assert resp.json()["extension"] == ext


@pytest.mark.parametrize(
    ("sent", "stored"), [("text/plain; charset=utf-8", "text/plain"), ("Image/PNG", "image/png")]
)
async def test_mime_type_is_the_bare_lowercased_mimetype(
    client: httpx.AsyncClient, sent: str, stored: str
) -> None:
    """Dify api/controllers/service_api/app/file.py passes `mimetype=file.mimetype` to
    FileService.upload_file; Werkzeug's `FileStorage.mimetype` is the part's Content-Type
    without parameters, lower-cased."""
    _, key = await make_app(chat_dsl())
    content, name = (b"words", "a.txt") if stored == "text/plain" else (PNG, "a.png")
    resp = await upload(client, key, content, name, sent)
    assert resp.status_code == 201, resp.text
    assert resp.json()["mime_type"] == stored


async def test_rfc5987_filename_is_understood(client: httpx.AsyncClient) -> None:
    """Werkzeug's multipart parser reads the part's disposition with
    `parse_options_header`, which decodes RFC 2231/5987 `filename*=UTF-8''...` into
    `filename`; Dify (api/controllers/service_api/app/file.py) therefore sees the file under
    `request.files["file"]` with its decoded name."""
    _, key = await make_app(chat_dsl())
    headers = {
        "Content-Disposition": "form-data; name=\"file\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt",
        "Content-Type": "text/plain",
    }
    resp = await _raw_upload(client, key, multipart([(headers, b"words")]))
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == "r\u00e9sum\u00e9.txt"
    assert resp.json()["extension"] == "txt"


# --- GET /v1/files/{id}/preview -----------------------------------------------------------------


async def _used_file(client: httpx.AsyncClient, key: str) -> str:
    file_id: str = (await upload(client, key, PNG, "photo.png", "image/png")).json()["id"]
    entry = {"type": "image", "transfer_method": "local_file", "upload_file_id": file_id}
    body = {"inputs": {}, "query": "look", "user": "alice", "files": [entry]}
    body["auto_generate_name"] = False
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return file_id


@pytest.mark.parametrize("value", ["y", "T"])
async def test_preview_as_attachment_is_a_pydantic_bool(
    client: httpx.AsyncClient, upstream: FakeUpstream, value: str
) -> None:
    """Dify api/controllers/service_api/app/file_preview.py: `class FilePreviewQuery(
    BaseModel): as_attachment: bool = False`, read with `FilePreviewQuery.model_validate(
    request.args.to_dict())`; pydantic reads 1/on/t/true/y/yes (any case) as true (the older
    reqparse `type=bool` took any non-empty string as true)."""
    _, key = await make_app(files_app())
    file_id = await _used_file(client, key)
    resp = await client.get(
        f"/v1/files/{file_id}/preview", params={"as_attachment": value}, headers=auth(key)
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["content-disposition"] == "attachment; filename*=UTF-8''photo.png"


# --- feedback ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": "102"}, "limit"), ({"page": "0"}, "page")]
)
async def test_app_feedbacks_query_errors_are_pydantic_text(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    """dify-api-behavior.md §1.1 rule 5 (pydantic ValidationError -> 400 invalid_param with
    `str(e)`); Dify api/controllers/service_api/app/message.py AppGetFeedbacksApi:
    `FeedbackListQuery.model_validate(request.args.to_dict())`, so the message starts
    "1 validation error for FeedbackListQuery\\n<field>\\n"."""
    _, key = await make_app(chat_dsl())
    resp = await client.get("/v1/app/feedbacks", params=params, headers=auth(key))
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "invalid_param"
    assert body["message"].startswith(f"1 validation error for FeedbackListQuery\n{field}\n"), body[
        "message"
    ]


# --- chat-only endpoints on a completion app ----------------------------------------------------


async def test_messages_on_completion_app_is_not_chat_app_before_query_checks(
    client: httpx.AsyncClient,
) -> None:
    """Dify api/controllers/service_api/app/message.py MessageListApi.get: the mode check
    (`raise NotChatAppError()`) runs before `MessageListQuery.model_validate(...)`. A
    completion app asked for `/messages` without `conversation_id` gets 400 `not_chat_app`;"""
    _, key = await make_app(chat_dsl(mode="completion"))
    resp = await client.get("/v1/messages", params={"user": "u"}, headers=auth(key))
    assert resp.status_code == 400, resp.text
    assert resp.json() == {
        "code": "not_chat_app",
        "message": "Please check if your app mode matches the right API route.",
        "status": 400,
    }


# --- routing and HTTP methods -------------------------------------------------------------------


async def test_method_not_allowed_carries_allow_header(client: httpx.AsyncClient) -> None:
    """Dify api/libs/external_api.py handle_error: for a Werkzeug HTTPException it answers
    with `headers = e.get_response().headers`; MethodNotAllowed's response carries
    `Allow: <valid methods>` (RFC 9110 §15.5.6 requires it on a 405)."""
    _, key = await make_app(chat_dsl())
    resp = await client.get("/v1/chat-messages", headers=auth(key))
    assert resp.status_code == 405
    assert "POST" in resp.headers.get("allow", ""), dict(resp.headers)


async def test_head_on_a_get_route_is_served(client: httpx.AsyncClient) -> None:
    """Flask/Werkzeug add HEAD to every GET rule (Dify's `/v1/info` is a flask-restx GET
    resource), so `HEAD /v1/info` is a 200 without body."""
    _, key = await make_app(chat_dsl())
    resp = await client.head("/v1/info", headers=auth(key))
    assert resp.status_code == 200


async def test_trailing_slash_is_a_dify_404_not_a_redirect(client: httpx.AsyncClient) -> None:
    """Werkzeug rules are strict about slashes: `/v1/info/` matches no rule of Dify's
    service_api blueprint, so it is the JSON 404 of dify-api-behavior.md §1.1 rule 2."""
    _, key = await make_app(chat_dsl())
    resp = await client.get("/v1/info/", headers=auth(key))
    assert resp.status_code == 404, (resp.status_code, resp.headers.get("location"))
    assert resp.json() == {"code": "not_found", "message": NOT_FOUND, "status": 404}


async def test_cors_preflight_is_answered(client: httpx.AsyncClient) -> None:
    """Dify api/extensions/ext_blueprints.py: `CORS(service_api_bp, allow_headers=[
    "Content-Type", "Authorization", "X-App-Code"], methods=["GET", "PUT", "POST", "DELETE",
    "OPTIONS", "PATCH"])` (default origins `*`). A browser preflight to `/v1/chat-messages`
    is a 2xx with `Access-Control-Allow-Origin`."""
    resp = await client.options(
        "/v1/chat-messages",
        headers={
            "Origin": "https://example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("access-control-allow-origin") in ("*", "https://example.com")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/messages/not-a-uuid/suggested"),
        ("POST", "/v1/messages/not-a-uuid/feedbacks"),
        ("GET", "/v1/files/not-a-uuid/preview"),
    ],
)
async def test_malformed_uuid_path_is_a_route_miss_even_without_a_key(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    """dify-api-behavior.md §0: ids declared `<uuid:...>` "do not match the route when
    malformed, so a bad UUID yields a plain 404 not_found (route miss)". Werkzeug routes
    before any view decorator runs, so `validate_app_token` never sees the request: 404 with
    or without a key."""
    resp = await client.request(method, path)
    assert resp.status_code == 404, resp.text
    assert resp.json() == {"code": "not_found", "message": NOT_FOUND, "status": 404}


async def test_the_bare_prefix_redirects_to_the_index(client: httpx.AsyncClient) -> None:
    """Werkzeug redirects a rule's slash-less form even with strict slashes: Dify's index
    rule is `/v1/`, so `/v1` is a 308 to it."""
    resp = await client.get("/v1")
    assert resp.status_code == 308 and resp.headers["location"] == "/v1/"


async def test_signed_file_routes_answer_cors(client: httpx.AsyncClient) -> None:
    """Dify api/extensions/ext_blueprints.py: `CORS(files_bp, allow_headers=["Content-Type"],
    ...)` — a page may fetch a signed `source_url` from the browser."""
    resp = await client.options(
        "/files/00000000-0000-0000-0000-000000000000/file-preview",
        headers={"Origin": "https://example.com", "Access-Control-Request-Method": "GET"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("access-control-allow-origin") == "*"


async def test_an_unhandled_error_still_carries_cors(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask-CORS decorates every response of the blueprint, error handler output included:
    a browser must see a 500 as a 500, not as a CORS failure."""
    from app.services.apps import info as app_info

    def broken(app: object) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(app_info, "info", broken)
    _, key = await make_app(chat_dsl())
    resp = await client.get("/v1/info", headers={**auth(key), "Origin": "https://example.com"})
    assert resp.status_code == 500
    assert resp.json() == {"code": "unknown", "message": "Internal Server Error", "status": 500}
    assert resp.headers.get("access-control-allow-origin") == "*"


async def test_a_long_extension_is_kept_out_of_the_storage_key(client: httpx.AsyncClient) -> None:
    """Dify stores the whole extension; Kiln's storage key is internal, so an absurdly long
    one must not make the upload fail."""
    _, key = await make_app(chat_dsl())
    extension = "x" * 200
    resp = await upload(client, key, b"data", f"blob.{extension}", "application/octet-stream")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["extension"] == extension
