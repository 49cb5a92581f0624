// A test contestant, built statically so that the same binary runs on the host and in a FROM-scratch
// container. It follows the FLARE contract (read <case>_0000.nii.gz from the inputs folder, write
// <case>.nii.gz into the outputs folder) and misbehaves on request, to test how the runner records it.
//
//   lb_test_contestant MODE INPUTS OUTPUTS [ARG]
//   MODE: predict      a threshold mask (HU > 0) on the input's grid, for every case
//         by-name      predict, except for cases whose name asks for a fault (see fault_of)
//         <fault>      that fault for every case
//   Faults: crash (SIGSEGV), exit3, hang, garbage, wrong-name, several, truncated, wrong-shape, symlink,
//           nothing, alloc (ARG MiB touched and held 1.5 s), busy (ARG s of CPU), orphan (leaves a
//           daemonised child), spawn-tree (children and grandchildren that hang), slow (ARG s after writing),
//           print (ARG MiB to stdout), fds (lists its open descriptors to stdout), fake-gpu (ARG MiB in the
//           fake NVML's state file on the device CUDA_VISIBLE_DEVICES names, see fake_nvml.cpp), write-inputs (exit 9 if it can write into its inputs),
//           net-check (exit 8 if it has a network interface other than loopback).
// The pids of processes it starts are appended to $LB_TEST_PIDS when that is set.
// NIfTI is read and written here with libdeflate alone (no lesionbench code), for the static build.
#include <dirent.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "contestant: %s\n", why.c_str());
  std::exit(70);
}

std::vector<uint8_t> read_all(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) die("cannot open " + path);
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

void write_all(const std::string& path, const std::vector<uint8_t>& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) die("cannot write " + path);
  std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz) {
  if (gz.size() < 18) die("input too short");
  const uint32_t isize = gz[gz.size() - 4] | (gz[gz.size() - 3] << 8) | (gz[gz.size() - 2] << 16) |
                         (static_cast<uint32_t>(gz[gz.size() - 1]) << 24);
  std::vector<uint8_t> out(isize);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  size_t got = 0;
  if (libdeflate_gzip_decompress(d, gz.data(), gz.size(), out.data(), out.size(), &got) != LIBDEFLATE_SUCCESS)
    die("cannot decompress the input");
  libdeflate_free_decompressor(d);
  out.resize(got);
  return out;
}

std::vector<uint8_t> gzip(const std::vector<uint8_t>& raw) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(1);
  std::vector<uint8_t> out(libdeflate_gzip_compress_bound(c, raw.size()));
  out.resize(libdeflate_gzip_compress(c, raw.data(), raw.size(), out.data(), out.size()));
  libdeflate_free_compressor(c);
  return out;
}

