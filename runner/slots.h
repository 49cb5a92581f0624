#pragma once
// Slots: the places where launches run at the same time on one node (`run --gpus 0,1,2,3|all`,
// `--parallel N`). A slot is one GPU (or none, for CPU contestants) plus a set of CPUs; a launch holds
// exactly one slot from start to record, so concurrent cases neither share a GPU nor each other's cores.
// The pool hands free slots to whoever waits (the workers of every team's scheduler) in the order they
// asked, and counts how many slots are held at once, for the records (`placement.concurrent_max`).
//
// Without a pool the scheduler runs as it always did: one launch at a time, on --gpu's GPU.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lb::runner {

class Nvml;

struct Slot {
  int index = 0;
  std::optional<int> gpu_index;  // NVML index of its GPU; none: a CPU slot
  std::string gpu_uuid;          // NVML's UUID of that GPU ("GPU-…"); empty when NVML could not say
  std::vector<int> cpus;         // the CPUs its launches may use; empty: all of ours
};

// The CPUs this process may run on (sched_getaffinity), ascending; at least one.
std::vector<int> allowed_cpus();

// "0-3,6" for {0,1,2,3,6}; "" for none.
std::string cpu_list_text(const std::vector<int>& cpus);

struct SlotPlan {
  std::vector<Slot> slots;
  std::vector<std::string> warnings;  // e.g. slots sharing cores
};

// One slot per entry of `gpus` (an entry without a value: a CPU slot). Each gets `cpus_per_slot` CPUs of
// `allowed` (0: an even split, at least one), consecutive, so slots do not overlap while there are enough;
// when slots × CPUs exceed `allowed`, they wrap around and share cores, with a warning.
SlotPlan plan_slots(const std::vector<std::optional<int>>& gpus, int cpus_per_slot, const std::vector<int>& allowed);

// `--gpus` text: "all" (every GPU NVML sees) or a comma-separated list of NVML indices or UUIDs
// ("0,1,3", "GPU-8e6f…"). Without NVML, indices are taken as given (their UUIDs stay unknown) and "all"
// and UUIDs are errors. Returns the NVML indices, or sets *error (a message naming the problem).
std::vector<int> parse_gpu_list(const std::string& text, Nvml* nvml, std::string* error);

class SlotPool {
 public:
  explicit SlotPool(std::vector<Slot> slots);
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;

  size_t size() const { return slots_.size(); }
  const Slot& slot(size_t i) const { return slots_[i]; }

  // Waits for a free slot (first come, first served) and holds it. Returns nullopt, holding nothing,
  // once `stop` (may be empty; polled every 50 ms) returns true.
  std::optional<size_t> acquire(const std::function<bool()>& stop = {});
  // Frees a slot; returns the most slots that were held at once while this one was (itself included).
  int release(size_t i);
  // Slots held right now.
  int busy() const;

 private:
  std::vector<Slot> slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> held_;
  std::vector<int> max_seen_;
  std::deque<uint64_t> queue_;  // tickets of the waiters, in arrival order
  uint64_t next_ticket_ = 0;
  int busy_ = 0;
};

}  // namespace lb::runner
