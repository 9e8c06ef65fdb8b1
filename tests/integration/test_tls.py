"""TLS through the real binary: listeners and upstreams over the tls plugin (plugins/tls, loaded from its .so),
driven by the host, checked with real clients (`openssl s_client`, `curl`, python's `ssl`) and certificates made at
run time with the `openssl` CLI (tls_support.py).

Covered: protocol versions (1.2 and 1.3 in, 1.0 and 1.1 refused by the server, min_version), SNI (exact, wildcard,
unknown and absent names get the default certificate; RSA and ECDSA side by side), ALPN, session resumption (tickets
and the session cache, TLS 1.2 and 1.3, across a reload), mTLS (require, optional, untrusted), real HTTP over TLS
(big bodies both ways, keep-alive, chunked), a certificate swap on SIGHUP under load, upstreams over TLS (verified
by CA and name, refused with a logged reason, pooled, verify = false), redirect_https, hsts, X-Forwarded-Proto, the
TLS attributes filters see, configuration errors naming the file and OpenSSL's reason, and failed handshakes that
cost nothing else.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    WAIT_TIMEOUT, LISTENING_RE, PatternBody, RawClient, big_body_handler,
    chunked_handler, echo_handler, main, make_config, refused_port, request_bytes, run_portico, to_toml, wait_until)
from tls_support import (  # noqa: E402
    TLS_PLUGIN_DIR, CertFiles, TlsCase, Pki, TlsClient, certificates, cert_serial,
    client_context, curl, plain_listener, s_client, tls_listener, tls_upstream)

# Debian's openssl will not even offer TLS 1.0/1.1 at its default security level: this makes the client offer
# them, so a refusal is the server's (checked against a listener that allows them).
LEGACY_CLIENT = ["-cipher", "DEFAULT@SECLEVEL=0"]
SERVER_REFUSED_VERSION = "alert protocol version"

ATTR_HEADERS = ("x-attr-scheme", "x-attr-tls-sni", "x-attr-tls-version", "x-attr-tls-cipher",
                "x-attr-tls-peer-subject")


def echo_attrs_route(upstream="app", prefix="/"):
    """A route whose filter copies the stream's TLS attributes into request headers (the echo origin shows them)."""
    return {"match": {"prefix": prefix}, "upstream": upstream,
            "filters": [{"use": "test_filter", "echo_attrs": True}]}


def seen_header(response, name):
    """A request header as the echo origin received it (from its JSON body)."""
    values = [v for (n, v) in response.json()["headers"] if n.lower() == name.lower()]
    return values[0] if values else None


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# 1. Protocol versions
# ---------------------------------------------------------------------------------------------------------------

class ProtocolVersionTest(TlsCase):

    def start(self):
        cert = [self.certs.a_ecdsa]
        return self.start_proxy({"https": tls_listener(cert),
                                 "legacy": tls_listener(cert, min_version="TLSv1"),
                                 "modern": tls_listener(cert, min_version="TLSv1.3")})

    def test_tls_1_2_and_1_3_are_accepted(self):
        proxy = self.start()
        for flag, version in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            with self.subTest(version=version):
                out = s_client(proxy.ports["https"], flag, ca=self.certs.ca.cert)
                self.assertTrue(out.handshake_ok, out.describe())
                self.assertEqual(out.protocol, version, out.describe())
                self.assertEqual(out.verify_code, 0, out.describe())
                self.assertEqual(out.http_status, 200, out.describe())

    def test_tls_1_0_and_1_1_are_refused_by_the_server(self):
        proxy = self.start()
        for flag, version in (("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")):
            with self.subTest(version=version):
                refused = s_client(proxy.ports["https"], flag, *LEGACY_CLIENT)
                self.assertFalse(refused.handshake_ok, refused.describe())
                self.assertNotEqual(refused.returncode, 0, refused.describe())
                self.assertIsNone(refused.http_status, refused.describe())
                # The server's alert, not the client giving up on its own.
                self.assertIn(SERVER_REFUSED_VERSION, refused.text, refused.describe())
                # The same client does get through where the listener allows the old version.
                allowed = s_client(proxy.ports["legacy"], flag, *LEGACY_CLIENT)
                self.assertTrue(allowed.handshake_ok, allowed.describe())
                self.assertEqual(allowed.protocol, version, allowed.describe())
                self.assertEqual(allowed.http_status, 200, allowed.describe())

    def test_min_version_1_3_refuses_1_2(self):
        proxy = self.start()
        refused = s_client(proxy.ports["modern"], "-tls1_2")
        self.assertFalse(refused.handshake_ok, refused.describe())
        self.assertIn(SERVER_REFUSED_VERSION, refused.text, refused.describe())
        accepted = s_client(proxy.ports["modern"], "-tls1_3")
        self.assertTrue(accepted.handshake_ok, accepted.describe())
        self.assertEqual(accepted.protocol, "TLSv1.3")
        self.assertEqual(accepted.http_status, 200, accepted.describe())


# ---------------------------------------------------------------------------------------------------------------
# 2. SNI and certificate selection
# ---------------------------------------------------------------------------------------------------------------

