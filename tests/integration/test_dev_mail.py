"""`sinergi dev`'s mail catcher: a real SMTP conversation on loopback, then `GET /dev/mail` lists the mail
with its link clickable, to loopback clients only."""

from __future__ import annotations

import socket
from email.message import EmailMessage

import aiosmtplib
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from sinergi.gateway import devmail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_mail_sent_to_the_catcher_is_listed_with_its_link_clickable():
    mailbox = devmail.Mailbox()
    port = free_port()
    server = await devmail.start_catcher(mailbox, "127.0.0.1", port)
    try:
        message = EmailMessage()
        message["From"], message["To"] = "sinergi@example.test", "rujukan@dinsos.example.test"
        message["Subject"], message["Message-ID"] = "Rujukan kasus KALSEL-2026-X <&>", "<r001@sinergi>"
        message.set_content("Buka: http://127.0.0.1:8080/r/abc.def-ghi\nTenggat: 3 Desember 2026 08.00 WITA")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port)
    finally:
        server.close()
        await server.wait_closed()
    (mail,) = mailbox.all()
    assert mail.recipients == ("rujukan@dinsos.example.test",) and mail.message_id == "<r001@sinergi>"

    app = web.Application()
    app[devmail.MAILBOX] = mailbox
    request = make_mocked_request("GET", devmail.PATH, app=app, transport=_Transport("127.0.0.1"),
                                  headers={"Host": "127.0.0.1:8080"})
    page = (await devmail.list_mail(request)).text
    assert '<a href="http://127.0.0.1:8080/r/abc.def-ghi">' in page
    assert "KALSEL-2026-X &lt;&amp;&gt;" in page  # the subject escaped, never markup
    outsider = make_mocked_request("GET", devmail.PATH, app=app, transport=_Transport("192.0.2.7"))
    rebound = make_mocked_request("GET", devmail.PATH, app=app, transport=_Transport("127.0.0.1"),
                                  headers={"Host": "attacker.example:8080"})  # DNS rebinding
    for request in (outsider, rebound):
        try:
            await devmail.list_mail(request)
            raise AssertionError("the dev mail was read from off this machine, or through a rebound name")
        except web.HTTPNotFound:
            pass


class _Transport:
    def __init__(self, host: str) -> None:
        self._host = host

    def get_extra_info(self, name: str, default=None):
        return (self._host, 40000) if name == "peername" else default
