// A worker pool in C++ (seed 003's work queue, with rthread.hpp): four rt::Thread workers take
// jobs from a bounded rt::Queue<Job*>, which owns what it holds (rt::delete_item<Job>); the
// results map and stdout are guarded together with std::scoped_lock over two rt::Lock.
//
//     work_queue = queue.Queue(8)
//     def worker():
//         while True:
//             job = work_queue.get()        # ShutDown ends the loop
//             ...
//             with results_lock, print_lock: ...
//             work_queue.task_done()
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rthread.hpp"

struct Job {
    int id;
    long n;
};

// The work: the sum of the squares of 1..n.
static long sum_of_squares(long n) {
    long s = 0;
    for (long i = 1; i <= n; i++) s += i * i;
    return s;
}

int main() {
    rt::Queue<Job *> jobs(8, rt::delete_item<Job>); // bounded: put blocks while 8 wait
    rt::Lock results_lock, print_lock;
    std::map<int, long> results;

    std::vector<rt::Thread> workers;
    for (int w = 1; w <= 4; w++) {
        workers.emplace_back([&] {
            std::string me = rt::current_thread().name();
            while (auto job = jobs.next()) { // std::nullopt: shut down and drained
                std::unique_ptr<Job> j(*job);
                long r = sum_of_squares(j->n);
                {
                    std::scoped_lock both(results_lock, print_lock);
                    results[j->id] = r;
                    std::printf("%s finished job %d\n", me.c_str(), j->id);
                }
                jobs.task_done();
            }
        });
        workers.back().set_name("worker-" + std::to_string(w));
        workers.back().start();
    }

    for (int id = 0; id < 20; id++) jobs.put(new Job{id, 1000L * (id + 1)});
    jobs.join(); // every job done
    {
        std::lock_guard<rt::Lock> guard(print_lock);
        std::printf("all %zu jobs done\n", results.size());
    }
    jobs.shutdown(); // the workers' next() returns std::nullopt
    for (auto &w : workers) w.join();

    long total = 0;
    for (const auto &[id, r] : results) total += r % 1000;
    std::printf("checksum: %ld\n", total);
    std::printf("workers stopped: %zu\n", workers.size());
    return 0;
}
