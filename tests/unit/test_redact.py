"""What clients and logs see of upstream text (app/gateway/redact.py): the cleaning leaves a
provider's own words alone (model names, versions, times, file names) and takes out what
names a place or a credential."""

import logging

import pytest

from app.gateway.redact import install_log_redaction, redact_urls, upstream_detail


@pytest.mark.parametrize(
    "text",
    [
        "The model `gpt-3.5-turbo-instruct` does not exist or you do not have access to it.",
        "claude-3.5-sonnet is overloaded, e.g. retry later (i.e. in 30 s).",
        "Invalid value for 'messages[0].content': expected a string at 10:30:00.",
        "Request failed: 'NoneType' object has no attribute 'get' (config.json, v1.2.3)",
    ],
)
def test_a_providers_own_words_stay(text: str) -> None:
    assert upstream_detail(text) == text


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("read the docs: https://platform.openai.com/docs/errors.", "read the docs: [url]."),
        ("Cannot connect to host vllm.svc.cluster.local:8000", "Cannot connect to host [host]"),
        ("refused by 10.96.0.12 and [2001:db8::1]:443", "refused by [host] and [host]"),
        ("api.example.com said <b>no</b>", "[host] said no"),
        ("key sk-abcdefghijklmnop leaked", "key *** leaked"),
    ],
)
def test_places_markup_and_keys_go(text: str, clean: str) -> None:
    assert upstream_detail(text) == clean


def test_an_html_page_is_one_sentence_and_long_text_is_cut() -> None:
    page = "<!DOCTYPE html><html><body><h1>Bad gateway</h1></body></html>"
    assert upstream_detail(page, status=502) == "Upstream returned an HTML error page (502)"
    assert len(upstream_detail("word " * 1000)) == 500


def test_log_lines_keep_host_path_and_status_but_no_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    line = redact_urls(
        'POST https://u:p4ss@proxy.corp:8443/v1/x?api-version=2024&key=AIzaSy1 "HTTP/1.1 200 OK"'
    )
    assert line == 'POST https://proxy.corp:8443/v1/x?api-version=2024&key=*** "HTTP/1.1 200 OK"'
    install_log_redaction()
    install_log_redaction()  # once per process, however often asked
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info("HTTP Request: %s %s", "GET", "https://a:b@h.io/?token=t")
        logging.getLogger("kiln").warning("not a client library: %s", "https://a:b@h.io/")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "HTTP Request: GET https://h.io/?token=***",
        "not a client library: https://a:b@h.io/",
    ]
