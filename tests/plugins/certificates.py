"""Test PKI for TLS brokers: certificate authorities and the certificates they sign.

Everything is generated at test time with ``cryptography`` (EC P-256 keys, a few ms each) and
written as PEM files; private keys are written ``0600`` so Mosquitto does not complain.

- :class:`CertificateAuthority` -- a self-signed CA that issues server and client certificates.
- :class:`CertificateFiles` -- paths of one issued certificate and its key.
- :class:`Certificates` -- the set a TLS test needs: the trusted test CA (the broker's
  ``cafile``), the broker's server certificate, trusted client certificates, and the
  negative cases: a client certificate from a different CA, an expired client certificate,
  and an unrelated CA a client can trust to reject the broker's certificate.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Names the broker's certificate is valid for: clients connect to the literal 127.0.0.1
# (pytest-socket only allows that host) but may also verify "localhost".
SERVER_DNS_NAMES = ("localhost",)
SERVER_IP_ADDRESSES = ("127.0.0.1", "::1")

# Back-dated so small clock differences between processes never make a fresh cert "not yet valid".
_CLOCK_SKEW = dt.timedelta(hours=1)
_VALIDITY = dt.timedelta(days=2)


@dataclass(frozen=True)
class CertificateFiles:
    """PEM files of one issued certificate: ``cert`` (certificate) and ``key`` (private key)."""

    common_name: str
    cert: Path
    key: Path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _file_stem(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", label)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.touch(mode=0o600)
    path.write_bytes(pem)


def _write_certificate(path: Path, certificate: x509.Certificate) -> None:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


@dataclass(eq=False)
class CertificateAuthority:
    """A self-signed test CA; ``cert`` is its certificate file, ``issue()`` signs leaf certs.

    Issued files land in ``directory`` as ``<label>.crt`` / ``<label>.key``; a numeric suffix
    keeps repeated labels from overwriting each other.
    """

    name: str
    directory: Path
    key: ec.EllipticCurvePrivateKey = field(init=False, repr=False)
    certificate: x509.Certificate = field(init=False, repr=False)
    cert: Path = field(init=False)
    _serials: itertools.count[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        public_key = self.key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - _CLOCK_SKEW)
            .not_valid_after(_now() + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert = self.directory / f"{_file_stem(self.name)}.crt"
        _write_certificate(self.cert, self.certificate)
        self._serials = itertools.count(1)

    def issue(
        self,
        common_name: str,
        *,
        server: bool = False,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        label: str | None = None,
    ) -> CertificateFiles:
        """Sign a new key pair for ``common_name`` and write it as PEM files.

        ``server=True`` makes a TLS server certificate valid for :data:`SERVER_DNS_NAMES` and
        :data:`SERVER_IP_ADDRESSES`; otherwise a TLS client certificate. The validity defaults
        to [now - 1 h, now + 2 days]; pass both bounds in the past for an expired certificate.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        public_key = key.public_key()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or _now() - _CLOCK_SKEW)
            .not_valid_after(not_after or _now() + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if server:
            names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_DNS_NAMES]
            names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IP_ADDRESSES]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())

        stem = _file_stem(label or common_name)
        serial = next(self._serials)
        if serial > 1:
            stem = f"{stem}-{serial}"
        files = CertificateFiles(
            common_name=common_name,
            cert=self.directory / f"{stem}.crt",
            key=self.directory / f"{stem}.key",
        )
        _write_certificate(files.cert, certificate)
        _write_key(files.key, key)
        return files


@dataclass(eq=False)
class Certificates:
    """The PKI of one TLS test, written under ``directory``.

    ``ca`` is the trusted test CA: the broker's ``cafile`` and what good clients verify the
    broker with (``ca_cert``). The two other CAs are made on first use:
    ``other_ca`` signs client certificates the broker must refuse, and ``unrelated_ca``
    signs nothing; a client trusting only it must reject the broker's certificate.
    """

    directory: Path
    ca: CertificateAuthority = field(init=False)

    def __post_init__(self) -> None:
        self.ca = CertificateAuthority("BESS test CA", self.directory / "trusted")

    @property
    def ca_cert(self) -> Path:
        """The trusted CA certificate (PEM)."""
        return self.ca.cert

    @cached_property
    def other_ca(self) -> CertificateAuthority:
        """A CA the broker does not trust: its client certificates are refused."""
        return CertificateAuthority("BESS other CA", self.directory / "other")

    @cached_property
    def unrelated_ca(self) -> CertificateAuthority:
        """A CA that signed nothing the broker presents ("wrong CA" on the client side)."""
        return CertificateAuthority("BESS unrelated CA", self.directory / "unrelated")

    @property
    def unrelated_ca_cert(self) -> Path:
        """Certificate of :attr:`unrelated_ca`: a client trusting only it rejects the broker."""
        return self.unrelated_ca.cert

    def server(self, common_name: str = "localhost") -> CertificateFiles:
        """A server certificate for 127.0.0.1 / ::1 / localhost signed by the trusted CA."""
        return self.ca.issue(common_name, server=True, label=f"server-{common_name}")

    def client(self, common_name: str) -> CertificateFiles:
        """A client certificate with CN ``common_name`` signed by the trusted CA."""
        return self.ca.issue(common_name, label=f"client-{common_name}")

    def client_from_other_ca(self, common_name: str) -> CertificateFiles:
        """A client certificate signed by :attr:`other_ca`: the broker must refuse it."""
        return self.other_ca.issue(common_name, label=f"client-{common_name}")

    def expired_client(self, common_name: str) -> CertificateFiles:
        """A client certificate from the trusted CA whose validity ended yesterday."""
        now = _now()
        return self.ca.issue(
            common_name,
            not_before=now - dt.timedelta(days=2),
            not_after=now - dt.timedelta(days=1),
            label=f"expired-client-{common_name}",
        )
