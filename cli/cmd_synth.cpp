// lesionbench synth: CT-like phantoms with lesion masks (see phantom/phantom.h for what they contain).
#include <iostream>

#include "phantom/phantom.h"
#include "args/args.h"
#include "cli/commands.h"

namespace lb::cli {

int cmd_synth(int argc, char** argv) {
  std::string out;
  int cases = 8, seed = 1, matrix = 192, slices = 0;
  double healthy = 0.25, slice_mm = 0;
  Args a("synth", "lesionbench synth --out DIR [--cases N] [--seed S] [--matrix N] [--slices N] [--slice-mm MM]\n                         [--healthy-fraction F]",
         "Generates CT-like phantoms (chest-abdomen: fat, muscle, lungs, liver, kidneys, spleen, bone, bowel; HU as\n"
         "in portal-venous CT, partial-volume blur and noise) with lesions of a few mm to several cm in the liver,\n"
         "lungs, kidneys, spleen, muscle and lymph nodes; every k-th case is healthy. Writes\n"
         "DIR/imagesTs/<Case>_0000.nii.gz (int16 HU), DIR/labelsTs/<Case>.nii.gz (uint8 0/1) and DIR/phantoms.json.\n"
         "The same seed and options give the same files.");
  a.option("--out", "DIR", "output folder", &out, true)
      .option("--cases", "N", "number of phantoms (default 8)", &cases)
      .option("--seed", "S", "random seed (default 1)", &seed)
      .option("--matrix", "N", "in-plane voxels per axis (default 192, about 2 mm; 512 for full-size scans)", &matrix)
      .option("--slices", "N", "slices per phantom (default: from a drawn 200-320 mm extent and 1.5-5 mm spacing)",
              &slices)
      .option("--slice-mm", "MM", "slice spacing in mm (default: drawn per case from 1.5-5 mm)", &slice_mm)
      .option("--healthy-fraction", "F", "share of healthy phantoms: every round(1/F)-th case (default 0.25; 0: none)",
              &healthy)
      .epilog("Example:\n  lesionbench synth --out phantoms --cases 6 --seed 7");
  if (!a.parse(argc, argv)) return 0;
  if (cases < 1) throw UsageError("--cases must be at least 1");
  if (matrix < 16 || matrix > 2048) throw UsageError("--matrix must be 16..2048");
  if (slices < 0 || slices > 4096) throw UsageError("--slices must be 0..4096");
  if (slice_mm < 0 || slice_mm > 20) throw UsageError("--slice-mm must be in (0, 20]");
  if (healthy < 0 || healthy > 1) throw UsageError("--healthy-fraction must be in [0, 1]");
  phantom::PhantomOptions o;
  o.matrix = matrix;
  o.slices = slices;
  o.healthy_fraction = healthy;
  o.slice_mm = slice_mm;
  phantom::write_phantom_set(out, cases, static_cast<uint64_t>(seed), o, std::cout);
  std::cout << "wrote " << cases << " phantoms to " << out << "\n";
  return 0;
}

}  // namespace lb::cli
