"""The contract's error body, and the exception handlers raise to produce it."""

import json

import webob

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    def __init__(self, code, explanation, headers=None):
        super().__init__(explanation)
        self.code = code
        self.explanation = explanation
        self.headers = headers or {}


def body(code, explanation):
    title = TITLES.get(code, "Error")
    return {
        "title": title,
        "explanation": explanation,
        "code": code,
        "error": {"message": explanation, "type": title.replace(" ", "")},
    }


def response(code, explanation, headers=None):
    resp = webob.Response(status=code, content_type="application/json", charset=None)
    resp.body = json.dumps(body(code, explanation)).encode()
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp
