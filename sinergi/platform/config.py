"""Settings for every sinergi process: `sinergi.toml`, overlaid by `SINERGI_<SECTION>_<KEY>` env vars.

Pure module (no Temporal imports) so the CLI, gateway, workers and tests can all load it cheaply.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

CONFIG_ENV = "SINERGI_CONFIG"
DEFAULT_FILE = "sinergi.toml"
BUILTIN_POLICIES = frozenset({"default", "demo"})
BUILTIN_AGENCIES = frozenset({"sandbox"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_CACHED_CASES = 400  # worker memory: bench/memory.py
DEFAULT_AGENCY_CONCURRENCY = 20  # calls in flight to one kind of agency, per worker process

Port = Annotated[int, Field(ge=0, le=65535)]


class ConfigError(Exception):
    """A configuration problem; one line per problem: `<file or env var>: <dotted.key>: <expected form>`."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemporalSettings(_Section):
    """How to reach the Temporal server."""

    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    task_queue: str = "sinergi"
    tls: bool = False
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None
    tls_server_name: str | None = None
    api_key_env: str | None = None  # the env var's *name*: secrets never live in the config file
    # Deliveries per second on each agency kind's task queue, enforced by the server (None: no limit),
    # so a burst of cases never floods one agency's system.
    # Set, it moves each agency kind's calls to a task queue of their own (`<task_queue>-agency-<kind>`);
    # unset, they run on the case's queue, handed to the worker with the case's own workflow task.
    agency_rate_limit: float | None = Field(default=None, gt=0)
    # Calls in flight at once to one kind of agency from one worker process: the bulkhead that keeps a slow
    # or unreachable agency from taking every activity slot (sinergi.activities.agencies).
    agency_concurrency: int = Field(default=DEFAULT_AGENCY_CONCURRENCY, ge=1)
    # Cases kept in the worker's memory between events (~0.38 MB each, bench/RESULTS.md "Memory"); the
    # others are rebuilt from history when they next wake. The default keeps a worker under 300 MB however
    # many cases are open; raise it for throughput when many hundreds of cases are active at once.
    max_cached_workflows: int = Field(default=DEFAULT_CACHED_CASES, ge=0)
    # Worker Versioning (README "Upgrading workers"): the workers poll as build `build_id` of the worker
    # deployment `deployment_name`, and the server hands a case's tasks only to the build current for it, so
    # old and new code never take turns on one case. "auto": a worker makes its build current once it polls,
    # unless that build was current before or a newer one is; "manual": a new build waits for `sinergi admin
    # deploy set-current`; "off": unversioned workers, any of which takes any task. true/false: "auto"/"off".
    versioning: Literal["off", "auto", "manual"] = "auto"
    # Default: the task queue's name (a deployment per province queue; no "." allowed).
    deployment_name: str | None = None
    # Default: sinergi's version and a fingerprint of its code (sinergi.platform.versioning.default_build_id).
    build_id: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("versioning", mode="before")
    @classmethod
    def _versioning_switch(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return "auto" if value else "off"
        if isinstance(value, str):
            return {"true": "auto", "false": "off"}.get(value.strip().lower(), value)
        return value

    @field_validator("deployment_name")
    @classmethod
    def _deployment_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or "." in value or value != value.strip()):
            raise ValueError("expected a name without '.' or surrounding spaces")
        return value

    @field_validator("build_id")
    @classmethod
    def _build_id(cls, value: str | None) -> str | None:
        if value is not None and value != value.strip():
            raise ValueError("expected a build id without surrounding spaces")
        return value


