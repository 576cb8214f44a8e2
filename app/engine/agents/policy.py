"""Where Dify's two agent implementations differ, as data: its classic agent-chat runners
(api/core/agent/fc_agent_runner.py, cot_agent_runner.py) and the langgenius agent strategy
plugin the workflow `agent` node runs (agent-strategies/cot_agent). The strategies read
these choices; everything else they share."""

from dataclasses import dataclass

from app.engine.agents.observation import Style

CLASSIC_ROUND_CAP = 5  # Dify's runners: min(max_iteration, 5) + 1 model calls
NODE_MAX_ITERATIONS = 99  # a runaway value in a node is cut here (the plugin allows 30)


@dataclass(frozen=True, slots=True)
class AgentPolicy:
    rounds: int  # model calls at most
    style: Style  # how observations and tool failures read
    drop_tools_last: bool  # classic: the last round offers no tools (the model must answer)
    fixed_wins: bool  # classic: configured tool values override the model's arguments
    text_with_calls: bool  # plugin: the assistant message keeps its text beside tool calls
    # ReAct without an action: classic answers "" (only the thought was streamed), the
    # plugin answers the thought.
    thought_is_answer: bool

    @classmethod
    def classic(cls, max_iteration: int) -> "AgentPolicy":
        return cls(
            rounds=min(max(max_iteration, 0), CLASSIC_ROUND_CAP) + 1,
            style="classic",
            drop_tools_last=True,
            fixed_wins=True,
            text_with_calls=False,
            thought_is_answer=False,
        )

    @classmethod
    def plugin(cls, maximum_iterations: int) -> "AgentPolicy":
        return cls(
            rounds=min(max(maximum_iterations, 1), NODE_MAX_ITERATIONS),
            style="plugin",
            drop_tools_last=False,
            fixed_wins=False,
            text_with_calls=True,
            thought_is_answer=True,
        )
