"""Jinja2 templates in the confined child: sandboxed environment, output cap."""

import pytest

from app.sandbox.errors import SandboxError, SandboxOutputTooLargeError, SandboxTimeoutError
from app.sandbox.pool import LocalSandbox


async def test_render_with_variables_and_no_autoescape(sandbox: LocalSandbox) -> None:
    template = "{% for item in items %}<b>{{ item|upper }}</b>{% endfor %} {{ who }}"
    output = await sandbox.render_template(template, {"items": ["a", "b"], "who": "<me>"})
    assert output == "<b>A</b><b>B</b> <me>"


async def test_missing_variable_renders_empty(sandbox: LocalSandbox) -> None:
    assert await sandbox.render_template("[{{ nothing }}]", {}) == "[]"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.environ }}",
        "{{ self._TemplateReference__context }}",
        "{{ ''.format.__globals__ }}",
        "{{ 'a'.__class__.__mro__ }}",
    ],
)
async def test_escapes_are_refused_or_harmless(sandbox: LocalSandbox, template: str) -> None:
    try:
        output = await sandbox.render_template(template, {})
    except SandboxError as exc:
        assert "SecurityError" in exc.message or "UndefinedError" in exc.message
    else:
        assert "subprocess" not in output and "PATH" not in output and "Popen" not in output


async def test_huge_string_is_refused(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError):
        await sandbox.render_template("{{ 'a' * 10**8 }}", {})
    with pytest.raises(SandboxError):
        await sandbox.render_template("{{ 'a' * 10**10 }}", {})


async def test_output_capped_at_80000_characters(sandbox: LocalSandbox) -> None:
    assert len(await sandbox.render_template("{{ 'a' * 80000 }}", {})) == 80000
    with pytest.raises(SandboxOutputTooLargeError) as info:
        await sandbox.render_template("{{ 'a' * 80001 }}", {})
    assert info.value.message == "Output length exceeds 80000 characters"


async def test_huge_range_is_refused(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.render_template("{% for i in range(10**9) %}{% endfor %}", {})
    assert "range" in info.value.message


async def test_big_power_is_stopped(sandbox: LocalSandbox) -> None:
    with pytest.raises((SandboxTimeoutError, SandboxError)):
        await sandbox.render_template("{{ 9 ** (9 ** 10) }}", {})


async def test_syntax_error(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.render_template("{% if %}", {})
    assert "TemplateSyntaxError" in info.value.message