class SniTest(TlsCase):
    DEFAULT = "CN=default.test, O=default"
    A_RSA = "CN=a.test, O=rsa"
    A_ECDSA = "CN=a.test, O=ecdsa"
    WILD = "CN=*.wild.test, O=wild"

    def start(self):
        c = self.certs
        return self.start_proxy({"https": tls_listener([c.default, c.a_rsa, c.a_ecdsa, c.wild])})

    def served(self, proxy, servername, *args):
        out = s_client(proxy.port, *args, servername=servername, ca=self.certs.ca.cert, host="a.test")
        self.assertTrue(out.handshake_ok, out.describe())
        self.assertEqual(out.http_status, 200, out.describe())
        return out

    def test_exact_name_gets_its_certificate_and_verifies(self):
        proxy = self.start()
        out = self.served(proxy, "a.test", "-verify_hostname", "a.test", "-verify_return_error")
        self.assertIn(out.subject, (self.A_RSA, self.A_ECDSA), out.describe())
        self.assertEqual(out.verify_code, 0, out.describe())
        # Names are case-insensitive.
        self.assertIn(self.served(proxy, "A.Test").subject, (self.A_RSA, self.A_ECDSA))

    def test_wildcard_matches_one_label(self):
        proxy = self.start()
        out = self.served(proxy, "x.wild.test", "-verify_hostname", "x.wild.test", "-verify_return_error")
        self.assertEqual(out.subject, self.WILD, out.describe())
        self.assertEqual(out.verify_code, 0, out.describe())
        # Two labels under the wildcard, or the bare domain, are not covered: the default answers.
        self.assertEqual(self.served(proxy, "a.b.wild.test").subject, self.DEFAULT)
        self.assertEqual(self.served(proxy, "wild.test").subject, self.DEFAULT)

    def test_unknown_or_absent_name_gets_the_default(self):
        proxy = self.start()
        self.assertEqual(self.served(proxy, "unknown.test").subject, self.DEFAULT)
        self.assertEqual(self.served(proxy, None).subject, self.DEFAULT)
        out = self.served(proxy, "default.test", "-verify_hostname", "default.test", "-verify_return_error")
        self.assertEqual(out.subject, self.DEFAULT)

    def test_rsa_only_client_gets_the_rsa_certificate(self):
        proxy = self.start()
        by_cipher = self.served(proxy, "a.test", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
        self.assertEqual(by_cipher.subject, self.A_RSA, by_cipher.describe())
        self.assertEqual(by_cipher.cipher, "ECDHE-RSA-AES128-GCM-SHA256")
        by_sigalgs = self.served(proxy, "a.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256")
        self.assertEqual(by_sigalgs.subject, self.A_RSA, by_sigalgs.describe())

    def test_ecdsa_capable_client_gets_the_ecdsa_certificate(self):
        proxy = self.start()
        by_cipher = self.served(proxy, "a.test", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(by_cipher.subject, self.A_ECDSA, by_cipher.describe())
        by_sigalgs = self.served(proxy, "a.test", "-tls1_3", "-sigalgs",
                                 "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256")
        self.assertEqual(by_sigalgs.subject, self.A_ECDSA, by_sigalgs.describe())
        # openssl's default client offers ECDSA first.
        self.assertEqual(self.served(proxy, "a.test", "-tls1_3").subject, self.A_ECDSA)


# ---------------------------------------------------------------------------------------------------------------
# 3. ALPN
# ---------------------------------------------------------------------------------------------------------------

class AlpnTest(TlsCase):

    def start(self):
        cert = [self.certs.a_ecdsa]
        return self.start_proxy({"https": tls_listener(cert), "noalpn": tls_listener(cert, alpn=[])})

    def test_http_1_1_is_negotiated(self):
        proxy = self.start()
        for offer in ("http/1.1", "h2,http/1.1"):
            with self.subTest(offer=offer):
                out = s_client(proxy.port, "-alpn", offer)
                self.assertTrue(out.handshake_ok, out.describe())
                self.assertEqual(out.alpn, "http/1.1", out.describe())
                self.assertEqual(out.http_status, 200, out.describe())

    def test_h2_only_goes_on_without_alpn(self):
        proxy = self.start()
        out = s_client(proxy.port, "-alpn", "h2")
        self.assertTrue(out.handshake_ok, out.describe())
        self.assertIn("No ALPN negotiated", out.text, out.describe())
        self.assertEqual(out.http_status, 200, out.describe())

    def test_alpn_off(self):
        proxy = self.start()
        out = s_client(proxy.ports["noalpn"], "-alpn", "http/1.1")
        self.assertTrue(out.handshake_ok, out.describe())
        self.assertIsNone(out.alpn, out.describe())
        self.assertEqual(out.http_status, 200, out.describe())


# ---------------------------------------------------------------------------------------------------------------
# 4. Session resumption
# ---------------------------------------------------------------------------------------------------------------

class ResumptionTest(TlsCase):

    def start(self):
        cert = [self.certs.a_ecdsa]
        return self.start_proxy({"tickets": tls_listener(cert),
                                 "cache": tls_listener(cert, session_tickets=False)})

    def resume_chain(self, port, version_flag, *args, rounds=3):
        """A full handshake, then `rounds` connections each resuming the previous one's session (so single-use
        TLS 1.3 tickets are fine). Two workers share the listener: several rounds cross them. Returns the first
        run's output."""
        sessions = self.tempdir()
        session = os.path.join(sessions, "0")
        first = s_client(port, version_flag, *args, "-sess_out", session)
        self.assertTrue(first.handshake_ok, first.describe())
        self.assertFalse(first.reused, first.describe())
        for i in range(1, rounds + 1):
            fresh = os.path.join(sessions, str(i))
            out = s_client(port, version_flag, *args, "-sess_in", session, "-sess_out", fresh)
            self.assertTrue(out.reused, f"round {i} was not resumed:\n{out.describe()}")
            self.assertEqual(out.http_status, 200, out.describe())
            # s_client writes a session only when it gets a new one (TLS 1.3 always, TLS 1.2 on a new ticket).
            if os.path.exists(fresh):
                session = fresh
        return first

    def test_tls_1_2_by_ticket(self):
        proxy = self.start()
        first = self.resume_chain(proxy.ports["tickets"], "-tls1_2")
        self.assertIn("TLS session ticket:", first.text, first.describe())

    def test_tls_1_2_by_session_cache_without_tickets(self):
        proxy = self.start()
        first = self.resume_chain(proxy.ports["cache"], "-tls1_2")
        self.assertNotIn("TLS session ticket:", first.text, "session_tickets = false still sent a ticket")
        # A client that does not even ask for tickets resumes by session id too.
        self.resume_chain(proxy.ports["cache"], "-tls1_2", "-no_ticket")

    def test_tls_1_3_by_ticket(self):
        proxy = self.start()
        self.resume_chain(proxy.ports["tickets"], "-tls1_3")

    def test_tls_1_3_by_stateful_ticket(self):
        proxy = self.start()
        self.resume_chain(proxy.ports["cache"], "-tls1_3")

    def test_ticket_resumes_across_a_reload(self):
        proxy = self.start()
        sessions = self.tempdir()
        before = os.path.join(sessions, "before")
        first = s_client(proxy.ports["tickets"], "-tls1_3", "-sess_out", before)
        self.assertTrue(first.handshake_ok, first.describe())
        proxy.proc.send_signal(signal.SIGHUP)
        proxy.wait_for_log(r"configuration reloaded")
        after = s_client(proxy.ports["tickets"], "-tls1_3", "-sess_in", before)
        self.assertTrue(after.reused, "a ticket from before the reload did not resume:\n" + after.describe())
        self.assertEqual(after.http_status, 200, after.describe())


# ---------------------------------------------------------------------------------------------------------------
# 5. Client certificates (mTLS)
# ---------------------------------------------------------------------------------------------------------------

class MutualTlsTest(TlsCase):
    CLIENT_SUBJECT = "CN=client one,O=client"   # RFC 2253: last RDN first

    def start(self):
        c = self.certs
        origin = self.start_origin(echo_handler())
        proxy = self.start_proxy(
            {"required": tls_listener([c.a_ecdsa], client_ca=c.client_ca.cert, verify_client="require"),
             "optional": tls_listener([c.a_ecdsa], client_ca=c.client_ca.cert, verify_client="optional")},
            upstreams={"app": [origin]}, routes=[echo_attrs_route()])
        return origin, proxy

    def context(self, cert=None, max_version=None):
        return client_context(self.certs.ca, cert=cert, max_version=max_version)

    def assert_refused(self, port, context):
        """The handshake fails, or (TLS 1.3: the client finishes first) the first read gets the alert or EOF;
        never an HTTP response."""
        try:
            client = self.tls_client(port, context)
        except (ssl.SSLError, ConnectionError) as error:
            return str(error)
        try:
            client.send(request_bytes("GET", "/", host="a.test"))
            data = client.recv_some()
        except (ssl.SSLError, ConnectionError) as error:
            return str(error)
        self.assertEqual(data, b"", f"a refused client got {data[:200]!r}")
        return "closed"

    def test_required_with_a_certificate(self):
        origin, proxy = self.start()
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version.name):
                response, _ = self.https_get(proxy.ports["required"],
                                             context=self.context(self.certs.client, max_version=version))
                self.assertEqual(response.status, 200, response)
                self.assertEqual(seen_header(response, "x-attr-tls-peer-subject"), self.CLIENT_SUBJECT)

    def test_required_without_a_certificate_is_refused(self):
        origin, proxy = self.start()
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version.name):
                self.assert_refused(proxy.ports["required"], self.context(max_version=version))
        self.assertEqual(origin.requests, [], "a request without a client certificate reached the origin")
        # s_client sees the server's refusal too.
        out = s_client(proxy.ports["required"], "-tls1_2")
        self.assertFalse(out.handshake_ok, out.describe())
        self.assertIsNone(out.http_status, out.describe())

    def test_untrusted_certificate_is_refused_even_when_optional(self):
        origin, proxy = self.start()
        for name in ("required", "optional"):
            with self.subTest(listener=name):
                self.assert_refused(proxy.ports[name], self.context(self.certs.rogue_client))
        self.assertEqual(origin.requests, [])

    def test_optional_without_a_certificate(self):
        origin, proxy = self.start()
        response, _ = self.https_get(proxy.ports["optional"])
        self.assertEqual(response.status, 200, response)
        subject = seen_header(response, "x-attr-tls-peer-subject")
        self.assertEqual(subject, "", "no client certificate, yet a peer subject")
        # And with one, its subject.
        response, _ = self.https_get(proxy.ports["optional"], context=self.context(self.certs.client))
        self.assertEqual(response.status, 200, response)
        self.assertEqual(seen_header(response, "x-attr-tls-peer-subject"), self.CLIENT_SUBJECT)


