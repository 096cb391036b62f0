"""A counting SMTP sink for bench/run.sh's send scenario, and a client that measures it.

    smtp_sink.py serve PORT USER PASSWORD COUNT_FILE
        Plain SMTP (no TLS) on 127.0.0.1:PORT with aiosmtpd. AUTH (PLAIN or LOGIN) with
        USER/PASSWORD is required before MAIL; every message accepted (DATA) adds one to a
        counter and is dropped. Prints "ready" once listening. On SIGUSR1 it writes the
        count to COUNT_FILE (atomically, via a rename); SIGTERM/SIGINT stop it.

    smtp_sink.py capacity PORT USER PASSWORD SECONDS [CONNECTIONS]
        CONNECTIONS threads (default 4), each with its own authenticated smtplib connection
        kept for the whole run, send one small message after another for SECONDS. Prints one
        line: SINK sent=.. failed=.. duration_s=.. rps=.. p50_ms=.. p99_ms=..

aiosmtpd (PyPI) is needed for serve only; run.sh installs it into a venv.
"""

import os
import sys


def serve(port, user, password, count_file):
    import asyncio
    import logging
    import signal
    import warnings

    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    # aiosmtpd warns, once per connection, that AUTH without TLS is required: intended here.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    user_b, password_b = user.encode(), password.encode()

    class Counter:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            self.count += 1
            return "250 OK"

    handler = Counter()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user_b
            and auth_data.password == password_b
        )
        return AuthResult(success=ok)

    def write_count():
        tmp = count_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % handler.count)
        os.replace(tmp, count_file)

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname="bench-sink",
                authenticator=authenticator,
                auth_required=True,
                auth_require_tls=False,
            ),
            host="127.0.0.1",
            port=port,
        )
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, write_count)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()

    asyncio.run(main())


def capacity(port, user, password, seconds, connections):
    import smtplib
    import threading
    import time

    msg = (
        b"From: bench@example.com\r\nTo: someone@example.com\r\n"
        b"Subject: bench\r\n\r\nhello\r\n"
    )
    latencies = [[] for _ in range(connections)]
    failed = [0] * connections
    start = time.monotonic()
    end = start + seconds

    def connect():
        s = smtplib.SMTP("127.0.0.1", port, timeout=10)
        s.login(user, password)
        return s

    def worker(i):
        s = None
        lat = latencies[i]
        while time.monotonic() < end:
            try:
                if s is None:
                    s = connect()
                t0 = time.perf_counter()
                s.sendmail("bench@example.com", ["someone@example.com"], msg)
                lat.append(time.perf_counter() - t0)
            except smtplib.SMTPAuthenticationError as e:
                print("capacity: AUTH refused: %s" % (e,), file=sys.stderr)
                failed[i] += 1
                return
            except (OSError, smtplib.SMTPException):
                failed[i] += 1
                s = None
        if s is not None:
            try:
                s.quit()
            except (OSError, smtplib.SMTPException):
                pass

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    lat = sorted(x for per in latencies for x in per)

    def pct(p):
        if not lat:
            return 0.0
        i = max(0, min(len(lat) - 1, -(-len(lat) * p // 100) - 1))
        return lat[int(i)] * 1000

    print(
        "SINK sent=%d failed=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f"
        % (len(lat), sum(failed), elapsed, len(lat) / elapsed, pct(50), pct(99)),
        flush=True,
    )
    return 0 if lat else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 5 and args[0] == "serve":
        serve(int(args[1]), args[2], args[3], args[4])
    elif len(args) in (5, 6) and args[0] == "capacity":
        conns = int(args[5]) if len(args) == 6 else 4
        sys.exit(capacity(int(args[1]), args[2], args[3], float(args[4]), conns))
    else:
        sys.exit(__doc__)
