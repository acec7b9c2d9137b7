"""The request id of the task being served, set by the web layer."""

import contextvars

request_id = contextvars.ContextVar("request_id", default="-")


def tag(text: str) -> str:
    return f"[{request_id.get()}] {text}"
