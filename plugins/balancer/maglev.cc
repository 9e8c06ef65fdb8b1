#include "maglev.h"

#include <algorithm>
#include <string>

#include "hash.h"

namespace portico::balancer {

namespace {

constexpr uint32_t kEmpty = static_cast<uint32_t>(-1);
constexpr int kRehashes = 32;

std::string table_name(const Endpoint& endpoint) {
    return endpoint.address.empty() ? "#" + std::to_string(endpoint.id) : endpoint.address;
}

// (entry + skip) mod size for entry, skip < size: a subtraction instead of a division, in the loop that fills the
// table (about size * ln(size) steps).
uint64_t advance(uint64_t entry, uint64_t skip, uint64_t size) {
    entry += skip;
    return entry >= size ? entry - size : entry;
}

struct Builder {
    uint64_t name_hash;
    uint64_t next;  // the entry this endpoint's permutation offers next
    uint64_t skip;
    uint64_t weight;
    uint64_t turns = 0;
    uint32_t position;
};

}  // namespace

bool Maglev::is_prime(uint64_t n) {
    if (n < 2) return false;
    if (n % 2 == 0) return n == 2;
    for (uint64_t d = 3; d * d <= n; d += 2) {
        if (n % d == 0) return false;
    }
    return true;
}

void Maglev::rebuild(const EndpointSet& next) {
    const uint64_t size = options_.table_size;
    std::vector<uint64_t> name_hash(next.all().size(), 0);
    std::vector<Builder> builders;
    builders.reserve(next.eligible().size());
    uint64_t heaviest = 0;
    for (uint32_t position : next.eligible()) {
        const std::string name = table_name(next[position]);
        const uint64_t offset = xxhash64(name, 0) % size;
        const uint64_t skip = xxhash64(name, 1) % (size - 1) + 1;
        name_hash[position] = xxhash64(name, 2);
        builders.push_back(Builder{name_hash[position], offset, skip, next[position].weight, 0, position});
        heaviest = std::max<uint64_t>(heaviest, next[position].weight);
    }
    // The order of turns decides ties for free entries: order by name, not by the host's listing, so that every
    // proxy builds the same table from the same endpoints.
    std::sort(builders.begin(), builders.end(), [&](const Builder& a, const Builder& b) {
        return a.name_hash != b.name_hash ? a.name_hash < b.name_hash : a.position < b.position;
    });

    std::vector<uint32_t> table;
    if (!builders.empty()) {
        table.assign(size, kEmpty);
        uint64_t filled = 0;
        // The heaviest endpoint takes a turn every round and its permutation visits every entry (size is prime),
        // so the table fills within `size` rounds.
        for (uint64_t round = 1; filled < size; ++round) {
            for (Builder& builder : builders) {
                if (round * builder.weight < builder.turns * heaviest) continue;
                ++builder.turns;
                while (table[builder.next] != kEmpty) builder.next = advance(builder.next, builder.skip, size);
                table[builder.next] = builder.position;
                builder.next = advance(builder.next, builder.skip, size);
                if (++filled == size) break;
            }
        }
    }
    WeightedPick random(next);
    table_.swap(table);
    name_hash_.swap(name_hash);
    random_ = std::move(random);
}

void Maglev::reset() noexcept {
    table_.clear();
    name_hash_.clear();
    random_ = WeightedPick();
}

size_t Maglev::pick(const Request& request, const Avoid& avoid) {
    if (request.hash_key.empty() || table_.empty()) return random_.pick(rng(), avoid);
    const uint64_t hash = xxhash64(request.hash_key);
    const uint32_t first = table_[hash % table_.size()];
    if (!avoid(first)) return first;
    for (uint64_t i = 1; i <= kRehashes; ++i) {
        const uint32_t position = table_[mix64(hash + i * 0x9e3779b97f4a7c15ULL) % table_.size()];
        if (!avoid(position)) return position;
    }
    size_t best = kNone;
    uint64_t best_score = 0;
    for (uint32_t position : endpoints().eligible()) {
        if (avoid(position)) continue;
        const uint64_t score = mix64(hash ^ name_hash_[position]);
        if (best == kNone || score > best_score) {
            best = position;
            best_score = score;
        }
    }
    return best;
}

size_t Maglev::entries_of(uint32_t id) const {
    const size_t position = endpoints().position_of(id);
    if (position == kNone) return 0;
    return static_cast<size_t>(std::count(table_.begin(), table_.end(), static_cast<uint32_t>(position)));
}

}  // namespace portico::balancer
