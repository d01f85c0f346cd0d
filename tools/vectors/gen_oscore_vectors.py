#!/usr/bin/env python3
"""Cross-check vectors for kudoscope's OSCORE crypto layer (analyzer-core/src/oscore).

An INDEPENDENT implementation: CBOR is encoded by hand here, HKDF and every AEAD come from
Python's `cryptography` package (OpenSSL), nothing is shared with the Rust code. It covers what
RFC 8613 and PROTOCOLS.md publish no vectors for:

* every OSCORE AEAD (COSE 10, 11, 12, 13, 30, 31, 32, 33, 1, 2, 3, 24) and HKDF-SHA-256/384/512,
* RFC 8613 §3.2 derivation (info bytes, keys, Common IV) for the Appendix C.1/C.2/C.3 inputs,
* the C.4 request (SSN 20) and the C.7/C.8 responses (without / with PIV) protected with them,
* KUDOS updateCtx (draft-ietf-core-oscore-key-update-14 §4.2) for the PROTOCOLS.md §3.10
  inputs, both ExpandLabel encodings, and the two §3.10 messages protected with the results.

Before writing anything it checks itself against RFC 8613 C.1-C.8 and the §3.10 values, so
the output is only produced by an implementation that reproduces the published vectors.

Usage (from the repository root; needs `pip install cryptography`):
    python3 tools/vectors/gen_oscore_vectors.py            # writes analyzer-core/tests/oscore_vectors.json
    python3 tools/vectors/gen_oscore_vectors.py --check    # exits 1 if that file differs
"""

import argparse
import json
import os
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "analyzer-core", "tests", "oscore_vectors.json")

# COSE id -> (name, key length, nonce length, tag length, family)
AEADS = {
    10: ("AES-CCM-16-64-128", 16, 13, 8, "ccm"),
    11: ("AES-CCM-16-64-256", 32, 13, 8, "ccm"),
    12: ("AES-CCM-64-64-128", 16, 7, 8, "ccm"),
    13: ("AES-CCM-64-64-256", 32, 7, 8, "ccm"),
    30: ("AES-CCM-16-128-128", 16, 13, 16, "ccm"),
    31: ("AES-CCM-16-128-256", 32, 13, 16, "ccm"),
    32: ("AES-CCM-64-128-128", 16, 7, 16, "ccm"),
    33: ("AES-CCM-64-128-256", 32, 7, 16, "ccm"),
    1: ("A128GCM", 16, 12, 16, "gcm"),
    2: ("A192GCM", 24, 12, 16, "gcm"),
    3: ("A256GCM", 32, 12, 16, "gcm"),
    24: ("ChaCha20/Poly1305", 32, 12, 16, "chacha"),
}
AEAD_ORDER = [10, 11, 12, 13, 30, 31, 32, 33, 1, 2, 3, 24]
HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


