#include <doctest/doctest.h>

#include <vector>

#include "net/timer.h"

using namespace portico::net;

namespace {
struct Recorder : TimerClient {
    std::vector<int> fired;
    int id = 0;
    void on_timeout(Timer&) override { fired.push_back(id); }
};
}  // namespace

TEST_CASE("timer queue fires in deadline order and re-arming moves a timer to the back") {
    TimerQueue queue(100);
    Recorder a, b, c;
    a.id = 1;
    b.id = 2;
    c.id = 3;
    Timer ta(a), tb(b), tc(c);
    queue.arm(ta, 0);
    queue.arm(tb, 10);
    queue.arm(tc, 20);
    queue.arm(ta, 30);  // re-armed: now last
    CHECK(queue.next_deadline() == 110);
    CHECK(queue.expire(109) == 0);
    CHECK(queue.expire(120) == 2);
    CHECK(b.fired == std::vector<int>{2});
    CHECK(c.fired == std::vector<int>{3});
    CHECK(a.fired.empty());
    CHECK(ta.armed());
    CHECK_FALSE(tb.armed());
    tc.cancel();
    CHECK(queue.expire(130) == 1);
    CHECK(a.fired == std::vector<int>{1});
    CHECK(queue.next_deadline() == -1);
}

TEST_CASE("a destroyed timer leaves its queue") {
    TimerQueue queue(5);
    Recorder r;
    {
        Timer t(r);
        queue.arm(t, 0);
    }
    CHECK(queue.next_deadline() == -1);
    CHECK(queue.expire(100) == 0);
}
