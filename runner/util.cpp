// Shared helpers; see util.h.
#include "runner/util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace lb::runner {

std::string shell_quote(const std::string& text) {
  std::string q = "'";
  for (char c : text) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string substitute_command(const std::string& command, const std::string& inputs, const std::string& outputs) {
  std::string out;
  for (size_t i = 0; i < command.size();) {
    if (command.compare(i, 8, "{inputs}") == 0) {
      out += shell_quote(inputs);
      i += 8;
    } else if (command.compare(i, 9, "{outputs}") == 0) {
      out += shell_quote(outputs);
      i += 9;
    } else {
      out += command[i++];
    }
  }
  return out;
}

std::string printable(const std::string& name, size_t max_len) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(name[i]);
    // A backslash stays as it is: escaping it too made a contestant's own "\xff" text read "\x5cxff".
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void write_file_atomic(const std::string& path, const std::string& content, bool durable) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  // system_error: callers tell a full disk (ENOSPC) from other failures by its code.
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + tmp);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t k = ::write(fd, content.data() + done, content.size() - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::system_error(e, std::generic_category(), "cannot write " + tmp);
    }
    done += static_cast<size_t>(k);
  }
  if (durable) ::fdatasync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::generic_category(), "cannot rename " + tmp + " to " + path);
  }
}

std::string iso_time_utc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string signal_name(int sig) {
  // Own table: sigabbrev_np needs glibc 2.32, older than some GPU machines have.
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGSYS: return "SIGSYS";
    default: return "signal " + std::to_string(sig);
  }
}

}  // namespace lb::runner
