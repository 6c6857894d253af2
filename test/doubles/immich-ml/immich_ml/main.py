# TEST DOUBLE of Immich v3.2.0 machine-learning/immich_ml/main.py (upstream commit
# d1467fe3b6df2c7d6522a969e61470439feae63d): GET / → {"message":"Immich ML"}, GET /ping → "pong"
# (text/plain). Simplified: a WSGI callable instead of a FastAPI (ASGI) app, served by the stand-in
# gunicorn; no models, so POST /predict answers 501.
import json


def _reply(start_response, status: str, content_type: str, body: bytes):
    start_response(status, [("content-type", content_type), ("content-length", str(len(body)))])
    return [body]


def app(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    if method in ("GET", "HEAD") and path == "/ping":
        return _reply(start_response, "200 OK", "text/plain; charset=utf-8", b"pong")
    if method in ("GET", "HEAD") and path == "/":
        return _reply(start_response, "200 OK", "application/json", json.dumps({"message": "Immich ML"}).encode())
    if path == "/predict":
        body = json.dumps({"detail": "immich-distribution test double: no models"}).encode()
        return _reply(start_response, "501 Not Implemented", "application/json", body)
    return _reply(start_response, "404 Not Found", "application/json", b'{"detail":"Not Found"}')
