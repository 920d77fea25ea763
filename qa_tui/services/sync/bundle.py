"""Sync files: the self-describing bundle format (header line, canonical JSON body, SHA-256
checksum), optional passphrase encryption, receipts, and private atomic writes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa_tui.errors import ValidationError
from qa_tui.files import write_private
from qa_tui.text import control_problem

FORMAT = "qa-tui-sync-bundle"
FORMAT_VERSION = 1
RECEIPT_FORMAT = "qa-tui-sync-receipt"
RECEIPT_FORMAT_VERSION = 1
KIND_CHANGES = "changes"  # a laptop's own changes, for `sync import` on the shared database
KIND_REFERENCE = "reference"  # shared reference data, for `sync pull --from-bundle` on a laptop
KINDS = (KIND_CHANGES, KIND_REFERENCE)
PASSPHRASE_ENV = "QA_TUI_SYNC_PASSPHRASE"
OUTCOMES = ("added", "updated", "unchanged", "conflict", "deleted", "refused")

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
CIPHER = "AES-256-GCM"


class BundleRefused(ValidationError):
    """A bundle or receipt file that cannot be used; nothing has been written."""


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that checksums and content hashes are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def passphrase_from_env() -> str | None:
    """The bundle passphrase: only ever from the environment, never from the config file."""
    return os.environ.get(PASSPHRASE_ENV) or None


@dataclass(frozen=True)
class BundleRecord:
    """One record in a bundle: its fields in JSON form, the version it carries and, for a
    laptop's edit, the version it started from (None: created offline, never synced)."""

    table: str
    id: str
    version: int
    base_version: int | None
    created_at: str
    hash: str
    fields: dict[str, Any]
    deleted: bool = False  # a tombstone: deleted on the laptop from `base_version`; no fields

    def to_document(self) -> dict[str, Any]:
        doc = {"table": self.table, "id": self.id, "version": self.version,
               "base_version": self.base_version, "created_at": self.created_at,
               "hash": self.hash, "fields": self.fields}
        return {**doc, "deleted": True} if self.deleted else doc


@dataclass(frozen=True)
class Bundle:
    bundle_id: str
    kind: str
    schema: str
    device: str
    device_name: str
    exported_by: str
    created_at: str
    records: tuple[BundleRecord, ...]
    owner_staff_id: str = ""  # the person the laptop is bound to, whose permissions the import applies
    source: str = field(default="bundle", compare=False)  # the file it was read from, for messages
    # Reference data: the shared database's role → permission rows (permission, role), which the
    # laptop then goes by; None in a laptop's bundle (and in reference bundles of older versions).
    role_permissions: tuple[tuple[str, str], ...] | None = None

    def contents(self) -> dict[str, Any]:
        owner = {"owner_staff_id": self.owner_staff_id} if self.owner_staff_id else {}
        if self.role_permissions is not None:
            owner["role_permissions"] = [list(pair) for pair in self.role_permissions]
        return {"bundle_id": self.bundle_id, "kind": self.kind, "schema": self.schema,
                "device": self.device, "device_name": self.device_name,
                "exported_by": self.exported_by, "created_at": self.created_at, **owner,
                "record_count": len(self.records),
                "records": [r.to_document() for r in self.records]}


@dataclass(frozen=True)
class ReceiptRecord:
    """What became of one bundle record: its outcome, the version the laptop sent and the version
    the shared database holds (None when the record is only in a conflict row)."""

    table: str
    id: str
    outcome: str
    local_version: int
    shared_version: int | None


@dataclass(frozen=True)
class ConflictNote:
    table: str
    id: str
    conflict_id: str
    reason: str


@dataclass(frozen=True)
class RefusedNote:
    """A record the shared database would not take (a rule it breaks), and why; nothing written."""

    table: str
    id: str
    reason: str


