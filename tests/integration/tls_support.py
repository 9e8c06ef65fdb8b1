"""TLS helpers for the integration tests (test_tls.py): certificates made with the `openssl` CLI, a TLS origin
built on harness.Origin, and clients (`openssl s_client`, `curl`, python `ssl` over harness.RawClient).

Every subprocess has a timeout; everything listens on and connects to 127.0.0.1 only.
"""

import atexit
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading

from harness import (IO_TIMEOUT, SCALE, Origin, Portico, PorticoCase, RawClient, build_path, echo_handler,
                     make_config, wait_until)

TLS_PLUGIN_DIR = build_path("plugins", "tls", "dir")
CHAIN_FILTER_DIR = build_path("tests", "fixtures", "chain_filter", "dir")

OPENSSL = shutil.which("openssl") or "openssl"
CURL = shutil.which("curl") or "curl"
TOOL_TIMEOUT = 15.0 * SCALE   # one openssl/curl invocation


def run_tool(args, input=b"", timeout=TOOL_TIMEOUT, check=False):
    """Runs a command with a timeout; returns CompletedProcess with bytes output."""
    result = subprocess.run(args, input=input, capture_output=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n"
                             + result.stderr.decode("utf-8", "replace"))
    return result


# ---------------------------------------------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------------------------------------------

class CertFiles:
    """A certificate and its key on disk."""

    def __init__(self, cert, key, subject=None, serial=None):
        self.cert = cert
        self.key = key
        self.subject = subject
        self.serial = serial

    def entry(self, **extra):
        """The listener's certificates[] entry."""
        return dict({"cert": self.cert, "key": self.key}, **extra)

    def __repr__(self):
        return f"<CertFiles {self.cert}>"


class Pki:
    """Makes keys and certificates in `directory` with the openssl CLI."""

    def __init__(self, directory):
        self.dir = directory
        self._serial = 1000

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, path, kind):
        if kind == "rsa":
            args = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        else:
            args = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        run_tool([OPENSSL] + args + ["-out", path], check=True)

    def next_serial(self):
        self._serial += 1
        return self._serial

    def ca(self, name, cn):
        """A self-signed CA (ECDSA P-256)."""
        cert, key = self.path(name + ".pem"), self.path(name + ".key")
        self._key(key, "ec")
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                    "subjectKeyIdentifier=hash\n")
        run_tool([OPENSSL, "req", "-x509", "-new", "-key", key, "-out", cert, "-subj", f"/CN={cn}", "-days", "30",
                  "-set_serial", str(self.next_serial()), "-config", ext, "-extensions", "v3"], check=True)
        return CertFiles(cert, key, f"CN={cn}")

    def leaf(self, name, subject, sans=(), ca=None, kind="ec", days=30, serial=None, client=False, key=None):
        """A leaf certificate for `subject` ("/CN=a.test/O=rsa") with DNS `sans`, signed by `ca` (self-signed
        when None). days=-1 makes one that expired on creation. key: reuse an existing key file."""
        cert = self.path(name + ".pem")
        if key is None:
            key = self.path(name + ".key")
            self._key(key, kind)
        serial = serial if serial is not None else self.next_serial()
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("[v3]\nbasicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\n")
            f.write("keyUsage=critical,digitalSignature" + (",keyEncipherment" if kind == "rsa" else "") + "\n")
            f.write("extendedKeyUsage=" + ("clientAuth" if client else "serverAuth") + "\n")
            if ca is not None:
                f.write("authorityKeyIdentifier=keyid\n")
            if sans:
                f.write("subjectAltName=" + ",".join(f"DNS:{s}" for s in sans) + "\n")
        csr = self.path(name + ".csr")
        # A fresh config for req: the system one may add extensions of its own.
        req_conf = self.path(name + ".req")
        with open(req_conf, "w") as f:
            f.write("[req]\ndistinguished_name=dn\n[dn]\n")
        run_tool([OPENSSL, "req", "-new", "-key", key, "-subj", subject, "-out", csr, "-config", req_conf],
                 check=True)
        signer = ["-CA", ca.cert, "-CAkey", ca.key] if ca is not None else ["-signkey", key]
        run_tool([OPENSSL, "x509", "-req", "-in", csr, "-out", cert, "-days", str(days), "-set_serial",
                  str(serial), "-extfile", ext, "-extensions", "v3", "-sha256"] + signer, check=True)
        return CertFiles(cert, key, subject, serial)


