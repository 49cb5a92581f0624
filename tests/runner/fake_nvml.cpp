// A stand-in for libnvidia-ml.so.1 with the C ABI of the few calls lesionbench makes, so the GPU sampling
// code runs in tests on machines without a GPU (LESIONBENCH_NVML_LIBRARY points at this library).
// One device of 80 GiB; its "processes" are the "pid MiB" lines of the file $LB_FAKE_NVML_STATE, and the
// device's used memory is a 480 MiB driver reserve plus their sum (as total − free).
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

int g_device = 0;  // the one device's handle points here

// Reads up to `cap` entries; returns how many the file lists.
unsigned read_state(ProcessInfo* out, unsigned cap) {
  const char* path = std::getenv("LB_FAKE_NVML_STATE");
  if (!path) return 0;
  FILE* f = std::fopen(path, "r");
  if (!f) return 0;
  unsigned n = 0;
  int pid = 0;
  double mib = 0;
  while (std::fscanf(f, "%d %lf", &pid, &mib) == 2) {
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
  *count = 1;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (index != 0) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &g_device;
  return 0;
}
int nvmlDeviceGetName(void*, char* name, unsigned int length) {
  std::snprintf(name, length, "Fake GPU 80GB");
  return 0;
}
int nvmlDeviceGetUUID(void*, char* uuid, unsigned int length) {
  std::snprintf(uuid, length, "GPU-00000000-fake");
  return 0;
}
int nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  std::snprintf(version, length, "999.99");
  return 0;
}
int nvmlDeviceGetMemoryInfo(void*, Memory* m) {
  ProcessInfo buf[256];
  const unsigned n = read_state(buf, 256);
  unsigned long long used = kReserve;
  for (unsigned i = 0; i < n && i < 256; ++i) used += buf[i].usedGpuMemory;
  m->total = kTotal;
  m->used = used;
  m->free = kTotal - used;
  return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(void*, unsigned int* count, ProcessInfo* infos) {
  const unsigned n = read_state(nullptr, 0);
  if (n > *count) {
    *count = n;
    return 7;  // NVML_ERROR_INSUFFICIENT_SIZE
  }
  *count = read_state(infos, *count);
  return 0;
}
}
