"""The External Knowledge API client against a local retrieval service: the request Dify
sends (bearer key, knowledge id, top_k, threshold 0.0 when off, metadata condition only
when there is one), records read back, the API's error codes and malformed answers as
clear errors, the SSRF guard, and the integrations file's `knowledge` section."""

from collections.abc import Iterator

import pytest

from app.integrations.config import IntegrationsError, KnowledgeBase, parse_integrations
from app.integrations.knowledge.client import ExternalKnowledge
from app.integrations.knowledge.errors import KnowledgeNotMapped, KnowledgeServiceError
from app.integrations.knowledge.records import KnowledgeRecord
from app.net.ssrf import AllowList
from tests.support.knowledge_service import (
    API_KEY,
    Document,
    KnowledgeService,
    knowledge_service,
)

LOOPBACK = AllowList.parse("127.0.0.1/32")
ENCRYPTED_ID = "zU6m0Ht4q2d9m5Qk1tX8+q0cH7aJ5N2lR3vE9wY6pB4=/8sK2jL4nM6oP0rT1uV3x"
BASES = {
    "handbook": [
        Document("Vacation is 25 days.", 0.9, "vacation.md", {"team": "hr", "year": 2024}),
        Document("Expenses need receipts.", 0.6, "expenses.md", {"team": "finance"}),
        Document("Badge at the door.", 0.2, "security.md", {"team": "it"}),
    ],
    "slow": [],
}


@pytest.fixture(scope="module")
def service() -> Iterator[KnowledgeService]:
    with knowledge_service(BASES) as running:
        yield running


def client(service: KnowledgeService, **overrides: object) -> ExternalKnowledge:
    base = {"endpoint": service.url, "api_key": API_KEY, "knowledge_id": "handbook"}
    base.update(overrides)
    return ExternalKnowledge({ENCRYPTED_ID: KnowledgeBase.model_validate(base)}, LOOPBACK)


async def test_request_and_records(service: KnowledgeService) -> None:
    service.requests.clear()
    records = await client(service, name="Handbook").retrieve(
        ENCRYPTED_ID, "vacation?", top_k=2, score_threshold=None
    )
    assert records == [
        KnowledgeRecord("Vacation is 25 days.", 0.9, "vacation.md", {"team": "hr", "year": 2024}),
        KnowledgeRecord("Expenses need receipts.", 0.6, "expenses.md", {"team": "finance"}),
    ]
    sent = service.requests[-1]
    assert sent["path"] == "/retrieval"
    assert sent["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["body"] == {
        "knowledge_id": "handbook",
        "query": "vacation?",
        "retrieval_setting": {"top_k": 2, "score_threshold": 0.0},
    }


async def test_threshold_and_metadata_condition(service: KnowledgeService) -> None:
    condition = {
        "logical_operator": "or",
        "conditions": [
            {"name": "team", "comparison_operator": "is", "value": "finance"},
            {"name": "team", "comparison_operator": "is", "value": "it"},
        ],
    }
    records = await client(service).retrieve(
        ENCRYPTED_ID, "q", top_k=5, score_threshold=0.5, metadata_condition=condition
    )
    assert [r.title for r in records] == ["expenses.md"]
    assert service.requests[-1]["body"]["metadata_condition"] == condition
    assert service.requests[-1]["body"]["retrieval_setting"]["score_threshold"] == 0.5


async def test_the_dataset_id_is_the_knowledge_id_by_default(service: KnowledgeService) -> None:
    knowledge = ExternalKnowledge(
        {"handbook": KnowledgeBase(endpoint=service.url + "/", api_key=API_KEY)}, LOOPBACK
    )
    assert len(await knowledge.retrieve("handbook", "q", top_k=1, score_threshold=None)) == 1
    assert service.requests[-1]["path"] == "/retrieval"
    info = knowledge.describe("handbook")
    assert (info.name, info.top_k, info.score_threshold) == ("handbook", None, None)
    assert info.router_description == (
        "useful for when you want to answer queries about the handbook"
    )


async def test_unmapped_dataset_is_an_error(service: KnowledgeService) -> None:
    knowledge = client(service)
    with pytest.raises(KnowledgeNotMapped) as caught:
        await knowledge.retrieve("other-id", "q", top_k=1, score_threshold=None)
    assert str(caught.value) == (
        "Knowledge base other-id is not mapped: add it to the integrations file's "
        "`knowledge` section"
    )
    with pytest.raises(KnowledgeNotMapped):
        knowledge.describe("other-id")
    assert knowledge.unmapped(["other-id", ENCRYPTED_ID]) == ["other-id"]


