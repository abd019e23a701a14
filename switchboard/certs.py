"""A development certificate authority for the services' mutual TLS: one CA, a certificate per service and
per caller, written as PEM files into one directory (``switchboard certs``, ``switchboard up``, the tests and the
bench). Production may use any CA; the services only read the three files named in their settings.

Every certificate's common name is the identity it proves: ``devices`` and ``messaging`` (server certificates
whose names cover loopback and the compose service names; messaging's also serves as its client identity),
``edge``, ``notifications`` (a client only), and one per outside backend. EC P-256 keys: generated in about a
millisecond, so a test run makes its own CA instead of shipping one (a shipped key would be a public credential)."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA = "ca"
SERVERS = ("devices", "messaging")
# Names the services are reached by: loopback (up, tests, bench) and the docker-compose service names.
SERVER_HOSTS = ("127.0.0.1", "::1", "localhost", *SERVERS)
DEFAULT_CLIENTS = ("edge", "notifications")
# The certificate each service process presents: its own name, and ``edge`` for the connection service.
CERT_OF_SERVICE = {"devices": "devices", "messaging": "messaging", "connection": "edge",
                   "notifications": "notifications"}
VALID_DAYS = 825


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """The three files a service needs: the CA that signs its peers, its own certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def env(self) -> dict[str, str]:
        """As ``SWITCHBOARD_GRPC_*`` settings, for a child process."""
        return {"SWITCHBOARD_GRPC_CA_FILE": str(self.ca_file), "SWITCHBOARD_GRPC_CERT_FILE": str(self.cert_file),
                "SWITCHBOARD_GRPC_KEY_FILE": str(self.key_file)}


def files(directory: Path, name: str) -> TlsFiles:
    return TlsFiles(directory / f"{CA}.pem", directory / f"{name}.pem", directory / f"{name}-key.pem")


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Keys are created 0600 from the start (never world-readable, even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _builder(subject: str, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer).public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS)))


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA in ``directory``, created on first use."""
    cert_path, key_path = directory / f"{CA}.pem", directory / f"{CA}-key.pem"
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "switchboard development CA")])
    cert = (_builder("switchboard development CA", name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def issue(directory: Path, name: str, hosts: Iterable[str] = ()) -> TlsFiles:
    """A certificate for ``name`` signed by the directory's CA (replacing any earlier one of that name); with
    ``hosts`` it is also a server certificate for those names and addresses."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _load_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH, *([ExtendedKeyUsageOID.SERVER_AUTH] if hosts else [])]
    builder = (_builder(name, ca_cert.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
    target = files(directory, name)
    _write(target.key_file, _key_pem(key), private=True)
    _write(target.cert_file, builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return target


def ensure(directory: Path, clients: Iterable[str] = DEFAULT_CLIENTS, hosts: Iterable[str] = ()) -> Path:
    """The CA, both server certificates and the ``clients``' certificates in ``directory``, each made only if
    missing, so a data directory keeps its CA across runs. ``hosts`` adds names to the server certificates."""
    for name in (*SERVERS, *clients):
        if not files(directory, name).cert_file.exists():
            issue(directory, name, (*SERVER_HOSTS, *hosts) if name in SERVERS else ())
    return directory


def service_env(directory: Path, service: str) -> dict[str, str]:
    """The ``SWITCHBOARD_GRPC_*`` settings of one service process, from a directory :func:`ensure` filled."""
    return files(directory, CERT_OF_SERVICE[service]).env()