class Certificates:
    """The test PKI shared by the whole module (made once; RSA keys are slow to generate)."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-tls-pki-")
        pki = self.pki = Pki(self.tmp.name)
        self.dir = self.tmp.name
        self.ca = pki.ca("ca", "Portico Test CA")
        # Listener certificates; each O= says which one a client got.
        self.default = pki.leaf("default", "/CN=default.test/O=default", ["default.test"], self.ca)
        self.a_rsa = pki.leaf("a-rsa", "/CN=a.test/O=rsa", ["a.test"], self.ca, kind="rsa")
        self.a_ecdsa = pki.leaf("a-ecdsa", "/CN=a.test/O=ecdsa", ["a.test"], self.ca)
        self.wild = pki.leaf("wild", "/CN=*.wild.test/O=wild", ["*.wild.test"], self.ca)
        self.expired = pki.leaf("expired", "/CN=expired.test/O=expired", ["expired.test"], self.ca, days=-1)
        # Client certificates: one from the client CA, one from the server CA (not trusted for clients).
        self.client_ca = pki.ca("client-ca", "Portico Client CA")
        self.client = pki.leaf("client", "/O=client/CN=client one", (), self.client_ca, client=True)
        self.rogue_client = pki.leaf("rogue-client", "/O=rogue/CN=rogue", (), self.ca, client=True)
        # Origins: one under its own CA, one self-signed.
        self.origin_ca = pki.ca("origin-ca", "Portico Origin CA")
        self.origin = pki.leaf("origin", "/CN=origin.test/O=origin", ["origin.test"], self.origin_ca)
        self.self_signed_origin = pki.leaf("origin-self", "/CN=origin.test/O=self", ["origin.test"], None)

    def cleanup(self):
        self.tmp.cleanup()


_CERTS = None
_CERTS_LOCK = threading.Lock()


def certificates():
    """The shared test PKI, made on first use, removed at exit."""
    global _CERTS
    with _CERTS_LOCK:
        if _CERTS is None:
            _CERTS = Certificates()
            atexit.register(_CERTS.cleanup)
        return _CERTS


def cert_serial(path):
    """The serial of a PEM certificate, as python's getpeercert() spells it (upper-case hex)."""
    out = run_tool([OPENSSL, "x509", "-in", path, "-noout", "-serial"], check=True).stdout.decode()
    return out.strip().split("=", 1)[1].upper()


# ---------------------------------------------------------------------------------------------------------------
# Configuration pieces
# ---------------------------------------------------------------------------------------------------------------

def tls_listener(certs, **keys):
    """A [listener.NAME] table over TLS: certs is a list of CertFiles (the first is the default) or entries;
    keys go to the transport table (min_version, client_ca, ...), except the listener's own (hsts, ...) given as
    listener={...}."""
    listener_keys = keys.pop("listener", {})
    entries = [c.entry() if isinstance(c, CertFiles) else c for c in certs]
    transport = dict({"use": "tls", "certificates": entries}, **keys)
    return dict({"bind": "127.0.0.1:0", "transport": transport}, **listener_keys)


def plain_listener(**keys):
    return dict({"bind": "127.0.0.1:0"}, **keys)


def tls_upstream(endpoints, **keys):
    """An [upstream.NAME] table over TLS (keys: verify, ca, sni, ...)."""
    return {"endpoints": list(endpoints), "transport": dict({"use": "tls"}, **keys)}


