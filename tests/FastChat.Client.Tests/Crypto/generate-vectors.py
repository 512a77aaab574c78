#!/usr/bin/env python3
"""Known-answer vectors for FastChat's end-to-end formats, computed from docs/security.md alone.

This is an independent implementation (Python's `cryptography` package) of the formats the C# code in
src/FastChat.Client/Crypto implements. Its output is pasted into KnownAnswerVectors.cs; the tests then check that the
C# code produces exactly these bytes from the same fixed keys, nonces and inputs. Regenerate with:

    python3 tests/FastChat.Client.Tests/Crypto/generate-vectors.py

ECDSA signatures are randomized, so they are not part of the vectors: the tests verify them over the transcript
printed here instead.
"""

import hashlib
import struct
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def fixed_key(label):
    d = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (P256_ORDER - 1) + 1
    return ec.derive_private_key(d, ec.SECP256R1())


def pkcs8(key):
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def spki(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def point(key):
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def scalar(key):
    return key.private_numbers().private_value.to_bytes(32, "big")


def s(text):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt if salt else None, info=info).derive(ikm)


def i32(v):
    return struct.pack(">i", v)


def u32(v):
    return struct.pack(">I", v)


def i64(v):
    return struct.pack(">q", v)


def seq(start, count):
    return bytes(range(start, start + count))


alice_agreement = fixed_key("fastchat kat alice agreement")
alice_signing = fixed_key("fastchat kat alice signing")
bob_agreement = fixed_key("fastchat kat bob agreement")
bob_signing = fixed_key("fastchat kat bob signing")
ephemeral = fixed_key("fastchat kat ephemeral")

alice_fingerprint = hashlib.sha256(spki(alice_agreement) + spki(alice_signing)).digest()
bob_fingerprint = hashlib.sha256(spki(bob_agreement) + spki(bob_signing)).digest()

message_id = seq(0x10, 16)
file_id = seq(0x20, 16)
sent_at = datetime(2025, 6, 1, 12, 34, 56) - datetime(1, 1, 1)
ticks = (sent_at.days * 86400 + sent_at.seconds) * 10_000_000 + 1234567
group = "team-7"
epoch = 3
group_key = seq(0x40, 32)


def sealed_box(label, sender, recipient, recipient_fingerprint, recipient_agreement, context, salt, plaintext, nonce):
    key_id = recipient_fingerprint[:8]
    header = bytes([1]) + key_id + point(ephemeral) + nonce
    info = s(label) + s(sender) + s(recipient)
    transcript = bytes([1]) + info + context + header[1:]
    shared = ephemeral.exchange(ec.ECDH(), recipient_agreement.public_key())
    key = hkdf(shared, salt, info)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, transcript)
    return header + ciphertext, transcript


def group_box(label, sender, group_name, group_epoch, key_bytes, msg_id, plaintext, nonce):
    info = s(label) + s(group_name) + i32(group_epoch)
    transcript = bytes([1]) + info + s(sender) + msg_id + i64(ticks) + nonce
    key = hkdf(key_bytes, msg_id, info)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, transcript)
    return bytes([1]) + nonce + ciphertext, transcript


def chunk_cipher(file_key, fid, index, count, plaintext):
    key = hkdf(file_key, fid, s("fastchat file v1"))
    nonce = fid[:8] + u32(index)
    ad = bytes([1]) + fid + u32(index) + u32(count) + bytes([1 if index == count - 1 else 0])
    return AESGCM(key).encrypt(nonce, plaintext, ad)


def manifest(name, content, file_key):
    count = max(1, (len(content) + 65535) // 65536)
    return bytes([1]) + i64(len(content)) + i32(count) + hashlib.sha256(content).digest() + file_key + s(name), count


out = {}
for name, key in [("AliceAgreement", alice_agreement), ("AliceSigning", alice_signing),
                  ("BobAgreement", bob_agreement), ("BobSigning", bob_signing), ("Ephemeral", ephemeral)]:
    out[name + "Pkcs8"] = pkcs8(key)
    out[name + "Spki"] = spki(key)
out["AliceFingerprint"] = alice_fingerprint
out["BobFingerprint"] = bob_fingerprint

# Wrapped private keys.
wrap_key = seq(0x00, 32)
wrap_nonce = seq(0xA0, 12)
wrap_ad = bytes([1]) + s("fastchat identity v1") + s("alice")
out["WrappedKeys"] = bytes([1]) + wrap_nonce + AESGCM(wrap_key).encrypt(
    wrap_nonce, scalar(alice_agreement) + scalar(alice_signing), wrap_ad)

# Direct message alice -> bob.
dm_plaintext = "Hello, Bob! \U0001F510".encode("utf-8")
out["DirectEnvelopeUnsigned"], out["DirectTranscript"] = sealed_box(
    "fastchat dm v1", "alice", "bob", bob_fingerprint, bob_agreement,
    message_id + i64(ticks), message_id, dm_plaintext, seq(0xB0, 12))

# Group message from alice in team-7, epoch 3.
out["GroupEnvelopeUnsigned"], out["GroupTranscript"] = group_box(
    "fastchat group v1", "alice", group, epoch, group_key, message_id, b"hello group", seq(0xC0, 12))

# Group key of team-7, epoch 3, wrapped by alice for bob.
gk_payload = bytes([1]) + i32(epoch) + group_key + s(group)
out["GroupKeyWrapUnsigned"], out["GroupKeyWrapTranscript"] = sealed_box(
    "fastchat group key v1", "alice", "bob", bob_fingerprint, bob_agreement,
    s(group) + i32(epoch), b"", gk_payload, seq(0xD0, 12))

# A one-chunk file, its manifest and the offers carrying it.
file_key = seq(0x60, 32)
small = b"FastChat file chunk test\n"
out["SmallManifest"], small_count = manifest("notes.txt", small, file_key)
out["SmallChunk0"] = chunk_cipher(file_key, file_id, 0, small_count, small)
out["FileOfferUnsigned"], out["FileOfferTranscript"] = sealed_box(
    "fastchat file offer v1", "alice", "bob", bob_fingerprint, bob_agreement,
    file_id + i64(ticks), file_id, out["SmallManifest"], seq(0xE0, 12))
out["GroupFileOfferUnsigned"], out["GroupFileOfferTranscript"] = group_box(
    "fastchat group file offer v1", "alice", group, epoch, group_key, file_id, out["SmallManifest"], seq(0xF0, 12))

# A two-chunk file (64 KiB + 10 bytes of i mod 251): the chunks' SHA-256.
large = bytes(i % 251 for i in range(65536 + 10))
large_manifest, large_count = manifest("pattern.bin", large, file_key)
out["LargeManifestSha256"] = hashlib.sha256(large_manifest).digest()
out["LargeChunk0Sha256"] = hashlib.sha256(chunk_cipher(file_key, file_id, 0, large_count, large[:65536])).digest()
out["LargeChunk1"] = chunk_cipher(file_key, file_id, 1, large_count, large[65536:])

print(f"    public const long SentAtTicks = {ticks};")
for name, value in out.items():
    print(f'    public const string {name} = "{value.hex()}";')
