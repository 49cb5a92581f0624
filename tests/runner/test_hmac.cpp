// SHA-256 and HMAC-SHA256 against published vectors (NIST FIPS 180-4 examples, RFC 4231) and against
// Python's hashlib/hmac on lengths around the block size; record-line signatures: signed, unsigned, altered.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "runner/hmac.h"
#include "runner/record.h"
#include "tests/support/test_support.h"

using namespace lb::runner;
using lb::test::run_command;
using lb::test::shell_quote;
using lb::test::TempDir;

namespace {
std::string bytes(size_t n, uint8_t b) { return std::string(n, static_cast<char>(b)); }
std::string hex_hmac(const std::string& key, const std::string& msg) { return to_hex(hmac_sha256(key, msg)); }
}  // namespace

TEST_CASE("SHA-256 of the NIST example messages", "[hmac]") {
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(to_hex(sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnop"
                      "qrstnopqrstu")) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  // One million 'a', fed in uneven pieces: the incremental interface gives the one-shot result.
  const std::string million(1000000, 'a');
  CHECK(to_hex(sha256(million)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  Sha256 s;
  size_t at = 0;
  for (size_t piece = 1; at < million.size(); piece = piece * 3 % 97 + 1) {
    const size_t n = std::min(piece, million.size() - at);
    s.update(million.data() + at, n);
    at += n;
  }
  CHECK(to_hex(s.digest()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("HMAC-SHA256 of the RFC 4231 test cases", "[hmac]") {
  // Test cases 1-4, 6 and 7; case 5 (truncated output) checks the first 128 bits.
  CHECK(hex_hmac(bytes(20, 0x0b), "Hi There") == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex_hmac("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hex_hmac(bytes(20, 0xaa), bytes(50, 0xdd)) == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4 += static_cast<char>(i);
  CHECK(hex_hmac(key4, bytes(50, 0xcd)) == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  CHECK(hex_hmac(bytes(20, 0x0c), "Test With Truncation").substr(0, 32) == "a3b6167473100ee06e0c796c2955552b");
  CHECK(hex_hmac(bytes(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hex_hmac(bytes(131, 0xaa),
                 "This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
                 "be hashed before being used by the HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("HMAC-SHA256 agrees with Python's hmac around the block and padding boundaries", "[hmac]") {
  if (run_command("python3 -c 'import hmac, hashlib'").exit_code != 0) {
    LB_SKIP("python3 with hmac is not available");
  }
  TempDir dir("hmac");
  std::mt19937 rng(7);
  std::string lines;
  std::vector<std::string> mine;
  // Key lengths 0..130 (block: 64) and message lengths around 55/56/64/119/120/128 (padding boundaries).
  int n = 0;
  for (size_t key_len : {0, 1, 16, 63, 64, 65, 130})
    for (size_t msg_len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000}) {
      std::string key(key_len, '\0'), msg(msg_len, '\0');
      for (auto& c : key) c = static_cast<char>(rng() & 0xff);
      for (auto& c : msg) c = static_cast<char>(rng() & 0xff);
      const std::string k = dir / ("k" + std::to_string(n)), m = dir / ("m" + std::to_string(n));
      std::ofstream(k, std::ios::binary) << key;
      std::ofstream(m, std::ios::binary) << msg;
      lines += k + "\t" + m + "\n";
      mine.push_back(hex_hmac(key, msg) + " " + to_hex(sha256(msg)));
      ++n;
    }
  std::ofstream(dir / "list.txt") << lines;
  std::ofstream(dir / "check.py") << "import hmac, hashlib, sys\n"
                                     "for line in open(sys.argv[1]):\n"
                                     "    k, m = line.rstrip('\\n').split('\\t')\n"
                                     "    key, msg = open(k, 'rb').read(), open(m, 'rb').read()\n"
                                     "    print(hmac.new(key, msg, hashlib.sha256).hexdigest(), hashlib.sha256(msg).hexdigest())\n";
  const auto r = run_command("python3 " + shell_quote(dir / "check.py") + " " + shell_quote(dir / "list.txt"));
  REQUIRE(r.exit_code == 0);
  std::istringstream py(r.out);
  std::string line;
  size_t i = 0;
  for (; std::getline(py, line); ++i) {
    REQUIRE(i < mine.size());
    CHECK(line == mine[i]);
  }
  CHECK(i == mine.size());
}

TEST_CASE("record lines: signed lines verify, unsigned and altered ones are told apart", "[hmac]") {
  const std::string key = "0123456789abcdef-organiser-key";
  RunRecord r;
  r.case_name = "STS_001";
  r.status = RunStatus::ok;
  r.wall_s = 12.5;
  r.message = "said \"signature\": nothing";  // a member name inside a string is not a signature
  const std::string line = nlohmann::json(r).dump();
  const std::string signed_line = sign_record_line(line, key);
  // Still one JSON object, readable as a record, with the signature as its last member.
  const auto j = nlohmann::json::parse(signed_line);
  CHECK(j.at("signature").get<std::string>() == "hmac-sha256:" + hex_hmac(key, line));
  CHECK(j.get<RunRecord>().case_name == "STS_001");
  CHECK(check_record_line(signed_line, key) == LineSignature::valid);
  CHECK(check_record_line(signed_line + "\r", key) == LineSignature::valid);
  CHECK(check_record_line(line, key) == LineSignature::unsigned_line);
  // Another key, a changed figure, a re-serialised line (members reordered), a signature cut short.
  CHECK(check_record_line(signed_line, "another key of 16+ bytes") == LineSignature::altered);
  std::string faster = signed_line;
  faster.replace(faster.find("\"wall_s\":12.5"), 13, "\"wall_s\":1.25");
  CHECK(check_record_line(faster, key) == LineSignature::altered);
  nlohmann::json moved = j;
  moved["wall_s"] = 1.25;
  CHECK(check_record_line(moved.dump(), key) == LineSignature::altered);  // "signature" no longer last
  CHECK(check_record_line(signed_line.substr(0, signed_line.size() - 4) + "\"}", key) == LineSignature::altered);
  CHECK_THROWS(sign_record_line("{}", key));
}

TEST_CASE("key files: read as bytes, refused when short or unreadable", "[hmac]") {
  TempDir dir("hmac-key");
  std::ofstream(dir / "short", std::ios::binary) << "tooshort";
  std::ofstream(dir / "good", std::ios::binary) << std::string("\x00\x01\x02\n\xff 0123456789abcdef", 22);
  CHECK(read_sign_key(dir / "good").size() == 22);
  CHECK_THROWS_WITH(read_sign_key(dir / "short"), Catch::Contains("short") && Catch::Contains("at least 16"));
  CHECK_THROWS_WITH(read_sign_key(dir / "absent"), Catch::Contains("absent"));
}