def listener_port(proxy, name):
    """The port of listener `name` (from its 'listener NAME listening on' line)."""
    if name not in proxy.ports:
        line = proxy.wait_for_log(rf"listener {re.escape(name)} listening on ")[0]
        proxy.ports[name] = int(re.search(rf"listener {re.escape(name)} listening on \S+:(\d+)", line).group(1))
    return proxy.ports[name]


# ---------------------------------------------------------------------------------------------------------------
# A TLS origin
# ---------------------------------------------------------------------------------------------------------------

class TlsOrigin(Origin):
    """harness.Origin over TLS: each accepted connection does its handshake on its own thread, then is served by
    the usual handlers. Records the SNI names clients sent and the handshakes that failed.

    It hooks Origin._serve (the per-connection thread) so the accept loop never blocks on a handshake."""

    def __init__(self, cert, handler=None, **kwargs):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert.cert, cert.key)
        self.server_names = []
        self.handshake_errors = []
        self.context.sni_callback = self._on_sni
        kwargs.setdefault("name", "tls-origin")
        super().__init__(handler, **kwargs)

    def _on_sni(self, ssl_socket, server_name, context):
        with self.lock:
            self.server_names.append(server_name)
        return None

    def _serve(self, sock, index):
        try:
            tls = self.context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError) as error:
            with self.lock:
                self.handshake_errors.append(str(error))
                self._socks.discard(sock)
                self.lock.notify_all()
            sock.close()
            return
        with self.lock:
            self._socks.discard(sock)
            self._socks.add(tls)
        super()._serve(tls, index)

    def wait_for_handshake_errors(self, n=1):
        return wait_until(lambda: len(self.handshake_errors) >= n, what=f"{n} failed handshake(s) at {self.name}")


# ---------------------------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------------------------

def http_request(host, target="/", close=True):
    return (f"GET {target} HTTP/1.1\r\nHost: {host}\r\n" + ("Connection: close\r\n" if close else "")
            + "\r\n").encode()


class SClient:
    """The output of one `openssl s_client` run, parsed."""

    def __init__(self, result):
        self.returncode = result.returncode
        self.stdout = result.stdout.decode("utf-8", "replace")
        self.stderr = result.stderr.decode("utf-8", "replace")
        self.text = self.stdout + "\n" + self.stderr

    def _search(self, regex):
        m = re.search(regex, self.text, re.M)
        return m.group(1) if m else None

    @property
    def handshake_ok(self):
        """The handshake completed: s_client exited 0 after printing 'New, ...' or 'Reused, ...' with a cipher.
        (It prints those lines for a TLS 1.2 handshake the server refused at the very end too, with exit 1.)"""
        m = re.search(r"^(New|Reused), (\S+), Cipher is (\S+)", self.text, re.M)
        return self.returncode == 0 and bool(m) and m.group(3) != "(NONE)"

    @property
    def reused(self):
        return re.search(r"^Reused, ", self.text, re.M) is not None

    @property
    def protocol(self):
        """The negotiated version ("TLSv1.3", "TLSv1" for 1.0) from the session block, when the handshake completed
        (the 'New, ...' line names the cipher's version, not the connection's)."""
        return self._search(r"^\s*Protocol\s*:\s*(\S+)") if self.handshake_ok else None

    @property
    def cipher(self):
        return self._search(r"^(?:New|Reused), \S+, Cipher is (\S+)")

    @property
    def subject(self):
        """The served certificate's subject as 'CN=a.test, O=rsa' (spacing normalised across versions)."""
        value = self._search(r"^subject=(.*)$")
        return re.sub(r"\s*=\s*", "=", value).strip() if value is not None else None

    @property
    def alpn(self):
        if re.search(r"^No ALPN negotiated", self.text, re.M):
            return None
        return self._search(r"^ALPN protocol: (\S+)")

    @property
    def verify_code(self):
        value = self._search(r"Verify return code: (\d+)")
        return int(value) if value is not None else None

    @property
    def http_status(self):
        value = self._search(r"^HTTP/1\.1 (\d{3}) ")
        return int(value) if value is not None else None

    def describe(self):
        return f"s_client exit {self.returncode}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-2000:]}"


