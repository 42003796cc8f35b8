"""Network fault injection on 127.0.0.1 for client tests (stdlib only, one thread per server).

* ``CuttingProxy(upstream_port)``: forwards every accepted connection to 127.0.0.1:upstream_port
  and drops it once ``cut_after`` bytes went from the server to the client (``None``: never).
  ``cut_after`` may be changed between connections; ``reset=True`` makes the cut a TCP RST;
  ``rate`` (bytes per second) slows what the server sends, per connection.
* ``GreetingThenClose(greeting)``: sends the greeting and closes (a server dying after
  connect).
* ``GarbageServer(data)``: sends `data` (default: random bytes) and closes.
* ``SilentServer()``: accepts and never says anything (timeouts).

All of them are context managers with ``.port``, ``.connections`` (accepted so far) and
``.stop()``; the bytes forwarded downstream by the proxy are in ``.forwarded`` (last connection).
"""

import os
import random
import socket
import struct
import threading
import time


class _Listener:
    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self._stopping = threading.Event()
        self._threads = []
        self._open = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._stopping.is_set():
                conn.close()
                return
            self.connections += 1
            with self._lock:
                self._open.add(conn)
            t = threading.Thread(target=self._serve_and_forget, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve_and_forget(self, conn):
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def handle(self, conn):
        raise NotImplementedError

    def stop(self):
        self._stopping.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        with self._lock:
            for conn in list(self._open):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)


def _abort(sock, reset):
    try:
        if reset:  # SO_LINGER 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class CuttingProxy(_Listener):
    def __init__(self, upstream_port, cut_after=None, reset=False, upstream_host="127.0.0.1",
                 rate=None):
        self.upstream = (upstream_host, upstream_port)
        self.cut_after = cut_after
        self.rate = rate
        self.reset = reset
        self.cuts = 0
        self.forwarded = b""
        super().__init__()

    def handle(self, conn):
        up = socket.create_connection(self.upstream, timeout=30)
        limit = self.cut_after
        rate = self.rate
        done = threading.Event()

        def upstream_to_client():
            sent = 0
            seen = []
            try:
                while not done.is_set():
                    data = up.recv(16384 if rate else 65536)
                    if not data:
                        break
                    if limit is not None and sent + len(data) >= limit:
                        conn.sendall(data[:limit - sent])
                        seen.append(data[:limit - sent])
                        self.cuts += 1
                        break
                    conn.sendall(data)
                    seen.append(data)
                    sent += len(data)
                    if rate:
                        time.sleep(len(data) / rate)
            except OSError:
                pass
            finally:
                self.forwarded = b"".join(seen)
                done.set()
                _abort(conn, self.reset)
                _abort(up, False)

        t = threading.Thread(target=upstream_to_client, daemon=True)
        t.start()
        try:
            while not done.is_set():
                data = conn.recv(65536)
                if not data:
                    break
                up.sendall(data)
        except OSError:
            pass
        finally:
            done.set()
            try:
                up.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            t.join(timeout=30)


class GreetingThenClose(_Listener):
    def __init__(self, greeting=b"+OK ready\r\n"):
        self.greeting = greeting
        super().__init__()

    def handle(self, conn):
        conn.sendall(self.greeting)
        conn.shutdown(socket.SHUT_RDWR)


class GarbageServer(_Listener):
    def __init__(self, data=None, seed=7, keep_open=False):
        self.data = data if data is not None else bytes(
            random.Random(seed).getrandbits(8) for _ in range(4096))
        self.keep_open = keep_open
        super().__init__()

    def handle(self, conn):
        conn.sendall(self.data)
        if self.keep_open:
            self._stopping.wait()
        conn.shutdown(socket.SHUT_RDWR)


class SilentServer(_Listener):
    def handle(self, conn):
        self._stopping.wait()


if __name__ == "__main__":
    print(os.path.basename(__file__) + ": import it; see the module docstring")
