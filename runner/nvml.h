#pragma once
// NVIDIA's management library (NVML), loaded with dlopen at run time so that lesionbench builds and runs
// on machines without a GPU or driver. Only what the sampler needs: device memory (total − free, as FLARE
// reads it) and the memory of each compute process on a device, by host pid.
//
// The library is "libnvidia-ml.so.1" (found by the dynamic loader), or the path in the environment
// variable LESIONBENCH_NVML_LIBRARY (the tests point it at a fake NVML to exercise this code without a GPU).
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace lb::runner {

struct GpuDeviceInfo {
  int index = 0;
  std::string name, uuid;
  double total_mib = 0;
};

struct GpuMemory {
  double total_mib = 0, free_mib = 0;
  double used_mib() const { return total_mib - free_mib; }  // FLARE's figure: total − free
};

// One compute process on a device, as NVML reports it.
struct GpuProcess {
  pid_t pid = 0;
  double used_mib = -1;  // < 0: NVML cannot say (e.g. no permission, or MIG without per-process figures)
};

class Nvml {
 public:
  // Loads and initialises NVML; on failure available() is false and error() says why. Never throws.
  static std::shared_ptr<Nvml> load();
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  bool available() const { return available_; }
  const std::string& error() const { return error_; }
  const std::string& driver_version() const { return driver_; }
  const std::string& library() const { return library_; }
  int device_count() const { return device_count_; }
  // Static facts of a device; false (with error()) when the index is out of range.
  bool device_info(int index, GpuDeviceInfo* out);

  // Sampling calls: no allocation. false when NVML failed this time.
  bool memory(int index, GpuMemory* out);
  // Fills up to `cap` processes; *count is the number filled. false when NVML failed.
  bool compute_processes(int index, GpuProcess* out, unsigned cap, unsigned* count);

 private:
  Nvml() = default;
  struct Api;
  std::unique_ptr<Api> api_;
  void* handle_ = nullptr;
  bool available_ = false;
  std::string error_, driver_, library_;
  int device_count_ = 0;
};

}  // namespace lb::runner
