"""A client without keys (an operator's CLI, `sinergi admin replay`) codes payloads through the gateway's codec
endpoint (SPEC "Operators and engineers in production"; `[codec] endpoint`), as `temporal --codec-endpoint`
does: only the worker and the gateway ever read the keys file.

Every request carries the operator's token (`[codec] token_env`, `SINERGI_TOKEN`, or the profile's `token`), the
namespace, and the workflow it is for (`X-Workflow-Id`, from `for_workflow`), so the gateway audits each decode
against its case. What the gateway answers depends on who the token names: a caseworker reads the victim, an
engineer a masked copy; an operator's events are sealed with the operator's verified name.
"""

from __future__ import annotations

import contextvars
import copy
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import temporalio.converter
from temporalio.api.common.v1 import Payload

# The workflow the payloads being coded belong to: set around each client call by `Cases`.
_WORKFLOW: contextvars.ContextVar[str | None] = contextvars.ContextVar("sinergi_codec_workflow", default=None)
TIMEOUT_SECONDS = 15.0
CASE_ID_LINES_MAX = 500  # bulk-intake lines per `case-ids` request (the gateway takes at most this many)
CASE_ID_BYTES_MAX = 2 * 1024 * 1024  # ... and about this many bytes (the gateway's `codec_max_body_bytes`: 4 MiB)


class RemoteCodecError(Exception):
    """The gateway's codec endpoint did not code the payloads: `status` (0: not reached) and its error code."""

    def __init__(self, message: str, *, status: int = 0, code: str = "codec_unavailable") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@contextmanager
def for_workflow(workflow_id: str | None) -> Iterator[None]:
    """Name the workflow the payloads coded inside belong to (the gateway's decode audit names the case)."""
    reset = _WORKFLOW.set(workflow_id)
    try:
        yield
    finally:
        _WORKFLOW.reset(reset)


def set_workflow(workflow_id: str | None) -> None:
    """Name the workflow for the rest of this task (a CLI command reads one case)."""
    _WORKFLOW.set(workflow_id)


class RemoteCodec(temporalio.converter.PayloadCodec, temporalio.converter.WithSerializationContext):
    """Encodes and decodes through `{endpoint}/encode` and `{endpoint}/decode`, naming the workflow the SDK says
    the payloads belong to (the gateway seals them for it, and audits each decode under its case)."""

    def __init__(self, endpoint: str, token: str | None, namespace: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._namespace = namespace
        self._workflow_id: str | None = None

    def with_context(self, context: temporalio.converter.SerializationContext) -> RemoteCodec:
        bound = copy.copy(self)
        bound._workflow_id = getattr(context, "workflow_id", None) or None
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._call("encode", payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._call("decode", payloads)

    async def case_id_suffixes(self, lines: Sequence[str]) -> list[str]:
        """The case-id suffix the gateway derives for each bulk-intake line under the codec key (`sinergi.bulk`),
        in order, `CASE_ID_LINES_MAX` lines a request."""
        chunks: list[list[str]] = [[]]
        size = 0
        for line in lines:  # at most CASE_ID_LINES_MAX lines and CASE_ID_BYTES_MAX bytes of JSON a request
            encoded = len(json.dumps(line)) + 2
            if chunks[-1] and (len(chunks[-1]) == CASE_ID_LINES_MAX or size + encoded > CASE_ID_BYTES_MAX):
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += encoded
        out: list[str] = []
        for chunk in chunks if lines else []:
            answer = await self._post("case-ids", {"lines": chunk}, "suffixes", "derive case ids")
            if len(answer["suffixes"]) != len(chunk) or not all(isinstance(s, str) for s in answer["suffixes"]):
                raise RemoteCodecError(f"the codec endpoint answered {len(answer['suffixes'])} case ids for "
                                       f"{len(chunk)} lines")
            out += answer["suffixes"]
        return out

    async def _post(self, action: str, body: dict[str, Any], wanted: str, doing: str) -> dict[str, Any]:
        """POST `body` to `{endpoint}/{action}` with the token; the answer, which must hold a list `wanted`."""
        if not self._token:
            raise RemoteCodecError("no operator token: set SINERGI_TOKEN (or `token` in your profile) to the token "
                                   "`sinergi admin operator add` printed for you", status=401, code="no_token")
        import aiohttp

        headers = {"Authorization": f"Bearer {self._token}", "X-Namespace": self._namespace}
        workflow_id = self._workflow_id or _WORKFLOW.get()
        if workflow_id:
            headers["X-Workflow-Id"] = workflow_id
        url = f"{self.endpoint}/{action}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as session, \
                    session.post(url, json=body, headers=headers) as response:
                answer: Any = await response.json(content_type=None) if response.content_length != 0 else None
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RemoteCodecError(f"cannot reach the codec endpoint {url}: {type(exc).__name__}: {exc}") from None
        if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get(wanted), list):
            code = answer.get("error", "codec_refused") if isinstance(answer, dict) else "codec_refused"
            message = answer.get("message", "") if isinstance(answer, dict) else ""
            raise RemoteCodecError(f"the codec endpoint refused to {doing} ({status} {code}): {message}".rstrip(": "),
                                   status=status, code=code)
        return answer

    async def _call(self, action: str, payloads: Sequence[Payload]) -> list[Payload]:
        if not payloads:
            return []
        from google.protobuf import json_format

        answer = await self._post(action, {"payloads": [json_format.MessageToDict(p) for p in payloads]}, "payloads",
                                  action)
        out = []
        for item in answer["payloads"]:
            payload = Payload()
            json_format.ParseDict(item, payload)
            out.append(payload)
        if len(out) != len(payloads):
            raise RemoteCodecError(f"the codec endpoint answered {len(out)} payloads for {len(payloads)}")
        return out