# --- CBOR (RFC 8949 preferred serialisation), by hand -------------------------------------
def cbor_head(major, n):
    if n < 24:
        return bytes([(major << 5) | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < (1 << (8 * size)):
            return bytes([(major << 5) | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor_int(v):
    return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)


def cbor_bstr(b):
    return cbor_head(2, len(b)) + b


def cbor_tstr(s):
    b = s.encode()
    return cbor_head(3, len(b)) + b


def cbor_array(items):
    return cbor_head(4, len(items)) + b"".join(items)


CBOR_NULL = b"\xf6"


# --- OSCORE (RFC 8613) --------------------------------------------------------------------
def info(id_, id_context, alg, typ, length):
    return cbor_array([
        cbor_bstr(id_),
        CBOR_NULL if id_context is None else cbor_bstr(id_context),
        cbor_int(alg),
        cbor_tstr(typ),
        cbor_int(length),
    ])


def hkdf(hash_name, salt, ikm, info_, length):
    # salt=None means HashLen zero bytes (RFC 5869); RFC 8613: empty Master Salt = that.
    return HKDF(HASHES[hash_name](), length, salt if salt else None, info_).derive(ikm)


def hkdf_expand(hash_name, prk, info_, length):
    return HKDFExpand(HASHES[hash_name](), length, info_).derive(prk)


def derive(ctx):
    alg = ctx["aead"]
    _, klen, nlen, _, _ = AEADS[alg]
    infos = {
        "info_sender_key": info(ctx["sender_id"], ctx["id_context"], alg, "Key", klen),
        "info_recipient_key": info(ctx["recipient_id"], ctx["id_context"], alg, "Key", klen),
        "info_common_iv": info(b"", ctx["id_context"], alg, "IV", nlen),
    }
    out = dict(infos)
    out["sender_key"] = hkdf(ctx["hkdf"], ctx["salt"], ctx["secret"], infos["info_sender_key"], klen)
    out["recipient_key"] = hkdf(ctx["hkdf"], ctx["salt"], ctx["secret"], infos["info_recipient_key"], klen)
    out["common_iv"] = hkdf(ctx["hkdf"], ctx["salt"], ctx["secret"], infos["info_common_iv"], nlen)
    return out


def nonce(id_piv, piv, common_iv):
    nlen = len(common_iv)
    assert len(id_piv) <= nlen - 6 and len(piv) <= 5
    comp = bytes([len(id_piv)]) + id_piv.rjust(nlen - 6, b"\0") + piv.rjust(5, b"\0")
    return bytes(a ^ b for a, b in zip(comp, common_iv))


def aad_array(alg, request_kid, request_piv):
    return cbor_array([cbor_int(1), cbor_array([cbor_int(alg)]), cbor_bstr(request_kid),
                       cbor_bstr(request_piv), cbor_bstr(b"")])


def aad(alg, request_kid, request_piv):
    return cbor_array([cbor_tstr("Encrypt0"), cbor_bstr(b""), cbor_bstr(aad_array(alg, request_kid, request_piv))])


def seal(alg, key, n, a, pt):
    _, _, _, tlen, fam = AEADS[alg]
    if fam == "ccm":
        return AESCCM(key, tag_length=tlen).encrypt(n, pt, a)
    if fam == "gcm":
        return AESGCM(key).encrypt(n, pt, a)
    return ChaCha20Poly1305(key).encrypt(n, pt, a)


def option(piv, kid_context, kudos, kid):
    """OSCORE option value (RFC 8613 §6.1 + KUDOS §4.1)."""
    b0 = len(piv) | (0x10 if kid_context is not None else 0) | (0x08 if kid is not None else 0)
    flags = bytes([b0 | 0x80, 0x01]) if kudos else (bytes([b0]) if b0 else b"")
    out = flags + piv
    if kid_context is not None:
        out += bytes([len(kid_context)]) + kid_context
    if kudos:
        out += kudos
    if kid is not None:
        out += kid
    return out


# --- KUDOS updateCtx ----------------------------------------------------------------------
LABEL = b"oscore key update"


def x_n(in1, in2):
    a, b = cbor_bstr(in1), cbor_bstr(in2)
    return a + b if a <= b else b + a


def expand_label(secret_len, ctx, encoding):
    if encoding == "draft":
        return secret_len.to_bytes(2, "big") + bytes([len(LABEL)]) + LABEL + bytes([len(ctx)]) + ctx
    return secret_len.to_bytes(2, "big") + LABEL + ctx


def update_ctx(in1, in2, ctx, encoding):
    xn = x_n(in1, in2)
    inf = expand_label(len(ctx["secret"]), xn, encoding)
    new = dict(ctx)
    new["secret"] = hkdf_expand(ctx["hkdf"], ctx["secret"], inf, len(ctx["secret"]))
    new["salt"] = xn
    return new, xn, inf


# --- fixed inputs -------------------------------------------------------------------------
H = bytes.fromhex
SECRET = H("0102030405060708090a0b0c0d0e0f10")
INPUTS = {
    # RFC 8613 C.1 (client), C.2 (client), C.3 (client)
    "C.1": dict(secret=SECRET, salt=H("9e7ca92223786340"), id_context=None, sender_id=b"", recipient_id=H("01")),
    "C.2": dict(secret=SECRET, salt=b"", id_context=None, sender_id=H("00"), recipient_id=H("01")),
    "C.3": dict(secret=SECRET, salt=H("9e7ca92223786340"), id_context=H("37cbf3210017a2d3"), sender_id=b"",
                recipient_id=H("01")),
}
REQ_PLAINTEXT = H("01b3747631")  # C.4: GET /tv1
RESP_PLAINTEXT = H("45ff48656c6c6f20576f726c6421")  # C.7: 2.05 "Hello World!"
REQ_PIV = H("14")  # SSN 20
RESP_PIV = H("00")  # server SSN 0 (C.8)
X1, N1 = 0x07, H("018a278f7faab55a")
X2, N2 = 0x47, H("25a8991cd700ac01")
KUDOS_REQ_PLAINTEXT = H("02bb2e77656c6c2d6b6e6f776e056b75646f73")  # POST /.well-known/kudos
KUDOS_RESP_PLAINTEXT = H("44")  # 2.04, no payload


def protect_exchange(ctx, d, request_kid_context=None):
    """C.4-style request from the client, C.7/C.8-style responses from the server."""
    alg = ctx["aead"]
    kid = ctx["sender_id"]
    req_nonce = nonce(kid, REQ_PIV, d["common_iv"])
    a = aad(alg, kid, REQ_PIV)
    req = {
        "piv": REQ_PIV, "kid": kid, "plaintext": REQ_PLAINTEXT, "nonce": req_nonce,
        "aad_array": aad_array(alg, kid, REQ_PIV), "aad": a,
        "option": option(REQ_PIV, request_kid_context, None, kid),
        "ciphertext": seal(alg, d["sender_key"], req_nonce, a, REQ_PLAINTEXT),
    }
    resp_no_piv = {
        "plaintext": RESP_PLAINTEXT, "nonce": req_nonce, "aad": a, "option": option(b"", None, None, None),
        "ciphertext": seal(alg, d["recipient_key"], req_nonce, a, RESP_PLAINTEXT),
    }
    resp_nonce = nonce(ctx["recipient_id"], RESP_PIV, d["common_iv"])
    resp_piv = {
        "piv": RESP_PIV, "plaintext": RESP_PLAINTEXT, "nonce": resp_nonce, "aad": a,
        "option": option(RESP_PIV, None, None, None),
        "ciphertext": seal(alg, d["recipient_key"], resp_nonce, a, RESP_PLAINTEXT),
    }
    return req, resp_no_piv, resp_piv


def kudos_entry(base, encoding):
    alg = base["aead"]
    in1, in2 = bytes([X1]) + N1, bytes([X2]) + N2
    temp, xn_t, info_t = update_ctx(in1, b"", base, encoding)
    new, xn_n, info_n = update_ctx(in1, in2, base, encoding)
    dt, dn = derive(temp), derive(new)
    # Request #1: divergent, client, CTX_TEMP, PIV 0, kid h''. Response #1: convergent, server
    # (Sender ID = client's Recipient ID), CTX_NEW, PIV 0; AAD = request kid h'' / PIV 00.
    piv = H("00")
    a = aad(alg, base["sender_id"], piv)
    req_nonce = nonce(base["sender_id"], piv, dt["common_iv"])
    resp_nonce = nonce(base["recipient_id"], piv, dn["common_iv"])
    return {
        "hkdf": base["hkdf"], "aead": alg, "encoding": encoding,
        "x_n_temp": xn_t, "info_temp": info_t, "master_secret_temp": temp["secret"],
        "temp_sender_key": dt["sender_key"], "temp_recipient_key": dt["recipient_key"],
        "temp_common_iv": dt["common_iv"],
        "x_n_new": xn_n, "info_new": info_n, "master_secret_new": new["secret"],
        "new_sender_key": dn["sender_key"], "new_recipient_key": dn["recipient_key"],
        "new_common_iv": dn["common_iv"],
        "request": {
            "option": option(piv, None, bytes([X1]) + N1, base["sender_id"]), "nonce": req_nonce, "aad": a,
            "plaintext": KUDOS_REQ_PLAINTEXT,
            "ciphertext": seal(alg, dt["sender_key"], req_nonce, a, KUDOS_REQ_PLAINTEXT),
        },
        "response": {
            "option": option(piv, None, bytes([X2]) + N2, None), "nonce": resp_nonce, "aad": a,
            "plaintext": KUDOS_RESP_PLAINTEXT,
            "ciphertext": seal(alg, dn["recipient_key"], resp_nonce, a, KUDOS_RESP_PLAINTEXT),
        },
    }


def self_check():
    """Reproduce the published values before generating anything."""
    c1 = dict(INPUTS["C.1"], aead=10, hkdf="sha256")
    d = derive(c1)
    assert d["info_sender_key"] == H("8540f60a634b657910")
    assert d["sender_key"] == H("f0910ed7295e6ad4b54fc793154302ff")
    assert d["recipient_key"] == H("ffb14e093c94c9cac9471648b4f98710")
    assert d["common_iv"] == H("4622d4dd6d944168eefb54987c")
    req, r7, r8 = protect_exchange(c1, d)
    assert req["aad"] == H("8368456e63727970743040488501810a40411440")
    assert req["option"] == H("0914") and req["ciphertext"] == H("612f1092f1776f1c1668b3825e")
    assert r7["option"] == b"" and r7["ciphertext"] == H("dbaad1e9a7e7b2a813d3c31524378303cdafae119106")
    assert r8["option"] == H("0100") and r8["ciphertext"] == H("4d4c13669384b67354b2b6175ff4b8658c666a6cf88e")
    c2 = dict(INPUTS["C.2"], aead=10, hkdf="sha256")
    d2 = derive(c2)
    assert d2["sender_key"] == H("321b26943253c7ffb6003b0b64d74041")
    assert d2["common_iv"] == H("be35ae297d2dace910c52e99f9")
    req2, _, _ = protect_exchange(c2, d2)
    assert req2["option"] == H("091400") and req2["ciphertext"] == H("4ed339a5a379b0b8bc731fffb0")
    c3 = dict(INPUTS["C.3"], aead=10, hkdf="sha256")
    d3 = derive(c3)
    assert d3["sender_key"] == H("af2a1300a5e95788b356336eeecd2b92")
    assert d3["common_iv"] == H("2ca58fb85ff1b81c0b7181b85e")
    req3, _, _ = protect_exchange(c3, d3, c3["id_context"])
    assert req3["option"] == H("19140837cbf3210017a2d3")
    assert req3["ciphertext"] == H("72cd7273fd331ac45cffbe55c3")
    k = kudos_entry(c1, "draft")
    assert k["master_secret_temp"] == H("ff7dda3b7d743ff507e12f04f0e168ea")
    assert k["master_secret_new"] == H("6a0961c873d49f6bc18999a706369dd7")
    assert k["temp_sender_key"] == H("54bf06439d41194b0b92517533002c88")
    assert k["new_common_iv"] == H("049bdfeb06c0a2b9e0177aa254")
    assert k["request"]["ciphertext"] == H("eba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40")
    assert k["response"]["ciphertext"] == H("2c20888857a8dcacbd")
    k = kudos_entry(c1, "no_length_prefixes")
    assert k["master_secret_temp"] == H("87070df82076a86351bcf2a0465ae2f1")
    assert k["master_secret_new"] == H("8cc5a0d360b4b7e08e4fb9cde0898970")


def hexify(v):
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: hexify(x) for k, x in v.items()}
    if isinstance(v, list):
        return [hexify(x) for x in v]
    return v


def generate():
    contexts = []
    combos = [("C.1", a, h) for a in AEAD_ORDER for h in HASHES]
    combos += [(name, a, "sha256") for name in ("C.2", "C.3") for a in AEAD_ORDER]
    combos += [(name, 10, h) for name in ("C.2", "C.3") for h in ("sha384", "sha512")]
    for name, alg, hname in combos:
        ctx = dict(INPUTS[name], aead=alg, hkdf=hname)
        d = derive(ctx)
        req, r_no, r_piv = protect_exchange(ctx, d, ctx["id_context"] if name == "C.3" else None)
        contexts.append({
            "inputs": name, "aead": alg, "hkdf": hname,
            "master_secret": ctx["secret"], "master_salt": ctx["salt"], "id_context": ctx["id_context"],
            "sender_id": ctx["sender_id"], "recipient_id": ctx["recipient_id"],
            **d,
            "request": req, "response_without_piv": r_no, "response_with_piv": r_piv,
        })
    kudos = []
    for alg in AEAD_ORDER:
        for hname in HASHES:
            kudos.append(kudos_entry(dict(INPUTS["C.1"], aead=alg, hkdf=hname), "draft"))
    for hname in HASHES:
        kudos.append(kudos_entry(dict(INPUTS["C.1"], aead=10, hkdf=hname), "no_length_prefixes"))
    return {
        "generator": "tools/vectors/gen_oscore_vectors.py (Python cryptography, independent of the Rust code)",
        "note": "client view (Sender ID = request kid); responses are protected with the client's Recipient Key",
        "contexts": hexify(contexts),
        "kudos": hexify(kudos),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    self_check()
    text = json.dumps(generate(), indent=1, sort_keys=True) + "\n"
    if args.check:
        with open(args.out) as f:
            if f.read() != text:
                print(f"{args.out} is out of date", file=sys.stderr)
                return 1
        print(f"{args.out} is up to date")
        return 0
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {os.path.normpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
