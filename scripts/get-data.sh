#!/usr/bin/env bash
# Fetches the public originals of lesionbench's real test data and lays them out as the tests expect:
#   bash scripts/get-data.sh DEST                fetch from GitHub (pinned commits), verify, lay out in DEST
#   bash scripts/get-data.sh DEST --from DIR     the same from originals already downloaded into DIR, at their
#                                                repository paths (DIR/ibsi_validation/..., DIR/tests/...)
# Then: export LESIONBENCH_DATA=DEST (tests, benchmarks and baseline/models/train-default.sh use it).
#
# DEST/sts-ct/{images,labels}: 24 soft-tissue-sarcoma CTs and their tumour masks from the IBSI validation set
#   (theibsi/data_sets, ibsi_validation/nifti/STS_xxx/CT_{image,mask}.nii.gz; CC BY 3.0, citations below).
# DEST/totalseg-example: a CT and two TotalSegmentator outputs (wasserth/TotalSegmentator,
#   tests/reference_files; Apache-2.0). That file has changed upstream: the commit is pinned.
# flare24-parity is not public (generated, with the official scorer's answers): its tests skip and say so.
# Every file's SHA-256 is checked against the value below (taken from the originals at the pinned commits);
# the files are copied unchanged (the case names change, the bytes do not).
# Exit codes: 0 done, 1 a file failed its checksum or is missing, 2 bad usage, 3 no network.
set -euo pipefail