# ---------------------------------------------------------------------------------------------------------------
# Attributes filters see, X-Forwarded-Proto
# ---------------------------------------------------------------------------------------------------------------

class AttributesTest(TlsCase):

    def start(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_proxy({"https": tls_listener([self.certs.a_ecdsa]), "plain": plain_listener()},
                                 upstreams={"app": [origin]}, routes=[echo_attrs_route()])
        return origin, proxy

    def test_tls_attributes_on_a_tls_listener(self):
        origin, proxy = self.start()
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version.name):
                context = client_context(self.certs.ca, max_version=version)
                response, client = self.https_get(proxy.ports["https"], "/attrs", context=context)
                self.assertEqual(response.status, 200, response)
                self.assertEqual(seen_header(response, "x-attr-scheme"), "https")
                self.assertEqual(seen_header(response, "x-attr-tls-sni"), "a.test")
                self.assertEqual(seen_header(response, "x-attr-tls-version"), client.sock.version())
                self.assertEqual(seen_header(response, "x-attr-tls-cipher"), client.sock.cipher()[0])
                self.assertEqual(seen_header(response, "x-attr-tls-peer-subject"), "")
                self.assertEqual(seen_header(response, "x-forwarded-proto"), "https")

    def test_plain_listener_has_no_tls_attributes(self):
        origin, proxy = self.start()
        response = self.client(proxy.ports["plain"]).request("GET", "/attrs", host="a.test")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(seen_header(response, "x-attr-scheme"), "http")
        for name in ATTR_HEADERS[1:]:
            self.assertEqual(seen_header(response, name), "-", name)
        self.assertEqual(seen_header(response, "x-forwarded-proto"), "http")


