// NVML through dlopen; see nvml.h. The few types below mirror NVML's C ABI (nvml.h is not needed to build).
#include "runner/nvml.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace lb::runner {

namespace {

using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr nvmlReturn_t kSuccess = 0;
constexpr unsigned long long kValueNotAvailable = ~0ULL;

struct nvmlMemory_t {
  unsigned long long total, free, used;
};
// nvmlProcessInfo_v1_t (the unversioned call) has only pid and usedGpuMemory.
struct nvmlProcessInfoV1 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
// nvmlProcessInfo_v2_t, used by the _v2 and _v3 calls.
struct nvmlProcessInfoV2 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

constexpr double kMiB = 1024.0 * 1024.0;
constexpr unsigned kMaxProcesses = 512;

}  // namespace

struct Nvml::Api {
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*device_count)(unsigned int*) = nullptr;
  nvmlReturn_t (*handle_by_index)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*memory_info)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*driver_version)(char*, unsigned int) = nullptr;
  // Exactly one of these is used: the newest the library has.
  nvmlReturn_t (*procs_v2)(nvmlDevice_t, unsigned int*, nvmlProcessInfoV2*) = nullptr;
  nvmlReturn_t (*procs_v1)(nvmlDevice_t, unsigned int*, nvmlProcessInfoV1*) = nullptr;
  std::vector<nvmlDevice_t> devices;
  std::vector<nvmlProcessInfoV2> buf2 = std::vector<nvmlProcessInfoV2>(kMaxProcesses);
  std::vector<nvmlProcessInfoV1> buf1 = std::vector<nvmlProcessInfoV1>(kMaxProcesses);
  // The buffers (and error_) are shared: with slots, several samplers call at once (runner/slots.h).
  std::mutex mu;

  std::string describe(nvmlReturn_t rc) const {
    const char* s = error_string ? error_string(rc) : nullptr;
    return std::string(s ? s : "NVML error") + " (" + std::to_string(rc) + ")";
  }
};

