// The runner-only build has no ITK: .mha/.mhd/.nrrd/.nhdr are refused with a status that says so.
#include "metrics/itk_volume.h"

namespace lb {

MaskLoad load_itk_volume(const std::string&) {
  MaskLoad r;
  r.status = MaskStatus::read_error;
  r.message = "this lesionbench was built without ITK (-DLESIONBENCH_RUNNER_ONLY=ON): it reads NIfTI only (.nii, .nii.gz)";
  return r;
}

}  // namespace lb
