// Names at construction (rt::Name), rt::object_name, and what a dump shows of them.
#include "cpp_test.hpp"

#include <cstdio>
#include <string>

static void every_kind_takes_a_name_at_construction() {
    rt::Lock lock{rt::Name("accounts")};
    rt::RLock rlock{rt::Name("tree")};
    rt::Condition own{rt::Name("ready")};
    rt::Condition on_lock{lock, rt::Name("on-lock")};
    rt::Condition on_rlock{rlock, rt::Name("on-rlock")};
    rt::Semaphore sem{3, rt::Name("slots")};
    rt::BoundedSemaphore bounded{2, rt::Name("bounded")};
    rt::Event event{rt::Name("go")};
    rt::Barrier barrier{2, rt::Name("meet")};
    rt::Queue<int *> queue{0, rt::Name(std::string("jobs"))};
    rt::Thread thread{rt::Name("worker"), [] {}};
    CHECK_STR_EQ(rt::object_name(lock), "accounts");
    CHECK_STR_EQ(rt::object_name(rlock), "tree");
    CHECK_STR_EQ(rt::object_name(own), "ready");
    CHECK_STR_EQ(rt::object_name(on_lock), "on-lock");
    CHECK_STR_EQ(rt::object_name(on_rlock), "on-rlock");
    CHECK_STR_EQ(rt::object_name(sem), "slots");
    CHECK_EQ_INT(sem.value(), 3);
    CHECK_STR_EQ(rt::object_name(bounded), "bounded");
    CHECK_STR_EQ(rt::object_name(event), "go");
    CHECK_STR_EQ(rt::object_name(barrier), "meet");
    CHECK_EQ_INT(barrier.parties(), 2);
    CHECK_STR_EQ(rt::object_name(queue), "jobs");
    CHECK_STR_EQ(thread.name(), "worker");
    CHECK_STR_EQ(rt::object_name(thread), "worker");
    // Unnamed objects have "", and a long name is read whole.
    rt::Lock plain;
    CHECK_STR_EQ(rt::object_name(plain), "");
    std::string long_name(300, 'n');
    rt::set_object_name(plain, rt::Name(long_name));
    CHECK_STR_EQ(rt::object_name(plain), long_name);
    rt::set_object_name(plain, rt::Name(""));
    CHECK_STR_EQ(rt::object_name(plain), "");
    thread.start();
    thread.join();
}

static void a_bad_name_throws_and_leaks_nothing() {
    CHECK_THROWS(rt::Lock{rt::Name("\xff")}, RT_EINVAL, "name must be UTF-8");
    CHECK_THROWS((rt::Thread{rt::Name("\xff"), [] {}}), RT_EINVAL, "name must be UTF-8");
}

static void a_dump_shows_the_names() {
    rt::Lock lock{rt::Name("accounts")};
    CHECK_EQ_INT(rt_set_debug(RT_DEBUG_HOLDERS), RT_OK);
    lock.lock();
    std::FILE *f = std::tmpfile();
    CHECK(f != nullptr);
    CHECK_EQ_INT(rt_dump_threads(fileno(f)), RT_OK);
    std::string text;
    char buf[4096];
    std::rewind(f);
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    lock.unlock();
    char want[128];
    std::snprintf(want, sizeof want, "  holds: lock \"accounts\" (%p)\n", (void *)lock.handle());
    if (text.find(want) == std::string::npos)
        rt_test_fail(__FILE__, __LINE__, "no \"%s\" in:\n%s", want, text.c_str());
}

RT_CASES(RT_CASE(every_kind_takes_a_name_at_construction), RT_CASE(a_bad_name_throws_and_leaks_nothing),
         RT_CASE(a_dump_shows_the_names))
