"""Strict HTTP/1.1 parsing (RFC 9112): ambiguous or malformed requests get 400 and a closed connection, and the
upstream never sees a byte of them."""
import socket
import unittest

from portico_harness import ProxyTest, Reader, read_response


class RejectsMalformedRequests(ProxyTest):
    def setUp(self):
        super().setUp()
        self.origin = self.start_origin()
        self.portico = self.proxy_for(self.origin)

    def assert_rejected(self, raw, status=400):
        with self.connect(self.portico) as s:
            s.sendall(raw)
            response = read_response(Reader(s))
            self.assertIsNotNone(response, "no response before close")
            self.assertEqual(response.status, status, response.raw_head)
            self.assertEqual(response.header("Connection"), "close")
            self.assert_closed(s)
        self.assertEqual(self.origin.connections, 0, "the origin saw a connection for a rejected request")
        self.assertEqual(self.origin.requests, [])

    def test_rejects_cl_te_conflict(self):
        self.assert_rejected(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"0\r\n\r\n")

    def test_rejects_differing_content_lengths(self):
        self.assert_rejected(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")

    def test_rejects_content_length_list_of_differing_values(self):
        self.assert_rejected(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!")

    def test_rejects_malformed_content_length(self):
        for value in (b"abc", b"-1", b"1 2", b"+5", b"99999999999999999999", b""):
            with self.subTest(value=value):
                self.assert_rejected(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + b"\r\n\r\n")

    def test_rejects_transfer_encoding_not_ending_in_chunked(self):
        self.assert_rejected(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")

    def test_rejects_unknown_transfer_coding(self):
        self.assert_rejected(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n")

    def test_rejects_doubled_chunked(self):
        self.assert_rejected(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n")

    def test_rejects_transfer_encoding_in_http10(self):
        self.assert_rejected(b"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")

    def test_rejects_obs_fold(self):
        self.assert_rejected(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n")

    def test_rejects_bare_lf(self):
        self.assert_rejected(b"GET / HTTP/1.1\nHost: a\r\n\r\n")
        self.assert_rejected(b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n")

    def test_rejects_nul_in_field(self):
        self.assert_rejected(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n")

    def test_rejects_ctl_in_field(self):
        self.assert_rejected(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n")
        self.assert_rejected(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n")

    def test_rejects_whitespace_before_colon(self):
        self.assert_rejected(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n")

    def test_rejects_invalid_method_token(self):
        self.assert_rejected(b"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n")

    def test_rejects_http09(self):
        self.assert_rejected(b"GET /\r\n\r\n")

    def test_rejects_unknown_versions(self):
        for version in (b"HTTP/1.2", b"HTTP/2.0", b"http/1.1", b"HTTP/1.1 "):
            with self.subTest(version=version):
                self.assert_rejected(b"GET / " + version + b"\r\nHost: a\r\n\r\n")

    def test_rejects_missing_host(self):
        self.assert_rejected(b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")

    def test_rejects_two_host_fields(self):
        self.assert_rejected(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")

    def test_rejects_connect(self):
        self.assert_rejected(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", status=405)


class RejectsBadChunkedBodies(ProxyTest):
    """The head is valid and forwarded; the body's framing fails: the client gets 400 or a close, and the origin
    never receives a complete request."""

    def setUp(self):
        super().setUp()
        self.origin = self.start_origin()
        self.portico = self.proxy_for(self.origin)

    def assert_body_rejected(self, body):
        raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        with self.connect(self.portico) as s:
            s.sendall(raw)
            try:
                response = read_response(Reader(s))
            except (ConnectionResetError, EOFError):
                response = None
            if response is not None:
                self.assertEqual(response.status, 400)
            self.assert_closed(s)
        self.assertEqual(self.origin.requests, [], "the origin received a complete request")

    def test_rejects_negative_chunk_size(self):
        self.assert_body_rejected(b"-5\r\nhello\r\n0\r\n\r\n")

    def test_rejects_hex_prefix_chunk_size(self):
        self.assert_body_rejected(b"0x10\r\n0123456789abcdef\r\n0\r\n\r\n")

    def test_rejects_overflowing_chunk_size(self):
        self.assert_body_rejected(b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n")

    def test_rejects_missing_crlf_after_chunk_data(self):
        self.assert_body_rejected(b"5\r\nhelloX0\r\n\r\n")

    def test_rejects_chunk_longer_than_its_size(self):
        self.assert_body_rejected(b"3\r\nhello\r\n0\r\n\r\n")

    def test_rejects_bare_lf_in_chunk_line(self):
        self.assert_body_rejected(b"5\nhello\r\n0\r\n\r\n")


if __name__ == "__main__":
    unittest.main()
