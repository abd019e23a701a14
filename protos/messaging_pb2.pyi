from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Message(_message.Message):
    __slots__ = ("id", "session_id", "from_user_id", "to_user_id", "text", "time", "avatar", "message_type", "reply_to_message_id", "status", "sequence_number", "client_msg_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    FROM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    session_id: str
    from_user_id: int
    to_user_id: int
    text: str
    time: str
    avatar: str
    message_type: str
    reply_to_message_id: int
    status: str
    sequence_number: int
    client_msg_id: str
    def __init__(self, id: _Optional[int] = ..., session_id: _Optional[str] = ..., from_user_id: _Optional[int] = ..., to_user_id: _Optional[int] = ..., text: _Optional[str] = ..., time: _Optional[str] = ..., avatar: _Optional[str] = ..., message_type: _Optional[str] = ..., reply_to_message_id: _Optional[int] = ..., status: _Optional[str] = ..., sequence_number: _Optional[int] = ..., client_msg_id: _Optional[str] = ..., **kwargs) -> None: ...

class Session(_message.Message):
    __slots__ = ("session_id", "user_id", "agent_id", "status", "last_sequence", "created_at")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    user_id: int
    agent_id: int
    status: str
    last_sequence: int
    created_at: str
    def __init__(self, session_id: _Optional[str] = ..., user_id: _Optional[int] = ..., agent_id: _Optional[int] = ..., status: _Optional[str] = ..., last_sequence: _Optional[int] = ..., created_at: _Optional[str] = ...) -> None: ...

class OpenSessionRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class AssignAgentRequest(_message.Message):
    __slots__ = ("session_id", "agent_id", "take_over")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TAKE_OVER_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    agent_id: int
    take_over: bool
    def __init__(self, session_id: _Optional[str] = ..., agent_id: _Optional[int] = ..., take_over: _Optional[bool] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class SessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ...) -> None: ...

class CloseSessionRequest(_message.Message):
    __slots__ = ("session_id", "actor_id", "actor_role")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    actor_id: int
    actor_role: str
    def __init__(self, session_id: _Optional[str] = ..., actor_id: _Optional[int] = ..., actor_role: _Optional[str] = ...) -> None: ...

class TransferSessionRequest(_message.Message):
    __slots__ = ("session_id", "actor_id", "actor_role", "agent_id")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    actor_id: int
    actor_role: str
    agent_id: int
    def __init__(self, session_id: _Optional[str] = ..., actor_id: _Optional[int] = ..., actor_role: _Optional[str] = ..., agent_id: _Optional[int] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("actor_id", "actor_role", "scope", "status", "after", "limit")
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    actor_id: int
    actor_role: str
    scope: str
    status: str
    after: int
    limit: int
    def __init__(self, actor_id: _Optional[int] = ..., actor_role: _Optional[str] = ..., scope: _Optional[str] = ..., status: _Optional[str] = ..., after: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class SessionsPage(_message.Message):
    __slots__ = ("sessions", "has_more", "next_cursor")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[Session]
    has_more: bool
    next_cursor: int
    def __init__(self, sessions: _Optional[_Iterable[_Union[Session, _Mapping]]] = ..., has_more: _Optional[bool] = ..., next_cursor: _Optional[int] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ("sender_id", "sender_role", "session_id", "text", "message_type", "reply_to_message_id", "client_msg_id", "origin_connection_id")
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ROLE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    sender_id: int
    sender_role: str
    session_id: str
    text: str
    message_type: str
    reply_to_message_id: int
    client_msg_id: str
    origin_connection_id: str
    def __init__(self, sender_id: _Optional[int] = ..., sender_role: _Optional[str] = ..., session_id: _Optional[str] = ..., text: _Optional[str] = ..., message_type: _Optional[str] = ..., reply_to_message_id: _Optional[int] = ..., client_msg_id: _Optional[str] = ..., origin_connection_id: _Optional[str] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ("message", "duplicate")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    message: Message
    duplicate: bool
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class SendSystemMessageRequest(_message.Message):
    __slots__ = ("session_id", "user_id", "text", "message_type", "idempotency_key")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    user_id: int
    text: str
    message_type: str
    idempotency_key: str
    def __init__(self, session_id: _Optional[str] = ..., user_id: _Optional[int] = ..., text: _Optional[str] = ..., message_type: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class MarkMessagesRequest(_message.Message):
    __slots__ = ("user_id", "message_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    message_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_id: _Optional[int] = ..., message_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class MarkReadUpToRequest(_message.Message):
    __slots__ = ("user_id", "session_id", "sequence_number")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    session_id: str
    sequence_number: int
    def __init__(self, user_id: _Optional[int] = ..., session_id: _Optional[str] = ..., sequence_number: _Optional[int] = ...) -> None: ...

class StatusChange(_message.Message):
    __slots__ = ("message_id", "session_id", "sender_id", "status", "timestamp")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    message_id: int
    session_id: str
    sender_id: int
    status: str
    timestamp: str
    def __init__(self, message_id: _Optional[int] = ..., session_id: _Optional[str] = ..., sender_id: _Optional[int] = ..., status: _Optional[str] = ..., timestamp: _Optional[str] = ...) -> None: ...

class MarkResponse(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[StatusChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[StatusChange, _Mapping]]] = ...) -> None: ...

class SyncHistoryRequest(_message.Message):
    __slots__ = ("user_id", "session_id", "after_sequence", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    session_id: str
    after_sequence: int
    limit: int
    def __init__(self, user_id: _Optional[int] = ..., session_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class MessagesPage(_message.Message):
    __slots__ = ("messages", "has_more", "next_cursor")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    has_more: bool
    next_cursor: int
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., has_more: _Optional[bool] = ..., next_cursor: _Optional[int] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SendMessageResult(_message.Message):
    __slots__ = ("ok", "error")
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ok: SendMessageResponse
    error: Error
    def __init__(self, ok: _Optional[_Union[SendMessageResponse, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class SendMessageBatchRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[SendMessageRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[SendMessageRequest, _Mapping]]] = ...) -> None: ...

class SendMessageBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SendMessageResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SendMessageResult, _Mapping]]] = ...) -> None: ...

class MarkResult(_message.Message):
    __slots__ = ("ok", "error")
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ok: MarkResponse
    error: Error
    def __init__(self, ok: _Optional[_Union[MarkResponse, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class MarkMessagesBatchRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[MarkMessagesRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[MarkMessagesRequest, _Mapping]]] = ...) -> None: ...

class MarkMessagesBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[MarkResult]
    def __init__(self, results: _Optional[_Iterable[_Union[MarkResult, _Mapping]]] = ...) -> None: ...

class FetchPendingRequest(_message.Message):
    __slots__ = ("user_id", "limit", "after_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    limit: int
    after_id: int
    def __init__(self, user_id: _Optional[int] = ..., limit: _Optional[int] = ..., after_id: _Optional[int] = ...) -> None: ...
