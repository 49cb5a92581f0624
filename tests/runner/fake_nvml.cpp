// A stand-in for libnvidia-ml.so.1 with the C ABI of the few calls lesionbench makes, so the GPU sampling
// code runs in tests on machines without a GPU (LESIONBENCH_NVML_LIBRARY points at this library).
// $LB_FAKE_NVML_DEVICES devices (default 1) of 80 GiB, UUIDs GPU-0000000N-fake; their "processes" are the
// "pid MiB [device]" lines of the file $LB_FAKE_NVML_STATE (no device: 0), and a device's used memory is a
// 480 MiB driver reserve plus the sum of its own processes (as total − free).
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
constexpr unsigned long long kMiB = 1ULL << 20;
constexpr unsigned long long kTotal = 80ULL * 1024 * kMiB;
constexpr unsigned long long kReserve = 480 * kMiB;

struct Memory {
  unsigned long long total, free, used;
};
struct ProcessInfo {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

constexpr int kMaxDevices = 16;
int g_devices[kMaxDevices] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};  // handles point here

unsigned device_count() {
  const char* n = std::getenv("LB_FAKE_NVML_DEVICES");
  const int v = n ? std::atoi(n) : 1;
  return static_cast<unsigned>(v < 1 ? 1 : (v > kMaxDevices ? kMaxDevices : v));
}

// Reads up to `cap` entries of `device`; returns how many the file lists for it.
unsigned read_state(int device, ProcessInfo* out, unsigned cap) {
  const char* path = std::getenv("LB_FAKE_NVML_STATE");
  if (!path) return 0;
  FILE* f = std::fopen(path, "r");
  if (!f) return 0;
  unsigned n = 0;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    int pid = 0, dev = 0;
    double mib = 0;
    const int got = std::sscanf(line, "%d %lf %d", &pid, &mib, &dev);
    if (got < 2) continue;
    if (got < 3) dev = 0;
    if (dev != device) continue;
    if (n < cap && out) out[n] = ProcessInfo{static_cast<unsigned>(pid), static_cast<unsigned long long>(mib * kMiB), 0, 0};
    ++n;
  }
  std::fclose(f);
  return n;
}
}  // namespace

extern "C" {
int nvmlInit_v2() { return 0; }
int nvmlShutdown() { return 0; }
const char* nvmlErrorString(int) { return "fake NVML error"; }
int nvmlDeviceGetCount_v2(unsigned int* count) {
  *count = device_count();
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (index >= device_count()) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &g_devices[index];
  return 0;
}
int nvmlDeviceGetName(void*, char* name, unsigned int length) {
  std::snprintf(name, length, "Fake GPU 80GB");
  return 0;
}
int nvmlDeviceGetUUID(void* device, char* uuid, unsigned int length) {
  std::snprintf(uuid, length, "GPU-%08d-fake", *static_cast<int*>(device));
  return 0;
}
int nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  std::snprintf(version, length, "999.99");
  return 0;
}
int nvmlDeviceGetMemoryInfo(void* device, Memory* m) {
  ProcessInfo buf[256];
  const unsigned n = read_state(*static_cast<int*>(device), buf, 256);
  unsigned long long used = kReserve;
  for (unsigned i = 0; i < n && i < 256; ++i) used += buf[i].usedGpuMemory;
  m->total = kTotal;
  m->used = used;
  m->free = kTotal - used;
  return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(void* device, unsigned int* count, ProcessInfo* infos) {
  const int d = *static_cast<int*>(device);
  const unsigned n = read_state(d, nullptr, 0);
  if (n > *count) {
    *count = n;
    return 7;  // NVML_ERROR_INSUFFICIENT_SIZE
  }
  *count = read_state(d, infos, *count);
  return 0;
}
}