def s_client(port, *args, servername="a.test", request=True, host=None, ca=None, timeout=TOOL_TIMEOUT):
    """Runs `openssl s_client` against 127.0.0.1:port. By default sends one HTTP request with Connection: close
    and waits for the server to close (-ign_eof), so TLS 1.3 tickets arrive before it exits. servername=None sends
    no SNI."""
    cmd = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}"]
    cmd += ["-servername", servername] if servername else ["-noservername"]
    if ca:
        cmd += ["-CAfile", ca]
    if request:
        cmd.append("-ign_eof")
    cmd += list(args)
    data = http_request(host or servername or "a.test") if request else b""
    return SClient(run_tool(cmd, input=data, timeout=timeout))


def curl(args, timeout=TOOL_TIMEOUT):
    """Runs curl with -sS and the given args; returns CompletedProcess (bytes)."""
    return run_tool([CURL, "-sS", "--max-time", str(int(timeout))] + list(args), timeout=timeout + 5)


def client_context(ca=None, cert=None, min_version=None, max_version=None, check_hostname=True):
    """A python client SSLContext trusting `ca` (a CertFiles or path), optionally presenting `cert`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is not None:
        context.load_verify_locations(ca.cert if isinstance(ca, CertFiles) else ca)
    context.check_hostname = check_hostname
    if not check_hostname:
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    if min_version is not None:
        context.minimum_version = min_version
    if max_version is not None:
        context.maximum_version = max_version
    return context


class TlsClient(RawClient):
    """harness.RawClient over TLS: exact bytes out, strictly parsed responses in. The handshake happens in the
    constructor (ssl.SSLError when it fails)."""

    def __init__(self, port, context, server_hostname="a.test", timeout=IO_TIMEOUT):
        super().__init__(port, timeout, connect=False)
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = context.wrap_socket(raw, server_hostname=server_hostname)
        except BaseException:
            raw.close()
            raise

    def is_closed_now(self):
        raise NotImplementedError("MSG_PEEK is not available on TLS sockets")

    def peer_serial(self):
        return self.sock.getpeercert()["serialNumber"].upper()


# ---------------------------------------------------------------------------------------------------------------
# The test case base of test_tls.py and test_tls_edges.py
# ---------------------------------------------------------------------------------------------------------------

class TlsCase(PorticoCase):
    """Starts portico with named listeners (TLS or plain), the tls plugin and the chain_filter fixture loaded."""

    @classmethod
    def setUpClass(cls):
        cls.certs = certificates()

    def start_proxy(self, listeners, upstreams=None, routes=None, server=None, **sections):
        """listeners: {name: table}. Waits until every listener has logged its port (listener_port)."""
        if upstreams is None:
            upstreams = {"app": [self.start_origin(echo_handler())]}
        server = dict({"plugin_dirs": [TLS_PLUGIN_DIR, CHAIN_FILTER_DIR]}, **(server or {}))
        config = make_config(upstreams, routes, server=server, listener=listeners, **sections)
        proxy = Portico(config, listener=next(iter(listeners)))
        self.addCleanup(proxy.stop)
        self.addCleanup(lambda: [o.release.set() for o in self._origins])
        for name in listeners:
            listener_port(proxy, name)
        return proxy

    def start_tls_origin(self, cert, handler=None):
        origin = TlsOrigin(cert, handler)
        self._origins.append(origin)
        self.addCleanup(origin.stop)
        return origin

    def tls_client(self, port, context=None, server_hostname="a.test"):
        client = TlsClient(port, context or client_context(self.certs.ca), server_hostname)
        self.addCleanup(client.close)
        return client

    def https_get(self, port, target="/", host="a.test", context=None):
        """One request on a new TLS connection; returns (response, client)."""
        client = self.tls_client(port, context, server_hostname=host)
        return client.request("GET", target, host=host), client

    def tempdir(self):
        tmp = tempfile.TemporaryDirectory(prefix="portico-tls-test-")
        self.addCleanup(tmp.cleanup)
        return tmp.name
