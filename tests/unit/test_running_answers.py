"""The running answers kept for the periodic save: each answer event is noted, a
replacement replaces, and only answers that changed since the last save are handed over."""

from app.tasks.running_answers import RunningAnswers


def test_changes_hand_over_each_grown_answer_once() -> None:
    answers = RunningAnswers()
    sent: list[dict[str, object]] = []
    emit = answers.track("m1").watching(sent.append)
    answers.track("m2")
    emit({"event": "message", "answer": "Hel"})
    emit({"event": "agent_message", "answer": "lo"})
    emit({"event": "ping"})
    assert answers.changes() == {"m1": "Hello"}
    assert answers.changes() == {}
    emit({"event": "message_replace", "answer": "[redacted]"})
    assert answers.changes() == {"m1": "[redacted]"}
    answers.unsaved(["m1"])  # the save failed: offered again
    assert answers.changes() == {"m1": "[redacted]"}
    answers.untrack("m1")
    emit({"event": "message", "answer": "!"})
    assert answers.changes() == {}
    assert len(sent) == 5  # the events still reach the client


def test_a_resumed_answer_goes_on_from_its_text_so_far() -> None:
    answers = RunningAnswers()
    emit = answers.track("m1", so_far="Before the pause. ").watching(lambda event: None)
    assert answers.changes() == {}  # already stored when the run paused
    emit({"event": "message", "answer": "After."})
    assert answers.changes() == {"m1": "Before the pause. After."}
