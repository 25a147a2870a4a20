"""Runner configs are dataclasses; this module turns JSON into them (with clear errors) and them into JSON Schema.

Every field carries ``metadata={"help": ...}``; ``__post_init__`` validates cross-field rules. The same schema drives
the API (OpenAPI), the admin form (defaults and help shown) and the CLI.
"""

import dataclasses
import types
import typing
from typing import Any, TypeVar, get_args, get_origin

C = TypeVar("C")


class ConfigError(ValueError):
    """A config that does not fit its dataclass; ``field`` names the offending key (dotted for nested ones)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def _check(value: Any, annotation: Any, path: str) -> Any:
    origin = get_origin(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arm in get_args(annotation):
            if arm is type(None):
                if value is None:
                    return None
                continue
            try:
                return _check(value, arm, path)
            except ConfigError as exc:
                errors.append(exc.message)
        raise ConfigError(f"expected {_type_name(annotation)}, got {value!r}", path)
    if origin is typing.Literal:
        if value not in get_args(annotation):
            raise ConfigError(f"must be one of {list(get_args(annotation))}, got {value!r}", path)
        return value
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"expected a list, got {type(value).__name__}", path)
        (item,) = get_args(annotation)[:1] or (Any,)
        return [_check(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"expected an object, got {type(value).__name__}", path)
        _, val_type = get_args(annotation) or (str, Any)
        return {str(k): _check(v, val_type, f"{path}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(annotation):
        return from_dict(annotation, value, prefix=path)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"expected true/false, got {value!r}", path)
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {value!r}", path)
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"expected a number, got {value!r}", path)
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {value!r}", path)
        return value
    return value


def from_dict(cls: type[C], data: Any, *, prefix: str = "") -> C:
    """Build the dataclass from JSON-like data: unknown keys and wrong types are errors, missing keys default."""
    if not isinstance(data, dict):
        raise ConfigError(f"expected an object, got {type(data).__name__}", prefix or None)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown}; known: {sorted(fields)}", prefix or None)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _check(value, hints[name], f"{prefix}.{name}" if prefix else name)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"missing required field(s) {missing}", prefix or None)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        if prefix and exc.field and not exc.field.startswith((f"{prefix}.", f"{prefix}[")):
            raise ConfigError(exc.message, f"{prefix}.{exc.field}") from None
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc), prefix or None) from None


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _schema_for(annotation: Any) -> dict[str, Any]:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        schema = _schema_for(arms[0]) if len(arms) == 1 else {"anyOf": [_schema_for(a) for a in arms]}
        if type(None) in get_args(annotation):
            schema = {**schema, "nullable": True}
        return schema
    if origin is typing.Literal:
        return {"enum": list(get_args(annotation))}
    if origin in (list, tuple):
        args = get_args(annotation)
        return {"type": "array", "items": _schema_for(args[0]) if args else {}}
    if origin is dict:
        args = get_args(annotation)
        return {"type": "object", "additionalProperties": _schema_for(args[1]) if args else {}}
    if dataclasses.is_dataclass(annotation):
        return json_schema(annotation)
    return {
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        float: {"type": "number"},
        str: {"type": "string"},
    }.get(annotation, {})


def json_schema(cls: type) -> dict[str, Any]:
    """JSON Schema (OpenAPI 3 flavour) with defaults and help text."""
    hints = typing.get_type_hints(cls)
    props, required = {}, []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        schema = dict(_schema_for(hints[f.name]))
        if f.metadata.get("help"):
            schema["description"] = f.metadata["help"]
        if f.metadata.get("artifact"):
            schema["x-artifact-kind"] = f.metadata["artifact"]
        if f.default is not dataclasses.MISSING:
            schema["default"] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            schema["default"] = _jsonable(f.default_factory())
        else:
            required.append(f.name)
        props[f.name] = schema
    out: dict[str, Any] = {"type": "object", "title": cls.__name__, "properties": props, "additionalProperties": False}
    if cls.__doc__:
        out["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        out["required"] = required
    return out


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def field(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    default_factory: Any = dataclasses.MISSING,
    artifact: str | None = None,
) -> Any:
    """``dataclasses.field`` with the help text every config field must have.

    ``artifact`` marks an input reference of that artifact kind ("latest", an artifact id, or a path); the job
    service resolves "latest" to a concrete artifact id at launch, so a job's config names exactly what it read.
    """
    metadata = {"help": help, **({"artifact": artifact} if artifact else {})}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def artifact_fields(cls: type) -> dict[str, str]:
    """Top-level fields that reference input artifacts: name → artifact kind."""
    return {f.name: f.metadata["artifact"] for f in dataclasses.fields(cls) if f.metadata.get("artifact")}