class GatewaySettings(_Section):
    """The HTTP gateway for agency systems (and the codec server for the Temporal UI)."""

    host: str = "127.0.0.1"
    port: Port = 8080
    public_url: str | None = None
    max_body_bytes: int = Field(default=65536, ge=1)
    codec_token_env: str = "SINERGI_CODEC_TOKEN"
    # Browser pages that may read the codec's answers (CORS). An origin is a header any local process can
    # set: it grants nothing by itself; a codec request still needs the token or `sinergi dev`'s UI session.
    # `sinergi dev` derives them from `[dev] ui_port` (DevSettings.ui_origins).
    ui_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]
    # Retired: it trusted any request that *said* it came from the UI's origin. `sinergi dev` now prints a
    # secret link instead (sinergi.gateway.devlogin). Still accepted so older files load; ignored.
    codec_trust_local_ui: bool | None = Field(default=None, deprecated="ignored: sinergi dev prints a UI link")
    # `sinergi dev` only, set in-process (never from a file or the environment): the secret behind the link
    # its banner prints, whose cookie lets that person's browser decode in the Temporal UI.
    _dev_ui_login: Any = PrivateAttr(default=None)
    # `sinergi dev` only, set in-process: the mail its catcher received, listed at `/dev/mail`.
    _dev_mailbox: Any = PrivateAttr(default=None)
    # Payloads of a whole history page can be large; events are small, so each has its own limit.
    codec_max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    # A client that has not sent its whole body by then gets 408: slow clients must not hold workers.
    read_timeout_seconds: float = Field(default=10.0, gt=0)
    # A client whose request line and headers have not all arrived this long after their first byte gets
    # 408 and is hung up on (aiohttp has no such limit: one byte a second held a connection for 75 s).
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long an event may wait for its case (no worker, busy server) before 503 and "retry later".
    apply_timeout_seconds: float = Field(default=20.0, gt=0)
    # Events in flight per case from this process. Temporal aborts updates beyond 10 in flight on one
    # workflow (clients then back off for seconds); 2 keeps up to 5 gateway replicas under that limit.
    case_concurrency: int = Field(default=2, ge=1, le=10)
    # Retired: the case itself now checks that an office takes part in it, so there is no cache to size.
    # Still accepted, so a configuration file written for an earlier version keeps loading; ignored.
    party_cache_seconds: float | None = Field(default=None, ge=0, deprecated="ignored: the case checks membership")

    @property
    def base_url(self) -> str:
        """The URL agencies call back on: `public_url`, else derived from host and port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host  # bare IPv6 needs brackets in a URL
        return f"http://{host}:{self.port}"

    @property
    def dev_ui_login(self) -> Any:
        """`sinergi dev`'s UI login (a `sinergi.gateway.devlogin.DevUiLogin`), else None."""
        return self._dev_ui_login

    def with_dev_ui_login(self, login: Any) -> GatewaySettings:
        """A copy that serves `login`'s link and accepts its session cookie on the codec endpoints."""
        copy = self.model_copy()
        copy._dev_ui_login = login
        return copy

    @property
    def dev_mailbox(self) -> Any:
        """`sinergi dev`'s caught mail (a `sinergi.gateway.devmail.Mailbox`), else None."""
        return self._dev_mailbox

    def with_dev_mailbox(self, mailbox: Any) -> GatewaySettings:
        """A copy that lists `mailbox` at `/dev/mail`."""
        copy = self.model_copy()
        copy._dev_mailbox = mailbox
        return copy


class CodecSettings(_Section):
    """Which payload encryption key encodes new payloads, and where the keys live."""

    key_id: str = Field(default="k1", min_length=1)
    keys_file: Path = Path(".sinergi/keys.json")
    # SPEC "Operators and engineers in production": a client without keys (an operator's CLI, `admin replay`)
    # encodes and decodes through the gateway's codec endpoint (`https://gateway/codec`), as
    # `temporal --codec-endpoint` does; the keys file is then never read. Only the worker and gateway hold keys.
    endpoint: str | None = None
    # The env var holding the operator's token the CLI sends to the endpoint.
    token_env: str = "SINERGI_TOKEN"
    # The user profile's `token` (sinergi.commands.profiles), when the env var is not set: never in sinergi.toml.
    _profile_token: str | None = PrivateAttr(default=None)

    @property
    def profile_token(self) -> str | None:
        return self._profile_token

    def with_profile_token(self, token: str | None) -> CodecSettings:
        copy = self.model_copy()
        copy._profile_token = token
        return copy

    @field_validator("endpoint")
    @classmethod
    def _codec_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, _, rest = value.partition("://")
        host = rest.split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
        if scheme == "https" or (scheme == "http" and host in ("127.0.0.1", "localhost", "::1")):
            return value.rstrip("/")
        raise ValueError("expected an https:// URL (http:// only on loopback)")


