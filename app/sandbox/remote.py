"""Code execution on a Dify `dify-sandbox` server (`KILN_CODE_EXECUTION_ENDPOINT`): the
user's code wrapped in a runner that decodes the inputs (base64 JSON), calls `main` and
prints the JSON result between `<<RESULT>>` markers, posted to `/v1/sandbox/run`.
Templates are rendered there too, by a Python runner using Jinja2's sandbox."""

import base64
import json
import re
from typing import Any

import httpx

from app.core.config import Settings
from app.sandbox import results
from app.sandbox.errors import (
    SandboxError,
    SandboxOutputTooLargeError,
    SandboxUnavailableError,
)

RESULT_TAG = "<<RESULT>>"
_RESULT = re.compile(rf"{RESULT_TAG}(.*){RESULT_TAG}", re.DOTALL)
LANGUAGES = {"python3": "python3", "javascript": "nodejs"}


def _b64(value: Any) -> str:
    return base64.b64encode(json.dumps(value, ensure_ascii=False).encode()).decode()


def python_runner(code: str, inputs: dict[str, Any]) -> str:
    return f"""{code}

import base64 as _kiln_base64
import json as _kiln_json

_kiln_inputs = _kiln_json.loads(_kiln_base64.b64decode("{_b64(inputs)}").decode("utf-8"))
_kiln_output = main(**_kiln_inputs)
print("{RESULT_TAG}" + _kiln_json.dumps(_kiln_output, ensure_ascii=False) + "{RESULT_TAG}")
"""


def javascript_runner(code: str, inputs: dict[str, Any]) -> str:
    return f"""{code}

const _kilnInputs = JSON.parse(Buffer.from("{_b64(inputs)}", "base64").toString("utf-8"));
const _kilnOutput = main(_kilnInputs);
console.log("{RESULT_TAG}" + JSON.stringify(_kilnOutput) + "{RESULT_TAG}");
"""


def template_runner(template: str, variables: dict[str, Any]) -> str:
    return f"""import base64
import json
from jinja2.sandbox import SandboxedEnvironment

_template = json.loads(base64.b64decode("{_b64(template)}").decode("utf-8"))
_variables = json.loads(base64.b64decode("{_b64(variables)}").decode("utf-8"))
_output = SandboxedEnvironment(autoescape=False).from_string(_template).render(**_variables)
print("{RESULT_TAG}" + json.dumps({{"result": _output}}, ensure_ascii=False) + "{RESULT_TAG}")
"""


def extract_result(stdout: str) -> Any:
    match = _RESULT.search(stdout)
    if not match:
        raise SandboxError("Failed to parse result")
    try:
        return json.loads(match.group(1))
    except ValueError:
        raise SandboxError("Failed to parse result") from None


class RemoteSandbox:
    """Posts calls to a dify-sandbox server as Dify's API does."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        self._settings = settings
        timeout = httpx.Timeout(10.0, read=max(60.0, settings.code_execution_timeout + 5))
        self._client = httpx.AsyncClient(
            base_url=settings.code_execution_endpoint.rstrip("/"),
            headers={"X-Api-Key": settings.code_execution_api_key},
            timeout=timeout,
            transport=transport,
        )

    async def run_code(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if language not in LANGUAGES:
            raise SandboxError(f"Unsupported code language: {language}")
        runner = (python_runner if language == "python3" else javascript_runner)(code, inputs)
        stdout = await self._run(LANGUAGES[language], runner)
        return results.code_result(extract_result(stdout))

    async def render_template(self, template: str, variables: dict[str, Any]) -> str:
        stdout = await self._run("python3", template_runner(template, variables))
        answer = extract_result(stdout)
        output = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(output, str):
            raise SandboxError("Failed to parse result")
        limit = self._settings.template_transform_max_length
        if len(output) > limit:
            raise SandboxOutputTooLargeError(f"Output length exceeds {limit} characters")
        return output

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _run(self, language: str, runner: str) -> str:
        body = {"language": language, "code": runner, "preload": "", "enable_network": True}
        try:
            response = await self._client.post("/v1/sandbox/run", json=body)
        except httpx.HTTPError as exc:
            raise SandboxUnavailableError(
                "Failed to execute code, which is likely a network issue, please check if "
                f"the sandbox service is running. ( Error: {exc} )"
            ) from None
        if response.status_code == 503:
            raise SandboxUnavailableError("Code execution service is unavailable")
        if response.status_code != 200:
            raise SandboxError(
                f"Failed to execute code, got status code {response.status_code}, "
                "please check if the sandbox service is running"
            )
        try:
            answer = response.json()
        except ValueError:
            raise SandboxError("Failed to parse response") from None
        if not isinstance(answer, dict):
            raise SandboxError("Failed to parse response")
        code = answer.get("code")
        if code != 0:
            raise SandboxError(f"Got error code: {code}. Got error msg: {answer.get('message')}")
        data = answer.get("data")
        if not isinstance(data, dict):
            data = {}
        if data.get("error"):
            raise SandboxError(str(data["error"]))
        stdout = data.get("stdout")
        return stdout if isinstance(stdout, str) else ""
