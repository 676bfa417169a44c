"""SDK-shaped views over decoded JSON: attribute access like the SDK's pydantic models, for free.

The official SDKs build a pydantic model per stream event (most of their per-chunk cost). A
`ShapedObject` keeps the event's decoded JSON as is and answers attribute reads from it, using a
`Shape` derived once per SDK class from that class's declared fields: a declared field missing
from the JSON reads as its default (None), a nested object reads as another `ShapedObject`, an
extra key reads as its raw value, anything else raises `AttributeError` — as on the SDK model.

Conversions (`model_dump`, `model_dump_json`, `to_dict`, `to_json`) build the SDK's own model from
the same JSON with the SDK's own `construct_type`, once, so they equal the SDK's by construction.
`isinstance(obj, SDKClass)` is False: these are views, not pydantic models.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

from pydantic_core import PydanticUndefined

__all__ = ["Shape", "ShapedObject", "shape_of"]

Convert = Callable[[Any], Any]

_UNION_TYPES: tuple[Any, ...] = (Union, types.UnionType)


class Shape:
    """What an SDK model class declares: its fields, their defaults and how to wrap nested values."""

    __slots__ = ("__weakref__", "cls", "defaults", "keys", "name", "nested", "package")

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.name = cls.__name__
        self.keys: dict[str, str] = {}  # attribute name -> JSON key
        self.defaults: dict[str, Any] = {}  # optional fields -> default
        nested: list[tuple[str, Convert]] = []
        self.package = cls.__module__.partition(".")[0]
        fields: dict[str, Any] = getattr(cls, "model_fields", {})
        for name, field in fields.items():
            self.keys[name] = field.alias or name
            # As the SDKs' `construct`: a missing field reads as its default, a required one as None.
            default = field.get_default()
            self.defaults[name] = None if default is PydanticUndefined else default
            convert = _converter(field.annotation, self.package)
            if convert is not None:
                nested.append((self.keys[name], convert))
        self.nested = tuple(nested)  # (JSON key, how to wrap its value)

    def build(self, raw: dict[str, Any]) -> Any:
        """The SDK's own model for `raw`, built the way the SDK builds stream events."""
        construct_type = _sdk_models(self.package).construct_type
        return construct_type(value=raw, type_=self.cls)


_SHAPES: dict[type, Shape] = {}


def _sdk_models(package: str) -> Any:
    """The SDK's `_models` module (its `construct_type`, `parse_datetime`)."""
    return sys.modules[package + "._models"]


def shape_of(cls: type) -> Shape:
    """The (cached) shape of an SDK model class."""
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = Shape(cls)
    return shape


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "model_fields")


