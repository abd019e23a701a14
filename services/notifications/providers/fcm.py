"""Firebase Cloud Messaging, HTTP v1 API: ``POST {base}/v1/projects/{project}/messages:send`` with an OAuth2
bearer token that google-auth obtains from the service account's key (its signed JWT grant, never ours).

google-auth's service-account refresh is synchronous (requests), so it runs in a worker thread, one at a time,
and only when the token is missing or near its expiry (google-auth refreshes a few minutes early): the event
loop never waits on the token endpoint, and a burst of pushes shares one token."""

from __future__ import annotations

import asyncio
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import httpx
import requests
from google.oauth2 import service_account

from services.notifications.providers import transport
from services.notifications.providers.apns import collapse_id
from services.notifications.providers.base import Outcome, Push, Result
from services.notifications.providers.settings import PushProviderSettings, configured

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


class _BoundedRequest(google.auth.transport.requests.Request):
    """google-auth's requests transport held to our deadline (its own default waits two minutes)."""

    def __init__(self, session: requests.Session, timeout: float) -> None:
        super().__init__(session)
        self._deadline = timeout

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> Any:
        return super().__call__(url, method, body, headers, timeout=self._deadline, **kwargs)


def message(push: Push) -> dict[str, Any]:
    """One v1 ``Message``: the app's data map on every push; for a visible one, the notification, replacing the
    session's earlier one on Android (``tag``) and iOS (``apns-collapse-id``). A silent push is data only, so
    the app withdraws the session's notification itself (docs/push.md)."""
    android: dict[str, Any] = {"collapse_key": push.collapse_key, "priority": "NORMAL" if push.silent else "HIGH"}
    apns: dict[str, Any] = {"headers": {"apns-collapse-id": collapse_id(push.collapse_key)}}
    body: dict[str, Any] = {"token": push.token, "data": transport.app_data(push), "android": android, "apns": apns}
    if push.silent:
        apns["headers"].update({"apns-push-type": "background", "apns-priority": "5"})
        apns["payload"] = {"aps": {"content-available": 1}}
    else:
        body["notification"] = {"title": push.title, "body": push.body}
        android["notification"] = {"tag": push.collapse_key, "notification_count": push.badge}
        apns["payload"] = {"aps": {"badge": push.badge, "sound": "default", "thread-id": push.collapse_key}}
    return {"message": body}


class FCMProvider:
    name = "fcm"

    def __init__(self, *, credentials: service_account.Credentials, project_id: str, base_url: str,
                 ca_file: str = "", timeout: float = 10.0, concurrency: int = 50) -> None:
        self._credentials = credentials
        self._path = f"/v1/projects/{project_id}/messages:send"
        self._refreshing = asyncio.Lock()
        self._session = requests.Session()
        if ca_file:  # requests lets REQUESTS_CA_BUNDLE override a session's own CA unless told not to
            self._session.verify, self._session.trust_env = ca_file, False
        self._auth_request = _BoundedRequest(self._session, timeout)
        self._bound = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(base_url=base_url, http2=True, timeout=timeout,
                                         verify=transport.ssl_context(ca_file))

    @classmethod
    def from_settings(cls, settings: PushProviderSettings) -> FCMProvider | None:
        if not configured(settings, "fcm_service_account_file"):
            return None
        credentials = service_account.Credentials.from_service_account_file(
            settings.fcm_service_account_file, scopes=[SCOPE])
        if settings.fcm_token_uri:
            credentials = credentials.with_token_uri(settings.fcm_token_uri)
        project_id = settings.fcm_project_id or credentials.project_id
        if not project_id:
            raise ValueError("set SWITCHBOARD_FCM_PROJECT_ID: the service account file names no project_id")
        return cls(credentials=credentials, project_id=project_id, base_url=settings.fcm_base_url,
                   ca_file=settings.push_provider_ca_file, timeout=settings.push_provider_timeout_seconds,
                   concurrency=settings.push_provider_concurrency)

    async def _access_token(self) -> str:
        async with self._refreshing:
            if not self._credentials.valid:
                await asyncio.to_thread(self._credentials.refresh, self._auth_request)
            return str(self._credentials.token)

    async def send(self, push: Push) -> Result:
        async with self._bound:
            try:
                token = await self._access_token()
            except google.auth.exceptions.TransportError as exc:
                return transport.unreachable(exc)
            except google.auth.exceptions.RefreshError as exc:
                # The token endpoint refused the service account (revoked key, wrong file): no push can go until
                # an operator acts, unless google-auth itself calls the refusal temporary.
                outcome = Outcome.RETRY if getattr(exc, "retryable", False) else Outcome.FAILED
                return Result(outcome, detail=f"oauth2: {exc}")
            try:
                response = await self._client.post(self._path, json=message(push),
                                                   headers={"authorization": f"Bearer {token}"})
            except httpx.TransportError as exc:
                return transport.unreachable(exc)
        return self._result(response)

    def _result(self, response: httpx.Response) -> Result:
        if response.status_code == 200:
            return Result(Outcome.ACCEPTED, detail=response.text[:200])  # {"name": "projects/…/messages/…"}
        code = _error_code(response)
        if response.status_code == 404 or code == "UNREGISTERED":
            return Result(Outcome.INVALID_TOKEN, detail=f"{response.status_code} {code}")
        if response.status_code == 401:  # the access token was revoked or expired early: fetch another
            self._credentials.token = None
            return transport.retry(response.status_code, None, code)
        if transport.transient(response.status_code):
            return transport.retry(response.status_code, response.headers.get("retry-after"), code)
        return Result(Outcome.FAILED, detail=f"{response.status_code} {code}")

    async def close(self) -> None:
        await self._client.aclose()
        self._session.close()


def _error_code(response: httpx.Response) -> str:
    """FCM's own ``errorCode`` (UNREGISTERED, QUOTA_EXCEEDED ...) when the error names one, else the Google API
    ``status`` (NOT_FOUND, UNAVAILABLE ...); empty for a body that is not a Google API error."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return ""
    if not isinstance(error, dict):
        return ""
    for detail in error.get("details", []):
        if isinstance(detail, dict) and detail.get("@type") == _FCM_ERROR and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status", ""))
