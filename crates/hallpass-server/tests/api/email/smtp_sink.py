"""A real SMTP server for the tests: aiosmtpd on loopback, parsing each mail with Python's own
email package (an independent MIME parser) and writing what it read to OUT_DIR as one JSON file
per mail, in arrival order.

usage: smtp_sink.py OUT_DIR [PORT]

Prints "PORT <n>" once listening; exits when stdin closes (the test that started it is gone).
Recipients decide the answer: a local part starting with "reject" gets 550 (permanent), one
starting with "defer" gets 451 (transient).
"""

import email
import json
import os
import socket
import sys
import threading
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k.lower(): str(v) for k, v in message.items()},
            "content_type": message.get_content_type(),
            "parts": [part.get_content_type() for part in message.walk()],
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        with self.lock:
            self.count += 1
            name = os.path.join(self.out_dir, f"{self.count:06d}.json")
        with open(name + ".partial", "w") as f:
            json.dump(record, f)
        os.rename(name + ".partial", name)
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    out_dir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "0" else free_port()
    controller = Controller(Sink(out_dir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
