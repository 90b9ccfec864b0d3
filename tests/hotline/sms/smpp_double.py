"""SmppCentreDouble: a TEST DOUBLE of an SMS centre's SMPP side, named so.

No SMS centre (SMPP server) is packaged for Debian: Kannel is itself a client of SMS centres,
and kannel-extras' drive_smpp (used by test_smpp.py for the protocol exchange) counts what it
is sent but cannot show the text. This double answers binds and submit_sm with message ids and
keeps what it was sent, so a test can read the text a phone would show.
"""
from __future__ import annotations

import socket
import struct
import threading

from smpplib import smpp

class _Numbering:
    """What smpplib's PDUs ask of their client: sequence numbers (the double answers with the request's)."""

    sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


RESPONSES = {"bind_transmitter": "bind_transmitter_resp", "bind_receiver": "bind_receiver_resp",
             "bind_transceiver": "bind_transceiver_resp", "unbind": "unbind_resp",
             "enquire_link": "enquire_link_resp", "submit_sm": "submit_sm_resp"}


class SmppCentreDouble:
    def __init__(self, *, refuse_status: int = 0) -> None:
        self.refuse_status = refuse_status
        self.submitted: list = []          # submit_sm PDUs, in order
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True, name="smpp-double")
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn:
            while True:
                head = self._read(conn, 4)
                if head is None:
                    return
                body = self._read(conn, struct.unpack(">L", head)[0] - 4)
                if body is None:
                    return
                pdu = smpp.parse_pdu(head + body, client=_Numbering(), allow_unknown_opt_params=True)
                answer = RESPONSES.get(pdu.command)
                if answer is None:
                    continue
                kwargs = {}
                if pdu.command == "submit_sm":
                    self.submitted.append(pdu)
                    kwargs = {"message_id": f"M{len(self.submitted)}"}
                    if self.refuse_status:
                        kwargs = {"status": self.refuse_status}
                elif pdu.command.startswith("bind"):
                    kwargs = {"system_id": "double"}
                resp = smpp.make_pdu(answer, client=_Numbering(), **kwargs)
                resp.sequence = pdu.sequence
                conn.sendall(resp.generate())
                if pdu.command == "unbind":
                    return

    @staticmethod
    def _read(conn: socket.socket, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def texts(self) -> list[str]:
        """What the phones show: UCS-2 parts joined by their concatenation header."""
        out, parts = [], {}
        for pdu in self.submitted:
            raw = pdu.short_message
            if pdu.esm_class & 0x40:
                ref, total, seq = raw[3], raw[4], raw[5]
                parts.setdefault(ref, {})[seq] = raw[6:]
                if len(parts[ref]) == total:
                    out.append(b"".join(parts[ref][i] for i in sorted(parts[ref])).decode("utf-16-be"))
            else:
                out.append(raw.decode("utf-16-be") if pdu.data_coding == 8 else raw.decode("ascii"))
        return out

    def close(self) -> None:
        self._server.close()
