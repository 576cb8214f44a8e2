"""The http-request node through the real guarded caller against a loopback server (the
only address the tests' allow-list lets through): request building for every body type
and auth mode, headers and params, responses (text, files, sizes, statuses), timeouts,
redirects and the SSRF guard."""

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest

from app.engine.nodes.base import NodeConfigError, NodeError, NodeResult
from app.engine.nodes.http_request.node import HttpRequestNode
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue
from app.engine.workflow.env import WorkflowLimits, WorkflowServices
from app.net.http_node import GuardedHttpCaller, HttpReply
from app.net.ssrf import AllowList
from tests.engine.nodes.http_site import Site, http_site
from tests.engine.nodes.single_node import pool_with, run_node, spec
from tests.support.files import PNG

LOOPBACK = AllowList.parse("127.0.0.1/32")
NOTE = FileValue(
    type="document",
    transfer_method="local_file",
    filename="a.txt",
    mime_type="text/plain",
    related_id="upload-1",
)
SHEET = FileValue(
    type="document",
    transfer_method="remote_url",
    filename="b.csv",
    mime_type="",
    url="https://files.example.test/b.csv",
)
CONTENTS = {"a.txt": b"hello", "b.csv": b"x,y\n1,2\n"}


@pytest.fixture(scope="module")
def module_site() -> Iterator[Site]:
    with http_site() as site:
        yield site


