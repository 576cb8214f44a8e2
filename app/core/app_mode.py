"""Dify's five app modes and what each family of them can do."""

from enum import StrEnum


class AppMode(StrEnum):
    CHAT = "chat"
    AGENT_CHAT = "agent-chat"
    COMPLETION = "completion"
    ADVANCED_CHAT = "advanced-chat"
    WORKFLOW = "workflow"

    @property
    def is_graph(self) -> bool:
        """Runs a workflow graph (the DSL has `workflow`, not `model_config`)."""
        return self in (AppMode.ADVANCED_CHAT, AppMode.WORKFLOW)

    @property
    def is_chat_family(self) -> bool:
        """Has conversations and answers `/chat-messages`."""
        return self in (AppMode.CHAT, AppMode.AGENT_CHAT, AppMode.ADVANCED_CHAT)

    @property
    def is_agent(self) -> bool:
        return self is AppMode.AGENT_CHAT
