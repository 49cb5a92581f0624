// Slots of one node and the pool that hands them out; see slots.h.
#include "runner/slots.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "runner/nvml.h"

namespace lb::runner {

std::vector<int> allowed_cpus() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) out.push_back(c);
  if (out.empty()) out.push_back(0);
  return out;
}

std::string cpu_list_text(const std::vector<int>& cpus) {
  std::vector<int> v(cpus);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out.push_back(',');
    out.append(std::to_string(v[i]));
    if (j > i) {
      out.push_back('-');
      out.append(std::to_string(v[j]));
    }
    i = j + 1;
  }
  return out;
}

SlotPlan plan_slots(const std::vector<std::optional<int>>& gpus, int cpus_per_slot, const std::vector<int>& allowed) {
  SlotPlan plan;
  const int n = static_cast<int>(gpus.size());
  const int have = static_cast<int>(allowed.size());
  if (n == 0 || have == 0) return plan;
  const int per = cpus_per_slot > 0 ? cpus_per_slot : std::max(1, have / n);
  if (per > have) {
    plan.warnings.push_back("--cpus-per-slot " + std::to_string(per) + " is more than the " + std::to_string(have) +
                            " CPU(s) lesionbench may use: every slot gets all of them");
  } else if (per * n > have) {
    plan.warnings.push_back(std::to_string(n) + " slots × " + std::to_string(per) + " CPU(s) need " +
                            std::to_string(per * n) + " CPUs, but lesionbench may use " + std::to_string(have) +
                            " (" + cpu_list_text(allowed) + "): slots share cores, and concurrent cases slow each other down");
  }
  for (int i = 0; i < n; ++i) {
    Slot s;
    s.index = i;
    s.gpu_index = gpus[static_cast<size_t>(i)];
    const int take = std::min(per, have);
    for (int k = 0; k < take; ++k) s.cpus.push_back(allowed[static_cast<size_t>((i * per + k) % have)]);
    std::sort(s.cpus.begin(), s.cpus.end());
    s.cpus.erase(std::unique(s.cpus.begin(), s.cpus.end()), s.cpus.end());
    plan.slots.push_back(std::move(s));
  }
  return plan;
}

std::vector<int> parse_gpu_list(const std::string& text, Nvml* nvml, std::string* error) {
  std::vector<int> out;
  const bool have_nvml = nvml && nvml->available();
  if (text == "all") {
    if (!have_nvml) {
      *error = "--gpus all needs NVML to count the GPUs, and it is not available (" +
               (nvml ? nvml->error() : std::string("not loaded")) + "); list the indices, e.g. --gpus 0,1";
      return {};
    }
    for (int i = 0; i < nvml->device_count(); ++i) out.push_back(i);
    if (out.empty()) *error = "--gpus all: NVML sees no GPU";
    return out;
  }
  std::set<int> seen;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    int index = -1;
    if (item.rfind("GPU-", 0) == 0 || item.rfind("MIG-", 0) == 0) {
      if (!have_nvml) {
        *error = "--gpus " + item + ": a UUID needs NVML, which is not available";
        return {};
      }
      for (int i = 0; i < nvml->device_count() && index < 0; ++i) {
        GpuDeviceInfo info;
        if (nvml->device_info(i, &info) && info.uuid == item) index = i;
      }
      if (index < 0) {
        *error = "--gpus: no GPU with UUID " + item + " (nvidia-smi -L lists them)";
        return {};
      }
    } else {
      size_t used = 0;
      try {
        index = std::stoi(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (item.empty() || used != item.size() || index < 0) {
        *error = "--gpus must be all or a list of GPU indices or UUIDs such as 0,1,2,3, not '" + text + "'";
        return {};
      }
      if (have_nvml && index >= nvml->device_count()) {
        *error = "--gpus: NVML sees " + std::to_string(nvml->device_count()) + " GPU(s), so there is no GPU " +
                 std::to_string(index);
        return {};
      }
    }
    if (!seen.insert(index).second) {
      *error = "--gpus names GPU " + std::to_string(index) + " twice: one slot per GPU";
      return {};
    }
    out.push_back(index);
  }
  return out;
}

SlotPool::SlotPool(std::vector<Slot> slots)
    : slots_(std::move(slots)), held_(slots_.size(), false), max_seen_(slots_.size(), 0) {}

std::optional<size_t> SlotPool::acquire(const std::function<bool()>& stop) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t ticket = next_ticket_++;
  queue_.push_back(ticket);
  for (;;) {
    if (stop && stop()) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
      cv_.notify_all();
      return std::nullopt;
    }
    if (queue_.front() == ticket) {
      const auto it = std::find(held_.begin(), held_.end(), false);
      if (it != held_.end()) {
        const size_t i = static_cast<size_t>(it - held_.begin());
        held_[i] = true;
        ++busy_;
        queue_.pop_front();
        max_seen_[i] = busy_;
        for (size_t k = 0; k < held_.size(); ++k)
          if (held_[k]) max_seen_[k] = std::max(max_seen_[k], busy_);
        cv_.notify_all();  // the next in line may find another free slot
        return i;
      }
    }
    // The stop flag is set from a signal handler, which cannot notify: look again every 50 ms.
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

int SlotPool::release(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  if (i >= held_.size() || !held_[i]) return 0;
  held_[i] = false;
  --busy_;
  cv_.notify_all();
  return max_seen_[i];
}

int SlotPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_;
}

}  // namespace lb::runner
