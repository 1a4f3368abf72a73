"""How the API answers when something is wrong: one Chinese body `{"detail": …, "errors": {field: …}}`
for every 4xx, declared in the OpenAPI document for every operation, never a 5xx for bad input.

- 400 FupinError / malformed body / a number too large for the database
- 401 no token, or a token that no longer works
- 403 the role or region does not allow it (AccessDenied)
- 404 no such record in the user's region (NotFound)
- 422 the request does not match the declared schema: each field named, in Chinese
"""
from __future__ import annotations

from typing import Optional

from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError


class Error(Schema):
    detail: str                                # what is wrong and what to do, in Chinese
    errors: Optional[dict[str, str]] = None    # field → message, when fields are at fault


ERROR_ANSWERS = {
    400: "请求有误（如数值超出范围、请求体不是合法的 JSON，或业务规则不允许）",
    401: "未提供令牌，或令牌无效、已撤销、账户已锁定",
    403: "您的角色或辖区无权进行此操作",
    404: "找不到该记录，或不在您的管辖范围内",
    422: "请求数据与接口说明不符（逐项列出字段与原因）",
}

# pydantic error type → Chinese; `{ctx}` fields come from the error's context.
_MESSAGES = {
    "missing": "必须填写",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数，不能有小数",
    "int_parsing_size": "数值过大",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "string_too_long": "太长（最多 {max_length} 个字符）",
    "string_too_short": "太短（至少 {min_length} 个字符）",
    "string_pattern_mismatch": "格式不正确",
    "date_parsing": "应为日期，如 2024-09-01",
    "date_type": "应为日期，如 2024-09-01",
    "date_from_datetime_parsing": "应为日期，如 2024-09-01",
    "date_from_datetime_inexact": "应为日期（不含时间），如 2024-09-01",
    "datetime_parsing": "应为日期时间，如 2024-09-01T08:00:00",
    "datetime_type": "应为日期时间，如 2024-09-01T08:00:00",
    "list_type": "应为列表",
    "dict_type": "应为对象（键值对）",
    "model_type": "应为对象（键值对）",
    "model_attributes_type": "应为对象（键值对）",
    "json_invalid": "不是合法的 JSON",
    "json_type": "不是合法的 JSON",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "extra_forbidden": "不是本接口的字段",
    "too_long": "项数太多（最多 {max_length} 项）",
    "too_short": "项数太少（至少 {min_length} 项）",
    "value_error": "取值不正确",
}
_CONTAINERS = {"body", "payload", "query", "path", "header", "cookie", "form", "file"}


def field_name(loc) -> str:
    """("body", "payload", "members", 0, "name") → "members.0.name"; the container words are dropped."""
    parts = [str(x) for x in loc if x not in _CONTAINERS]
    return ".".join(parts) or "请求体"


def chinese_message(error: dict) -> str:
    template = _MESSAGES.get(error.get("type", ""), "格式不正确")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template.split("（")[0].split("{")[0] or "格式不正确"


def validation_body(exc: NinjaValidationError) -> dict:
    errors: dict[str, str] = {}
    for e in exc.errors:
        errors.setdefault(field_name(e.get("loc", ())), chinese_message(e))
    detail = "请求数据格式不正确：" + "；".join(f"{k}：{v}" for k, v in errors.items()) + "。请按接口说明修改后重试。"
    return {"detail": detail, "errors": errors}


class FupinAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document declares the error answers of every operation, with the one
    Error body, so clients (and schemathesis) know every status the API can give."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("Error", Error.model_json_schema(ref_template="#/components/schemas/{model}"))
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for operations in schema.get("paths", {}).values():
            for op in operations.values():
                responses = op.setdefault("responses", {})
                for status, text in ERROR_ANSWERS.items():
                    responses.setdefault(str(status), {"description": text, **ref})
        return schema


def install_error_handlers(api: NinjaAPI) -> None:
    """Chinese answers for the errors ninja and Django raise before or around our own code."""

    def _answer(request, status: int, detail: str, errors: dict | None = None):
        body = {"detail": detail}
        if errors:
            body["errors"] = errors
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def _validation(request, exc):
        return api.create_response(request, validation_body(exc), status=422)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return _answer(request, 401, "请提供有效的令牌（请求头 Authorization: Bearer fp_…）；"
                                     "令牌可能已撤销、过期，或账户已锁定、停用。")

    @api.exception_handler(HttpError)
    def _http_error(request, exc):
        if exc.status_code == 400:   # ninja: "Cannot parse request body"
            return _answer(request, 400, "请求体不是合法的 JSON，请检查格式（UTF-8 编码的 JSON 对象）。")
        if exc.status_code == 429:
            return _answer(request, 429, "请求过于频繁，请稍后再试。")
        return _answer(request, exc.status_code, "请求未能处理，请检查后重试。")

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return _answer(request, 404, "找不到该记录，或不在您的管辖范围内。")

    @api.exception_handler(OverflowError)
    def _overflow(request, exc):
        # a number larger than any database column (the driver refuses to bind it)
        return _answer(request, 400, "请求中的数值超出范围：编号、数量等整数不能超过 9223372036854775807。")

    from django.db import DataError

    @api.exception_handler(DataError)
    def _data_error(request, exc):
        # PostgreSQL's refusal of a value SQLite takes (an integer beyond the column, a NUL character)
        return _answer(request, 400, "请求中的数值超出范围，或文本含有不允许的字符（如空字符 \\0），请修改后重试。")

    @api.exception_handler(ValueError)
    def _value_error(request, exc):
        # psycopg refuses a NUL character in text before it reaches PostgreSQL; any other
        # ValueError is a bug and stays a 500 (logged), never hidden as the user's mistake
        if "NUL" in str(exc):
            return _answer(request, 400, "文本中不能含有空字符（\\0），请删除后重试。")
        raise exc
