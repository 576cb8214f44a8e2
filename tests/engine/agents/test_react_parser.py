"""The ReAct output parser: thought text without its labels, actions from code blocks and
bare JSON blobs, whatever the chunking."""

from app.engine.agents.react_parser import ReactParser, parse_action
from app.engine.agents.steps import Action

REPLY = (
    "Thought: I should look up the weather.\n"
    "Action:\n```json\n"
    '{"action": "weather", "action_input": {"city": "Paris"}}\n'
    "```"
)


def _parse(text: str, size: int) -> list[object]:
    parser = ReactParser()
    pieces: list[object] = []
    for start in range(0, len(text), size):
        pieces += parser.feed(text[start : start + size])
    pieces += parser.finish()
    merged: list[object] = []
    for piece in pieces:  # text pieces joined, whatever the chunking
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def test_a_code_block_action_and_the_thought_without_labels() -> None:
    for size in (1, 3, 7, len(REPLY)):
        pieces = _parse(REPLY, size)
        thought = " I should look up the weather.\n\n"
        assert pieces == [thought, Action("weather", {"city": "Paris"})]


def test_a_bare_json_blob_is_an_action() -> None:
    text = 'Thought: done\nAction: {"action": "Final Answer", "action_input": "It is 21°C"}'
    pieces = _parse(text, 4)
    assert pieces[-1] == Action("Final Answer", "It is 21°C")
    assert "".join(p for p in pieces if isinstance(p, str)).strip() == "done"


def test_plain_text_stays_text() -> None:
    text = "The weather that I found: actually `sunny` today."
    assert _parse(text, 5) == [text]


def test_capitalised_labels_are_dropped_and_words_that_start_like_them_are_kept() -> None:
    assert _parse("THOUGHT: the action", 2) == [" the action"]
    assert _parse("thinking aside", 3) == ["thinking aside"]


def test_json_that_is_not_an_action_reads_as_text() -> None:
    assert _parse('Here: {"a": 1}', 3) == ['Here: {"a": 1}']


def test_a_code_block_without_json_is_text_and_an_unclosed_one_is_kept() -> None:
    assert _parse("```\nplain code\n```", 4) == ["\nplain code\n"]
    assert _parse('```json\n{"act', 4) == ['```json\n{"act']


def test_parse_action_keys() -> None:
    assert parse_action({"tool": "x", "tool_input": 1}) == Action("x", 1)
    assert parse_action('[{"action": "x", "action_input": "y"}]') == Action("x", "y")
    assert parse_action('{"action": "x"}') == '{"action": "x"}'
    assert parse_action("not json") == "not json"
