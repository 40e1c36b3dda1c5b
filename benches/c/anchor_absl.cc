// Abseil's absl::Mutex and absl::CondVar (Debian libabsl-dev) as a comparison anchor, with C
// entry points for bench.c. Built and linked only when the library is installed (anchor.h).

#include <cstdlib>
#include <new>

#include "absl/synchronization/mutex.h"

#include "anchor.h"

namespace {

void *mu_new() { return new absl::Mutex(); }
void mu_acquire(void *mu) { static_cast<absl::Mutex *>(mu)->Lock(); }
void mu_release(void *mu) { static_cast<absl::Mutex *>(mu)->Unlock(); }
void mu_free(void *mu) { delete static_cast<absl::Mutex *>(mu); }

double mu_pair(long n) {
    auto *mu = new absl::Mutex();
    double t = bench_now_ns();
    for (long i = 0; i < n; i++) {
        mu->Lock();
        mu->Unlock();
    }
    t = bench_now_ns() - t;
    delete mu;
    return t;
}

struct Mon {
    absl::Mutex mu;
    absl::CondVar cv[2];
};

void *mon_new(int) { return new Mon(); }
void mon_lock(void *m) { static_cast<Mon *>(m)->mu.Lock(); }
void mon_unlock(void *m) { static_cast<Mon *>(m)->mu.Unlock(); }
void mon_wait(void *p, int cv) {
    auto *m = static_cast<Mon *>(p);
    m->cv[cv].Wait(&m->mu);
}
void mon_signal(void *m, int cv) { static_cast<Mon *>(m)->cv[cv].Signal(); }
void mon_broadcast(void *m, int cv) { static_cast<Mon *>(m)->cv[cv].SignalAll(); }
void mon_free(void *m) { delete static_cast<Mon *>(m); }

bench_impl make() {
    // As a release build runs it: the deadlock detector (on by default where the library was
    // built without NDEBUG) records every acquisition in a graph.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    bench_impl b{};
    b.name = "absl";
    b.what = "absl::Mutex, absl::CondVar";
    b.lock_new = mu_new;
    b.lock_acquire = mu_acquire;
    b.lock_release = mu_release;
    b.lock_free = mu_free;
    b.lock_pair = mu_pair;
    b.mon_new = mon_new;
    b.mon_lock = mon_lock;
    b.mon_unlock = mon_unlock;
    b.mon_wait = mon_wait;
    b.mon_signal = mon_signal;
    b.mon_broadcast = mon_broadcast;
    b.mon_free = mon_free;
    return b;
}

const bench_impl ABSL = make();

}  // namespace

extern "C" const bench_impl *bench_absl(void) { return &ABSL; }