@pytest.fixture
def site(module_site: Site) -> Site:
    module_site.requests.clear()
    return module_site


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a connection is opened to."""
    seen: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def recording(self: Any, host: str, port: int, *args: Any, **kw: Any) -> Any:
        seen.append(host)
        return await original(self, host, port, *args, **kw)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", recording)
    return seen


class Store:
    """`save_file` and `read_file` for the tests."""

    def __init__(self) -> None:
        self.saved: list[tuple[bytes, str, str]] = []

    async def save(self, content: bytes, mime_type: str, filename: str) -> FileValue:
        self.saved.append((content, mime_type, filename))
        extension = "." + filename.rsplit(".", 1)[-1]
        return FileValue(
            type="image" if mime_type.startswith("image/") else "document",
            transfer_method="tool_file",
            filename=filename,
            extension=extension,
            mime_type=mime_type,
            size=len(content),
            url=f"https://files.example.test/tools/{len(self.saved)}{extension}",
        )

    async def read(self, file: FileValue) -> bytes:
        return CONTENTS[file.filename]


def services(store: Store | None = None, allow: AllowList = LOOPBACK) -> WorkflowServices:
    store = store or Store()
    return WorkflowServices(
        http=GuardedHttpCaller(allow), save_file=store.save, read_file=store.read
    )


def request_data(url: str, method: str = "get", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "method": method,
        "url": url,
        "authorization": {"type": "no-auth", "config": None},
        "headers": "",
        "params": "",
        "body": {"type": "none", "data": []},
        "timeout": {"max_connect_timeout": 0, "max_read_timeout": 0, "max_write_timeout": 0},
    }
    data.update(extra)
    return data


def api_key(kind: str, key: str, header: str = "") -> dict[str, Any]:
    return {"type": "api-key", "config": {"type": kind, "api_key": key, "header": header}}


def body(kind: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "data": list(items)}


def text_item(value: str, key: str = "") -> dict[str, Any]:
    return {"key": key, "type": "text", "value": value}


def file_item(key: str, selector: list[str]) -> dict[str, Any]:
    return {"key": key, "type": "file", "value": "", "file": selector}


async def call(
    data: dict[str, Any],
    pool: VariablePool | None = None,
    store: Store | None = None,
    limits: WorkflowLimits | None = None,
    service: WorkflowServices | None = None,
) -> NodeResult:
    return await run_node("http-request", data, pool, service or services(store), limits)


def echoed(result: NodeResult) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(result.outputs["body"])
    return found


# -- request building ----------------------------------------------------------------------


async def test_get_with_templated_params_and_headers(site: Site) -> None:
    data = request_data(
        "{{#env.BASE#}}/echo/search",
        headers="X-Trace:trace-{{#start.q#}}\nAccept:application/json\n\nX-Empty\n X-Colon : a:b ",
        params="q:{{#start.q#}}\nq:second\nlimit:5\n:skipped\nflag",
    )
    pool = pool_with({"env": {"BASE": site.base}, "start": {"q": "kiln"}})
    result = await call(data, pool)
    assert result.outputs["status_code"] == 200 and result.outputs["files"] == []
    assert result.outputs["headers"]["content-type"] == "application/json"
    seen = site.requests[0]
    assert seen.method == "GET" and seen.path == "/echo/search?q=kiln&q=second&limit=5&flag="
    assert seen.headers["x-trace"] == "trace-kiln" and seen.headers["accept"] == "application/json"
    assert seen.headers["x-empty"] == "" and seen.headers["x-colon"] == "a:b"
    assert result.process_data["request"].startswith(
        "GET /echo/search?q=kiln&q=second&limit=5&flag= HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{site.port}\r\nX-Trace: trace-kiln\r\n"
    )


async def test_params_merge_into_the_url_query(site: Site) -> None:
    result = await call(request_data(f"{site.base}/echo?a=1&b=2", params="c:3"))
    assert echoed(result)["query"] == {"a": ["1"], "b": ["2"], "c": ["3"]}


@pytest.mark.parametrize("method", ["POST", "put", "Patch", "delete", "options"])
async def test_methods_in_any_case(site: Site, method: str) -> None:
    result = await call(request_data(f"{site.base}/echo", method=method))
    assert echoed(result)["method"] == method.upper()


async def test_head_has_no_body(site: Site) -> None:
    result = await call(request_data(f"{site.base}/echo", method="head"))
    assert result.outputs["status_code"] == 200 and result.outputs["body"] == ""
    assert site.requests[0].method == "HEAD"


async def test_json_body(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo",
        method="post",
        body=body("json", text_item('{"query": "{{#start.q#}}", "count": 2, "é": true}')),
    )
    result = await call(data, pool_with({"start": {"q": "kiln"}}))
    got = echoed(result)
    assert got["body"] == '{"query":"kiln","count":2,"é":true}'
    assert got["headers"]["content-type"] == "application/json"
    assert result.process_data["request"].endswith(
        "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n"
        '{"query": "kiln", "count": 2, "é": true}'
    )


async def test_own_content_type_is_kept(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo",
        method="post",
        headers="content-type: application/vnd.api+json",
        body=body("json", text_item("[1, 2]")),
    )
    got = echoed(await call(data))
    assert got["headers"]["content-type"] == "application/vnd.api+json" and got["body"] == "[1,2]"


async def test_invalid_json_body() -> None:
    data = request_data("http://127.0.0.1:9/", method="post", body=body("json", text_item("{bad")))
    with pytest.raises(NodeError) as caught:
        await call(data)
    assert (caught.value.message, caught.value.error_type) == (
        "Failed to parse JSON: {bad",
        "RequestBodyError",
    )


async def test_single_item_bodies_need_exactly_one_item() -> None:
    data = request_data(
        "http://127.0.0.1:9/", method="post", body=body("json", text_item("1"), text_item("2"))
    )
    with pytest.raises(NodeError, match="^json body type should have exactly one item$"):
        await call(data)


async def test_raw_text_body_and_the_old_bare_string(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo", method="post", body=body("raw-text", text_item("hi {{#start.q#}}"))
    )
    got = echoed(await call(data, pool_with({"start": {"q": "kiln"}})))
    assert got["body"] == "hi kiln" and got["headers"]["content-type"] == "text/plain"
    old = request_data(f"{site.base}/echo", method="post", body={"type": "raw-text", "data": "old"})
    assert echoed(await call(old))["body"] == "old"


async def test_urlencoded_body(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo",
        method="post",
        body=body(
            "x-www-form-urlencoded", text_item("1", key="a"), text_item("{{#start.q#}} x", key="b")
        ),
    )
    got = echoed(await call(data, pool_with({"start": {"q": "kiln"}})))
    assert got["body"] == "a=1&b=kiln+x"
    assert got["headers"]["content-type"] == "application/x-www-form-urlencoded"


async def test_form_data_with_files(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo",
        method="post",
        headers="Content-Type: text/plain",  # the multipart encoder sets its own
        body=body(
            "form-data",
            text_item("{{#start.q#}}", key="q"),
            file_item("doc", ["start", "doc"]),
            file_item("sheets", ["start", "sheets"]),
        ),
    )
    pool = pool_with({"start": {"q": "kiln", "doc": NOTE, "sheets": [SHEET]}})
    result = await call(data, pool)
    got = echoed(result)
    assert got["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    sent = got["body"]
    assert 'name="q"\r\n\r\nkiln\r\n' in sent
    assert 'name="doc"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n' in sent
    assert 'name="sheets"; filename="b.csv"\r\nContent-Type: application/octet-stream' in sent
    log = result.process_data["request"]
    assert "Content-Type: multipart/form-data; boundary=----WebKitFormBoundary" in log
    assert "<file_content_binary: 'a.txt', type='text/plain', size=5 bytes>" in log


async def test_form_data_without_files_is_still_multipart(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo", method="post", body=body("form-data", text_item("v", key="k"))
    )
    got = echoed(await call(data))
    assert got["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="k"\r\n\r\nv\r\n' in got["body"] and "__multipart_placeholder__" in got["body"]


async def test_binary_body(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo", method="put", body=body("binary", file_item("", ["start", "doc"]))
    )
    result = await call(data, pool_with({"start": {"doc": NOTE}}))
    assert site.requests[0].body == b"hello"
    assert result.process_data["request"].endswith("<binary_content: size=5 bytes>")


async def test_binary_body_without_the_file_or_file_access() -> None:
    data = request_data(
        "http://127.0.0.1:9/", method="put", body=body("binary", file_item("", ["start", "doc"]))
    )
    with pytest.raises(NodeError) as caught:
        await call(data, pool_with({"start": {}}))
    assert caught.value.message == "cannot fetch file with selector ['start', 'doc']"
    assert caught.value.error_type == "FileFetchError"
    no_files = WorkflowServices(http=GuardedHttpCaller(LOOPBACK))
    with pytest.raises(NodeError, match="this run has no file access"):
        await call(data, pool_with({"start": {"doc": NOTE}}), service=no_files)


# -- authorization -------------------------------------------------------------------------


async def test_bearer_from_a_secret_is_masked_in_the_log(site: Site) -> None:
    data = request_data(f"{site.base}/echo", authorization=api_key("bearer", "{{#env.TOKEN#}}"))
    pool = pool_with({"env": {"TOKEN": "tok-123"}}, secrets=("tok-123",))
    result = await call(data, pool)
    assert echoed(result)["headers"]["authorization"] == "Bearer tok-123"
    log = result.process_data["request"]
    assert "tok-123" not in log and "Authorization: **************\r\n" in log


@pytest.mark.parametrize(
    ("key", "sent"),
    [
        ("user:pw", "Basic " + base64.b64encode(b"user:pw").decode()),
        ("dXNlcjpwdw==", "Basic dXNlcjpwdw=="),  # no colon: taken as already encoded
    ],
)
async def test_basic(site: Site, key: str, sent: str) -> None:
    result = await call(request_data(f"{site.base}/echo", authorization=api_key("basic", key)))
    assert echoed(result)["headers"]["authorization"] == sent


async def test_custom_header(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo",
        headers="authorization: mine",
        authorization=api_key("custom", "k-1", header="X-Api-Key"),
    )
    result = await call(data)
    headers = echoed(result)["headers"]
    assert headers["x-api-key"] == "k-1" and headers["authorization"] == "mine"
    assert "X-Api-Key: ***\r\n" in result.process_data["request"]


async def test_auth_replaces_a_header_of_the_same_name(site: Site) -> None:
    data = request_data(
        f"{site.base}/echo", headers="authorization: mine", authorization=api_key("bearer", "t")
    )
    await call(data)
    assert site.requests[0].headers["authorization"] == "Bearer t"


async def test_empty_api_key() -> None:
    data = request_data("http://127.0.0.1:9/", authorization=api_key("bearer", "{{#env.NONE#}}"))
    with pytest.raises(NodeError) as caught:
        await call(data, pool_with({"env": {"NONE": ""}}))
    assert caught.value.error_type == "AuthorizationConfigError"
    assert caught.value.message.startswith("API key is required for authorization")


# -- responses -----------------------------------------------------------------------------


async def test_a_file_response_becomes_a_file(site: Site) -> None:
    store = Store()
    result = await call(request_data(f"{site.base}/png"), store=store)
    assert store.saved == [(PNG, "image/png", "png.png")]
    assert result.outputs["body"] == ""
    [file] = result.outputs["files"]
    assert (file.type, file.transfer_method, file.size) == ("image", "tool_file", len(PNG))


async def test_an_attachment_is_a_file_named_by_its_disposition(site: Site) -> None:
    store = Store()
    result = await call(request_data(f"{site.base}/attachment"), store=store)
    assert store.saved == [(b"a report", "text/plain", "report.txt")]
    assert result.outputs["body"] == "" and len(result.outputs["files"]) == 1


async def test_binary_type_that_reads_as_text_is_text(site: Site) -> None:
    result = await call(request_data(f"{site.base}/octet-json"))
    assert result.outputs["body"] == '{"ok": true}' and result.outputs["files"] == []


async def test_a_file_without_storage_is_left_out_with_a_note(site: Site) -> None:
    service = WorkflowServices(http=GuardedHttpCaller(LOOPBACK))
    result = await call(request_data(f"{site.base}/png"), service=service)
    assert result.outputs["files"] == [] and result.outputs["body"] == ""
    assert "not kept: this run has no file storage" in result.process_data["note"]


async def test_gzip_is_decoded(site: Site) -> None:
    result = await call(request_data(f"{site.base}/gzip"))
    assert json.loads(result.outputs["body"]) == {"zipped": True}
    assert site.requests[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("path", "text_cap", "binary_cap", "message"),
    [
        (
            "/text?n=500",
            100,
            10_000,
            "Text size is too large, max size is 0.00 MB, but current size is 500 bytes.",
        ),
        (
            "/binary?n=5000",
            10_000,
            1_000,
            "File size is too large, max size is 0.00 MB, but current size is 4.88 KB.",
        ),
        ("/binary?n=50000", 1_000, 10_000, "Response size is too large, max size is 0.01 MB."),
        ("/bomb", 1_000, 100_000, "Response size is too large, max size is 0.10 MB."),
    ],
)
async def test_size_caps(
    site: Site, path: str, text_cap: int, binary_cap: int, message: str
) -> None:
    limits = WorkflowLimits(http_max_text_size=text_cap, http_max_binary_size=binary_cap)
    with pytest.raises(NodeError) as caught:
        await call(request_data(f"{site.base}{path}"), limits=limits)
    assert (caught.value.message, caught.value.error_type) == (message, "ResponseSizeError")
    assert caught.value.process_data["request"].startswith("GET ")


async def test_under_the_caps(site: Site) -> None:
    limits = WorkflowLimits(http_max_text_size=500, http_max_binary_size=100)
    result = await call(request_data(f"{site.base}/text?n=500"), limits=limits)
    assert result.outputs["body"] == "t" * 500


async def test_a_bad_status_succeeds_without_a_strategy(site: Site) -> None:
    result = await call(request_data(f"{site.base}/status/503"))
    assert result.outputs["status_code"] == 503 and result.outputs["body"] == "status 503"


@pytest.mark.parametrize(
    "extra",
    [
        {"error_strategy": "default-value", "default_value": []},
        {"error_strategy": "fail-branch"},
        {"retry_config": {"retry_enabled": True, "max_retries": 1, "retry_interval": 10}},
    ],
)
async def test_a_bad_status_fails_with_a_strategy_or_retry(site: Site, extra: Any) -> None:
    with pytest.raises(NodeError) as caught:
        await call(request_data(f"{site.base}/status/404", **extra))
    error = caught.value
    assert (error.message, error.error_type) == (
        "Request failed with status code 404",
        "HTTPResponseCodeError",
    )
    assert error.outputs["status_code"] == 404 and error.outputs["body"] == "status 404"
    assert error.outputs["files"] == [] and "content-type" in error.outputs["headers"]
    assert error.process_data["request"].startswith("GET /status/404 HTTP/1.1")


async def test_read_timeout(site: Site) -> None:
    started = time.monotonic()
    with pytest.raises(NodeError) as caught:
        await call(request_data(f"{site.base}/slow?s=3", timeout={"read": 1}))
    assert "timed out" in caught.value.message
    assert caught.value.error_type == "HttpRequestNodeError"
    assert time.monotonic() - started < 2.5


def test_timeouts_default_and_cap() -> None:
    limits = WorkflowLimits(http_timeouts=(10.0, 60.0, 20.0))
    node = HttpRequestNode(spec("http-request", request_data("http://x/", timeout=None)))
    assert node.timeouts(limits) == (10.0, 60.0, 20.0)
    given = {"connect": 0, "read": 5000, "write": 3, "max_read_timeout": 1}
    node = HttpRequestNode(spec("http-request", request_data("http://x/", timeout=given)))
    assert node.timeouts(limits) == (10.0, 600.0, 3.0)


# -- the guard -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"]
)
async def test_inward_addresses_are_refused(url: str, connects: list[str]) -> None:
    with pytest.raises(NodeError) as caught:
        await call(request_data(url))
    assert "disallowed address" in caught.value.message
    assert caught.value.error_type == "HttpRequestNodeError"
    assert connects == []


async def test_loopback_needs_the_allow_list(site: Site, connects: list[str]) -> None:
    with pytest.raises(NodeError, match="disallowed address"):
        await call(request_data(f"{site.base}/echo"), service=services(allow=AllowList()))
    assert connects == [] and site.requests == []


@pytest.mark.parametrize("target", ["http://10.0.0.1/secret", "http://169.254.169.254/"])
async def test_redirects_are_rechecked(site: Site, connects: list[str], target: str) -> None:
    with pytest.raises(NodeError, match="disallowed address"):
        await call(request_data(f"{site.base}/redirect?to={target}"))
    assert [seen.path for seen in site.requests] == [f"/redirect?to={target}"]
    assert connects == ["127.0.0.1"]


async def test_redirect_turns_a_post_into_a_get(site: Site) -> None:
    data = request_data(
        f"{site.base}/redirect?status=302&to=/echo/next",
        method="post",
        body=body("json", text_item('{"a": 1}')),
    )
    got = echoed(await call(data))
    assert (got["method"], got["path"], got["body"]) == ("GET", "/echo/next", "")
    assert "content-type" not in got["headers"]


async def test_redirect_307_keeps_method_and_body(site: Site) -> None:
    data = request_data(
        f"{site.base}/redirect?status=307&to=/echo/kept",
        method="post",
        body=body("json", text_item('{"a": 1}')),
    )
    got = echoed(await call(data))
    assert (got["method"], got["path"], got["body"]) == ("POST", "/echo/kept", '{"a":1}')


async def test_authorization_stays_with_its_origin(site: Site) -> None:
    auth = api_key("bearer", "secret-token")
    same = request_data(f"{site.base}/redirect?to=/echo/same", authorization=auth)
    assert echoed(await call(same))["headers"]["authorization"] == "Bearer secret-token"
    other = f"http://localhost:{site.port}/echo/other"  # another origin, same server
    moved = request_data(f"{site.base}/redirect?to={other}", authorization=auth, headers="X-K:v")
    got = echoed(await call(moved))
    assert "authorization" not in got["headers"] and got["headers"]["x-k"] == "v"
    assert got["headers"]["host"] == f"localhost:{site.port}"


async def test_redirects_are_bounded(site: Site) -> None:
    caller = GuardedHttpCaller(LOOPBACK, max_redirects=2)
    with pytest.raises(Exception, match="more than 2 redirects"):
        await caller.request(
            "GET",
            f"{site.base}/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/redirect",
            headers={},
            params=[],
            content=None,
            files=None,
            data=None,
            timeouts=(5.0, 5.0, 5.0),
            max_size=1000,
            verify=True,
        )


# -- urls, config, services ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("{{#env.EMPTY#}}", "url is required"),
        ("ftp://127.0.0.1/x", "url should start with http:// or https://"),
    ],
)
async def test_invalid_urls(url: str, message: str) -> None:
    with pytest.raises(NodeError) as caught:
        await call(request_data(url), pool_with({"env": {"EMPTY": ""}}))
    assert (caught.value.message, caught.value.error_type) == (message, "InvalidURLError")


async def test_no_http_service() -> None:
    with pytest.raises(NodeError, match="no outbound HTTP configured") as caught:
        await call(request_data("http://127.0.0.1:9/"), service=WorkflowServices())
    assert caught.value.process_data["request"].startswith("GET / HTTP/1.1")


class Recording:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def request(self, method: str, url: str, **kwargs: Any) -> HttpReply:
        self.calls.append({"method": method, "url": url, **kwargs})
        return HttpReply(200, {"content-type": "text/plain"}, b"ok", "text/plain")


async def test_what_the_caller_is_given() -> None:
    recording = Recording()
    data = request_data(
        "https://example.test/a", ssl_verify=False, timeout={"connect": 3, "read": 4}
    )
    limits = WorkflowLimits(http_max_text_size=10, http_max_binary_size=20)
    result = await call(data, limits=limits, service=WorkflowServices(http=recording))
    assert result.outputs["body"] == "ok"
    [sent] = recording.calls
    assert sent["verify"] is False and sent["timeouts"] == (3.0, 4.0, 20.0)
    assert sent["max_size"] == 20 and sent["content"] is None and sent["params"] == []


@pytest.mark.parametrize(
    "changes",
    [
        {"method": "fetch"},
        {"url": None},
        {"body": {"type": "xml", "data": []}},
        {"body": {"type": "json", "data": [{"type": "blob", "value": "x"}]}},
        {"authorization": {"type": "api-key", "config": None}},
        {"authorization": {"type": "oauth"}},
        {"authorization": api_key("digest", "k")},
        {"ssl_verify": "yes"},
    ],
)
def test_data_that_can_never_run(changes: dict[str, Any]) -> None:
    data = {**request_data("http://x/"), **changes}
    with pytest.raises(NodeConfigError):
        HttpRequestNode(spec("http-request", data))
