"""The sandbox's promise about stdin, proven by scanning memory, on every backend available here.

*A job's stdin never enters the memory of a process that the job's code runs in, or is forked
from, before the job's own code reads it; and no job process holds anything of another job.*

A job forks a child before it reads its stdin; the child reads its whole address space
(``/proc/self/maps`` + ``/proc/self/mem``) looking for a random canary that is in the stdin, and
must find nothing. The parent then reads its stdin and runs the same scan on itself: it must find
the canary, which shows the scan can find it (so the test can fail). The scanner looks for a
prefix followed by bytes whose SHA-256 is known, so the canary itself is never in the job's code.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest

from thinkgym.sandbox import Job, Limits

pytestmark = pytest.mark.timeout(180)

LIMITS = Limits(wall_s=60.0, memory_mb=512, max_output_bytes=100_000)
PREFIX = "tgcanary-"

SCANNER = r'''
import hashlib, os

def scan(prefix, wanted):
    """(hits, bytes read, prefixes seen): occurrences of ``prefix`` + 32 bytes whose SHA-256 is in
    ``wanted`` anywhere in this process's readable memory."""
    prefix = prefix.encode()
    hits, total, seen = {w: 0 for w in wanted}, 0, 0
    import ctypes
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: a uid change left /proc/self/mem root's
    with open("/proc/self/maps") as fh:
        regions = fh.read().splitlines()
    mem = os.open("/proc/self/mem", os.O_RDONLY)
    try:
        for line in regions:
            fields = line.split()
            if fields[1][0] != "r" or line.endswith(("[vvar]", "[vsyscall]", "[vvar_vclock]")):
                continue
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            pos = lo
            while pos < hi:
                size = min(1 << 20, hi - pos)
                try:
                    chunk = os.pread(mem, min(size + len(prefix) + 32, hi - pos), pos)
                except OSError:
                    break
                total += len(chunk)
                at = chunk.find(prefix)
                while at >= 0:
                    seen += 1
                    digest = hashlib.sha256(chunk[at + len(prefix) : at + len(prefix) + 32]).hexdigest()
                    if digest in hits:
                        hits[digest] += 1
                    at = chunk.find(prefix, at + 1)
                pos += size
    finally:
        os.close(mem)
    return hits, total, seen
'''


def _canary() -> tuple[str, str]:
    """A random 32-character token and its SHA-256 (what the scanner is given)."""
    token = secrets.token_hex(16)
    return token, hashlib.sha256(token.encode()).hexdigest()


FORK_THEN_READ = SCANNER + r'''
import json, sys
WANTED = __WANTED__
r, w = os.pipe()
pid = os.fork()
if pid == 0:  # the child: forked before the parent read a byte of stdin
    os.close(r)
    hits, total, seen = scan(__PREFIX__, WANTED)
    os.write(w, json.dumps([sum(hits.values()), total, seen]).encode())
    os._exit(0)
os.close(w)
child = json.loads(os.read(r, 4096).decode())
os.waitpid(pid, 0)
data = sys.stdin.buffer.read()  # only now
hits, total, seen = scan(__PREFIX__, WANTED)
print(json.dumps({"child": child, "parent": [sum(hits.values()), total, seen], "stdin_len": len(data)}))
'''


def test_a_child_forked_before_stdin_is_read_finds_none_of_it(any_sandbox):
    token, digest = _canary()
    stdin = ("tests and secrets " * 200) + PREFIX + token + "\n" + "padding " * 1000
    code = FORK_THEN_READ.replace("__WANTED__", repr([digest])).replace("__PREFIX__", repr(PREFIX))
    result = any_sandbox.run(code, stdin=stdin, limits=LIMITS)
    assert result.ok, result
    out = json.loads(result.stdout)
    child_hits, child_bytes, child_prefixes = out["child"]
    parent_hits, _, _ = out["parent"]
    assert out["stdin_len"] == len(stdin.encode())
    # The attack ran: the child read megabytes of its memory and saw the prefix (in its own code).
    assert child_bytes > 1_000_000 and child_prefixes >= 1, out
    assert parent_hits >= 1, f"the scan cannot find the canary even where it is: {out}"
    assert child_hits == 0, f"the stdin was in memory before the job read it: {out}"


def test_no_job_holds_anything_of_another_job(any_sandbox):
    """Job A gets a canary in its stdin and one in a file; jobs after it (in every slot, forked
    after A ran) scan their memory for both and find neither."""
    stdin_token, stdin_digest = _canary()
    file_token, file_digest = _canary()
    first = any_sandbox.run_job(
        Job.of(
            {"main.py": "import sys\ndata = sys.stdin.read()\nsecret = open('secret.txt').read()\nprint(len(data), len(secret))",
             "secret.txt": PREFIX + file_token},
            stdin=PREFIX + stdin_token,
            limits=LIMITS,
        )
    )  # fmt: skip
    assert first.ok and first.stdout.split() == [str(len(PREFIX) + 32)] * 2, first
    wanted = [stdin_digest, file_digest]
    later = SCANNER + f"import json\nhits, total, seen = scan({PREFIX!r}, {wanted!r})\nprint(json.dumps([hits, total, seen]))\n"
    results = any_sandbox.map([Job.of(later, limits=LIMITS)] * 6, concurrency=2)
    for result in results:
        assert result.ok, result
        hits, total, seen = json.loads(result.stdout)
        assert total > 1_000_000 and seen >= 1, result.stdout
        assert hits == {stdin_digest: 0, file_digest: 0}, f"a later job holds an earlier job's data: {hits}"