class AuthSettings(_Section):
    """Who the gateway admits besides offices (SPEC "Operators and engineers in production"): named operators'
    tokens (kept hashed in the case record) and, when `issuer` is set, the identity provider's access tokens,
    so the Temporal UI's signed-in user can decode."""

    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = None
    # The claim naming the user's role (`caseworker`, `supervisor` or `engineer`); a token without it, or with
    # another value, is an engineer's: masked.
    role_claim: str = "sinergi_role"
    # The claim naming who the user is, for the audit (`sub` if absent).
    name_claim: str = "preferred_username"
    # Pinned: a token signed any other way (`none`, HS256 with the public key ...) is refused.
    algorithms: list[Literal["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]] = ["RS256"]
    jwks_cache_seconds: float = Field(default=300.0, ge=0)
    leeway_seconds: float = Field(default=30.0, ge=0, le=300)

    @model_validator(mode="after")
    def _all_or_none(self) -> AuthSettings:
        given = [name for name in ("issuer", "audience", "jwks_url") if getattr(self, name) is not None]
        if given and len(given) != 3:
            raise ValueError("issuer, audience and jwks_url are set together (an identity provider) or not at all")
        return self

    @property
    def oidc(self) -> bool:
        return self.issuer is not None


class UiSettings(_Section):
    """What people read (SPEC "Language"): `id` or `en`; unset, the locale decides (`id_*` → Bahasa Indonesia)."""

    language: Literal["id", "en"] | None = None


class PolicySettings(_Section):
    """The clock policy: a path, or `default` / `demo` for the shipped ones."""

    file: str = "default"


class AgenciesSettings(_Section):
    """The agreement registry: a path, or `sandbox` for the shipped one."""

    file: str = "sandbox"


class DevSettings(_Section):
    """`sinergi dev`: local Temporal server, UI and sandbox agencies."""

    ui_port: Port = 8233
    db_file: Path = Path(".sinergi/temporal.db")
    sandbox_port: Port = 9100
    # Where the sandbox listens, and the address the shipped registry sends referrals to; in a container
    # the sandbox binds 0.0.0.0 and the workers reach it by its service name.
    sandbox_host: str = "127.0.0.1"
    sandbox_url: str | None = None
    state_dir: Path = Path(".sinergi")
    # The mail catcher's SMTP port on loopback, when `[email] host` is not configured.
    mail_port: Port = 1025

    @property
    def sandbox_base_url(self) -> str:
        return (self.sandbox_url or f"http://{self.sandbox_host}:{self.sandbox_port}").rstrip("/")

    @property
    def ui_origins(self) -> list[str]:
        """The origins the dev Temporal UI is reached at, on `ui_port` (it listens on loopback)."""
        return [f"http://127.0.0.1:{self.ui_port}", f"http://localhost:{self.ui_port}"]


class TelemetrySettings(_Section):
    """Tracing export, worker metrics and log rendering."""

    # OTLP over HTTP/protobuf, e.g. "http://otel-collector:4318" (`/v1/traces` is added). Unset, and without
    # OTEL_EXPORTER_OTLP_ENDPOINT, no span leaves the process.
    otlp_endpoint: str | None = None
    # host:port of the worker's Prometheus endpoint (`/metrics`), e.g. "127.0.0.1:9464"; unset: off.
    metrics_address: str | None = None
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"

    @field_validator("metrics_address")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        host, _, port = (value or "").rpartition(":")
        if value is not None and not (host and port.isdigit() and int(port) <= 65535):
            raise ValueError("expected host:port, e.g. 127.0.0.1:9464")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return value.upper()


class EmailSettings(_Section):
    """The SMTP server the `email` adapter sends referral and notice e-mails through (SPEC "Offices without
    systems of their own"). Unset `host`: no relay configured (`sinergi dev` will run a local catcher)."""

    # `from` is a Python keyword: the field is `from_`, read and written as `from` (file, env, errors).
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str | None = None
    # Unset: the port of the chosen security (587 starttls, 465 tls, 25 none).
    port: Port | None = None
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None  # the env var's *name*: secrets never live in the config file
    from_: str = Field(default="sinergi@localhost", alias="from", min_length=3)
    reply_to: str | None = None
    # Connect, greeting and each command: a relay slower than this is unavailable and the delivery retried.
    timeout_seconds: float = Field(default=15.0, gt=0)

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else {"starttls": 587, "tls": 465, "none": 25}[self.security]


class RecordsSettings(_Section):
    """The case record (SPEC "The case record and reports"): the database facts of every case are kept in."""

    # `sqlite:///<path>` (relative paths are against the config file's folder) or `postgresql://user@host/db`.
    # Unset: `records.db` in `[dev] state_dir` (`sinergi.records.records_url`).
    url: str | None = None
    # A file holding the database password (a container secret): never in the URL, nor in this file.
    password_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        scheme = (value or "").partition("://")[0].lower()
        if value is not None and scheme not in ("sqlite", "postgresql", "postgres", "postgresql+psycopg"):
            raise ValueError("expected sqlite:///<path> or postgresql://user@host:port/database")
        return value


class Settings(_Section):
    """All settings; `config_dir` is the folder relative paths were resolved against."""

    temporal: TemporalSettings = TemporalSettings()
    gateway: GatewaySettings = GatewaySettings()
    codec: CodecSettings = CodecSettings()
    policy: PolicySettings = PolicySettings()
    agencies: AgenciesSettings = AgenciesSettings()
    dev: DevSettings = DevSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    email: EmailSettings = EmailSettings()
    records: RecordsSettings = RecordsSettings()
    auth: AuthSettings = AuthSettings()
    ui: UiSettings = UiSettings()
    config_dir: Path = Path(".")


_SECTIONS: dict[str, type[_Section]] = {
    "temporal": TemporalSettings,
    "gateway": GatewaySettings,
    "codec": CodecSettings,
    "policy": PolicySettings,
    "agencies": AgenciesSettings,
    "dev": DevSettings,
    "telemetry": TelemetrySettings,
    "email": EmailSettings,
    "records": RecordsSettings,
    "auth": AuthSettings,
    "ui": UiSettings,
}

# Readable "expected" phrases for the pydantic error types a config file can realistically hit.
_EXPECTED = {
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "expected an integer"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "expected true or false"),
    **dict.fromkeys(("model_type", "dict_type"), "expected a table"),
    "string_type": "expected a string",
    "list_type": "expected a list of strings",
    "path_type": "expected a path string",
}


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load settings from `path`, else `$SINERGI_CONFIG`, else `./sinergi.toml` if present, else defaults."""
    env = os.environ if env is None else env
    if path is None and env.get(CONFIG_ENV):
        path = env[CONFIG_ENV]
    if path is None and Path(DEFAULT_FILE).is_file():
        path = DEFAULT_FILE
    data: dict[str, Any] = {}
    label = "<defaults>"
    base = Path.cwd()
    if path is not None:
        label, data = str(path), _read_toml(Path(path))
        base = Path(path).expanduser().resolve().parent

    sources = _overlay_env(data, env)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(err, label, sources) for err in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
    return _resolve_paths(settings, base)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.expanduser().open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message already carries "(at line N, column M)".
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    # Reject stray top-level keys here: pydantic would otherwise accept `config_dir` from the file.
    problems = [
        f"{path}: {key}: unknown section (expected one of: {', '.join(_SECTIONS)})"
        for key in data
        if key not in _SECTIONS
    ]
    if problems:
        raise ConfigError("\n".join(problems))
    return data


def _overlay_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """Apply `SINERGI_<SECTION>_<KEY>` vars onto `data`; return which env var set which (section, key)."""
    sources: dict[tuple[str, str], str] = {}
    for var, raw in env.items():
        name = var.upper()
        if not name.startswith("SINERGI_"):
            continue
        section, _, key = name[len("SINERGI_") :].lower().partition("_")
        model = _SECTIONS.get(section)
        # Other SINERGI_* vars (codec token, agency secrets, SINERGI_CONFIG) are not settings: skip them.
        if model is None:
            continue
        # A field may be spelled by its alias (`[email] from`, SINERGI_EMAIL_FROM).
        fields = {(f.alias or name): f for name, f in model.model_fields.items()}
        if key not in fields:
            continue
        field = fields[key]
        value: Any = raw
        if field.annotation == list[str]:
            value = [item.strip() for item in raw.split(",") if item.strip()]
        elif raw == "" and not field.is_required() and field.default is None:
            value = None  # an empty env var clears an optional setting
        target = data.setdefault(section, {})
        if isinstance(target, dict):
            target[key] = value
            sources[(section, key)] = var
    return sources


def _describe(err: Mapping[str, Any], label: str, sources: Mapping[tuple[str, str], str]) -> str:
    loc = tuple(str(part) for part in err["loc"])
    where = sources.get((loc[0], loc[1]), label) if len(loc) >= 2 else label
    dotted = ".".join(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _SECTIONS.get(loc[0])
        names = [f.alias or name for name, f in model.model_fields.items()] if model else []
        known = f" (expected one of: {', '.join(names)})" if model else ""
        return f"{where}: {dotted}: unknown key{known}"
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
    elif kind == "literal_error":
        expected = f"expected {err['ctx']['expected']}"
    elif kind == "value_error":
        expected = str(err["ctx"]["error"])
    else:  # e.g. "Input should be less than or equal to 65535"
        expected = err["msg"].replace("Input should be", "expected")
    return f"{where}: {dotted}: {expected}, got {err['input']!r}"


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    """Make relative paths absolute against `base` so nothing depends on the process's cwd."""

    def resolve(value: Path | str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    updates: dict[str, Any] = {"config_dir": base}
    for name in _SECTIONS:
        section: _Section = getattr(settings, name)
        changed = {k: resolve(v) for k, v in section if isinstance(v, Path)}
        updates[name] = section.model_copy(update=changed)
    if settings.policy.file not in BUILTIN_POLICIES:
        updates["policy"] = PolicySettings(file=str(resolve(settings.policy.file)))
    if settings.agencies.file not in BUILTIN_AGENCIES:
        updates["agencies"] = AgenciesSettings(file=str(resolve(settings.agencies.file)))
    return settings.model_copy(update=updates)