@dataclass(frozen=True)
class Receipt:
    bundle_id: str
    device: str
    exported_by: str
    imported_at: str
    imported_by: str
    added: int
    updated: int
    unchanged: int
    conflicts: tuple[ConflictNote, ...]
    records: tuple[ReceiptRecord, ...]
    deleted: int = 0
    # Records never written: a rule of the shared database they break (a second draw for a month),
    # or a change the laptop's person may not make (qa_tui.services.sync.recheck).
    refused: tuple[RefusedNote, ...] = ()
    author: str = ""  # the laptop's person, as the shared database names them ("Sam Patel (SW12)")
    already_imported: bool = field(default=False, compare=False)  # this call found it in the log

    @property
    def sent_by(self) -> str:
        """Who the bundle came from: the laptop's person and its login, or the login alone."""
        return f"{self.author}, login {self.exported_by}" if self.author else self.exported_by

    def to_document(self) -> dict[str, Any]:
        return {
            "format": RECEIPT_FORMAT, "format_version": RECEIPT_FORMAT_VERSION,
            "bundle_id": self.bundle_id, "device": self.device, "exported_by": self.exported_by,
            "imported_at": self.imported_at, "imported_by": self.imported_by,
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "conflicts": [{"table": c.table, "id": c.id, "conflict_id": c.conflict_id, "reason": c.reason}
                          for c in self.conflicts],
            "records": [[r.table, r.id, r.outcome, r.local_version, r.shared_version] for r in self.records],
            "deleted": self.deleted,
            "refused": [{"table": r.table, "id": r.id, "reason": r.reason} for r in self.refused],
            "author": self.author,
        }

    @classmethod
    def from_document(cls, doc: Any, *, source: str = "receipt", already_imported: bool = False) -> Receipt:
        def refuse(problem: str) -> BundleRefused:
            return BundleRefused(source, problem)

        if not isinstance(doc, dict) or doc.get("format") != RECEIPT_FORMAT:
            raise refuse("not a qa-tui sync receipt")
        if doc.get("format_version") != RECEIPT_FORMAT_VERSION:
            raise refuse(f"receipt format version {doc.get('format_version')!r} is not one this qa-tui reads")
        try:
            conflicts = tuple(ConflictNote(str(c["table"]), str(c["id"]), str(c["conflict_id"]), str(c["reason"]))
                              for c in doc["conflicts"])
            records = tuple(ReceiptRecord(str(t), str(i), str(o), int(lv), None if sv is None else int(sv))
                            for t, i, o, lv, sv in doc["records"])
            receipt = cls(
                bundle_id=str(uuid.UUID(doc["bundle_id"])), device=str(doc["device"]),
                exported_by=str(doc["exported_by"]), imported_at=str(doc["imported_at"]),
                imported_by=str(doc["imported_by"]), added=int(doc["added"]),
                updated=int(doc["updated"]), unchanged=int(doc["unchanged"]),
                conflicts=conflicts, records=records, deleted=int(doc.get("deleted", 0)),
                refused=tuple(RefusedNote(str(r["table"]), str(r["id"]), str(r["reason"]))
                              for r in doc.get("refused", ())), author=str(doc.get("author") or ""),
                already_imported=already_imported,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise refuse(f"receipt is incomplete or damaged ({exc.__class__.__name__}: {exc})") from None
        if any(r.outcome not in OUTCOMES for r in records):
            raise refuse("receipt names an outcome this qa-tui does not know")
        return receipt


# --- bundle files -------------------------------------------------------------------------


def encode_bundle(bundle: Bundle, passphrase: str | None = None) -> bytes:
    """The file bytes: a JSON header line, then the canonical body it checksums; the whole of it
    encrypted inside a second header when a passphrase is given."""
    body = canonical(bundle.contents())
    header = canonical({"format": FORMAT, "format_version": FORMAT_VERSION, "encrypted": False,
                        "body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest()})
    plain = header + b"\n" + body
    return _encrypt(plain, passphrase) if passphrase else plain


def decode_bundle(data: bytes, *, schema: str, passphrase: str | None = None, source: str = "bundle") -> Bundle:
    """Check and read a bundle: format, decryption, length, checksum, schema, record count and
    each record's content hash. Raises BundleRefused with the reason."""
    header, header_bytes, body = _split(data, source)
    if header.get("encrypted") is True:
        data = _decrypt(header, header_bytes, body, passphrase, source)
        header, header_bytes, body = _split(data, source)
        if header.get("encrypted") is not False:
            raise BundleRefused(source, "the encrypted bundle does not hold a plain bundle inside")
    elif header.get("encrypted") is not False:
        raise BundleRefused(source, "the header does not say whether the bundle is encrypted")
    expected = header.get("body_bytes")
    if not isinstance(expected, int) or not isinstance(header.get("body_sha256"), str):
        raise BundleRefused(source, "the header is missing its length or checksum")
    if len(body) != expected:
        what = "truncated" if len(body) < expected else "longer than its header says"
        raise BundleRefused(source, f"the bundle is {what} (header: {expected} bytes of contents, file: {len(body)})")
    if hashlib.sha256(body).hexdigest() != header["body_sha256"]:
        raise BundleRefused(source, "the checksum does not match the contents: the file was altered or damaged after export")
    try:
        contents = json.loads(body, parse_constant=lambda name: _not_json(source, name))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleRefused(source, f"the contents are not valid JSON ({exc})") from None
    return _bundle_from_contents(contents, schema, source)


def write_bundle(path: Path, bundle: Bundle, passphrase: str | None = None) -> None:
    write_private(path, encode_bundle(bundle, passphrase))


def read_bundle(path: Path, *, schema: str, passphrase: str | None = None) -> Bundle:
    return decode_bundle(read_file(path), schema=schema, passphrase=passphrase, source=str(path))


def receipt_path_for(bundle_path: Path) -> Path:
    return bundle_path.with_name(bundle_path.name + ".receipt.json")


def write_receipt(path: Path, receipt: Receipt) -> None:
    write_private(path, json.dumps(receipt.to_document(), indent=1).encode("utf-8") + b"\n")


def read_receipt(path: Path) -> Receipt:
    try:
        doc = json.loads(read_file(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleRefused(str(path), f"not a readable receipt ({exc})") from None
    return Receipt.from_document(doc, source=str(path))


def read_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be read ({exc.strerror})") from None


def _not_json(source: str, name: str) -> None:
    raise BundleRefused(source, f"the contents hold {name}, which a bundle never does: the file was altered")


def _split(data: bytes, source: str) -> tuple[dict[str, Any], bytes, bytes]:
    newline = data.find(b"\n")
    if newline < 0:
        raise BundleRefused(source, "not a qa-tui sync bundle, or truncated inside its header")
    header_bytes = data[:newline]
    try:
        header = json.loads(header_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleRefused(source, "not a qa-tui sync bundle (its header line is not readable)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BundleRefused(source, "not a qa-tui sync bundle")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise BundleRefused(source, f"bundle format version {version!r}: made by a newer qa-tui than this "
                                    f"one (which reads version {FORMAT_VERSION})")
    return header, header_bytes, data[newline + 1:]


def _bundle_from_contents(contents: Any, schema: str, source: str) -> Bundle:
    def refuse(problem: str) -> BundleRefused:
        return BundleRefused(source, problem)

    if not isinstance(contents, dict):
        raise refuse("the contents are not a bundle")
    texts = ("bundle_id", "kind", "schema", "device", "device_name", "exported_by", "created_at")
    for key in texts:
        if not isinstance(contents.get(key), str):
            raise refuse(f"the contents lack {key!r}")
        if problem := control_problem(contents[key]):
            raise refuse(f"{key!r} {problem}")
    if contents["schema"] != schema:
        raise refuse(f"made with database schema {contents['schema']!r}, but this qa-tui uses {schema!r}; "
                     f"use the same qa-tui version on the laptop and for the shared database")
    if contents["kind"] not in KINDS:
        raise refuse(f"unknown bundle kind {contents['kind']!r}")
    try:
        bundle_id = str(uuid.UUID(contents["bundle_id"]))
    except ValueError:
        raise refuse("the bundle ID is not a UUID") from None
    raw_records = contents.get("records")
    count = contents.get("record_count")
    if not isinstance(raw_records, list) or not isinstance(count, int):
        raise refuse("the contents lack their records or record count")
    if len(raw_records) != count:
        raise refuse(f"truncated: it says {count} records but holds {len(raw_records)}")
    records = []
    for index, raw in enumerate(raw_records, 1):
        try:
            record = BundleRecord(
                table=_typed(raw["table"], str), id=_typed(raw["id"], str), version=_typed(raw["version"], int),
                base_version=None if raw["base_version"] is None else _typed(raw["base_version"], int),
                created_at=_typed(raw["created_at"], str), hash=_typed(raw["hash"], str),
                fields=_typed(raw["fields"], dict), deleted=_typed(raw.get("deleted", False), bool),
            )
        except (KeyError, TypeError) as exc:
            raise refuse(f"record {index} is incomplete ({exc.__class__.__name__}: {exc})") from None
        if content_hash(record.fields) != record.hash:
            raise refuse(f"record {index} ({record.table} {record.id}): its content hash does not match its fields")
        records.append(record)
    return Bundle(bundle_id=bundle_id, kind=contents["kind"], schema=contents["schema"],
                  device=contents["device"], device_name=contents["device_name"],
                  exported_by=contents["exported_by"], created_at=contents["created_at"],
                  records=tuple(records), owner_staff_id=str(contents.get("owner_staff_id") or ""), source=source,
                  role_permissions=_role_pairs(contents.get("role_permissions"), refuse))


def _role_pairs(raw: Any, refuse: Any) -> tuple[tuple[str, str], ...] | None:
    """The role → permission rows a reference bundle carries, each a [permission, role] pair."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) and not control_problem(x)
                                                              for x in pair) for pair in raw):
        raise refuse("its role permissions are not a list of [permission, role] pairs")
    return tuple((p, r) for p, r in raw)


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, str]:
    """The AES key, and a short check value that tells a wrong passphrase from a damaged file."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    material = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return material[:32], hashlib.sha256(material[32:]).hexdigest()[:16]


def _encrypt(plain: bytes, passphrase: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    key, check = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    header = canonical({
        "format": FORMAT, "format_version": FORMAT_VERSION, "encrypted": True,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                "salt": base64.b64encode(salt).decode("ascii")},
        "cipher": CIPHER, "nonce": base64.b64encode(nonce).decode("ascii"), "key_check": check,
        "body_bytes": len(plain) + 16,
    })
    return header + b"\n" + AESGCM(key).encrypt(nonce, plain, header)


def _decrypt(header: dict[str, Any], header_bytes: bytes, body: bytes, passphrase: str | None, source: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise BundleRefused(source, f"the bundle is encrypted: set {PASSPHRASE_ENV} to the passphrase "
                                    f"it was exported with")
    kdf = header.get("kdf")
    try:
        if header.get("cipher") != CIPHER or not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
            raise ValueError("unknown cipher or key derivation")
        n, r, p = (int(kdf[k]) for k in ("n", "r", "p"))
        if not (2**10 <= n <= 2**20 and 1 <= r <= 16 and 1 <= p <= 4):
            raise ValueError("key derivation settings out of range")
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(header["nonce"], validate=True)
        expected_check = str(header["key_check"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise BundleRefused(source, f"the encryption header is damaged ({exc})") from None
    key, check = _derive(passphrase, salt, n, r, p)
    if check != expected_check:
        raise BundleRefused(source, f"wrong passphrase: {PASSPHRASE_ENV} is not the passphrase this "
                                    f"bundle was encrypted with")
    expected = header.get("body_bytes")
    if isinstance(expected, int) and len(body) < expected:
        raise BundleRefused(source, f"the encrypted bundle is truncated ({len(body)} of {expected} bytes)")
    try:
        return AESGCM(key).decrypt(nonce, body, header_bytes)
    except InvalidTag:
        raise BundleRefused(source, "the encrypted bundle was altered or damaged after export "
                                    "(it fails its integrity check)") from None
