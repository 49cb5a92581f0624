#pragma once
// A small argument parser shared by every subcommand: --name VALUE, --name=VALUE, flags, repeated
// options and positionals, with help text generated from the declarations. Any mistake is a UsageError,
// which main turns into exit code 2 with the message and a pointer to --help.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lb::args {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  Args(std::string command, std::string synopsis, std::string description);

  // --name VALUE (string); `required` makes a missing one an error.
  Args& option(const std::string& name, const std::string& metavar, const std::string& help, std::string* out,
               bool required = false);
  Args& option(const std::string& name, const std::string& metavar, const std::string& help, int* out);
  Args& option(const std::string& name, const std::string& metavar, const std::string& help, double* out);
  // --name VALUE where VALUE must be one of `choices`.
  Args& choice(const std::string& name, const std::vector<std::string>& choices, const std::string& help,
               std::string* out);
  Args& flag(const std::string& name, const std::string& help, bool* out);
  Args& repeated(const std::string& name, const std::string& metavar, const std::string& help,
                 std::vector<std::string>* out);
  Args& positional(const std::string& metavar, const std::string& help, std::vector<std::string>* out,
                   size_t min_count, size_t max_count);
  // Extra text printed after the options (examples, exit codes).
  Args& epilog(const std::string& text);

  // Returns false when --help was asked for (help already printed to stdout).
  bool parse(int argc, char** argv);
  std::string help() const;
  bool given(const std::string& name) const;  // whether --name appeared on the command line

 private:
  struct Opt {
    std::string name, metavar, help;
    std::vector<std::string> choices;
    bool is_flag = false, is_repeated = false, required = false;
    std::function<void(const std::string&)> set;
    bool seen = false;
  };
  Opt* find(const std::string& name);
  std::string command_, synopsis_, description_, epilog_;
  std::vector<Opt> opts_;
  std::string pos_metavar_, pos_help_;
  std::vector<std::string>* pos_out_ = nullptr;
  size_t pos_min_ = 0, pos_max_ = 0;
};

}  // namespace lb::args