std::shared_ptr<Nvml> Nvml::load() {
  std::shared_ptr<Nvml> n(new Nvml());
  const char* override_path = std::getenv("LESIONBENCH_NVML_LIBRARY");
  n->library_ = override_path && *override_path ? override_path : "libnvidia-ml.so.1";
  n->handle_ = ::dlopen(n->library_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!n->handle_) {
    const char* why = ::dlerror();
    n->error_ = "no NVIDIA driver (" + n->library_ + " could not be loaded: " + (why ? why : "unknown") + ")";
    return n;
  }
  auto api = std::make_unique<Api>();
  auto sym = [&](const char* name) { return ::dlsym(n->handle_, name); };
  auto pick = [&](std::initializer_list<const char*> names) -> void* {
    for (const char* s : names)
      if (void* p = sym(s)) return p;
    return nullptr;
  };
  api->init = reinterpret_cast<decltype(api->init)>(pick({"nvmlInit_v2", "nvmlInit"}));
  api->shutdown = reinterpret_cast<decltype(api->shutdown)>(sym("nvmlShutdown"));
  api->error_string = reinterpret_cast<decltype(api->error_string)>(sym("nvmlErrorString"));
  api->device_count = reinterpret_cast<decltype(api->device_count)>(pick({"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}));
  api->handle_by_index = reinterpret_cast<decltype(api->handle_by_index)>(
      pick({"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"}));
  api->name = reinterpret_cast<decltype(api->name)>(sym("nvmlDeviceGetName"));
  api->uuid = reinterpret_cast<decltype(api->uuid)>(sym("nvmlDeviceGetUUID"));
  api->memory_info = reinterpret_cast<decltype(api->memory_info)>(sym("nvmlDeviceGetMemoryInfo"));
  api->driver_version = reinterpret_cast<decltype(api->driver_version)>(sym("nvmlSystemGetDriverVersion"));
  api->procs_v2 = reinterpret_cast<decltype(api->procs_v2)>(
      pick({"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"}));
  if (!api->procs_v2)
    api->procs_v1 = reinterpret_cast<decltype(api->procs_v1)>(sym("nvmlDeviceGetComputeRunningProcesses"));
  if (!api->init || !api->device_count || !api->handle_by_index || !api->memory_info) {
    n->error_ = n->library_ + " lacks the NVML functions lesionbench needs";
    return n;
  }
  const nvmlReturn_t rc = api->init();
  if (rc != kSuccess) {
    n->error_ = "NVML could not be initialised: " + api->describe(rc);
    return n;
  }
  unsigned int count = 0;
  if (const nvmlReturn_t c = api->device_count(&count); c != kSuccess) {
    n->error_ = "NVML could not count devices: " + api->describe(c);
    api->shutdown ? (void)api->shutdown() : (void)0;
    return n;
  }
  api->devices.assign(count, nullptr);
  for (unsigned int i = 0; i < count; ++i) api->handle_by_index(i, &api->devices[i]);
  char version[96] = {};
  if (api->driver_version && api->driver_version(version, sizeof version) == kSuccess) n->driver_ = version;
  n->device_count_ = static_cast<int>(count);
  n->available_ = count > 0;
  if (count == 0) n->error_ = "NVML found no GPU";
  n->api_ = std::move(api);
  return n;
}

Nvml::~Nvml() {
  if (api_ && api_->shutdown) api_->shutdown();
  if (handle_) ::dlclose(handle_);
}

bool Nvml::device_info(int index, GpuDeviceInfo* out) {
  if (!available_ || index < 0 || index >= device_count_ || !api_->devices[static_cast<size_t>(index)]) {
    std::unique_lock<std::mutex> lock;
    if (api_) lock = std::unique_lock<std::mutex>(api_->mu);
    error_ = "no GPU with NVML index " + std::to_string(index) + " (NVML found " + std::to_string(device_count_) + ")";
    return false;
  }
  nvmlDevice_t d = api_->devices[static_cast<size_t>(index)];
  out->index = index;
  char text[256] = {};
  if (api_->name && api_->name(d, text, sizeof text) == kSuccess) out->name = text;
  text[0] = '\0';
  if (api_->uuid && api_->uuid(d, text, sizeof text) == kSuccess) out->uuid = text;
  nvmlMemory_t m{};
  if (api_->memory_info(d, &m) == kSuccess) out->total_mib = static_cast<double>(m.total) / kMiB;
  return true;
}

bool Nvml::memory(int index, GpuMemory* out) {
  if (!available_ || index < 0 || index >= device_count_) return false;
  nvmlMemory_t m{};
  if (api_->memory_info(api_->devices[static_cast<size_t>(index)], &m) != kSuccess) return false;
  out->total_mib = static_cast<double>(m.total) / kMiB;
  out->free_mib = static_cast<double>(m.free) / kMiB;
  return true;
}

bool Nvml::compute_processes(int index, GpuProcess* out, unsigned cap, unsigned* count) {
  *count = 0;
  if (!available_ || index < 0 || index >= device_count_) return false;
  nvmlDevice_t d = api_->devices[static_cast<size_t>(index)];
  std::lock_guard<std::mutex> lock(api_->mu);
  unsigned int n = kMaxProcesses;
  auto convert = [](unsigned long long bytes) {
    return bytes == kValueNotAvailable ? -1.0 : static_cast<double>(bytes) / kMiB;
  };
  if (api_->procs_v2) {
    const nvmlReturn_t rc = api_->procs_v2(d, &n, api_->buf2.data());
    if (rc != kSuccess) return false;  // also when more than kMaxProcesses: NVML then fills nothing
    n = std::min({n, kMaxProcesses, cap});
    for (unsigned i = 0; i < n; ++i)
      out[i] = GpuProcess{static_cast<pid_t>(api_->buf2[i].pid), convert(api_->buf2[i].usedGpuMemory)};
  } else if (api_->procs_v1) {
    const nvmlReturn_t rc = api_->procs_v1(d, &n, api_->buf1.data());
    if (rc != kSuccess) return false;  // also when more than kMaxProcesses: NVML then fills nothing
    n = std::min({n, kMaxProcesses, cap});
    for (unsigned i = 0; i < n; ++i)
      out[i] = GpuProcess{static_cast<pid_t>(api_->buf1[i].pid), convert(api_->buf1[i].usedGpuMemory)};
  } else {
    return false;
  }
  *count = n;
  return true;
}

}  // namespace lb::runner