# ---------------------------------------------------------------------------------------------------------------
# 6. Real HTTP over TLS with curl
# ---------------------------------------------------------------------------------------------------------------

class HttpOverTlsTest(TlsCase):

    def start(self, handler=None):
        origin = self.start_origin(handler or echo_handler())
        proxy = self.start_proxy({"https": tls_listener([self.certs.a_rsa, self.certs.a_ecdsa])},
                                 upstreams={"app": [origin]})
        return origin, proxy

    def curl_args(self, proxy, *paths):
        return (["--cacert", self.certs.ca.cert, "--resolve", f"a.test:{proxy.port}:127.0.0.1"]
                + [f"https://a.test:{proxy.port}{p}" for p in paths])

    def test_get(self):
        origin, proxy = self.start()
        result = curl(["-w", "\n%{http_code} %{http_version} %{ssl_verify_result}"]
                      + self.curl_args(proxy, "/get?x=1"))
        self.assertEqual(result.returncode, 0, result.stderr)
        body, _, trailer = result.stdout.rpartition(b"\n")
        self.assertEqual(trailer.decode().split(), ["200", "1.1", "0"], result.stdout[-300:])
        seen = json.loads(body)
        self.assertEqual(seen["target"], "/get?x=1")
        self.assertEqual(seen["method"], "GET")

    def test_post_of_several_megabytes_arrives_intact(self):
        origin, proxy = self.start()
        path = os.path.join(self.tempdir(), "upload.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(6 << 20) + b"end")
        result = curl(["--data-binary", f"@{path}", "-H", "Content-Type: application/octet-stream"]
                      + self.curl_args(proxy, "/upload"))
        self.assertEqual(result.returncode, 0, result.stderr)
        seen = json.loads(result.stdout)
        self.assertEqual(seen["method"], "POST")
        self.assertEqual(seen["body_length"], (6 << 20) + 3)
        self.assertEqual(seen["body_sha256"], sha256_file(path))

    def test_download_of_several_megabytes_arrives_intact(self):
        pattern = PatternBody(7 << 20)
        origin, proxy = self.start(big_body_handler(pattern))
        path = os.path.join(self.tempdir(), "download.bin")
        result = curl(["-o", path] + self.curl_args(proxy, "/big"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.path.getsize(path), pattern.total)
        self.assertEqual(sha256_file(path), pattern.sha256())

    def test_many_requests_on_one_connection(self):
        origin, proxy = self.start()
        paths = [f"/k{i}" for i in range(20)]
        discard = ["-o", "/dev/null"] * len(paths)   # curl pairs each -o with one URL
        result = curl(discard + ["-w", "%{http_code} %{num_connects}\n"] + self.curl_args(proxy, *paths))
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = [line.split() for line in result.stdout.decode().splitlines()]
        self.assertEqual([code for code, _ in lines], ["200"] * 20, lines)
        self.assertEqual([int(n) for _, n in lines], [1] + [0] * 19, "curl opened more than one connection")
        seen = origin.wait_for_requests(20)
        self.assertEqual([r.target for r in seen], paths)

    def test_chunked_response(self):
        chunks = [b"alpha-", b"b" * 70000, b"-gamma"]
        origin, proxy = self.start(chunked_handler(chunks))
        headers = os.path.join(self.tempdir(), "headers")
        result = curl(["-D", headers] + self.curl_args(proxy, "/chunked"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, b"".join(chunks))
        with open(headers) as f:
            self.assertRegex(f.read(), r"(?im)^transfer-encoding: chunked\r?$")


# ---------------------------------------------------------------------------------------------------------------
# 7. A certificate swap on SIGHUP under load
# ---------------------------------------------------------------------------------------------------------------

class ReloadTest(TlsCase):
    THREADS = 4
    REQUESTS_EACH_SIDE = 25   # at least, per thread, before and after the reload
    SECONDS_EACH_SIDE = 1.5   # and at least this long

    def loaded(self, counts, since, began):
        """Every thread made REQUESTS_EACH_SIDE requests since `since`, over at least SECONDS_EACH_SIDE."""
        return (time.monotonic() - began >= self.SECONDS_EACH_SIDE
                and min(c - s for c, s in zip(counts, since)) >= self.REQUESTS_EACH_SIDE)

    def test_new_certificate_after_sighup_without_a_failure(self):
        pki = Pki(self.tempdir())
        old = pki.leaf("old", "/CN=a.test/O=old", ["a.test"], self.certs.ca)
        new = pki.leaf("new", "/CN=a.test/O=new", ["a.test"], self.certs.ca)
        live = CertFiles(pki.path("live.pem"), pki.path("live.key"))
        shutil.copy(old.cert, live.cert)
        shutil.copy(old.key, live.key)
        old_serial, new_serial = cert_serial(old.cert), cert_serial(new.cert)
        self.assertNotEqual(old_serial, new_serial)

        proxy = self.start_proxy({"https": tls_listener([live])})
        port = proxy.port
        context = client_context(self.certs.ca)

        # A keep-alive connection opened before the reload.
        kept = self.tls_client(port, context)
        self.assertEqual(kept.request("GET", "/before", host="a.test").status, 200)
        self.assertEqual(kept.peer_serial(), old_serial)

        stop = threading.Event()
        lock = threading.Lock()
        failures = []
        counts = [0] * self.THREADS
        handshakes = []   # (monotonic time the connection started, serial served)

        def worker(index):
            n = 0
            while not stop.is_set():
                started = time.monotonic()
                try:
                    client = TlsClient(port, context)
                    try:
                        serial = client.peer_serial()
                        # Every third connection carries several requests, the others one each.
                        for _ in range(5 if n % 3 == 0 else 1):
                            response = client.request("GET", f"/t{index}/{n}", host="a.test")
                            if response.status != 200:
                                raise AssertionError(f"status {response.status}")
                            with lock:
                                counts[index] += 1
                    finally:
                        client.close()
                    with lock:
                        handshakes.append((started, serial))
                except Exception as error:  # noqa: BLE001 - every failure is the finding
                    with lock:
                        failures.append(f"thread {index} connection {n}: {type(error).__name__}: {error}")
                n += 1

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(self.THREADS)]
        for t in threads:
            t.start()
        try:
            began = time.monotonic()
            wait_until(lambda: self.loaded(counts, [0] * self.THREADS, began) or failures,
                       what="load before the reload")
            shutil.copy(new.cert, live.cert + ".tmp")
            shutil.copy(new.key, live.key + ".tmp")
            os.replace(live.key + ".tmp", live.key)
            os.replace(live.cert + ".tmp", live.cert)
            proxy.proc.send_signal(signal.SIGHUP)
            outcome = proxy.wait_for_log(r"configuration reloaded|reload failed")[-1]
            reloaded_at = time.monotonic()
            self.assertIn("configuration reloaded", outcome, proxy.stderr_text()[-3000:])
            at_reload = list(counts)
            wait_until(lambda: self.loaded(counts, at_reload, reloaded_at) or failures, what="load after the reload")
        finally:
            stop.set()
            for t in threads:
                t.join(WAIT_TIMEOUT)
        self.assertEqual(failures, [], "requests failed around the reload")
        after = [serial for (started, serial) in handshakes if started > reloaded_at]
        self.assertTrue(after, "no connection was made after the reload")
        self.assertEqual(set(after), {new_serial}, "a connection made after the reload got the old certificate")

        fresh = self.tls_client(port, context)
        self.assertEqual(fresh.request("GET", "/fresh", host="a.test").status, 200)
        self.assertEqual(fresh.peer_serial(), new_serial)
        # The connection from before the reload still works (with the certificate it negotiated).
        response = kept.request("GET", "/after", host="a.test")
        self.assertEqual(response.status, 200, response)

    def test_a_broken_certificate_is_refused_at_reload_and_the_old_one_serves_on(self):
        """A reload whose key does not match its certificate is refused with the file and OpenSSL's reason; the
        running listener keeps its certificate, for kept and new connections alike."""
        pki = Pki(self.tempdir())
        old = pki.leaf("old", "/CN=a.test/O=old", ["a.test"], self.certs.ca)
        other = pki.leaf("other", "/CN=a.test/O=other", ["a.test"], self.certs.ca)
        live = CertFiles(pki.path("live.pem"), pki.path("live.key"))
        shutil.copy(old.cert, live.cert)
        shutil.copy(old.key, live.key)
        proxy = self.start_proxy({"https": tls_listener([live])})
        context = client_context(self.certs.ca)
        kept = self.tls_client(proxy.port, context)
        self.assertEqual(kept.request("GET", "/before", host="a.test").status, 200)

        shutil.copy(other.key, live.key)  # the key of another certificate
        proxy.proc.send_signal(signal.SIGHUP)
        outcome = proxy.wait_for_log(r"configuration reloaded|reload failed")[-1]
        self.assertIn("reload failed", outcome)
        self.assertRegex(proxy.stderr_text(), rf"{re.escape(live.key)}.*(?i:does not match|mismatch|values mismatch)")
        self.assertEqual(kept.request("GET", "/after", host="a.test").status, 200)
        fresh = self.tls_client(proxy.port, context)
        self.assertEqual(fresh.request("GET", "/fresh", host="a.test").status, 200)
        self.assertEqual(fresh.peer_serial(), cert_serial(old.cert))


# ---------------------------------------------------------------------------------------------------------------
# 8. Upstreams over TLS
# ---------------------------------------------------------------------------------------------------------------

class UpstreamTlsTest(TlsCase):
    NAME = "secure_origin"   # an upstream name the log lines can be matched on

    def start(self, origin, **transport):
        proxy = self.start_proxy({"http": plain_listener()},
                                 upstreams={self.NAME: tls_upstream([origin], **transport)},
                                 server={"workers": 1})
        return proxy

    def warning_about_upstream(self, proxy, reason):
        """Waits for a WARNING line naming the upstream and `reason`."""
        pattern = rf"(?i)warn.*(?=.*{self.NAME})(?=.*{re.escape(reason)})"
        return proxy.wait_for_log(pattern)[0]

    def test_verified_origin_with_pooled_connection(self):
        origin = self.start_tls_origin(self.certs.origin)
        proxy = self.start(origin, verify=True, ca=self.certs.origin_ca.cert, sni="origin.test")
        client = self.client(proxy)
        for i in range(4):
            response = client.request("GET", f"/ka{i}")
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.json()["target"], f"/ka{i}")
        for i in range(2):
            response = self.client(proxy).request("GET", f"/new{i}")
            self.assertEqual(response.status, 200, response)
        self.assertEqual(len(origin.complete_requests()), 6)
        self.assertEqual(origin.connections, 1, "the upstream TLS connection was not reused")
        self.assertEqual(origin.server_names, ["origin.test"])
        self.assertEqual(origin.handshake_errors, [])

    def test_wrong_ca_is_a_502_with_a_logged_reason(self):
        origin = self.start_tls_origin(self.certs.origin)
        proxy = self.start(origin, verify=True, ca=self.certs.ca.cert, sni="origin.test")
        response = self.client(proxy).request("GET", "/")
        self.assertEqual(response.status, 502, response)
        self.assert_no_origin_address(response.raw, [origin])
        self.warning_about_upstream(proxy, "certificate verify failed")
        self.assertEqual(origin.complete_requests(), [])

    def test_wrong_name_is_a_502_with_a_logged_reason(self):
        origin = self.start_tls_origin(self.certs.origin)
        proxy = self.start(origin, verify=True, ca=self.certs.origin_ca.cert, sni="other.test")
        response = self.client(proxy).request("GET", "/")
        self.assertEqual(response.status, 502, response)
        line = self.warning_about_upstream(proxy, "certificate verify failed")
        self.assertIn("hostname mismatch", line)
        self.assertEqual(origin.complete_requests(), [])
        self.assertIn("other.test", origin.server_names)

    def test_verify_false_accepts_a_self_signed_origin(self):
        origin = self.start_tls_origin(self.certs.self_signed_origin)
        proxy = self.start(origin, verify=False, sni="origin.test")
        response = self.client(proxy).request("GET", "/self")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["target"], "/self")
        # The same origin with verification on is refused.
        strict = self.start(origin, verify=True, ca=self.certs.origin_ca.cert, sni="origin.test")
        self.assertEqual(self.client(strict).request("GET", "/self").status, 502)

    def test_a_tls_health_check_head_over_4_kib_fails(self):
        """Over TLS too the checker reads a head into 4 KiB: a bigger one is a failed check, not a wait."""
        def huge_head(request, conn):
            conn.send_response(200, [("X-Big", "b" * 5000), ("Content-Length", "0")])
            return True
        origin = self.start_tls_origin(self.certs.origin, huge_head)
        upstream = tls_upstream([origin], verify=True, ca=self.certs.origin_ca.cert, sni="origin.test")
        upstream["health"] = {"path": "/health", "interval": "200ms", "timeout": "150ms", "rise": 1, "fall": 1}
        proxy = self.start_proxy({"http": plain_listener()}, upstreams={"big": upstream},
                                 routes=[{"match": {"prefix": "/"}, "upstream": "big"}], server={"workers": 1})
        proxy.wait_for_log(r"upstream big: 127\.0\.0\.1:\d+ DOWN \(1 failed checks: response head too large\)")

    def test_health_checks_go_over_tls(self):
        """Active checks of a TLS upstream do the handshake, as its traffic does: the origin under its own CA
        passes them (the check's GETs arrive decrypted); the same origin under a CA that did not sign it goes DOWN
        with the TLS reason, and its route gets 503 at once."""
        origin = self.start_tls_origin(self.certs.origin)
        health = {"path": "/health", "interval": "200ms", "timeout": "150ms", "rise": 1, "fall": 1}
        good = tls_upstream([origin], verify=True, ca=self.certs.origin_ca.cert, sni="origin.test")
        bad = tls_upstream([origin], verify=True, ca=self.certs.ca.cert, sni="origin.test")
        good["health"] = dict(health)
        bad["health"] = dict(health)
        proxy = self.start_proxy({"http": plain_listener()}, upstreams={"good": good, "bad": bad},
                                 routes=[{"match": {"prefix": "/bad"}, "upstream": "bad"},
                                         {"match": {"prefix": "/"}, "upstream": "good"}],
                                 server={"workers": 1})
        proxy.wait_for_log(r"upstream bad: 127\.0\.0\.1:\d+ DOWN \(1 failed checks: TLS: handshake: "
                           r".*certificate verify failed")
        wait_until(lambda: sum(r.target == "/health" for r in origin.complete_requests()) >= 3,
                   what="three health checks over TLS")
        self.assertEqual(self.client(proxy).request("GET", "/app").status, 200)
        self.assertEqual(self.client(proxy).request("GET", "/bad").status, 503)
        self.assertNotRegex(proxy.stderr_text(), r"upstream good: .* DOWN")


