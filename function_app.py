"""Azure Functions entry point (v2 model): ``POST /redact``, ``POST /restore``,
``GET /health``, ``GET /openapi.yaml``.

The handlers only translate between ``azure.functions`` types and ``redaction.http.api``; the local
server (``python -m redaction serve``) dispatches to these very handlers.
"""

from __future__ import annotations

import azure.functions as func

from redaction.http import api

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="redact", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def redact(req: func.HttpRequest) -> func.HttpResponse:
    answer = await api.redact(req.get_body() or b"", dict(req.headers))
    return _response(answer)


@app.route(route="restore", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def restore(req: func.HttpRequest) -> func.HttpResponse:
    answer = await api.restore(req.get_body() or b"", dict(req.headers))
    return _response(answer)


@app.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health(req: func.HttpRequest) -> func.HttpResponse:
    answer = await api.health(dict(req.params))
    return _response(answer)


@app.route(route="openapi.yaml", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(api.openapi_document(), mimetype="application/yaml", charset="utf-8")


def _response(answer: api.Answer) -> func.HttpResponse:
    return func.HttpResponse(
        answer.body(),
        status_code=answer.status,
        headers=answer.headers,
        mimetype="application/json",
        charset="utf-8",
    )
