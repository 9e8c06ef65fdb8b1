"""Routing: host (exact, "*.example.com", case-insensitive, port ignored), path (exact, prefix), first match wins,
404 when nothing matches."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import PorticoCase, echo_handler, main  # noqa: E402


class RoutingTest(PorticoCase):

    def _setup(self, routes, names=("a", "b")):
        """One origin per name (each answering with X-Origin: NAME), one upstream each, the given routes."""
        self.origins = {n: self.start_origin(echo_handler(extra_headers=[("X-Origin", n)]), name=n) for n in names}
        self.proxy = self.start_portico(upstreams={n: [o] for n, o in self.origins.items()}, routes=routes)
        self.conn = self.client(self.proxy)

    def _route(self, host, target="/"):
        """Which origin answered (its name), or the status when none did."""
        response = self.conn.request("GET", target, host=host)
        if response.status == 200 and response.header("x-origin"):
            return response.header("x-origin")
        return response.status

    def test_routes_by_exact_host(self):
        self._setup([{"match": {"host": "example.com"}, "upstream": "a"},
                     {"match": {"host": "other.org"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com"), "a")
        self.assertEqual(self._route("other.org"), "b")
        self.assertEqual(self._route("example.com"), "a")

    def test_exact_host_does_not_match_subdomain(self):
        self._setup([{"match": {"host": "example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("www.example.com"), "b")

    def test_wildcard_host_matches_subdomain(self):
        self._setup([{"match": {"host": "*.example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("a.example.com"), "a")
        self.assertEqual(self._route("www.example.com"), "a")

    def test_wildcard_host_does_not_match_apex(self):
        self._setup([{"match": {"host": "*.example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com"), "b")

    def test_wildcard_host_does_not_match_other_suffix(self):
        self._setup([{"match": {"host": "*.example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("badexample.com"), "b")
        self.assertEqual(self._route("a.example.com.evil.org"), "b")

    def test_absolute_form_target_routes_by_its_authority_not_host(self):
        # RFC 9112 3.2.2: the Host field is ignored for an absolute-form target; routing by Host while the origin
        # follows the target would let a client reach a route it did not match.
        self._setup([{"match": {"host": "public.example"}, "upstream": "a"},
                     {"match": {"host": "internal.example"}, "upstream": "b"}])
        response = self.conn.request("GET", "http://internal.example/admin?x=1", host="public.example")
        self.assertEqual(response.header("x-origin"), "b", response)
        (seen,) = self.origins["b"].wait_for_requests(1)
        self.assertEqual(seen.target, "/admin?x=1")
        self.assertEqual(seen.headers_named("host"), ["internal.example"])
        self.assertEqual(seen.header("x-forwarded-host"), "internal.example")
        self.assertEqual(self.origins["a"].complete_requests(), [])

    def test_absolute_form_without_path_becomes_slash(self):
        self._setup([{"match": {"host": "x.example", "path": "/"}, "upstream": "a"}])
        response = self.conn.request("GET", "HTTP://X.example:8080", host="other")
        self.assertEqual(response.header("x-origin"), "a", response)
        (seen,) = self.origins["a"].wait_for_requests(1)
        self.assertEqual(seen.target, "/")

    def test_absolute_form_with_userinfo_or_other_scheme_is_400(self):
        self._setup([{"match": {"prefix": "/"}, "upstream": "a"}])
        response = self.conn.request("GET", "http://user@internal.example/", host="public.example")
        self.assertEqual(response.status, 400, response)
        response = self.client(self.proxy).request("GET", "ftp://internal.example/", host="public.example")
        self.assertEqual(response.status, 400, response)
        self.assertEqual(self.origins["a"].complete_requests(), [])

    def test_routes_by_exact_path(self):
        self._setup([{"match": {"path": "/exact"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com", "/exact"), "a")
        self.assertEqual(self._route("example.com", "/exact/more"), "b")
        self.assertEqual(self._route("example.com", "/exactly"), "b")
        self.assertEqual(self._route("example.com", "/"), "b")

    def test_exact_path_ignores_query_string(self):
        self._setup([{"match": {"path": "/exact"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com", "/exact?x=1"), "a")

    def test_routes_by_path_prefix(self):
        self._setup([{"match": {"prefix": "/api/"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com", "/api/"), "a")
        self.assertEqual(self._route("example.com", "/api/users/7?x=1"), "a")
        self.assertEqual(self._route("example.com", "/apix"), "b")
        self.assertEqual(self._route("example.com", "/api"), "b")
        self.assertEqual(self._route("example.com", "/"), "b")

    def test_host_and_prefix_combined(self):
        self._setup([{"match": {"host": "example.com", "prefix": "/api/"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com", "/api/x"), "a")
        self.assertEqual(self._route("other.org", "/api/x"), "b")
        self.assertEqual(self._route("example.com", "/web"), "b")

    def test_first_matching_route_wins(self):
        self._setup([{"match": {"prefix": "/api"}, "upstream": "a"},
                     {"match": {"prefix": "/api/v2"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com", "/api/v2/items"), "a")

    def test_catch_all_first_shadows_later_routes(self):
        self._setup([{"match": {"prefix": "/"}, "upstream": "a"},
                     {"match": {"host": "example.com"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com", "/x"), "a")

    def test_no_matching_route_is_404(self):
        self._setup([{"match": {"host": "example.com"}, "upstream": "a"},
                     {"match": {"host": "*.example.org", "prefix": "/only/"}, "upstream": "b"}])
        self.assertEqual(self._route("other.org"), 404)
        self.assertEqual(self._route("www.example.org", "/elsewhere"), 404)
        # The connection stays usable after a 404 and routes still work.
        self.assertEqual(self._route("example.com"), "a")
        self.assertGreater(self.origins["a"].bytes_received, 0)
        self.assertEqual(self.origins["b"].bytes_received, 0, "an unrouted request reached an origin")

    def test_host_with_port_matches_host_route(self):
        self._setup([{"match": {"host": "example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com:8080"), "a")

    def test_wildcard_host_with_port_matches(self):
        self._setup([{"match": {"host": "*.example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("api.example.com:8443"), "a")

    def test_host_match_is_case_insensitive(self):
        self._setup([{"match": {"host": "example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("EXAMPLE.Com"), "a")

    def test_wildcard_host_match_is_case_insensitive(self):
        self._setup([{"match": {"host": "*.example.com"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("WWW.Example.COM"), "a")

    def test_configured_host_in_upper_case_matches(self):
        self._setup([{"match": {"host": "Example.COM"}, "upstream": "a"},
                     {"match": {"prefix": "/"}, "upstream": "b"}])
        self.assertEqual(self._route("example.com"), "a")


if __name__ == "__main__":
    main()
