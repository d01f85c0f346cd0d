# Usage: python3 aio_dump.py <aiocoap_cases dir> > expected.json   (needs aiocoap[oscore]==0.4.17)
# Loads each case directory (from a throwaway copy: aiocoap writes a lock file) with
# aiocoap.oscore.FilesystemSecurityContext and prints what it understood, as JSON.
import json, os, shutil, sys, tempfile, hashlib
import aiocoap, aiocoap.meta, aiocoap.oscore as o
base = sys.argv[1]
out = {"generator": "aiocoap %s, aiocoap.oscore.FilesystemSecurityContext (tests/data/keys/aiocoap_cases/aio_dump.py)" % aiocoap.meta.version, "cases": {}}
for case in sorted(os.listdir(base)):
    src = os.path.join(base, case)
    if not os.path.isdir(src):
        continue
    tmp = tempfile.mkdtemp()
    dst = os.path.join(tmp, "ctx")
    shutil.copytree(src, dst)
    msg_dir = "<copy of the case directory>"
    try:
        c = o.FilesystemSecurityContext(dst + "/")
        r = {
            "ok": True,
            "sender_id": c.sender_id.hex(),
            "recipient_id": c.recipient_id.hex(),
            "id_context": None if c.id_context is None else c.id_context.hex(),
            "aead_cose_id": c.alg_aead.value,
            "hkdf": c.hashfun.name,
            # Fingerprint of the derived sender key: detects a different secret/salt/id_context.
            "sender_key_sha256_4": hashlib.sha256(c.sender_key).hexdigest()[:8],
        }
        c._destroy()
    except Exception as e:
        r = {"ok": False, "error": type(e).__name__ + ": " + str(e).replace(dst + "/", msg_dir)}
    out["cases"][case] = r
    shutil.rmtree(tmp)
print(json.dumps(out, indent=2, sort_keys=True))
