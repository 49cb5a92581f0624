// The bubblewrap sandbox of command contestants; see sandbox.h.
#include "runner/sandbox.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>

#include "runner/launcher.h"
#include "runner/spawn.h"

namespace fs = std::filesystem;

namespace lb::runner {

namespace {

// Files of /etc that ordinary programs read (the loader, user and time-zone names, certificates, fonts,
// GPU vendor files). The rest of /etc (shadow, ssh keys, the machine's configuration) stays hidden.
const char* const kEtcFiles[] = {
    "passwd", "group", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime",
    "timezone", "hosts", "host.conf", "gai.conf", "protocols", "services", "ssl", "ca-certificates",
    "mime.types", "os-release", "debian_version", "lsb-release", "fonts", "OpenCL", "vulkan", "glvnd", "nvidia"};

// Folders that are visible anyway (read-only) or deliberately replaced: paths in them are not bound again.
bool in_system_area(const fs::path& p) {
  for (const char* top : {"/usr", "/proc", "/dev", "/sys"}) {
    const fs::path t(top);
    auto [a, b] = std::mismatch(t.begin(), t.end(), p.begin(), p.end());
    if (a == t.end()) return true;
  }
  return false;
}

fs::path canonical_or_normal(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : c;
}

}  // namespace

bool paths_overlap(const fs::path& a, const fs::path& b) {
  const fs::path ca = canonical_or_normal(a), cb = canonical_or_normal(b);
  auto contains = [](const fs::path& outer, const fs::path& inner) {
    auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
    // A trailing empty component ("dir/") counts as the end.
    return o == outer.end() || (o->empty() && std::next(o) == outer.end());
  };
  return contains(ca, cb) || contains(cb, ca);
}

namespace {

// Splits a shell command into words the way sh would for plain cases (quotes, backslashes, operators as
// separators); good enough to find the paths an organiser typed, which is all it is used for.
std::vector<std::string> shell_words(const std::string& s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  auto flush = [&] {
    if (in_word) words.push_back(cur);
    cur.clear();
    in_word = false;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\'') {
      in_word = true;
      const size_t end = s.find('\'', i + 1);
      cur += s.substr(i + 1, (end == std::string::npos ? s.size() : end) - i - 1);
      i = end == std::string::npos ? s.size() : end;
    } else if (c == '"') {
      in_word = true;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && std::string("\"\\$`").find(s[i + 1]) != std::string::npos) ++i;
        cur += s[i];
      }
    } else if (c == '\\' && i + 1 < s.size()) {
      in_word = true;
      cur += s[++i];
    } else if (std::string(" \t\n;|&()<>`").find(c) != std::string::npos) {
      flush();
    } else {
      in_word = true;
      cur += c;
    }
  }
  flush();
  return words;
}

// The program of a command: its first word after variable assignments and `exec`.
std::string program_of(const std::string& command) {
  for (const auto& w : shell_words(command)) {
    const auto eq = w.find('=');
    if (eq != std::string::npos && eq > 0 && w.find('/') > eq) continue;  // VAR=value
    if (w == "exec") continue;
    return w;
  }
  return {};
}

std::string search_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path || name.empty() || name.find('/') != std::string::npos) return {};
  const std::string all = path;
  size_t start = 0;
  while (start <= all.size()) {
    const size_t end = std::min(all.find(':', start), all.size());
    const std::string dir = all.substr(start, end - start);
    if (!dir.empty() && dir[0] == '/') {
      const fs::path p = fs::path(dir) / name;
      if (::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p)) return p.string();
    }
    start = end + 1;
  }
  return {};
}