# ---------------------------------------------------------------------------------------------------------------
# 9. redirect_https, hsts
# ---------------------------------------------------------------------------------------------------------------

class RedirectAndHstsTest(TlsCase):
    HSTS = "max-age=31536000; includeSubDomains"
    HSTS_PRELOAD = "max-age=63072000; includeSubDomains; preload"

    def start(self):
        c = self.certs
        origin = self.start_origin(echo_handler())
        listeners = {
            "https": tls_listener([c.a_ecdsa], listener={
                "hsts": {"max_age": "365d", "include_subdomains": True, "preload": False}}),
            "preload": tls_listener([c.a_ecdsa], listener={
                "hsts": {"max_age": "730d", "include_subdomains": True, "preload": True}}),
            "redirect": plain_listener(redirect_https=True),
            "redirect_port": plain_listener(redirect_https=8443),
            "plain": plain_listener(),
        }
        routes = [{"match": {"prefix": "/app"}, "upstream": "app"},
                  {"match": {"prefix": "/.well-known/acme-challenge/"}, "upstream": "app"},
                  {"match": {"prefix": "/down"}, "upstream": "dead"}]
        proxy = self.start_proxy(listeners, upstreams={"app": [origin], "dead": [refused_port()]}, routes=routes)
        return origin, proxy

    def test_acme_challenges_are_routed_not_redirected(self):
        """http-01 challenges must be answered over plain HTTP (RFC 8555 8.3), as certbot and Caddy expect."""
        origin, proxy = self.start()
        port = proxy.ports["redirect"]
        response = self.client(port).request("GET", "/.well-known/acme-challenge/token123", host="a.test")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["target"], "/.well-known/acme-challenge/token123")
        self.assertEqual(self.client(port).request("GET", "/.well-known/other", host="a.test").status, 308)

    def test_redirect_to_https(self):
        origin, proxy = self.start()
        port = proxy.ports["redirect"]
        for host in ("a.test", "a.test:8080"):
            with self.subTest(host=host):
                response = self.client(port).request("GET", "/app/x?y=1&z=%20", host=host)
                self.assertEqual(response.status, 308, response)
                self.assertEqual(response.header("location"), "https://a.test/app/x?y=1&z=%20")
                self.assertIsNone(response.header("strict-transport-security"))
        # Any method, any path: the redirect comes before routing.
        response = self.client(port).request("POST", "/nowhere", host="a.test", body=b"data")
        self.assertEqual(response.status, 308, response)
        self.assertEqual(response.header("location"), "https://a.test/nowhere")
        self.assertEqual(origin.requests, [], "a redirected request reached the origin")

    def test_redirect_to_an_explicit_port(self):
        origin, proxy = self.start()
        response = self.client(proxy.ports["redirect_port"]).request("GET", "/app/p?q=2", host="a.test:8080")
        self.assertEqual(response.status, 308, response)
        self.assertEqual(response.header("location"), "https://a.test:8443/app/p?q=2")
        self.assertEqual(origin.requests, [])

    def test_redirect_without_host_is_a_400(self):
        origin, proxy = self.start()
        response = self.client(proxy.ports["redirect"]).request("GET", "/app", host=None, version="HTTP/1.0")
        self.assertEqual(response.status, 400, response)
        self.assertIsNone(response.header("location"))

    def test_hsts_on_every_response_of_a_tls_listener(self):
        origin, proxy = self.start()
        # (/down: a refused endpoint; a second try may find it ejected, 503.)
        for target, statuses in (("/app/ok", (200,)), ("/missing", (404,)), ("/down", (502, 503))):
            with self.subTest(target=target):
                response, _ = self.https_get(proxy.ports["https"], target)
                self.assertIn(response.status, statuses, response)
                self.assertEqual(response.headers_named("strict-transport-security"), [self.HSTS])
                preload, _ = self.https_get(proxy.ports["preload"], target)
                self.assertIn(preload.status, statuses, preload)
                self.assertEqual(preload.headers_named("strict-transport-security"), [self.HSTS_PRELOAD])

    def test_no_hsts_on_plain_listeners(self):
        origin, proxy = self.start()
        response = self.client(proxy.ports["plain"]).request("GET", "/app/plain", host="a.test")
        self.assertEqual(response.status, 200, response)
        self.assertIsNone(response.header("strict-transport-security"))

    def test_x_forwarded_proto(self):
        origin, proxy = self.start()
        response, _ = self.https_get(proxy.ports["https"], "/app/tls")
        self.assertEqual(seen_header(response, "x-forwarded-proto"), "https")
        response = self.client(proxy.ports["plain"]).request("GET", "/app/plain", host="a.test")
        self.assertEqual(seen_header(response, "x-forwarded-proto"), "http")