@pytest.mark.parametrize(
    ("overrides", "expected", "code"),
    [
        (
            {"api_key": None},
            "Knowledge base Handbook: the retrieval service answered HTTP 403 (error 1001: "
            "Invalid Authorization header format. Expected 'Bearer ' format.)",  # tags go
            1001,
        ),
        (
            {"api_key": "wrong"},
            "Knowledge base Handbook: the retrieval service answered HTTP 403 (error 1002: "
            "Authorization failed)",
            1002,
        ),
        (
            {"knowledge_id": "missing"},
            "Knowledge base Handbook: the retrieval service answered HTTP 404 (error 2001: "
            "The knowledge does not exist)",
            2001,
        ),
    ],
)
async def test_api_error_codes(
    service: KnowledgeService, overrides: dict[str, object], expected: str, code: int
) -> None:
    with pytest.raises(KnowledgeServiceError) as caught:
        await client(service, name="Handbook", **overrides).retrieve(
            ENCRYPTED_ID, "q", top_k=1, score_threshold=None
        )
    assert str(caught.value) == expected
    assert caught.value.error_code == code


@pytest.mark.parametrize(
    ("knowledge_id", "expected"),
    [
        ("broken-json", "Knowledge base broken-json: the retrieval service answered invalid JSON"),
        ("not-a-list", "Knowledge base not-a-list: `records` in the answer is not a list"),
        (
            "null-metadata",
            "Knowledge base null-metadata: malformed answer: a record's `metadata` is not an "
            "object",
        ),
        (
            "plain-500",
            "Knowledge base plain-500: the retrieval service answered HTTP 500: upstream "
            "exploded at [url]",
        ),
    ],
)
async def test_malformed_answers(
    service: KnowledgeService, knowledge_id: str, expected: str
) -> None:
    with pytest.raises(KnowledgeServiceError) as caught:
        await client(service, knowledge_id=knowledge_id, name=knowledge_id).retrieve(
            ENCRYPTED_ID, "q", top_k=1, score_threshold=None
        )
    assert str(caught.value) == expected


async def test_timeout(service: KnowledgeService) -> None:
    with pytest.raises(KnowledgeServiceError, match="did not answer within 0.3 s"):
        await client(service, knowledge_id="slow", timeout=0.3).retrieve(
            ENCRYPTED_ID, "q", top_k=1, score_threshold=None
        )


async def test_ssrf_guard_refuses_an_internal_service(service: KnowledgeService) -> None:
    base = KnowledgeBase(endpoint=service.url, api_key=API_KEY, knowledge_id="handbook")
    knowledge = ExternalKnowledge({"kb": base})  # no allow-list: 127.0.0.1 is internal
    before = len(service.requests)
    with pytest.raises(KnowledgeServiceError, match="KILN_SSRF_ALLOWED_HOSTS"):
        await knowledge.retrieve("kb", "q", top_k=1, score_threshold=None)
    assert len(service.requests) == before  # refused before connecting


def test_knowledge_section_of_the_integrations_file() -> None:
    found = parse_integrations(
        "knowledge:\n"
        f"  '{ENCRYPTED_ID}':\n"
        "    endpoint: https://kb.example/api\n"
        "    api_key: secret\n"
        "    knowledge_id: handbook\n"
        "    name: Handbook\n"
        "    description: Company policies\n"
        "    top_k: 3\n"
        "    score_threshold: 0.4\n"
    )
    base = found.knowledge[ENCRYPTED_ID]
    assert (base.top_k, base.score_threshold, base.timeout) == (3, 0.4, 30.0)
    info = ExternalKnowledge(found.knowledge).describe(ENCRYPTED_ID)
    assert (info.name, info.router_description) == ("Handbook", "Company policies")
    with pytest.raises(IntegrationsError, match="knowledge.kb.endpoint"):
        parse_integrations("knowledge:\n  kb: {endpoint: ftp://kb.example}\n")
    with pytest.raises(IntegrationsError, match="knowledge.kb.top_k"):
        parse_integrations("knowledge:\n  kb: {endpoint: https://kb.example, top_k: 0}\n")