template <class T>
T get(const std::vector<uint8_t>& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}
template <class T>
void put(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

// A uint8 mask (value > 0 -> 1) with the input's header; dim_change alters the first dimension.
std::vector<uint8_t> predict_mask(const std::string& input, int dim_change = 0) {
  const std::vector<uint8_t> nii = gunzip(read_all(input));
  if (nii.size() < 352 || get<int32_t>(nii, 0) != 348) die("not a NIfTI-1 file: " + input);
  int64_t n = 1;
  int16_t dim[8];
  for (int i = 0; i < 8; ++i) dim[i] = get<int16_t>(nii, 40 + 2 * i);
  for (int i = 1; i <= dim[0]; ++i) n *= dim[i];
  const int16_t datatype = get<int16_t>(nii, 70);
  const auto vox_offset = static_cast<size_t>(get<float>(nii, 108));
  std::vector<uint8_t> out(nii.begin(), nii.begin() + 352);
  std::memset(out.data() + 348, 0, 4);  // no extensions
  put<int16_t>(out, 70, 2);             // uint8
  put<int16_t>(out, 72, 8);
  put<float>(out, 108, 352.0f);
  put<float>(out, 112, 0.0f);           // no scaling
  put<float>(out, 116, 0.0f);
  const int64_t n_out = dim_change ? n / dim[1] * (dim[1] + dim_change) : n;
  if (dim_change) put<int16_t>(out, 42, static_cast<int16_t>(dim[1] + dim_change));
  out.resize(352 + static_cast<size_t>(n_out), 0);
  for (int64_t i = 0; i < n && i < n_out; ++i) {
    double v = 0;
    const size_t at = vox_offset + static_cast<size_t>(i) * (datatype == 2 ? 1 : datatype == 4 ? 2 : 4);
    if (datatype == 2) v = nii[at];
    else if (datatype == 4) v = get<int16_t>(nii, at);
    else if (datatype == 16) v = get<float>(nii, at);
    else die("unsupported datatype");
    out[352 + static_cast<size_t>(i)] = v > 0 ? 1 : 0;
  }
  return gzip(out);
}

void note_pid(pid_t pid) {
  const char* file = std::getenv("LB_TEST_PIDS");
  if (!file) return;
  FILE* f = std::fopen(file, "a");
  if (!f) return;
  std::fprintf(f, "%d\n", static_cast<int>(pid));
  std::fclose(f);
}

void sleep_s(double s) {
  timespec ts{static_cast<time_t>(s), static_cast<long>((s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string fault_of(const std::string& mode, const std::string& case_name) {
  if (mode != "by-name") return mode;
  for (const char* f : {"crash", "exit3", "hang", "garbage", "wrong-name", "several", "truncated", "wrong-shape",
                        "symlink", "nothing", "alloc", "busy", "orphan", "slow", "write-inputs", "net-check"})
    if (case_name.find(f) != std::string::npos) return f;
  return "predict";
}

void run_case(const std::string& fault, const std::string& in, const std::string& out, const std::string& name,
              double arg) {
  const std::string input = in + "/" + name + "_0000.nii.gz";
  const std::string target = out + "/" + name + ".nii.gz";
  if (fault == "predict") {
    write_all(target, predict_mask(input));
  } else if (fault == "crash") {
    std::fprintf(stderr, "about to crash on %s\n", name.c_str());
    std::fflush(stderr);
    raise(SIGSEGV);
  } else if (fault == "exit3") {
    std::fprintf(stderr, "giving up on %s\n", name.c_str());
    std::exit(3);
  } else if (fault == "hang") {
    for (;;) pause();
  } else if (fault == "garbage") {
    write_all(target, std::vector<uint8_t>(4096, 0x42));
  } else if (fault == "wrong-name") {
    write_all(out + "/" + name + "_pred.nii.gz", predict_mask(input));
  } else if (fault == "several") {
    write_all(target, predict_mask(input));
    write_all(out + "/" + name + "_probabilities.nii.gz", predict_mask(input));
  } else if (fault == "truncated") {
    std::vector<uint8_t> gz = predict_mask(input);
    gz.resize(gz.size() / 2);
    write_all(target, gz);
  } else if (fault == "wrong-shape") {
    write_all(target, predict_mask(input, -1));
  } else if (fault == "symlink") {
    if (symlink(input.c_str(), target.c_str()) != 0) die("symlink failed");
  } else if (fault == "nothing") {
  } else if (fault == "alloc") {
    const size_t bytes = static_cast<size_t>(arg > 0 ? arg : 64) << 20;
    auto* p = static_cast<volatile uint8_t*>(std::malloc(bytes));
    for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
    sleep_s(1.5);
    write_all(target, predict_mask(input));
    std::free(const_cast<uint8_t*>(p));
  } else if (fault == "busy") {
    const double until = cpu_seconds() + (arg > 0 ? arg : 1.0);
    volatile double x = 0;
    while (cpu_seconds() < until)
      for (int i = 0; i < 10000; ++i) x = x + 1e-9;
    std::printf("cpu_s %.6f\n", cpu_seconds());
    write_all(target, predict_mask(input));
  } else if (fault == "orphan") {
    // A daemon: new session, double fork. The parent waits until it has noted its pid, then exits.
    int ready[2];
    if (pipe(ready) != 0) die("pipe failed");
    const pid_t child = fork();
    if (child == 0) {
      setsid();
      if (fork() == 0) {
        note_pid(getpid());
        (void)!write(ready[1], "x", 1);
        for (;;) pause();
      }
      _exit(0);
    }
    waitpid(child, nullptr, 0);
    char c;
    (void)!read(ready[0], &c, 1);
    write_all(target, predict_mask(input));
  } else if (fault == "slow") {
    write_all(target, predict_mask(input));
    sleep_s(arg > 0 ? arg : 1.0);
  } else if (fault == "write-inputs") {
    FILE* f = std::fopen((in + "/intruder.txt").c_str(), "w");
    if (f) {
      std::fclose(f);
      std::fprintf(stderr, "could write into the inputs folder\n");
      std::exit(9);
    }
    write_all(target, predict_mask(input));
  } else if (fault == "net-check") {
    FILE* f = std::fopen("/proc/net/dev", "r");
    char line[512];
    int interfaces = 0;
    while (f && std::fgets(line, sizeof line, f))
      if (std::strchr(line, ':') && !std::strstr(line, "lo:")) ++interfaces;
    if (f) std::fclose(f);
    if (interfaces > 0) {
      std::fprintf(stderr, "%d network interface(s) besides loopback\n", interfaces);
      std::exit(8);
    }
    write_all(target, predict_mask(input));
  } else {
    die("unknown mode " + fault);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODE INPUTS OUTPUTS [ARG]\n", argv[0]);
    return 64;
  }
  const std::string mode = argv[1], in = argv[2], out = argv[3];
  const double arg = argc > 4 ? std::atof(argv[4]) : 0;
  if (mode == "print") {
    std::string line(1023, 'x');
    line += '\n';
    const size_t total = static_cast<size_t>(arg > 0 ? arg : 1) << 20;
    for (size_t done = 0; done < total; done += line.size()) std::fwrite(line.data(), 1, line.size(), stdout);
    std::fprintf(stderr, "printed %zu bytes\n", total);
    return 0;
  }
  if (mode == "fds") {
    DIR* d = opendir("/proc/self/fd");
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') std::printf("%s\n", e->d_name);
    closedir(d);
    return 0;
  }
  if (mode == "spawn-tree") {
    for (int i = 0; i < 2; ++i) {
      const pid_t c = fork();
      if (c == 0) {
        if (fork() == 0) {
          note_pid(getpid());
          for (;;) pause();
        }
        note_pid(getpid());
        for (;;) pause();
      }
    }
    for (;;) pause();
  }
  if (mode == "fake-gpu") {
    // The fake NVML (fake_nvml.cpp) reads "pid MiB" lines from this file.
    const char* state = std::getenv("LB_FAKE_NVML_STATE");
    if (!state) die("LB_FAKE_NVML_STATE not set");
    // Its GPU is the one CUDA would use: CUDA_VISIBLE_DEVICES, an index or the fake's UUID GPU-0000000N-fake.
    const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES");
    int device = 0;
    if (cvd) device = std::strncmp(cvd, "GPU-", 4) == 0 ? std::atoi(cvd + 4) : std::atoi(cvd);
    FILE* f = std::fopen(state, "a");
    std::fprintf(f, "%d %.0f %d\n", static_cast<int>(getpid()), arg, device);
    std::fclose(f);
    sleep_s(1.0);
  }
  std::vector<std::string> names;
  DIR* d = opendir(in.c_str());
  if (!d) die("cannot open the inputs folder " + in);
  while (dirent* e = readdir(d)) {
    const std::string f = e->d_name;
    const std::string suffix = "_0000.nii.gz";
    if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(f.substr(0, f.size() - suffix.size()));
  }
  closedir(d);
  if (names.empty()) die("no input images in " + in);
  for (const auto& n : names) run_case(fault_of(mode == "fake-gpu" ? "predict" : mode, n), in, out, n, arg);
  std::printf("done: %zu case(s)\n", names.size());
  return 0;
}
