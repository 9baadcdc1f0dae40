#!/usr/bin/python3
"""Slow readers of one large answer, for tests/limits (node cannot set SO_RCVBUF).

usage: slow_reader.py HOST PORT PATH TOKEN COUNT BYTES_PER_S

Opens COUNT connections with an 8 KiB receive buffer (so the answer waits in
the server, not in this machine's socket buffers), sends one GET (with
"Authorization: Bearer TOKEN" unless TOKEN is "-"), prints "sent N" once all
are sent, reads each answer at about BYTES_PER_S, and prints one JSON line per
connection: status, Content-Length, bytes of body received, whether the body
parses as JSON, and the error if the connection failed. Bounded: 90 s.
"""
import json
import socket
import sys
import threading
import time

host, port, path, token, count, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
CHUNK = 16384
results = [None] * count
sent = threading.Semaphore(0)


def one(i):
    res = {"i": i, "status": None, "length": None, "got": 0, "json": False, "error": None}
    deadline = time.monotonic() + 90
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        s.settimeout(30)
        s.connect((host, port))
        auth = "" if token == "-" else f"Authorization: Bearer {token}\r\n"
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n".encode())
    except OSError as e:
        res["error"] = f"connect:{e.__class__.__name__}:{e}"
        results[i] = res
        sent.release()
        return
    sent.release()
    data = bytearray()
    try:
        while time.monotonic() < deadline:
            b = s.recv(CHUNK)
            if not b:
                break
            data += b
            time.sleep(len(b) / rate)
    except OSError as e:
        res["error"] = f"read:{e.__class__.__name__}:{e}"
    s.close()
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    if lines and lines[0].startswith("HTTP/1."):
        res["status"] = int(lines[0].split(" ")[1])
        for h in lines[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                res["length"] = int(v.strip())
    res["got"] = len(body)
    try:
        json.loads(body)
        res["json"] = True
    except ValueError:
        pass
    results[i] = res


threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for _ in range(count):
    sent.acquire()
print(f"sent {count}", flush=True)
for t in threads:
    t.join(100)
for r in results:
    print(json.dumps(r if r else {"error": "no result"}), flush=True)
