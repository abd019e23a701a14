from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeviceInfo(_message.Message):
    __slots__ = ("device_name", "device_type", "platform", "browser", "os_version", "app_version")
    DEVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    BROWSER_FIELD_NUMBER: _ClassVar[int]
    OS_VERSION_FIELD_NUMBER: _ClassVar[int]
    APP_VERSION_FIELD_NUMBER: _ClassVar[int]
    device_name: str
    device_type: str
    platform: str
    browser: str
    os_version: str
    app_version: str
    def __init__(self, device_name: _Optional[str] = ..., device_type: _Optional[str] = ..., platform: _Optional[str] = ..., browser: _Optional[str] = ..., os_version: _Optional[str] = ..., app_version: _Optional[str] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("user_id", "device_id", "info", "push_token", "is_active", "last_login", "online", "connections", "push_provider")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    PUSH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    LAST_LOGIN_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    PUSH_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    device_id: str
    info: DeviceInfo
    push_token: str
    is_active: bool
    last_login: str
    online: bool
    connections: int
    push_provider: str
    def __init__(self, user_id: _Optional[int] = ..., device_id: _Optional[str] = ..., info: _Optional[_Union[DeviceInfo, _Mapping]] = ..., push_token: _Optional[str] = ..., is_active: _Optional[bool] = ..., last_login: _Optional[str] = ..., online: _Optional[bool] = ..., connections: _Optional[int] = ..., push_provider: _Optional[str] = ...) -> None: ...

class RegisterDeviceRequest(_message.Message):
    __slots__ = ("user_id", "device_id", "info", "role")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    device_id: str
    info: DeviceInfo
    role: str
    def __init__(self, user_id: _Optional[int] = ..., device_id: _Optional[str] = ..., info: _Optional[_Union[DeviceInfo, _Mapping]] = ..., role: _Optional[str] = ...) -> None: ...

class RegisterDeviceResponse(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: Device
    def __init__(self, device: _Optional[_Union[Device, _Mapping]] = ...) -> None: ...

class ListDevicesRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class ListDevicesResponse(_message.Message):
    __slots__ = ("devices",)
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    def __init__(self, devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ...) -> None: ...

class ListPushDevicesRequest(_message.Message):
    __slots__ = ("user_ids",)
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ListPushDevicesResponse(_message.Message):
    __slots__ = ("devices",)
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    def __init__(self, devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ...) -> None: ...

class KickDeviceRequest(_message.Message):
    __slots__ = ("user_id", "device_id", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    device_id: str
    reason: str
    def __init__(self, user_id: _Optional[int] = ..., device_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class KickDeviceResponse(_message.Message):
    __slots__ = ("connections_closed",)
    CONNECTIONS_CLOSED_FIELD_NUMBER: _ClassVar[int]
    connections_closed: int
    def __init__(self, connections_closed: _Optional[int] = ...) -> None: ...

class UpdatePushTokenRequest(_message.Message):
    __slots__ = ("user_id", "device_id", "push_token", "push_provider")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PUSH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PUSH_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    device_id: str
    push_token: str
    push_provider: str
    def __init__(self, user_id: _Optional[int] = ..., device_id: _Optional[str] = ..., push_token: _Optional[str] = ..., push_provider: _Optional[str] = ...) -> None: ...

class UpdatePushTokenResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClearPushTokenRequest(_message.Message):
    __slots__ = ("user_id", "device_id", "push_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PUSH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    device_id: str
    push_token: str
    def __init__(self, user_id: _Optional[int] = ..., device_id: _Optional[str] = ..., push_token: _Optional[str] = ...) -> None: ...

class ClearPushTokenResponse(_message.Message):
    __slots__ = ("cleared",)
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    cleared: bool
    def __init__(self, cleared: _Optional[bool] = ...) -> None: ...

class RegisterConnectionRequest(_message.Message):
    __slots__ = ("user_id", "connection_id", "socket_id", "device_id", "node_id", "ip_address", "user_agent")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SOCKET_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    connection_id: str
    socket_id: str
    device_id: str
    node_id: str
    ip_address: str
    user_agent: str
    def __init__(self, user_id: _Optional[int] = ..., connection_id: _Optional[str] = ..., socket_id: _Optional[str] = ..., device_id: _Optional[str] = ..., node_id: _Optional[str] = ..., ip_address: _Optional[str] = ..., user_agent: _Optional[str] = ...) -> None: ...

class RegisterConnectionResponse(_message.Message):
    __slots__ = ("reconnected", "user_came_online")
    RECONNECTED_FIELD_NUMBER: _ClassVar[int]
    USER_CAME_ONLINE_FIELD_NUMBER: _ClassVar[int]
    reconnected: bool
    user_came_online: bool
    def __init__(self, reconnected: _Optional[bool] = ..., user_came_online: _Optional[bool] = ...) -> None: ...

class TouchConnectionsRequest(_message.Message):
    __slots__ = ("node_id", "connection_ids")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    connection_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_id: _Optional[str] = ..., connection_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class TouchConnectionsResponse(_message.Message):
    __slots__ = ("updated",)
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    updated: int
    def __init__(self, updated: _Optional[int] = ...) -> None: ...

class UnregisterConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class UnregisterConnectionResponse(_message.Message):
    __slots__ = ("user_went_offline",)
    USER_WENT_OFFLINE_FIELD_NUMBER: _ClassVar[int]
    user_went_offline: bool
    def __init__(self, user_went_offline: _Optional[bool] = ...) -> None: ...

class ResetNodeRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class ResetNodeResponse(_message.Message):
    __slots__ = ("closed",)
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    closed: int
    def __init__(self, closed: _Optional[int] = ...) -> None: ...

class GetPresenceRequest(_message.Message):
    __slots__ = ("user_ids",)
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class UserPresence(_message.Message):
    __slots__ = ("user_id", "online", "device_ids", "last_seen")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    online: bool
    device_ids: _containers.RepeatedScalarFieldContainer[str]
    last_seen: str
    def __init__(self, user_id: _Optional[int] = ..., online: _Optional[bool] = ..., device_ids: _Optional[_Iterable[str]] = ..., last_seen: _Optional[str] = ...) -> None: ...

class GetPresenceResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[UserPresence]
    def __init__(self, users: _Optional[_Iterable[_Union[UserPresence, _Mapping]]] = ...) -> None: ...

class GetUserRoleRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class GetUserRoleResponse(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: str
    def __init__(self, role: _Optional[str] = ...) -> None: ...

class RegistryStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeConnections(_message.Message):
    __slots__ = ("node_id", "connections", "users")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    connections: int
    users: int
    def __init__(self, node_id: _Optional[str] = ..., connections: _Optional[int] = ..., users: _Optional[int] = ...) -> None: ...

class RegistryStatsResponse(_message.Message):
    __slots__ = ("online_users", "connections", "active_devices", "nodes")
    ONLINE_USERS_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_DEVICES_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    online_users: int
    connections: int
    active_devices: int
    nodes: _containers.RepeatedCompositeFieldContainer[NodeConnections]
    def __init__(self, online_users: _Optional[int] = ..., connections: _Optional[int] = ..., active_devices: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[NodeConnections, _Mapping]]] = ...) -> None: ...