void base_flags(std::vector<std::string>& a) {
  // --new-session: no controlling terminal to push keystrokes into; --cap-drop ALL: uid 0 inside (when
  // lesionbench runs as root) has no capabilities, so it cannot mount, mknod or change the namespaces.
  for (const char* f : {"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                        "--new-session", "--cap-drop", "ALL"})
    a.emplace_back(f);
}

void system_mounts(std::vector<std::string>& a, std::optional<int> gpu) {
  a.insert(a.end(), {"--ro-bind", "/usr", "/usr"});
  // Merged-/usr systems have /bin -> usr/bin: keep the links as links.
  for (const char* d : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code ec;
    const auto st = fs::symlink_status(d, ec);
    if (ec || !fs::exists(st)) continue;
    if (fs::is_symlink(st)) a.insert(a.end(), {"--symlink", fs::read_symlink(d, ec).string(), d});
    else a.insert(a.end(), {"--ro-bind", d, d});
  }
  for (const char* f : kEtcFiles) {
    const std::string p = std::string("/etc/") + f;
    a.insert(a.end(), {"--ro-bind-try", p, p});
  }
  // Read-only hardware description: CPU counts, PCI topology the GPU libraries look up.
  a.insert(a.end(), {"--ro-bind-try", "/sys", "/sys"});
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"});
  if (gpu) {
    for (const std::string n : {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"})
      a.insert(a.end(), {"--dev-bind-try", "/dev/" + n, "/dev/" + n});
    const std::string node = "/dev/nvidia" + std::to_string(*gpu);
    a.insert(a.end(), {"--dev-bind-try", node, node});
  }
}

}  // namespace

std::string sandbox_name(SandboxKind kind) { return kind == SandboxKind::bwrap ? "bwrap" : "none"; }

std::optional<SandboxKind> parse_sandbox(const std::string& text) {
  if (text == "bwrap") return SandboxKind::bwrap;
  if (text == "none") return SandboxKind::none;
  return std::nullopt;
}

std::vector<std::string> paths_named_in(const std::string& command) {
  std::vector<std::string> out;
  for (const auto& w : shell_words(command)) {
    std::string p = w;
    if (p.empty()) continue;
    if (p[0] != '/') {
      // --model=/x, VAR=/x
      const auto eq = p.find("=/");
      if (eq == std::string::npos) continue;
      p = p.substr(eq + 1);
    }
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

std::vector<SandboxMount> sandbox_mounts(const SandboxLaunch& l) {
  std::map<std::string, bool> mounts;  // destination -> writable (writable wins when named twice)
  auto add = [&](const fs::path& p, bool writable) {
    const std::string key = fs::absolute(p).lexically_normal().string();
    auto [it, fresh] = mounts.emplace(key, writable);
    if (!fresh) it->second = it->second || writable;
  };
  auto hides_nothing = [&](const fs::path& p, const std::string& what) {
    if (!l.hidden.empty() && paths_overlap(p, l.hidden))
      throw LaunchError(what + " " + p.string() + " would show the team folder " + l.hidden.string() +
                        " (its journal and predictions) to the contestant: give a folder outside it");
  };
  if (!l.inputs_dir.empty()) add(l.inputs_dir, false);
  if (!l.outputs_dir.empty()) add(l.outputs_dir, true);
  if (!l.scratch_dir.empty()) add(l.scratch_dir, true);
  for (const auto& [list, writable, flag] :
       {std::tuple{&l.ro, false, "--sandbox-ro"}, std::tuple{&l.rw, true, "--sandbox-rw"}}) {
    for (const auto& p : *list) {
      if (!p.is_absolute()) throw LaunchError(std::string(flag) + " " + p.string() + " is not an absolute path");
      std::error_code ec;
      if (!fs::exists(p, ec)) throw LaunchError(std::string(flag) + " " + p.string() + " does not exist");
      hides_nothing(p, flag);
      add(p, writable);
    }
  }
  if (!l.workdir.empty()) {
    hides_nothing(l.workdir, "--workdir");
    add(l.workdir, false);
  }
  // What the organiser typed into the command (the program, a model file): shown read-only, except what
  // would show the team folder (a parent of it, say), which is silently left out: it never was the point.
  std::vector<std::string> named = paths_named_in(l.command);
  // The program's folder too: programs find their model or modules beside themselves.
  std::string program = program_of(l.command);
  if (program.find('/') == std::string::npos) program = search_path(program);
  if (!program.empty() && program[0] == '/') {
    named.push_back(program);
    named.push_back(fs::path(program).lexically_normal().parent_path().string());
  }
  for (const auto& s : named) {
    const fs::path p = fs::path(s).lexically_normal();
    std::error_code ec;
    if (p == "/" || in_system_area(p) || !fs::exists(p, ec)) continue;
    if (!l.hidden.empty() && paths_overlap(p, l.hidden)) continue;
    add(p, false);
  }
  std::vector<SandboxMount> out;
  for (const auto& [k, w] : mounts) out.push_back({fs::path(k), w});
  // Parents before children, so a child mount is not covered by its parent's.
  std::stable_sort(out.begin(), out.end(), [](const SandboxMount& a, const SandboxMount& b) {
    return std::distance(a.path.begin(), a.path.end()) < std::distance(b.path.begin(), b.path.end());
  });
  return out;
}

std::vector<std::string> bwrap_argv(const std::string& bwrap, const SandboxLaunch& l) {
  std::vector<std::string> a{bwrap};
  base_flags(a);
  system_mounts(a, l.gpu_index);
  for (const auto& m : sandbox_mounts(l))
    a.insert(a.end(), {m.writable ? "--bind" : "--ro-bind", m.path.string(), m.path.string()});
  // The root itself (where bwrap made the mount points) is read-only: nothing can be created beside the
  // allow-list.
  a.insert(a.end(), {"--remount-ro", "/"});
  // HOME would point at a folder the contestant cannot see; caches (~/.cache) go to its scratch folder.
  if (!l.scratch_dir.empty()) a.insert(a.end(), {"--setenv", "HOME", l.scratch_dir.string()});
  a.insert(a.end(), {"--chdir", l.cwd.empty() ? std::string("/") : l.cwd.string(), "--"});
  a.insert(a.end(), l.argv.begin(), l.argv.end());
  return a;
}

std::string probe_bwrap(std::string* bwrap) {
  const std::string found = search_path("bwrap");
  const std::string none_hint =
      "; give --sandbox none (manifest: \"sandbox\": \"none\") to run commands without a sandbox, where they "
      "see and can change everything lesionbench can";
  if (found.empty())
    return "the sandbox of command contestants needs bwrap (Debian package bubblewrap), which is not on PATH" +
           none_hint;
  SandboxLaunch l;
  l.argv = {"/bin/sh", "-c", ":"};
  const HelperResult r = run_helper(bwrap_argv(found, l), 20);
  if (r.exit_code == 0) {
    *bwrap = found;
    return {};
  }
  std::string why = !r.error.empty() ? r.error : r.err;
  while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
  std::string hint;
  if (::geteuid() != 0) {
    auto read_value = [](const char* file) {
      std::ifstream in(file);
      std::string v;
      in >> v;
      return v;
    };
    if (read_value("/proc/sys/kernel/unprivileged_userns_clone") == "0")
      hint = " (unprivileged user namespaces are off: kernel.unprivileged_userns_clone = 0)";
    else if (read_value("/proc/sys/user/max_user_namespaces") == "0")
      hint = " (user namespaces are off: user.max_user_namespaces = 0)";
    else if (read_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
      hint = " (AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns = 1)";
  }
  return "the sandbox of command contestants cannot start here: " + found + " failed" +
         (why.empty() ? std::string() : ": " + why) + hint + none_hint;
}

}  // namespace lb::runner