# ---------------------------------------------------------------------------------------------------------------
# 10. Configuration errors
# ---------------------------------------------------------------------------------------------------------------

class ConfigErrorTest(TlsCase):
    """`portico -t` and a real start refuse a bad TLS configuration, naming the file and OpenSSL's reason."""

    OPENSSL_REASON = r"error:[0-9A-F]{8}:"

    def write_config(self, listeners, upstreams=None):
        directory = self.tempdir()
        config = make_config(upstreams or {"app": [refused_port()]}, listener=listeners,
                             server={"plugin_dirs": [TLS_PLUGIN_DIR], "workers": 1})
        text = to_toml(config)
        with open(os.path.join(directory, "portico.toml"), "w") as f:
            f.write(text)
        return directory, text

    @staticmethod
    def line_of(text, prefix, after=None):
        """1-based number of the first line starting with `prefix` (after the line equal to `after`)."""
        lines = text.splitlines()
        start = lines.index(after) if after else 0
        for number, line in enumerate(lines[start:], start + 1):
            if line.startswith(prefix):
                return number
        raise AssertionError(f"no line starting with {prefix!r}")

    def refused(self, directory, *needles, line=None, openssl_reason=True):
        """Both `portico -t` and a real start exit non-zero, without listening, with a `portico.toml:LINE:COL:`
        problem on stderr containing every needle (and OpenSSL's reason); returns the -t problem line."""
        found = []
        for args in (["-t", "-c", directory], ["-c", directory]):
            try:
                result = run_portico(args, timeout=10)
            except subprocess.TimeoutExpired:
                self.fail(f"portico {' '.join(args)} kept running with a bad configuration")
            what = f"portico {' '.join(args)}"
            self.assertNotEqual(result.returncode, 0, f"{what} exited 0:\n{result.stderr}")
            self.assertIsNone(LISTENING_RE.search(result.stderr + result.stdout), f"{what} listened")
            problems = [p for p in result.stderr.splitlines()
                        if re.search(r"portico\.toml:\d+:\d+: ", p) and all(n in p for n in needles)]
            self.assertTrue(problems, f"{what}: no portico.toml:LINE:COL: line with {needles}:\n{result.stderr}")
            if line is not None:
                self.assertEqual(int(re.search(r"portico\.toml:(\d+):", problems[0]).group(1)), line, problems[0])
            if openssl_reason:
                self.assertRegex(problems[0], self.OPENSSL_REASON)
            found.append(problems[0])
        return found[0]

    def test_missing_certificate_file(self):
        missing = os.path.join(self.tempdir(), "missing.pem")
        directory, text = self.write_config(
            {"https": tls_listener([{"cert": missing, "key": self.certs.a_ecdsa.key}])})
        problem = self.refused(directory, missing, line=self.line_of(text, "transport = "))
        self.assertIn("No such file or directory", problem)

    def test_key_that_does_not_match_the_certificate(self):
        # Both ECDSA P-256, so OpenSSL compares the key values.
        directory, text = self.write_config(
            {"https": tls_listener([{"cert": self.certs.a_ecdsa.cert, "key": self.certs.wild.key}])})
        problem = self.refused(directory, self.certs.wild.key, self.certs.a_ecdsa.cert)
        self.assertIn("key values mismatch", problem)

    def test_a_table_for_the_other_side_is_refused_at_use(self):
        """A listener given an upstream's tls table (no certificates), and an upstream given a listener's: the
        trial connection refuses each at its `use`, with the plugin's reason."""
        directory, text = self.write_config({"https": {"bind": "127.0.0.1:0",
                                                       "transport": {"use": "tls", "sni": "a.test"}}})
        problem = self.refused(directory, "transport 'tls' (tls.tls) cannot serve a listener with this table",
                               line=self.line_of(text, "transport = "), openssl_reason=False)
        self.assertIn("is the table meant for an upstream?", problem)
        result = run_portico(["-t", "-c", directory], timeout=10)
        self.assertIn("a tls table without 'certificates' (an upstream's) was used on a listener", result.stderr)

        directory, _ = self.write_config(
            {"http": plain_listener()},
            upstreams={"app": tls_upstream([refused_port()], certificates=[
                {"cert": self.certs.a_ecdsa.cert, "key": self.certs.a_ecdsa.key}])})
        problem = self.refused(directory, "cannot serve an upstream with this table", openssl_reason=False)
        self.assertIn("is the table meant for a listener?", problem)

    def test_unreadable_client_ca(self):
        scratch = self.tempdir()
        garbage = os.path.join(scratch, "garbage-ca.pem")
        with open(garbage, "w") as f:
            f.write("this is not a certificate\n")
        as_directory = os.path.join(scratch, "ca-dir.pem")
        os.mkdir(as_directory)
        for ca in (garbage, as_directory):
            with self.subTest(ca=os.path.basename(ca)):
                directory, _ = self.write_config(
                    {"https": tls_listener([self.certs.a_ecdsa], client_ca=ca)})
                self.refused(directory, ca)

    def test_unreadable_upstream_ca(self):
        garbage = os.path.join(self.tempdir(), "garbage-origin-ca.pem")
        with open(garbage, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        directory, _ = self.write_config({"http": plain_listener()},
                                         upstreams={"app": tls_upstream([f"127.0.0.1:{refused_port()}"],
                                                                        ca=garbage, sni="origin.test")})
        self.refused(directory, garbage)

    def test_hsts_on_a_plain_listener(self):
        directory, text = self.write_config(
            {"http": plain_listener(hsts={"max_age": "1d"})})
        self.refused(directory, "hsts", line=self.line_of(text, "hsts = "), openssl_reason=False)

    def test_expired_certificate_starts_with_a_warning(self):
        expired = self.certs.expired
        directory, _ = self.write_config({"https": tls_listener([expired])})
        check = run_portico(["-t", "-c", directory], timeout=10)
        self.assertEqual(check.returncode, 0, check.stderr)
        proxy = self.start_proxy({"https": tls_listener([expired])})
        line = proxy.wait_for_log(rf"(?i)warn.*{re.escape(expired.cert)}")[0]
        self.assertIn("EXPIRED", line)
        # It serves (clients that do not verify can still connect).
        out = s_client(proxy.port, servername="expired.test")
        self.assertTrue(out.handshake_ok, out.describe())
        self.assertEqual(out.subject, "CN=expired.test, O=expired")


# ---------------------------------------------------------------------------------------------------------------
# 10-11. Failed handshakes cost nothing else
# ---------------------------------------------------------------------------------------------------------------

class HandshakeFailureTest(TlsCase):

    def start(self):
        origin = self.start_origin(echo_handler())
        proxy = self.start_proxy({"https": tls_listener([self.certs.a_ecdsa])}, upstreams={"app": [origin]},
                                 server={"error_log": {"path": "stderr", "level": "debug"}})
        return origin, proxy

    def assert_next_client_works(self, proxy):
        response, _ = self.https_get(proxy.port, "/next")
        self.assertEqual(response.status, 200, response)

    def assert_logged_at_debug_only(self, proxy, count=1):
        lines = proxy.wait_for_log(r"\[Debug\].*(?=.*handshake)(?=.*127\.0\.0\.1)", count=count)
        louder = [l for l in proxy.stderr_lines()
                  if "handshake" in l and re.search(r"\[(Warning|Error|Critical|Fatal)\]", l)]
        self.assertEqual(louder, [], "a client's failed handshake was logged above debug")
        return lines

    def test_plain_http_to_the_tls_port_is_closed(self):
        origin, proxy = self.start()
        raw = self.client(proxy.port)
        raw.send(request_bytes("GET", "/", host="a.test"))
        data = raw.read_until_close(timeout=10)
        self.assertFalse(data.startswith(b"HTTP/"), data[:200])
        # Nothing, or a TLS alert record.
        self.assertTrue(data == b"" or data[:1] == b"\x15", data[:200])
        self.assertEqual(origin.requests, [])
        self.assert_logged_at_debug_only(proxy)
        self.assert_next_client_works(proxy)

    def test_refused_version_then_a_good_client(self):
        origin, proxy = self.start()
        out = s_client(proxy.port, "-tls1", *LEGACY_CLIENT)
        self.assertFalse(out.handshake_ok, out.describe())
        self.assert_logged_at_debug_only(proxy)
        self.assert_next_client_works(proxy)

    def test_many_failures_in_a_row(self):
        origin, proxy = self.start()
        for i in range(10):
            raw = RawClient(proxy.port)
            try:
                if i % 2:
                    raw.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")   # half a ClientHello, then close
                else:
                    raw.send(b"garbage that is not TLS\r\n\r\n")
                    raw.read_until_close(timeout=10)
            finally:
                raw.close()
        # At least the five garbage ones (a client closing mid-handshake may be logged too).
        self.assert_logged_at_debug_only(proxy, count=5)
        for _ in range(3):
            self.assert_next_client_works(proxy)
        self.assertEqual(len(origin.complete_requests()), 3)


if __name__ == "__main__":
    main()
