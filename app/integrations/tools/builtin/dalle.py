"""DALL·E image generation as exports name it: the `openai` plugin's dalle2 and dalle3
tools (also the older builtin provider `dalle`), through the model gateway's images API
(KILN_IMAGE_GENERATION_PROVIDER, default openai with OPENAI_API_KEY): Dify's size names
mapped to pixels, `n`, dalle3's quality and style; each image comes back as a file."""

from typing import Any

from app.gateway.types import GatewayError
from app.integrations.tools.base import ToolCall, ToolError, ToolFile, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)

DALLE2_SIZES = {"small": "256x256", "medium": "512x512", "large": "1024x1024"}
DALLE3_SIZES = {"square": "1024x1024", "vertical": "1024x1792", "horizontal": "1792x1024"}


async def _generate(
    env: BuiltinEnv, model: str, prompt: str, options: dict[str, Any]
) -> ToolOutput:
    if env.gateway is None:
        raise ToolError("image generation needs the model gateway, which this process lacks")
    try:
        made = await env.gateway.generate_images(model, prompt, options)
    except GatewayError as exc:
        raise ToolError(str(exc)) from None
    files = []
    for index, image in enumerate(made, 1):
        name = f"image-{index}.{image.mime_type.rsplit('/', 1)[-1]}"
        files.append(ToolFile(image.mime_type, name, content=image.content, url=image.url))
    return ToolOutput(files=files)


async def dalle2(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    prompt = str(args.get("prompt") or "")
    if not prompt:
        return ToolOutput(text="Please input prompt")
    size = DALLE2_SIZES.get(str(args.get("size") or "large"), "1024x1024")
    return await _generate(env, "dall-e-2", prompt, {"size": size, "n": int(args.get("n") or 1)})


async def dalle3(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    prompt = str(args.get("prompt") or "")
    if not prompt:
        return ToolOutput(text="Please input prompt")
    quality, style = args.get("quality") or "standard", args.get("style") or "vivid"
    if quality not in ("standard", "hd"):
        return ToolOutput(text="Invalid quality")
    if style not in ("natural", "vivid"):
        return ToolOutput(text="Invalid style")
    options = {
        "size": DALLE3_SIZES.get(str(args.get("size") or "square"), "1024x1024"),
        "n": int(args.get("n") or 1),
        "quality": quality,
        "style": style,
    }
    return await _generate(env, "dall-e-3", prompt, options)


_PROMPT = param("prompt", required=True, description="Image prompt")
_N = param("n", "number", required=True, form="form", default=1)

PROVIDER = BuiltinProviderDef(
    name="openai",
    label="OpenAI",
    aliases=("dalle",),
    tools=(
        BuiltinToolDef(
            "dalle2",
            "DALL-E 2",
            "DALL-E 2 is a powerful drawing tool that can draw the image you want based on your "
            "prompt",
            (
                _PROMPT,
                param(
                    "size",
                    "select",
                    required=True,
                    form="form",
                    options=tuple(DALLE2_SIZES),
                    default="large",
                ),
                _N,
            ),
            dalle2,
        ),
        BuiltinToolDef(
            "dalle3",
            "DALL-E 3",
            "DALL-E 3 is a powerful drawing tool that can draw the image you want based on your "
            "prompt, compared to DallE 2, DallE 3 has stronger drawing ability",
            (
                _PROMPT,
                param(
                    "size",
                    "select",
                    required=True,
                    form="form",
                    options=tuple(DALLE3_SIZES),
                    default="square",
                ),
                _N,
                param(
                    "quality",
                    "select",
                    required=True,
                    form="form",
                    options=("standard", "hd"),
                    default="standard",
                ),
                param(
                    "style",
                    "select",
                    required=True,
                    form="form",
                    options=("vivid", "natural"),
                    default="vivid",
                ),
            ),
            dalle3,
        ),
    ),
)
