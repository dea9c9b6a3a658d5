"""What every handler needs: the request's context, the service, its JSON body."""

import json

from valet_api.errors import ApiError


def context(req):
    return req.environ["valet.context"]


def service(req):
    return req.environ["valet.service"]


def json_body(req, required=True):
    """The request's JSON object; 413 past max_request_body_size without reading it, 400 if not JSON."""
    limit = service(req).conf.api.max_request_body_size
    if req.content_length is not None and req.content_length > limit:
        raise ApiError(413, "request body is %d bytes, more than %d" % (req.content_length, limit))
    raw = req.body_file_raw.read(limit + 1) if req.content_length is None else req.body
    if len(raw) > limit:
        raise ApiError(413, "request body is more than %d bytes" % limit)
    if not raw:
        if required:
            raise ApiError(400, "a JSON body is required")
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(400, "request body is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


def project_of(req, body):
    """The owner the plugins name in the body, else the token's project."""
    project = body.get("project_id")
    if project is None:
        return context(req).project_id
    if not isinstance(project, str) or not project:
        raise ApiError(400, "project_id must be a non-empty string")
    return project