ibsi_repo=theibsi/data_sets
ibsi_commit=6da96021bc91faf4c0cb7fd7fa56a4225d2064a8     # 2024-08-14; the folder was ibsi_1_validation before 2022-11-11
ts_repo=wasserth/TotalSegmentator
ts_commit=0e65a448d557382b1e925276212b3bec7f5aff83       # 2026-08-13
url_base=${LESIONBENCH_DATA_URL:-https://raw.githubusercontent.com}

# sha256  repository-path
files=(
  "6751295745f056c0b25e3b97fc5d9106d944b715db2df3f1a408923b9c36cf5f ibsi_validation/nifti/STS_001/CT_image.nii.gz"
  "6ee66bb3facc1784c01930c2c942e1a52c377d3329a6fee12c674d017099f3bc ibsi_validation/nifti/STS_001/CT_mask.nii.gz"
  "9f8a7676fc019abb9a1137bf3a31f87ed822fc2be211b141caf54b4fba5ac422 ibsi_validation/nifti/STS_002/CT_image.nii.gz"
  "5af62399b5696902714740358dc7fe5ffe0bad3c80558c9c7d56225cf3214b30 ibsi_validation/nifti/STS_002/CT_mask.nii.gz"
  "5ec21177e31ba1ff9c5ab85a8cc3acf4eaa79f4fa99bb7bc91db026a71b8cbb0 ibsi_validation/nifti/STS_004/CT_image.nii.gz"
  "0481d7862b42c387cdb426f82d5621d0842b2cba5b8a2cc0a4198e785b91fc83 ibsi_validation/nifti/STS_004/CT_mask.nii.gz"
  "43696eca1d9e1b31073de6ecc15b15fa3dedb43b6f1b684d58240720bbf7f834 ibsi_validation/nifti/STS_005/CT_image.nii.gz"
  "868e51bae20413e39d1c9858048d1a3734757029a3c23ca9041549ca0e7ba46c ibsi_validation/nifti/STS_005/CT_mask.nii.gz"
  "d9c5989b1a03d756b07f9b33ae1162cbaebe5df33b0f75268e2e2aafd2769832 ibsi_validation/nifti/STS_008/CT_image.nii.gz"
  "b22a7007a8323e255a52f5484e38a278e338ecb52900be1cc4982698e879b389 ibsi_validation/nifti/STS_008/CT_mask.nii.gz"
  "4006316c883a66b3eb6b22e95c3bc05c782ecf70828b346ba0e42786d8c62912 ibsi_validation/nifti/STS_010/CT_image.nii.gz"
  "47036dce01d55640e854ad8342accf287de97aff6c8b6c4915a840f6669c2795 ibsi_validation/nifti/STS_010/CT_mask.nii.gz"
  "838037e3c2eb24414ab746d98634ed9b7a568c608bdcfc39495c4a49c944d04b ibsi_validation/nifti/STS_014/CT_image.nii.gz"
  "e50a7b598e0db7d01a542d91fc812bfd7121ec7e7f2c52ba7a7aed36403c8536 ibsi_validation/nifti/STS_014/CT_mask.nii.gz"
  "e494c2246ff196d6c071ef96b479ce15e4ee8a58c482a5211e8bc1b4e42b0456 ibsi_validation/nifti/STS_015/CT_image.nii.gz"
  "2a91814b39ea6536246cc5a3bb79518bb08d1ef30fd073d492fbc4044a198d0e ibsi_validation/nifti/STS_015/CT_mask.nii.gz"
  "77783efdecfbdc7490808082dddd2551d1f9680205ce5379a3054be3e5214b67 ibsi_validation/nifti/STS_019/CT_image.nii.gz"
  "1c6702a6a631092c9ff00a35232dce17b28670279f8b78d7662661e4a7c86e6f ibsi_validation/nifti/STS_019/CT_mask.nii.gz"
  "a3ad1dd263f01943a88d5711f8ae530501512b334d1e6e4ea6c8e112e9e128bf ibsi_validation/nifti/STS_022/CT_image.nii.gz"
  "064ebc29136e35b65ad33155a2759fdb3fc51830c9a1c69a329cb2328402bc77 ibsi_validation/nifti/STS_022/CT_mask.nii.gz"
  "f0e10fc67c3680314978d3c38a8cd363c8a3246c3636d598ee930f54ce8d90e8 ibsi_validation/nifti/STS_024/CT_image.nii.gz"
  "1f206092122a5a59e307e3285b364ba2f82f55e417ff9a9efeed222afa11c6b3 ibsi_validation/nifti/STS_024/CT_mask.nii.gz"
  "fa58e9ce9675fc78a9e291e57132c9cc07156f32a9adb58681b2596e5a4a11a4 ibsi_validation/nifti/STS_025/CT_image.nii.gz"
  "9c90fe64dd66922d2c5061f8d1568d2a564ec350048f8d457ff0a7119cb82b7e ibsi_validation/nifti/STS_025/CT_mask.nii.gz"
  "a110f9617db7862d5360f2b039cdf94248471821f372d4201f3f9c055f431b9d ibsi_validation/nifti/STS_028/CT_image.nii.gz"
  "ad7e84d1767e557bc30534dc2a2565329b86f75838d6d8f41575dfc68558915f ibsi_validation/nifti/STS_028/CT_mask.nii.gz"
  "d7ee83633e1dbc761e01ffa6a3cb9950607e0d3b8f7ad7bac4b7e749ba98b089 ibsi_validation/nifti/STS_029/CT_image.nii.gz"
  "0253461e8c0e568b99197733fc8af3fb73c6ef4da1e7007deac2bef1e63eddd2 ibsi_validation/nifti/STS_029/CT_mask.nii.gz"
  "8c0bffb9888b1e498130c4692271bf27d05a61e4a55bab44a0d8d23ca3f50b91 ibsi_validation/nifti/STS_032/CT_image.nii.gz"
  "22169459fe5e94b016a30f00d502317e4327b29a292e14108733b3b4a03f09d2 ibsi_validation/nifti/STS_032/CT_mask.nii.gz"
  "e8f48c0c03d5cc62e6dbba3811c9f7d871adb8a6fa6ed27fdfe4b50ff3858ac9 ibsi_validation/nifti/STS_033/CT_image.nii.gz"
  "40c7553678465250bca56c0dd7e7d127ad2069775d585c5f94b5f7400ce4e980 ibsi_validation/nifti/STS_033/CT_mask.nii.gz"
  "cf2ba0db8dacbe647dde02b9c7642b1c76157d48724168dd9a32f777986d5ee0 ibsi_validation/nifti/STS_035/CT_image.nii.gz"
  "49b3b9b23fcbe1b6ecd5d71d390a5960ab6aa5ff724d72961a969cc08f19c44f ibsi_validation/nifti/STS_035/CT_mask.nii.gz"
  "39ef83e359cff6037cd5c7c392bc7a676360cc1f5e24a4d91d67261434eb1aaa ibsi_validation/nifti/STS_036/CT_image.nii.gz"
  "5f02b65dec87a087f6033c572566d490847e637cecb0a6ab906797e2a5897499 ibsi_validation/nifti/STS_036/CT_mask.nii.gz"
  "76da7aa16b8ddc783d475be51390e9afe0a3a7ddba4c195f6305a5308bfd500f ibsi_validation/nifti/STS_040/CT_image.nii.gz"
  "6b752477db3b68a4ec0b654ff289cf4e423082723fdae951ed3231cf25c189d2 ibsi_validation/nifti/STS_040/CT_mask.nii.gz"
  "7e9ad91ad803a1b6d19f9196b8e3b48cb1f350773f0914dfd4821d6c1763aa19 ibsi_validation/nifti/STS_041/CT_image.nii.gz"
  "283f9cbd62ea70b046a4e2adbcafaac5c72d9937e00e6b4d106d65c2636bc4ad ibsi_validation/nifti/STS_041/CT_mask.nii.gz"
  "2a717076a21a930ba99655acf44edc44de12349d5055de9daeca82759d31ffec ibsi_validation/nifti/STS_043/CT_image.nii.gz"
  "412651649ac6520214a931e7d0c975b8a4c3a4a9b696df6fae3164f396f79777 ibsi_validation/nifti/STS_043/CT_mask.nii.gz"
  "36f67777373acc6b93b0ca703bc09d92fedffcf3101bddcef69686b8f31b9c9f ibsi_validation/nifti/STS_044/CT_image.nii.gz"
  "44db9da8278fcc235ad1f9ffd88570e175e3f5ab34fe1af584228e550c61534e ibsi_validation/nifti/STS_044/CT_mask.nii.gz"
  "4238bf0a60e0834b5e3c0794d219a766665216417da4e0cfddd8321b69b3a5a8 ibsi_validation/nifti/STS_048/CT_image.nii.gz"
  "29abfa2a845a95f163cac5d3d89dda3b9fc8ec75ea7b45eb150cbf5ae2662b9b ibsi_validation/nifti/STS_048/CT_mask.nii.gz"
  "d082c3d6854bc4a27090c2c45c82175c7b56ba04ed847f8eb0c889c8f5238a08 ibsi_validation/nifti/STS_050/CT_image.nii.gz"
  "d8d6c8bc99d4d4d9a103730ed3b06cd8ad06366c555916cb00c496177bebc8b4 ibsi_validation/nifti/STS_050/CT_mask.nii.gz"
  "dbd3ae6d614d1d7ef3a46925c30c70038ed52da6b37fdd6afdc7b9b71387e3e1 tests/reference_files/example_ct.nii.gz"
  "e50c00b2914e2cac0aaee8e7f3b5f57d44d9f21bfd5c0577271c54c0cb49e9fb tests/reference_files/example_ct_sm.nii.gz"
  "8be652475a4aaae83103a66bfb3345314b1fc06742807a06cf5005f7a7913a2d tests/reference_files/example_seg.nii.gz"
  "353a7c65c9ff5d5b9b331f811130f0ebbaedb509df74587d3bd0d1ad5ebc3910 tests/reference_files/example_seg_fast.nii.gz"
)

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dest="" from=""
while (($#)); do
  case "$1" in
    --from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "get-data.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$dest" ] || usage; dest=$1; shift ;;
  esac
done
[ -n "$dest" ] || usage
[ -z "$from" ] || [ -d "$from" ] || { echo "get-data.sh: --from $from is not a folder" >&2; exit 2; }
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
originals=${from:-$dest/.originals}

repo_of() { case "$1" in ibsi_validation/*) echo "$ibsi_repo/$ibsi_commit" ;; *) echo "$ts_repo/$ts_commit" ;; esac; }

# 1. The originals (downloaded unless --from), each checked against its SHA-256.
if [ -z "$from" ]; then
  command -v curl >/dev/null 2>&1 || { echo "get-data.sh: curl is needed (apt-get install curl)" >&2; exit 2; }
  if ! curl -fsS --max-time 20 -o /dev/null "$url_base/$ibsi_repo/$ibsi_commit/README.md"; then
    echo "get-data.sh: no network: cannot reach $url_base (GitHub). Download elsewhere and use --from DIR;" \
         "the files and their SHA-256 are listed in $0" >&2
    exit 3
  fi
fi
bad=0
for entry in "${files[@]}"; do
  sum=${entry%% *} path=${entry#* }
  file=$originals/$path
  if [ -z "$from" ] && ! { [ -f "$file" ] && echo "$sum  $file" | sha256sum -c --quiet - >/dev/null 2>&1; }; then
    mkdir -p "$(dirname "$file")"
    echo "get-data.sh: downloading $path"
    curl -fsSL --retry 3 --max-time 600 -o "$file.part" "$url_base/$(repo_of "$path")/$path" ||
      { echo "get-data.sh: download of $path failed" >&2; bad=1; continue; }
    mv "$file.part" "$file"
  fi
  if [ ! -f "$file" ]; then
    echo "get-data.sh: $file is missing" >&2; bad=1; continue
  fi
  if ! echo "$sum  $file" | sha256sum -c --quiet - >/dev/null 2>&1; then
    echo "get-data.sh: $file: SHA-256 $(sha256sum "$file" | cut -c1-64), expected $sum (not the pinned original)" >&2
    bad=1
  fi
done
((bad == 0)) || { echo "get-data.sh: some originals are missing or differ; nothing laid out" >&2; exit 1; }

# 2. The layout the tests expect, written whole into a temporary folder, then moved in place.
for set in sts-ct totalseg-example; do rm -rf "$dest/$set.tmp"; done
mkdir -p "$dest/sts-ct.tmp/images" "$dest/sts-ct.tmp/labels" "$dest/totalseg-example.tmp"
for entry in "${files[@]}"; do
  path=${entry#* }
  case "$path" in
    ibsi_validation/nifti/*/CT_image.nii.gz) c=$(basename "$(dirname "$path")"); cp "$originals/$path" "$dest/sts-ct.tmp/images/${c}_0000.nii.gz" ;;
    ibsi_validation/nifti/*/CT_mask.nii.gz) c=$(basename "$(dirname "$path")"); cp "$originals/$path" "$dest/sts-ct.tmp/labels/$c.nii.gz" ;;
    tests/reference_files/*) cp "$originals/$path" "$dest/totalseg-example.tmp/$(basename "$path")" ;;
  esac
done
cat >"$dest/sts-ct.tmp/README.md" <<README
# Real CT with real tumour masks: soft-tissue sarcoma (24 cases)

Laid out by lesionbench's scripts/get-data.sh from https://github.com/$ibsi_repo at commit $ibsi_commit,
folder ibsi_validation/nifti: images/STS_xxx_0000.nii.gz = STS_xxx/CT_image.nii.gz (CT, HU, float32, cropped
5 cm around the tumour), labels/STS_xxx.nii.gz = STS_xxx/CT_mask.nii.gz (GTV mask, uint8 0/1). Bytes unchanged.

Licence: Creative Commons Attribution 3.0 Unported (https://creativecommons.org/licenses/by/3.0/).
Derived from the TCIA Soft-tissue-Sarcoma collection. Citations:
- Vallières M., Freeman C.R., Skamene S.R., El Naqa I. (2015). A radiomics model from joint FDG-PET and MRI
  texture features for the prediction of lung metastases in soft-tissue sarcomas of the extremities.
  The Cancer Imaging Archive, DOI 10.7937/K9/TCIA.2015.7GO2GSKS; Physics in Medicine and Biology 60(14):5471,
  DOI 10.1088/0031-9155/60/14/5471.
- Clark K. et al. (2013). The Cancer Imaging Archive (TCIA): Maintaining and Operating a Public Information
  Repository. Journal of Digital Imaging 26(6):1045-1057, DOI 10.1007/s10278-013-9622-7.
- Zwanenburg A. et al., the Image Biomarker Standardisation Initiative (IBSI), for the curated IBSI set.
README
cat >"$dest/totalseg-example.tmp/README.md" <<README
# A real abdominal CT and two real model predictions on it

Laid out by lesionbench's scripts/get-data.sh from https://github.com/$ts_repo at commit $ts_commit,
tests/reference_files/{example_ct,example_ct_sm,example_seg,example_seg_fast}.nii.gz. Bytes unchanged.

Licence: Apache License 2.0. Citation: Wasserthal J. et al. (2023). TotalSegmentator: Robust Segmentation of
104 Anatomic Structures in CT Images. Radiology: Artificial Intelligence 5(5):e230024,
DOI 10.1148/ryai.230024.
README
for set in sts-ct totalseg-example; do
  rm -rf "$dest/$set"
  mv "$dest/$set.tmp" "$dest/$set"
done
echo "get-data.sh: laid out $dest/sts-ct (24 cases) and $dest/totalseg-example (4 files), every SHA-256 checked"
echo "get-data.sh: flare24-parity is not public (generated, with the official scorer's answers); the tests that need it skip and say so"
echo "use it with: export LESIONBENCH_DATA=$dest"
