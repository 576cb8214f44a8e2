"""Dify's validation of a code node's result against its declared outputs
(`outputs: {name: {type, children}}`): every declared output present, types checked,
strings and arrays bounded, numbers in range with bounded precision, nesting bounded,
and no undeclared key. Returns the validated result (NUL removed from strings, booleans
of number outputs as 0/1) or raises `CodeOutputError` with Dify's message."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core.config import Settings, get_settings


class CodeOutputError(Exception):
    """The result does not match the declared outputs; the message is Dify's."""


@dataclass(frozen=True)
class OutputLimits:
    max_string_length: int = 80000
    max_number: int = 9223372036854775807
    min_number: int = -9223372036854775808
    max_precision: int = 20
    max_depth: int = 5
    max_string_array_length: int = 30
    max_object_array_length: int = 30
    max_number_array_length: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> "OutputLimits":
        return cls(
            max_string_length=settings.code_max_string_length,
            max_number=settings.code_max_number,
            min_number=settings.code_min_number,
            max_precision=settings.code_max_precision,
            max_depth=settings.code_max_depth,
            max_string_array_length=settings.code_max_string_array_length,
            max_object_array_length=settings.code_max_object_array_length,
            max_number_array_length=settings.code_max_number_array_length,
        )


def validate_code_outputs(
    result: Mapping[str, Any],
    declared: Mapping[str, Mapping[str, Any]] | None,
    limits: OutputLimits | None = None,
) -> dict[str, Any]:
    """Validate `result` against `declared` (the node's `outputs`); with no declaration
    every value is still checked by what it is. Limits default to the settings."""
    checker = _Checker(limits or OutputLimits.from_settings(get_settings()))
    return checker.schema(result, declared, "", 1)


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class _Checker:
    def __init__(self, limits: OutputLimits) -> None:
        self.limits = limits

    def string(self, value: str | None, path: str) -> str | None:
        if value is None:
            return None
        if len(value) > self.limits.max_string_length:
            raise CodeOutputError(
                f"The length of output variable `{path}` must be"
                f" less than {self.limits.max_string_length} characters"
            )
        return value.replace("\x00", "")

    def number(self, value: float | None, path: str) -> int | float | None:
        if value is None:
            return None
        limits = self.limits
        if (
            isinstance(value, float) and not math.isfinite(value)
        ) or not limits.min_number <= value <= limits.max_number:
            raise CodeOutputError(
                f"Output variable `{path}` is out of range,"
                f" it must be between {limits.min_number} and {limits.max_number}."
            )
        if isinstance(value, float):
            exponent = Decimal(str(value)).normalize().as_tuple().exponent
            precision = -exponent if isinstance(exponent, int) and exponent < 0 else 0
            if precision > limits.max_precision:
                raise CodeOutputError(
                    f"Output variable `{path}` has too high precision,"
                    f" it must be less than {limits.max_precision} digits."
                )
        return int(value) if isinstance(value, bool) else value

    def schema(
        self,
        result: Mapping[str, Any],
        declared: Mapping[str, Mapping[str, Any]] | None,
        prefix: str,
        depth: int,
    ) -> dict[str, Any]:
        if depth > self.limits.max_depth:
            raise CodeOutputError(f"Depth limit {self.limits.max_depth} reached, object too deep.")
        if declared is None:
            for name, value in result.items():
                self.untyped(value, _path(prefix, name), depth)
            return dict(result)
        validated: dict[str, Any] = {}
        for name, config in declared.items():
            path = _path(prefix, name)
            if name not in result:
                raise CodeOutputError(f"Output {path} is missing.")
            validated[name] = self.typed(result[name], config, path, depth)
        if len(validated) != len(result):
            raise CodeOutputError("Not all output parameters are validated.")
        return validated

    def typed(self, value: Any, config: Mapping[str, Any], path: str, depth: int) -> Any:
        kind = config.get("type")
        children = config.get("children")
        if kind == "string":
            if value is not None and not isinstance(value, str):
                raise CodeOutputError(
                    f"Output {path} must be a string, got {type(value).__name__} instead."
                )
            return self.string(value, path)
        if kind == "number":
            if value is not None and not isinstance(value, int | float):
                raise CodeOutputError(f"Output {path} is not a number, got {type(value)} instead.")
            return self.number(value, path)
        if kind == "boolean":
            return value  # Dify passes boolean outputs through unchecked
        if kind == "object":
            if value is None:
                return None
            if not isinstance(value, dict):
                raise CodeOutputError(f"Output {path} is not an object, got {type(value)} instead.")
            return self.schema(value, children, path, depth + 1)
        if kind not in ("array[string]", "array[number]", "array[object]", "array[boolean]"):
            raise CodeOutputError(f"Output type {kind} is not supported.")
        if value is None:
            return None
        if not isinstance(value, list):
            raise CodeOutputError(f"Output {path} is not an array, got {type(value)} instead.")
        return self.array(value, kind, children, path, depth)

    def array(
        self,
        value: list[Any],
        kind: str,
        children: Mapping[str, Mapping[str, Any]] | None,
        path: str,
        depth: int,
    ) -> list[Any]:
        limit = {
            "array[string]": self.limits.max_string_array_length,
            "array[number]": self.limits.max_number_array_length,
            "array[object]": self.limits.max_object_array_length,
        }.get(kind)
        if limit is not None and len(value) > limit:
            raise CodeOutputError(
                f"The length of output variable `{path}` must be less than {limit} elements."
            )
        if kind == "array[number]":
            for i, item in enumerate(value):
                if not isinstance(item, int | float):
                    raise CodeOutputError(
                        f"The element at index {i} of output variable `{path}` must be a number."
                    )
            return [self.number(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if kind == "array[string]":
            for i, item in enumerate(value):
                if item is not None and not isinstance(item, str):
                    raise CodeOutputError(
                        f"Output {path}[{i}] must be a string, got {type(item).__name__} instead."
                    )
            return [self.string(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if kind == "array[boolean]":
            for i, item in enumerate(value):
                if item is not None and not isinstance(item, bool):
                    raise CodeOutputError(
                        f"Output {path}[{i}] is not a boolean, got {type(item)} instead."
                    )
            return list(value)
        for i, item in enumerate(value):
            if item is not None and not isinstance(item, dict):
                raise CodeOutputError(
                    f"Output {path}[{i}] is not an object, got {type(item)} instead at index {i}."
                )
        return [
            None if item is None else self.schema(item, children, f"{path}[{i}]", depth + 1)
            for i, item in enumerate(value)
        ]

    def untyped(self, value: Any, path: str, depth: int) -> None:
        """A value under an output declared without `children`: checked by what it is."""
        if isinstance(value, dict):
            self.schema(value, None, path, depth + 1)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            self.number(value, path)
        elif isinstance(value, str):
            self.string(value, path)
        elif isinstance(value, list):
            self.untyped_list(value, path, depth)
        else:
            raise CodeOutputError(f"Output {path} is not a valid type.")

    def untyped_list(self, value: list[Any], path: str, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise CodeOutputError(f"Depth limit {self.limits.max_depth} reached, object too deep.")
        first = value[0] if value else None
        if first is None:
            return
        present = [item for item in value if item is not None]
        if isinstance(first, int | float) and all(isinstance(i, int | float) for i in present):
            for i, item in enumerate(value):
                self.number(item, f"{path}[{i}]")
        elif isinstance(first, str) and all(isinstance(i, str) for i in present):
            for i, item in enumerate(value):
                self.string(item, f"{path}[{i}]")
        elif isinstance(first, dict) and all(isinstance(i, dict) for i in present):
            for i, item in enumerate(value):
                if item is not None:
                    self.schema(item, None, f"{path}[{i}]", depth + 1)
        elif isinstance(first, list) and all(isinstance(i, list) for i in present):
            for i, item in enumerate(value):
                if item is not None:
                    self.untyped_list(item, f"{path}[{i}]", depth + 1)
        else:
            raise CodeOutputError(
                f"Output {path} is not a valid array. make sure all elements are of the same type."
            )
