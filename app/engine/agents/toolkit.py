"""The tools of one agent run and how a call the model asked for is carried out: the tool
found by name, its arguments merged with the configured values, the runtime invoked, and
whatever happens (an unknown name, bad arguments, a failing tool) turned into the
observation the model reads next, as Dify's runners do. Stops and deadlines still cancel."""

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from app.engine.agents import observation
from app.engine.agents.observation import Style
from app.engine.agents.tools import AgentTool, ToolRunner
from app.integrations.tools.base import ToolCall, ToolError, ToolOutput

logger = logging.getLogger("kiln.agents")


@dataclass(slots=True)
class ToolResult:
    name: str
    arguments: Any  # what the tool was invoked with (the model's text when not JSON)
    observation: str
    output: ToolOutput | None = None  # None when the tool was not invoked or failed
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0

    @property
    def elapsed(self) -> float:
        return max(self.finished - self.started, 0.0)


@dataclass(slots=True)
class Toolkit:
    tools: list[AgentTool]
    runner: ToolRunner | None
    call: ToolCall
    style: Style = "classic"
    fixed_wins: bool = True  # classic: configured values override the model's

    def find(self, name: str) -> AgentTool | None:
        return next((tool for tool in self.tools if tool.name == name), None)

    def functions(self) -> list[dict[str, Any]]:
        return [tool.function() for tool in self.tools]

    def prompt_tools(self) -> list[dict[str, Any]]:
        return [tool.prompt_tool() for tool in self.tools]

    def _parse(self, tool: AgentTool, arguments: Any) -> dict[str, Any] | None:
        """A JSON object of arguments; a bare string fills a tool's only model parameter."""
        if isinstance(arguments, dict):
            return arguments
        if isinstance(arguments, str):
            try:
                parsed = json.loads(arguments) if arguments.strip() else {}
            except ValueError:
                parsed = arguments
            if isinstance(parsed, dict):
                return parsed
            names = tool.model_parameters()
            if len(names) == 1:
                return {names[0]: arguments}
            if not names:
                return {}
        return None

    async def invoke(self, name: str, arguments: Any) -> ToolResult:
        tool = self.find(name)
        if tool is None or self.runner is None:
            result = ToolResult(name, arguments, observation.missing_tool(name))
            result.error = result.observation
            result.finished = time.perf_counter()
            return result
        given = self._parse(tool, arguments)
        if given is None:
            text = observation.bad_arguments(name, str(arguments))
            return self._finish(ToolResult(name, arguments, text, error=text))
        merged = tool.arguments(given, self.fixed_wins)
        result = ToolResult(name, merged, "")
        try:
            output = await self.runner.invoke(tool.ref, merged, self.call)
        except asyncio.CancelledError:
            raise
        except ToolError as exc:
            result.observation = result.error = observation.tool_failed(exc.message)
        except Exception as exc:  # a bug in a tool: the agent reads it, the run goes on
            logger.warning("tool %s failed", tool.ref.describe(), exc_info=True)
            result.observation = result.error = observation.tool_crashed(exc, self.style)
        else:
            result.output = output
            result.observation = observation.observation(output, self.style)
        return self._finish(result)

    @staticmethod
    def _finish(result: ToolResult) -> ToolResult:
        result.finished = time.perf_counter()
        return result
