// rt::Queue<T*>: Python's four queues with pointers as items.
#include "cpp_test.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

using namespace std::chrono_literals;

static_assert(!std::is_copy_constructible_v<rt::Queue<int *>> && std::is_nothrow_move_constructible_v<rt::Queue<int *>>);

struct Item {
    static std::atomic<int> alive;
    int n;
    explicit Item(int v) : n(v) { ++alive; }
    ~Item() { --alive; }
    bool operator<(const Item &o) const { return n < o.n; }
};
std::atomic<int> Item::alive{0};

static void fifo_lifo_and_simple_orders() {
    int v[3] = {1, 2, 3};
    rt::Queue<int *> fifo;
    auto lifo = rt::Queue<int *>::lifo();
    auto simple = rt::Queue<int *>::simple();
    for (int *p : {&v[0], &v[1], &v[2]}) {
        fifo.put(p);
        lifo.put(p);
        simple.put(p);
    }
    CHECK_EQ_INT(fifo.qsize(), 3);
    for (int i = 0; i < 3; i++) {
        CHECK(fifo.get() == &v[i]);
        CHECK(lifo.get() == &v[2 - i]);
        CHECK(simple.get() == &v[i]);
    }
    CHECK(fifo.empty() && lifo.empty() && simple.empty());
    // nullptr is an item like any other.
    fifo.put(nullptr);
    auto got = fifo.try_get();
    CHECK(got.has_value() && *got == nullptr);
    CHECK(!fifo.try_get().has_value());
}

struct ByDescending {
    bool operator()(const Item &a, const Item &b) const { return a.n > b.n; }
};

static void priority_queue_orders_by_value() {
    {
        auto q = rt::Queue<Item *>::priority(0, rt::delete_item<Item>);
        for (int n : {5, 1, 4, 2, 3}) q.put(new Item(n));
        for (int want = 1; want <= 5; want++) {
            std::unique_ptr<Item> it(q.get());
            CHECK_EQ_INT(it->n, want);
        }
        auto d = rt::Queue<const Item *>::priority<ByDescending>();
        Item a(1), b(7), c(3);
        d.put(&a);
        d.put(&b);
        d.put(&c);
        CHECK(d.get() == &b);
        CHECK(d.get() == &c);
        CHECK(d.get() == &a);
    }
    CHECK_EQ_INT(Item::alive.load(), 0);
}

static void bounded_queue_try_put_and_timeouts() {
    rt::Queue<int *> q(2);
    int a = 1, b = 2, c = 3;
    CHECK_EQ_INT(q.maxsize(), 2);
    CHECK(q.try_put(&a));
    CHECK(q.try_put_for(&b, 0s));
    CHECK(q.full());
    CHECK(!q.try_put(&c));
    double t0 = rt_test_now();
    CHECK(!q.try_put_for(&c, 100ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(!q.try_put_until(&c, std::chrono::system_clock::now() + 20ms));
    CHECK(q.get() == &a);
    CHECK(q.get() == &b);
    t0 = rt_test_now();
    CHECK(!q.try_get_for(100ms).has_value());
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(!q.try_get_until(std::chrono::system_clock::now() + 20ms).has_value());
}

static void leftovers_go_to_the_item_destructor() {
    {
        rt::Queue<Item *> q(0, rt::delete_item<Item>);
        for (int i = 0; i < 10; i++) q.put(new Item(i));
        delete q.get();
        CHECK_EQ_INT(Item::alive.load(), 9);
    }
    CHECK_EQ_INT(Item::alive.load(), 0);
    rt::Queue<Item *> q(4, rt::delete_item<Item>);
    q.put(new Item(1));
    q.put(new Item(2));
    q.shutdown(true); // immediate: drains into the destructor
    CHECK_EQ_INT(Item::alive.load(), 0);
    CHECK(q.is_shutdown());
}

static void workers_with_next_task_done_and_join() {
    rt::Queue<Item *> q(8, rt::delete_item<Item>);
    std::atomic<long> sum{0};
    std::vector<rt::Thread> workers;
    for (int i = 0; i < 3; i++) {
        workers.emplace_back([&] {
            while (auto item = q.next()) {
                std::unique_ptr<Item> it(*item);
                sum += it->n;
                q.task_done();
            }
        });
        workers.back().start();
    }
    const int n = 300;
    for (int i = 1; i <= n; i++) q.put(new Item(i));
    q.join();
    CHECK_EQ_INT(q.unfinished_tasks(), 0);
    CHECK_EQ_INT(sum.load(), (long)n * (n + 1) / 2);
    CHECK(q.join_for(0s));
    q.shutdown(); // every worker's next() returns std::nullopt
    for (auto &w : workers) w.join();
    CHECK_EQ_INT(Item::alive.load(), 0);
}

static void shutdown_and_misuse_throw() {
    rt::Queue<int *> q;
    int a = 1;
    q.put(&a);
    q.shutdown();
    CHECK_THROWS(q.put(&a), RT_ESHUTDOWN, "queue is shut down");
    CHECK_THROWS(q.try_put(&a), RT_ESHUTDOWN, "queue is shut down");
    CHECK(q.get() == &a); // items left still come out
    CHECK_THROWS(q.get(), RT_ESHUTDOWN, "queue is shut down");
    CHECK(!q.next().has_value());
    q.task_done();
    CHECK_THROWS(q.task_done(), RT_EOVERRELEASE, "task_done() called too many times");
    auto s = rt::Queue<int *>::simple();
    CHECK_THROWS(s.join(), RT_EINVAL, "'_queue.SimpleQueue' object has no attribute 'join'");
    rt::Queue<int *> j;
    j.put(&a);
    double t0 = rt_test_now();
    CHECK(!j.join_for(50ms));
    CHECK_ELAPSED(t0, 0.05, 2.0);
}

RT_CASES(
    RT_CASE(fifo_lifo_and_simple_orders),
    RT_CASE(priority_queue_orders_by_value),
    RT_CASE(bounded_queue_try_put_and_timeouts),
    RT_CASE(leftovers_go_to_the_item_destructor),
    RT_CASE(workers_with_next_task_done_and_join),
    RT_CASE(shutdown_and_misuse_throw)
)
