// libFuzzer target: the NIfTI-1/2 and gzip reader and the label check, as `score` uses them on a prediction.
// Any input must end as a value or an lb::nifti::Error/MaskLoad status: no crash, no undefined behaviour,
// no allocation beyond what the input can hold (libFuzzer's -rss_limit_mb and -malloc_limit_mb catch that).
#include <cstdint>
#include <exception>

#include "fuzz/fuzz_input.h"
#include "metrics/mask_io.h"
#include "metrics/nifti.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Both names: ".nii.gz" and ".nii" take the same code path (gzip is detected by its magic bytes).
  const std::string path = lb::fuzz::input_file(data, size, ".nii.gz");
  try {
    (void)lb::nifti::read_header(path, /*verify_data=*/true);
  } catch (const lb::nifti::Error&) {
  }
  const lb::MaskLoad m = lb::load_mask(path);
  if (m.status == lb::MaskStatus::ok && m.mask.voxels.size() != static_cast<size_t>(m.mask.size())) std::terminate();
  return 0;
}