def _strip(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X, `Optional[X]` -> X, a type alias -> its value."""
    while True:
        value = getattr(annotation, "__value__", None)  # typing.TypeAliasType
        if value is not None and not isinstance(annotation, type):
            annotation = value
            continue
        if get_origin(annotation) is typing.Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in _UNION_TYPES:
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) == 1:
                annotation = options[0]
                continue
        return annotation


def _converter(annotation: Any, package: str) -> Convert | None:
    """How to wrap a JSON value of this declared type (None: leave it as is)."""
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    if _is_model(annotation):
        return _model_converter(annotation)
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        convert_item = _converter(item, package)
        if convert_item is None:
            return None
        return lambda value: [convert_item(x) for x in value] if type(value) is list else value
    if origin in _UNION_TYPES:
        return _union_converter([_strip(arg) for arg in get_args(annotation)], package)
    if origin is dict:
        _, item = get_args(annotation) or (Any, Any)
        convert_value = _converter(item, package)
        if convert_value is None:
            return None
        return lambda value: {k: convert_value(v) for k, v in value.items()} if type(value) is dict else value
    if annotation is float:
        return _to_float
    if annotation is datetime:
        parse_datetime = _sdk_models(package).parse_datetime

        def to_datetime(value: Any) -> Any:
            try:
                return parse_datetime(value)
            except Exception:
                return value

        return to_datetime
    return None


def _to_float(value: Any) -> Any:
    """An integer where a float is declared becomes a float, unless that would lose digits."""
    if type(value) is int:
        coerced = float(value)
        return coerced if coerced == value else value
    return value


def _model_converter(cls: type) -> Convert:
    shape: Shape | None = None

    def convert(value: Any) -> Any:
        nonlocal shape  # resolved on first use: SDK models refer to each other recursively
        if type(value) is not dict:
            return value
        if shape is None:
            shape = shape_of(cls)
        return ShapedObject(value, shape)

    return convert


def _union_converter(variants: list[Any], package: str) -> Convert | None:
    """A union of models told apart by a literal field (``type`` in the SDKs), maybe or a list.

    A dict no tag matches gets the first variant, as the SDKs' `construct_type` falls back to it.
    """
    models = [variant for variant in variants if _is_model(variant)]
    lists = [variant for variant in variants if get_origin(variant) is list]
    convert_list = _converter(lists[0], package) if lists else None
    if not models:
        return convert_list
    fallback = _model_converter(variants[0]) if _is_model(variants[0]) else None
    converters: dict[Any, Convert] = {}
    key = None
    if len(models) > 1:
        key, table = _discriminator(models)
        converters = {tag: _model_converter(model) for tag, model in table.items()}

    def convert(value: Any) -> Any:
        if type(value) is dict:
            chosen = converters.get(value.get(key), fallback) if key is not None else fallback
            return chosen(value) if chosen is not None else value
        if type(value) is list and convert_list is not None:
            return convert_list(value)
        return value

    return convert


def _discriminator(models: list[type]) -> tuple[str | None, dict[Any, type]]:
    candidates = ["type", *(name for name in models[0].model_fields if name != "type")]  # type: ignore[attr-defined]
    for name in candidates:
        table: dict[Any, type] = {}
        for model in models:
            field = model.model_fields.get(name)  # type: ignore[attr-defined]
            annotation = _strip(field.annotation) if field is not None else None
            if get_origin(annotation) is not Literal:
                break
            for tag in get_args(annotation):
                table.setdefault(tag, model)
        else:
            key = models[0].model_fields[name].alias or name  # type: ignore[attr-defined]
            return key, table
    return None, {}


def plain(value: Any) -> Any:
    """The JSON a (nested) view was made from: views inside dicts and lists back to their dicts."""
    if isinstance(value, ShapedObject):
        return plain(value.__dict__)
    if type(value) is dict:
        return {key: plain(item) for key, item in value.items()}
    if type(value) is list:
        return [plain(item) for item in value]
    return value


class ShapedObject:
    """Attribute access over one JSON object, shaped like an SDK model (see the module doc).

    The object's `__dict__` is the decoded JSON object itself, its nested objects replaced by views
    when the view is made, so reading a field the JSON has is a plain attribute read; a declared
    field the JSON lacks reads as its default through `__getattr__`.
    """

    __slots__ = ("__dict__", "_model", "_shape")

    def __init__(self, raw: dict[str, Any], shape: Shape) -> None:
        self.__dict__ = raw
        self._shape = shape
        self._model: Any = None
        for key, convert in shape.nested:
            value = raw.get(key)
            if value is not None:
                raw[key] = convert(value)

    def __getattr__(self, name: str) -> Any:
        # Only called for names the JSON object does not hold under that name.
        shape = self._shape
        key = shape.keys.get(name)
        if key is not None and key in self.__dict__:  # an aliased field
            return self.__dict__[key]
        if name in shape.defaults:
            return shape.defaults[name]
        raise AttributeError(f"{shape.name!r} object has no attribute {name!r}")

    def sdk_model(self) -> Any:
        """The SDK's own pydantic model for this object (built once, on first call)."""
        if self._model is None:
            self._model = self._shape.build(plain(self.__dict__))
        return self._model

    def model_dump(self, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.sdk_model().model_dump(**options)
        return result

    def model_dump_json(self, **options: Any) -> str:
        result: str = self.sdk_model().model_dump_json(**options)
        return result

    def to_dict(self, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.sdk_model().to_dict(**options)
        return result

    def to_json(self, **options: Any) -> str:
        result: str = self.sdk_model().to_json(**options)
        return result

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ShapedObject):
            return self._shape.cls is other._shape.cls and self.__dict__ == other.__dict__
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self._shape.name}(fastsse view of {plain(self.__dict__)!r})"
