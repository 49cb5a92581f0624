#pragma once
// CT-like phantoms with ground truth, for tests, the demo and training data.
//
// A phantom is a chest-abdomen section on an anisotropic grid: air, a body outline with subcutaneous
// fat, a muscle wall with ribs, paraspinal muscles, a vertebral column (cortex, marrow, discs, canal),
// lungs with vessels, heart, aorta, liver, spleen, kidneys (cortex, medulla, pelvis) and bowel loops with
// gas, in Hounsfield units typical of portal-venous CT. Lesions of a few mm to several cm, each an
// irregular rotated ellipsoid (some with a necrotic core or an enhancing rim), sit in the liver, lungs,
// kidneys, spleen, the muscle wall or the retroperitoneal fat; some phantoms are healthy (no lesion).
// The label is the lesion at voxel centres; the image is blurred by a point-spread function (partial
// volume) and carries correlated noise, then rounded to int16.
//
// Everything random comes from a SplitMix64 stream of (seed, case index) with our own uniform and
// normal draws, so a seed gives the same phantoms on every platform and thread count.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "metrics/nifti.h"

namespace lb::phantom {

struct PhantomOptions {
  int matrix = 192;             // in-plane voxels per axis (spacing follows from the field of view)
  int slices = 0;               // 0: from the drawn z extent and slice spacing
  double slice_mm = 0;          // 0: drawn from 1.5-5 mm
  double healthy_fraction = 0.25;
};

struct PhantomLesion {
  std::string organ;
  double radius_mm = 0;
  double volume_ml = 0;  // voxels of the label
  double hu = 0;         // mean lesion HU before noise
};

struct Phantom {
  std::string name;
  nifti::Header header;        // int16 CT
  std::vector<int16_t> ct;
  std::vector<uint8_t> label;  // 0/1, same grid
  std::vector<PhantomLesion> lesions;
};

Phantom make_phantom(uint64_t seed, int index, const PhantomOptions& options);

// Writes imagesTs/<Case>_0000.nii.gz and labelsTs/<Case>.nii.gz for cases 1..n (Phantom_001, ...).
void write_phantom_set(const std::string& out_dir, int cases, uint64_t seed, const PhantomOptions& options,
                       std::ostream& log);

}  // namespace lb::phantom
