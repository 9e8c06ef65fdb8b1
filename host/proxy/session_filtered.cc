// The request path of a route with filters: the same session steps, with a FilterChain between client and
// upstream. Heads become editable HeaderMaps (after the proxy's own hygiene, so filters see what the other side
// will see); bodies are decoded into the chain and re-framed from its output: by Content-Length when the filters
// left it, chunked (or close-delimited for HTTP/1.0 clients) when a filter removed it to change the length.
#include <Poco/Logger.h>

#include <charconv>
#include <cstring>

#include "http/field_syntax.h"
#include "http/status.h"
#include "proxy/chunk_framing.h"
#include "proxy/router.h"
#include "proxy/session.h"
#include "proxy/worker.h"

namespace portico::proxy {

namespace {

using Dir = FilterSlot::Dir;

// The one framing mistake a filter can make; the message says how to avoid it.
constexpr const char* kKeptLength =
    ": filters changed a body's length but kept its Content-Length (a filter that changes the length must remove "
    "Content-Length)";

// Bytes decoded into the chain per step: keeps one step's work bounded.
constexpr size_t kFeedStep = 64 * 1024;

bool parse_length(const std::string* text, uint64_t& out) {
    return text != nullptr && http::syntax::parse_decimal(*text, out);
}

// Moves up to `room` bytes of `from` into `out`, framed as chunks or raw. Returns bytes moved.
size_t move_body(BodyQueue& from, net::Buffer& out, bool chunked, uint64_t raw_limit) {
    size_t moved = 0;
    while (!from.empty()) {
        size_t room = out.writable();
        if (chunked) {
            if (room < 2 * kChunkOverhead) break;
            room -= kChunkOverhead;
        } else {
            room = static_cast<size_t>(std::min<uint64_t>(room, raw_limit - moved));
        }
        if (room == 0) break;
        std::string_view piece = from.front();
        size_t n = std::min(room, piece.size());
        if (chunked) {
            append_chunk(out, piece.data(), n);
        } else {
            out.append(piece.data(), n);
        }
        from.drain(n);
        moved += n;
    }
    return moved;
}

}  // namespace

void Session::chain_wake() {
    if (closed_ || scheduled_) return;
    scheduled_ = true;
    worker_.loop().schedule(*this);
}

void Session::begin_filtered_request(const http::RequestHead& request, size_t route_index) {
    const config::Config& config = worker_.config();
    pool_ = &worker_.pool(route_->upstream_index);
    filtered_ = std::make_unique<Filtered>();
    const auto& filters = worker_.plugin_set()->route_filters(route_index);
    chain_ = std::make_unique<FilterChain>(*this, filters, worker_.index(), worker_.loop(), worker_.log(),
                                           route_->filter_buffer, config.limits.buffer_size,
                                           *worker_.timers().filter_pause);
    FilterChain& chain = *chain_;
    StreamAttributes& a = chain.attributes;
    a.method.assign(request.method_token);
    a.path.assign(request.target);
    a.authority.assign(request.host);
    a.scheme = transport_ ? "https" : "http";
    if (transport_) {
        const plugins::TransportInfo& tls = transport_->info();
        a.tls = true;
        a.tls_sni = tls.sni;
        a.tls_version = tls.version;
        a.tls_cipher = tls.cipher;
        a.tls_peer_subject = tls.peer_subject;
    }
    a.protocol = version_ == http::Version::Http10 ? "HTTP/1.0" : "HTTP/1.1";
    a.client_address = client_ip_;
    a.route = route_->name;
    a.upstream = pool_->upstream().name;
    a.request_id = request_id_;

    // The head as the upstream would get it, then editable: filters see the forwarded fields too.
    std::string head;
    RequestForwarding forwarding{client_ip_, transport_ ? "https" : "http", request_id_, pool_->upstream().name,
                                 &config.server};
    write_upstream_request(request, forwarding, head);
    filtered_->upstream_request_line.assign(head, 0, head.find("\r\n") + 2);
    chain.request_headers.assign_from_head(head);
    chain.request_headers.remove("transfer-encoding");  // framing is chosen again after the filters

    client_in_.consume(request.head_size);
    request_parser_.reset();
    // "100 Continue" only once the filters let the request through: one that refuses it must stop the upload.
    filtered_->continue_pending =
        request.expect_continue && !request_body_done_ && version_ == http::Version::Http11;
    upstream_out_.reset();
    tried_count_ = 0;
    attempts_ = 0;
    failure_status_ = 502;
    request_sent_ = false;
    chain.begin(Dir::Request, !request_body_done_);
}

bool Session::step_filtered() {
    bool progress = false;
    if (filtered_failure()) return true;

    // A client that hangs up while its request is still inside the filters (a paused auth check, say) is gone
    // for good: nothing will be sent upstream, so end the stream now rather than at the pause deadline.
    if (client_eof_ && client_in_.empty() && !filtered_->upstream_requested && !chain_->local_reply()) {
        close();
        return true;
    }

    // Request: client body into the chain, the chain's output to the upstream.
    if (!chain_->local_reply()) {
        progress |= feed_request_body();
        if (!chain_ || closed_) return true;
        progress |= chain_->run(Dir::Request);
        if (filtered_failure()) return true;
    }
    if (chain_->local_reply()) {
        if (upstream_) release_upstream(false);
        filtered_->upstream_requested = true;  // never, now
        response_state_ = ResponseState::Done;
    } else {
        if (!filtered_->upstream_requested && chain_->headers_out(Dir::Request)) {
            if (filtered_->continue_pending) client_out_.head.append("HTTP/1.1 100 Continue\r\n\r\n");
            filtered_->continue_pending = false;
            write_filtered_upstream_head();
            filtered_->upstream_requested = true;
            connect_upstream();
            if (!chain_ || closed_) return true;  // no endpoint: the error page is on its way
            progress = true;
        }
        if (filtered_->upstream_requested) {
            progress |= encode_request_body();
            if (!chain_ || closed_) return true;
        }
        if (upstream_ && response_state_ == ResponseState::WaitHead && !upstream_->connecting() &&
            (upstream_eof_ || upstream_error_) && upstream_in_.empty()) {
            upstream_failed(
                false, upstream_error_ ? "connection reset before a response" : "closed before a response", 502);
            return true;
        }
        if (response_state_ == ResponseState::WaitHead && upstream_ && !upstream_in_.empty()) {
            progress |= parse_response_head();
            if (!chain_ || closed_ || phase_ != Phase::Forward) return true;
        }
        if (chain_->local_reply()) {
            // A response filter answered instead of the origin: its body must not get the origin's.
            if (upstream_) release_upstream(false);
            response_state_ = ResponseState::Done;
        } else if (response_state_ == ResponseState::Body) {
            progress |= feed_response_body();
            if (!chain_ || closed_) return true;
        }
    }

    // Response: the chain's output to the client.
    progress |= chain_->run(Dir::Response);
    if (filtered_failure()) return true;
    if (!filtered_->client_head_written && chain_->headers_out(Dir::Response)) {
        if (!write_filtered_client_head()) return true;
        progress = true;
    }
    if (filtered_->client_head_written && !filtered_->client_body_done) {
        progress |= encode_response_body();
        if (!chain_ || closed_) return true;
    }
    if (filtered_->client_body_done && response_state_ == ResponseState::Done && client_out_.empty()) {
        finish_request();
        return true;
    }
    if (response_truncated_ && response_state_ == ResponseState::Done) {
        // The upstream cut the body short: an error page if the client has seen nothing, else the cut itself
        // once what we have is out.
        if (!filtered_->client_head_written) {
            respond_error(502, true, PORTICO_DONE_RESET);
            return true;
        }
        if (chain_->output(Dir::Response).empty() && client_out_.empty()) {
            worker_.log().warning("upstream " + pool_->upstream().name +
                                  ": response cut short; closing the client");
            close();
            return true;
        }
    }
    return progress;
}

// A failed chain: an error page while nothing of the response went out, else the cut is the only signal.
bool Session::filtered_failure() {
    ChainFailure failure = chain_->failure();
    if (failure == ChainFailure::None) return false;
    int status = 500;
    portico_done_reason reason = PORTICO_DONE_ERROR;
    switch (failure) {
        case ChainFailure::RequestTooLarge:
            status = 413;
            break;
        case ChainFailure::PauseTimeout:
            status = 504;
            reason = PORTICO_DONE_TIMEOUT;
            break;
        default:
            break;
    }
    if (worker_.log().debug()) worker_.log().debug("request " + request_id_ + ": " + chain_->failure_detail());
    respond_error(status, true, reason);
    return true;
}

void Session::end_chain(portico_done_reason reason) {
    if (!chain_) return;
    chain_->finish(reason, static_cast<uint32_t>(status_), request_body_total_, body_bytes_sent_);
    chain_.reset();
}

// ---- request ------------------------------------------------------------------------------------------------

bool Session::feed_request_body() {
    bool progress = false;
    size_t budget = kFeedStep;
    while (!request_body_done_ && budget > 0 && chain_->accepts_input(Dir::Request)) {
        if (client_in_.empty()) {
            if (client_eof_) close();  // the client left before sending its whole body
            return progress;
        }
        if (request_body_ == http::BodyKind::ContentLength) {
            size_t n = static_cast<size_t>(std::min<uint64_t>({client_in_.size(), request_remaining_, budget}));
            chain_->feed(Dir::Request, client_in_.data(), n);
            client_in_.consume(n);
            request_remaining_ -= n;
            request_body_total_ += n;
            budget -= n;
            if (request_remaining_ == 0) {
                request_body_done_ = true;
                chain_->feed_end(Dir::Request);
            }
            progress = true;
            continue;
        }
        auto result = request_chunks_.feed(client_in_.data(), std::min(client_in_.size(), budget));
        if (result.status == http::ChunkedDecoder::Status::Error) {
            if (worker_.log().debug()) {
                worker_.log().debug("client " + client_ip_ + ": bad chunked body: " + std::string(result.error));
            }
            respond_error(400, true, PORTICO_DONE_ERROR);
            return true;
        }
        if (result.status == http::ChunkedDecoder::Status::Data) {
            request_body_total_ += result.data.size();
            if (route_->max_body_size != 0 && request_body_total_ > route_->max_body_size) {
                respond_error(413, true, PORTICO_DONE_ERROR);
                return true;
            }
            chain_->feed(Dir::Request, result.data.data(), result.data.size());
        } else if (result.status == http::ChunkedDecoder::Status::Done) {
            filtered_->request_trailers.assign(result.trailers);
            request_body_done_ = true;
            chain_->feed_end(Dir::Request);
        }
        client_in_.consume(result.consumed);
        budget -= std::min(budget, result.consumed);
        if (result.consumed == 0) break;
        progress = true;
        if (result.status == http::ChunkedDecoder::Status::NeedMore) break;
    }
    return progress;
}

void Session::write_filtered_upstream_head() {
    FilterChain& chain = *chain_;
    chain.headers_sent[Dir::Request] = true;
    HeaderMap& map = chain.request_headers;
    std::string& out = upstream_out_.head;
    out.assign(filtered_->upstream_request_line);
    filtered_->request_out_chunked = false;
    filtered_->request_out_sent = 0;
    const std::string* length = map.get("content-length");
    if (length && !parse_length(length, filtered_->request_out_declared)) length = nullptr;  // cannot happen: ours
    if (!length) {
        map.remove("content-length");
        filtered_->request_out_chunked = chain.has_body(Dir::Request);
    }
    map.serialize(out);
    if (filtered_->request_out_chunked) out.append("Transfer-Encoding: chunked\r\n");
    out.append("\r\n");
    if (!length && !filtered_->request_out_chunked) filtered_->request_out_declared = 0;
}

bool Session::encode_request_body() {
    if (filtered_->request_out_done) return false;
    FilterChain& chain = *chain_;
    BodyQueue& output = chain.output(Dir::Request);
    // With Content-Length kept, the last byte waits until the filters' end is known: should they have made the
    // body longer, the upstream must not have received a complete (and wrong) request by then.
    uint64_t room_limit = UINT64_MAX;
    if (!filtered_->request_out_chunked) {
        room_limit = filtered_->request_out_declared - filtered_->request_out_sent;
        if (!chain.end_out(Dir::Request) && room_limit > 0) --room_limit;
    }
    size_t moved = move_body(output, upstream_out_.body, filtered_->request_out_chunked, room_limit);
    filtered_->request_out_sent += moved;
    if (!filtered_->request_out_chunked && chain.end_out(Dir::Request) && !output.empty() &&
        filtered_->request_out_sent == filtered_->request_out_declared) {
        // A filter made the body longer than the Content-Length it left in place.
        worker_.log().error("request " + request_id_ + kKeptLength);
        respond_error(500, true, PORTICO_DONE_ERROR);
        return true;
    }
    if (chain.end_out(Dir::Request) && output.empty()) {
        if (filtered_->request_out_chunked) {
            if (upstream_out_.body.writable() < 2 * kChunkOverhead) return moved > 0;
            upstream_out_.tail.assign("0\r\n").append(filtered_->request_trailers).append("\r\n");
        } else if (filtered_->request_out_sent != filtered_->request_out_declared) {
            worker_.log().error("request " + request_id_ + kKeptLength);
            respond_error(500, true, PORTICO_DONE_ERROR);
            return true;
        }
        filtered_->request_out_done = true;
        return true;
    }
    return moved > 0;
}

// ---- response -----------------------------------------------------------------------------------------------

void Session::start_filtered_response() {
    const http::ResponseHead& response = worker_.response_scratch();
    status_ = response.status;
    response_body_ = response.body;
    response_remaining_ = response.body == http::BodyKind::ContentLength ? response.content_length : 0;
    upstream_reusable_ = response.keep_alive;
    // The origin's head after hygiene; Content-Length stays as the filters' signal that the length holds.
    std::string head;
    ClientFraming hint =
        response.body == http::BodyKind::ContentLength ? ClientFraming::ContentLength : ClientFraming::None;
    write_client_response(response, response_forwarding(hint, true), head);
    FilterChain& chain = *chain_;
    chain.response_headers.assign_from_head(head);
    chain.response_headers.remove("connection");
    chain.response_headers.remove("transfer-encoding");
    chain.status = static_cast<uint32_t>(response.status);
    upstream_in_.consume(response.head_size);
    response_parser_.reset();
    response_chunks_.reset();
    response_state_ = ResponseState::Body;
    chain.begin(Dir::Response, response.body != http::BodyKind::None);
    if (response.body == http::BodyKind::None) {
        response_complete();
    } else {
        arm_upstream(UpstreamTimer::Read, *worker_.timers().upstream_read);
    }
}

bool Session::feed_response_body() {
    bool upstream_done = upstream_eof_ || upstream_error_;
    bool progress = false;
    size_t budget = kFeedStep;
    while (response_state_ == ResponseState::Body && budget > 0 && chain_->accepts_input(Dir::Response)) {
        if (upstream_in_.empty()) {
            if (!upstream_done) break;
            // The upstream ended: the body's natural end only when it was delimited by the close.
            if (response_body_ == http::BodyKind::UntilClose && !upstream_error_) {
                chain_->feed_end(Dir::Response);
            } else {
                response_truncated_ = true;
            }
            response_complete();
            return true;
        }
        switch (response_body_) {
            case http::BodyKind::ContentLength: {
                size_t n =
                    static_cast<size_t>(std::min<uint64_t>({upstream_in_.size(), response_remaining_, budget}));
                chain_->feed(Dir::Response, upstream_in_.data(), n);
                upstream_in_.consume(n);
                response_remaining_ -= n;
                budget -= n;
                progress = true;
                if (response_remaining_ == 0) {
                    chain_->feed_end(Dir::Response);
                    response_complete();
                    return true;
                }
                break;
            }
            case http::BodyKind::Chunked: {
                auto result = response_chunks_.feed(upstream_in_.data(), std::min(upstream_in_.size(), budget));
                if (result.status == http::ChunkedDecoder::Status::Error) {
                    worker_.log().warning("upstream " + pool_->upstream().name +
                                          ": bad chunked body: " + std::string(result.error));
                    response_truncated_ = true;
                    response_complete();
                    return true;
                }
                if (result.status == http::ChunkedDecoder::Status::Data) {
                    chain_->feed(Dir::Response, result.data.data(), result.data.size());
                } else if (result.status == http::ChunkedDecoder::Status::Done) {
                    filtered_->response_trailers.assign(result.trailers);
                    upstream_in_.consume(result.consumed);
                    chain_->feed_end(Dir::Response);
                    response_complete();
                    return true;
                }
                upstream_in_.consume(result.consumed);
                budget -= std::min(budget, result.consumed);
                if (result.consumed == 0) return progress;
                progress = true;
                if (result.status == http::ChunkedDecoder::Status::NeedMore) return progress;
                break;
            }
            default: {  // UntilClose
                size_t n = std::min(upstream_in_.size(), budget);
                chain_->feed(Dir::Response, upstream_in_.data(), n);
                upstream_in_.consume(n);
                budget -= n;
                progress = true;
                break;
            }
        }
    }
    return progress;
}

bool Session::write_filtered_client_head() {
    FilterChain& chain = *chain_;
    chain.headers_sent[Dir::Response] = true;
    filtered_->client_head_written = true;
    status_ = static_cast<int>(chain.status);
    HeaderMap& map = chain.response_headers;
    bool http11 = version_ == http::Version::Http11;
    bool bodyless = method_ == http::Method::Head || status_ == 204 || status_ == 304 || status_ < 200;
    filtered_->response_out_sent = 0;
    if (bodyless || !chain.has_body(Dir::Response)) {
        client_framing_ = ClientFraming::None;
        filtered_->response_out_declared = 0;
        if (!bodyless && !map.contains("content-length")) map.add("Content-Length", "0");
    } else if (parse_length(map.get("content-length"), filtered_->response_out_declared)) {
        client_framing_ = ClientFraming::ContentLength;
    } else {
        map.remove("content-length");
        client_framing_ = http11 ? ClientFraming::Chunked : ClientFraming::UntilClose;
    }
    // An unread request body (a local reply came first) leaves the connection unusable for another request.
    if (client_framing_ == ClientFraming::UntilClose || !request_body_done_ || client_eof_ || worker_.closing()) {
        keep_alive_ = false;
    }
    if (!map.contains("date")) map.add("Date", worker_.http_date());  // a local reply has none yet
    std::string& out = client_out_.head;
    out.append("HTTP/1.1 ");
    out.append(std::to_string(status_));
    out.append(" ").append(http::reason_phrase(status_)).append("\r\n");
    map.serialize(out);
    if (client_framing_ == ClientFraming::Chunked) out.append("Transfer-Encoding: chunked\r\n");
    if (!keep_alive_) {
        out.append("Connection: close\r\n");
    } else if (!http11) {
        out.append("Connection: keep-alive\r\n");
    }
    out.append("\r\n");
    if (client_framing_ == ClientFraming::None) {
        chain.output(Dir::Response).clear();
    }
    return true;
}

bool Session::encode_response_body() {
    FilterChain& chain = *chain_;
    BodyQueue& output = chain.output(Dir::Response);
    size_t moved = 0;
    switch (client_framing_) {
        case ClientFraming::None:
            output.clear();
            break;
        case ClientFraming::ContentLength: {
            // As for requests: the last byte waits for the end, so a body made longer is never a whole response.
            uint64_t limit = filtered_->response_out_declared - filtered_->response_out_sent;
            if (!chain.end_out(Dir::Response) && limit > 0) --limit;
            moved = move_body(output, client_out_.body, false, limit);
            if (chain.end_out(Dir::Response) && !output.empty() &&
                filtered_->response_out_sent + moved == filtered_->response_out_declared) {
                worker_.log().error("request " + request_id_ + kKeptLength);
                close();
                return false;
            }
            break;
        }
        case ClientFraming::Chunked:
            moved = move_body(output, client_out_.body, true, UINT64_MAX);
            break;
        case ClientFraming::UntilClose:
            moved = move_body(output, client_out_.body, false, UINT64_MAX);
            break;
    }
    filtered_->response_out_sent += moved;
    body_bytes_sent_ += moved;
    bool ended = chain.end_out(Dir::Response) && output.empty();
    if (!ended) return moved > 0;
    if (client_framing_ == ClientFraming::Chunked) {
        if (client_out_.body.writable() < 2 * kChunkOverhead && !client_out_.body.empty()) return moved > 0;
        client_out_.tail.assign("0\r\n").append(filtered_->response_trailers).append("\r\n");
    } else if (client_framing_ == ClientFraming::ContentLength &&
               filtered_->response_out_sent != filtered_->response_out_declared) {
        worker_.log().error("request " + request_id_ + kKeptLength);
        close();
        return false;
    }
    filtered_->client_body_done = true;
    return true;
}

}  // namespace portico::proxy
