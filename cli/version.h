#pragma once
namespace lb {
const char* version();     // project version, e.g. "0.1.0"
const char* git_commit();  // short commit of the build, "-dirty" when the tree had changes, or "unknown"
}  // namespace lb
