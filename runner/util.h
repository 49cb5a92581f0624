#pragma once
// Small helpers shared by the runner's parts: shell quoting and command templates, printable names,
// atomic file writes, time stamps, host name.
#include <chrono>
#include <string>
#include <vector>

namespace lb::runner {

// 'text' quoted for /bin/sh (single quotes; embedded ' as '\'').
std::string shell_quote(const std::string& text);

// Replaces every {inputs} and {outputs} in `command` by the shell-quoted paths. Other braces stay as they are.
std::string substitute_command(const std::string& command, const std::string& inputs, const std::string& outputs);

// A name or text a contestant wrote, safe to print: control and non-ASCII bytes as \xNN (escaped once;
// every other byte, the backslash included, as it is), at most `max_len` bytes.
std::string printable(const std::string& name, size_t max_len = 120);

// Writes `path` through a temporary file in the same folder and a rename: readers never see half a file.
// `durable`: flushed to disk first (skip it for files rebuilt from others, such as the efficiency CSVs).
void write_file_atomic(const std::string& path, const std::string& content, bool durable = true);

// "2026-11-26T20:13:10.123Z"
std::string iso_time_utc(std::chrono::system_clock::time_point t);
std::string host_name();

// Signal name ("SIGSEGV") or "signal N".
std::string signal_name(int sig);

}  // namespace lb::runner
