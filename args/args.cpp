#include "args/args.h"

#include <charconv>
#include <cmath>
#include <iostream>
#include <sstream>

namespace lb::args {

Args::Args(std::string command, std::string synopsis, std::string description)
    : command_(std::move(command)), synopsis_(std::move(synopsis)), description_(std::move(description)) {}

Args& Args::option(const std::string& name, const std::string& metavar, const std::string& help, std::string* out,
                   bool required) {
  Opt o;
  o.name = name;
  o.metavar = metavar;
  o.help = help;
  o.required = required;
  o.set = [out](const std::string& v) { *out = v; };
  opts_.push_back(std::move(o));
  return *this;
}

Args& Args::option(const std::string& name, const std::string& metavar, const std::string& help, int* out) {
  Opt o;
  o.name = name;
  o.metavar = metavar;
  o.help = help;
  o.set = [out, name](const std::string& v) {
    int x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size()) throw UsageError(name + " needs a whole number, not '" + v + "'");
    *out = x;
  };
  opts_.push_back(std::move(o));
  return *this;
}

Args& Args::option(const std::string& name, const std::string& metavar, const std::string& help, double* out) {
  Opt o;
  o.name = name;
  o.metavar = metavar;
  o.help = help;
  o.set = [out, name](const std::string& v) {
    double x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(x))
      throw UsageError(name + " needs a number, not '" + v + "'");
    *out = x;
  };
  opts_.push_back(std::move(o));
  return *this;
}

Args& Args::choice(const std::string& name, const std::vector<std::string>& choices, const std::string& help,
                   std::string* out) {
  std::string meta;
  for (size_t i = 0; i < choices.size(); ++i) meta += (i ? "|" : "") + choices[i];
  Opt o;
  o.name = name;
  o.metavar = meta;
  o.help = help;
  o.choices = choices;
  o.set = [out, name, choices, meta](const std::string& v) {
    for (const auto& c : choices)
      if (c == v) {
        *out = v;
        return;
      }
    throw UsageError(name + " must be one of " + meta + ", not '" + v + "'");
  };
  opts_.push_back(std::move(o));
  return *this;
}

Args& Args::flag(const std::string& name, const std::string& help, bool* out) {
  Opt o;
  o.name = name;
  o.help = help;
  o.is_flag = true;
  o.set = [out](const std::string&) { *out = true; };
  opts_.push_back(std::move(o));
  return *this;
}

Args& Args::repeated(const std::string& name, const std::string& metavar, const std::string& help,
                     std::vector<std::string>* out) {
  Opt o;
  o.name = name;
  o.metavar = metavar;
  o.help = help;
  o.is_repeated = true;
  o.set = [out](const std::string& v) { out->push_back(v); };
  opts_.push_back(std::move(o));
  return *this;
}

Args& Args::positional(const std::string& metavar, const std::string& help, std::vector<std::string>* out,
                       size_t min_count, size_t max_count) {
  pos_metavar_ = metavar;
  pos_help_ = help;
  pos_out_ = out;
  pos_min_ = min_count;
  pos_max_ = max_count;
  return *this;
}

Args& Args::epilog(const std::string& text) {
  epilog_ = text;
  return *this;
}

Args::Opt* Args::find(const std::string& name) {
  for (auto& o : opts_)
    if (o.name == name) return &o;
  return nullptr;
}

bool Args::given(const std::string& name) const {
  for (const auto& o : opts_)
    if (o.name == name) return o.seen;
  return false;
}

bool Args::parse(int argc, char** argv) {
  bool only_positionals = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (!only_positionals && (a == "-h" || a == "--help")) {
      std::cout << help();
      return false;
    }
    if (!only_positionals && a == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && a.size() > 1 && a[0] == '-') {
      std::string name = a, value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos && a.starts_with("--")) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
      Opt* o = find(name);
      if (!o) throw UsageError("unknown option " + name + " for '" + command_ + "'");
      if (o->seen && !o->is_repeated) throw UsageError(name + " given twice");
      o->seen = true;
      if (o->is_flag) {
        if (inline_value) throw UsageError(name + " takes no value");
        o->set("");
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError(name + " needs a value (" + o->metavar + ")");
        value = argv[++i];
      }
      o->set(value);
      continue;
    }
    if (!pos_out_) throw UsageError("unexpected argument '" + a + "' for '" + command_ + "'");
    if (pos_out_->size() >= pos_max_) throw UsageError("too many arguments: '" + a + "'");
    pos_out_->push_back(a);
  }
  for (const auto& o : opts_)
    if (o.required && !o.seen) throw UsageError(o.name + " is required");
  if (pos_out_ && pos_out_->size() < pos_min_)
    throw UsageError("'" + command_ + "' needs " + (pos_min_ == 1 ? std::string("a ") : std::to_string(pos_min_) + " ") +
                     pos_metavar_ + " argument" + (pos_min_ == 1 ? "" : "s"));
  return true;
}

std::string Args::help() const {
  std::ostringstream s;
  s << "Usage: " << synopsis_ << "\n\n" << description_ << "\n";
  if (pos_out_ && !pos_help_.empty()) s << "\n  " << pos_metavar_ << "\n      " << pos_help_ << "\n";
  if (!opts_.empty()) s << "\nOptions:\n";
  for (const auto& o : opts_) {
    std::string head = "  " + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    s << head;
    if (head.size() < 28) s << std::string(28 - head.size(), ' ');
    else s << "\n" << std::string(28, ' ');
    s << o.help << (o.required ? " (required)" : "") << "\n";
  }
  s << "  -h, --help                Show this help\n";
  if (!epilog_.empty()) s << "\n" << epilog_ << "\n";
  return s.str();
}

}  // namespace lb::args
