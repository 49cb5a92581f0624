// The baseline's 3-D U-Net (see cnn_net.h).
#include "baseline/cnn_net.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace lb::baseline::cnn {

namespace {

void he_init(Conv3d& c, float slope, SplitMix64& rng) {
  const double fan_in = static_cast<double>(c.in) * c.k * c.k * c.k;
  const double sd = std::sqrt(2.0 / ((1.0 + static_cast<double>(slope) * slope) * fan_in));
  for (auto& w : c.weight.w) w = static_cast<float>(sd * rng.normal());
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

void to_json(nlohmann::json& j, const NetConfig& c) {
  j = {{"channels", c.channels}, {"leaky_slope", c.slope},
       {"input", {{"hu_clip", {c.hu_lo, c.hu_hi}}, {"hu_mean", c.hu_mean}, {"hu_std", c.hu_std}}}};
}

void from_json(const nlohmann::json& j, NetConfig& c) {
  c.channels = j.at("channels").get<std::vector<int>>();
  c.slope = j.at("leaky_slope").get<float>();
  const auto& in = j.at("input");
  c.hu_lo = in.at("hu_clip").at(0).get<float>();
  c.hu_hi = in.at("hu_clip").at(1).get<float>();
  c.hu_mean = in.at("hu_mean").get<float>();
  c.hu_std = in.at("hu_std").get<float>();
  if (c.channels.empty() || c.channels.size() > 6)
    throw std::runtime_error("cnn: 1 to 6 levels of channels are needed");
  for (int ch : c.channels)
    if (ch < 1 || ch > 1024) throw std::runtime_error("cnn: channel counts must be 1..1024");
  if (!(c.hu_hi > c.hu_lo) || !(c.hu_std > 0)) throw std::runtime_error("cnn: bad input normalisation");
}

Block::Block(int in, int out, int stride, float slope) : conv(in, out, 3, stride, 1), norm(out) { norm.slope = slope; }

Tensor Block::forward(const Tensor& x, Cache* cache) const {
  Tensor y = conv.forward(x);
  if (cache) cache->x = x;
  return norm.forward(y, cache ? &cache->norm : nullptr);
}

Tensor Block::backward(const Cache& cache, const Tensor& dy) {
  const Tensor d = norm.backward(cache.norm, dy);
  return conv.backward(cache.x, d);
}

Tensor Block::forward_up2(const Tensor& x, const std::array<int64_t, 3>& to, Cache* cache) const {
  Tensor y = conv.forward_up2(x, to);
  if (cache) cache->x = x;
  return norm.forward(y, cache ? &cache->norm : nullptr);
}

Tensor Block::backward_up2(const Cache& cache, const Tensor& dy) {
  const Tensor d = norm.backward(cache.norm, dy);
  return conv.backward_up2(cache.x, d);
}

UNet::UNet(const NetConfig& config, uint64_t seed) : config_(config) {
  const auto& ch = config_.channels;
  const size_t L = ch.size();
  if (L == 0) throw std::invalid_argument("cnn: no level");
  for (size_t l = 0; l < L; ++l) {
    const int in = l == 0 ? 1 : ch[l - 1];
    enc_a_.emplace_back(in, ch[l], l == 0 ? 1 : 2, config_.slope);
    enc_b_.emplace_back(ch[l], ch[l], 1, config_.slope);
  }
  for (size_t l = 0; l + 1 < L; ++l) {
    up_.emplace_back(ch[l + 1], ch[l], 1, config_.slope);
    dec_a_.emplace_back(2 * ch[l], ch[l], 1, config_.slope);
    dec_b_.emplace_back(ch[l], ch[l], 1, config_.slope);
  }
  head_ = Conv3d(ch[0], 1, 1, 1, 0);
  SplitMix64 rng{seed};
  for (auto* blocks : {&enc_a_, &enc_b_, &up_, &dec_a_, &dec_b_})
    for (auto& b : *blocks) he_init(b.conv, config_.slope, rng);
  const double sd = std::sqrt(1.0 / ch[0]);
  for (auto& w : head_.weight.w) w = static_cast<float>(sd * rng.normal());
}

std::vector<Param*> UNet::params() {
  std::vector<Param*> p;
  auto add = [&](Block& b) {
    for (Param* q : {&b.conv.weight, &b.conv.bias, &b.norm.gamma, &b.norm.beta}) p.push_back(q);
  };
  for (size_t l = 0; l < enc_a_.size(); ++l) add(enc_a_[l]), add(enc_b_[l]);
  for (size_t l = 0; l < up_.size(); ++l) add(up_[l]), add(dec_a_[l]), add(dec_b_[l]);
  p.push_back(&head_.weight);
  p.push_back(&head_.bias);
  return p;
}

std::vector<const Param*> UNet::params() const {
  auto p = const_cast<UNet*>(this)->params();
  return {p.begin(), p.end()};
}

size_t UNet::weight_count() const {
  size_t n = 0;
  for (const Param* p : params()) n += p->w.size();
  return n;
}

void UNet::zero_grad() {
  for (Param* p : params()) std::fill(p->g.begin(), p->g.end(), 0.0f);
}

float UNet::normalise(float hu) const {
  return (std::clamp(hu, config_.hu_lo, config_.hu_hi) - config_.hu_mean) / config_.hu_std;
}

Tensor UNet::run(const Tensor& x, Caches* c) const {
  const size_t L = enc_a_.size();
  if (x.channels != 1) throw std::invalid_argument("cnn: the input has one channel");
  if (c) {
    c->enc_a.assign(L, {});
    c->enc_b.assign(L, {});
    c->up.assign(L - 1, {});
    c->dec_a.assign(L - 1, {});
    c->dec_b.assign(L - 1, {});
  }
  std::vector<Tensor> skip(L);
  Tensor h = x;
  for (size_t l = 0; l < L; ++l) {
    h = enc_a_[l].forward(h, c ? &c->enc_a[l] : nullptr);
    h = enc_b_[l].forward(h, c ? &c->enc_b[l] : nullptr);
    if (l + 1 < L) skip[l] = h;
  }
  for (size_t t = L - 1; t-- > 0;) {
    Tensor u = up_[t].forward_up2(h, skip[t].dims, c ? &c->up[t] : nullptr);
    h = dec_a_[t].forward(concat(u, skip[t]), c ? &c->dec_a[t] : nullptr);
    h = dec_b_[t].forward(h, c ? &c->dec_b[t] : nullptr);
  }
  if (c) c->head_in = h;
  return head_.forward(h);
}

Tensor UNet::forward(const Tensor& x) { return run(x, &caches_); }
Tensor UNet::infer(const Tensor& x) const { return run(x, nullptr); }

void UNet::backward(const Tensor& dlogits) {
  Caches& c = caches_;
  const size_t L = enc_a_.size();
  if (c.enc_a.size() != L) throw std::logic_error("cnn: backward without forward");
  Tensor dh = head_.backward(c.head_in, dlogits);
  std::vector<Tensor> dskip(L);
  for (size_t t = 0; t + 1 < L; ++t) {
    dh = dec_b_[t].backward(c.dec_b[t], dh);
    const Tensor dcat = dec_a_[t].backward(c.dec_a[t], dh);
    Tensor du;
    split(dcat, config_.channels[t], du, dskip[t]);
    dh = up_[t].backward_up2(c.up[t], du);
  }
  for (size_t l = L; l-- > 0;) {
    if (l + 1 < L)
      for (size_t i = 0; i < dh.v.size(); ++i) dh.v[i] += dskip[l].v[i];
    dh = enc_b_[l].backward(c.enc_b[l], dh);
    dh = enc_a_[l].backward(c.enc_a[l], dh);
  }
}

std::string floats_to_base64(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[4 * i + static_cast<size_t>(b)] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = 0;
    for (size_t b = 0; b < n; ++b) chunk |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + b])) << (16 - 8 * b);
    for (size_t b = 0; b < 4; ++b) out += b <= n ? kB64[(chunk >> (18 - 6 * b)) & 63] : '=';
  }
  return out;
}

std::vector<float> base64_to_floats(const std::string& s) {
  if (s.size() % 4) throw std::runtime_error("cnn weights: base64 text of a length not divisible by 4");
  std::string bytes;
  bytes.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t chunk = 0;
    int pad = 0;
    for (size_t b = 0; b < 4; ++b) {
      const char ch = s[i + b];
      uint32_t val = 0;
      if (ch == '=') {
        if (i + 4 != s.size() || b < 2) throw std::runtime_error("cnn weights: misplaced base64 padding");
        ++pad;
      } else if (const char* f = std::strchr(kB64, ch); f && ch) {
        if (pad) throw std::runtime_error("cnn weights: base64 text after padding");
        val = static_cast<uint32_t>(f - kB64);
      } else {
        throw std::runtime_error("cnn weights: a character that is not base64");
      }
      chunk |= val << (18 - 6 * b);
    }
    for (int b = 0; b < 3 - pad; ++b) bytes += static_cast<char>((chunk >> (16 - 8 * b)) & 0xff);
  }
  if (bytes.size() % 4) throw std::runtime_error("cnn weights: byte count not a multiple of 4");
  std::vector<float> v(bytes.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u = 0;
    for (int b = 0; b < 4; ++b) u |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[4 * i + static_cast<size_t>(b)])) << (8 * b);
    std::memcpy(&v[i], &u, 4);
  }
  return v;
}

nlohmann::json UNet::to_json() const {
  std::vector<float> all;
  all.reserve(weight_count());
  for (const Param* p : params()) all.insert(all.end(), p->w.begin(), p->w.end());
  return {{"architecture", "unet3d"}, {"config", config_}, {"weight_count", all.size()},
          {"weights_float32_base64", floats_to_base64(all)}};
}

UNet UNet::from_json(const nlohmann::json& j) {
  try {
    if (j.at("architecture") != "unet3d")
      throw std::runtime_error("architecture " + j.at("architecture").dump() + " is not unet3d");
    UNet net(j.at("config").get<NetConfig>(), 0);
    const std::vector<float> all = base64_to_floats(j.at("weights_float32_base64").get<std::string>());
    const size_t expected = net.weight_count();
    if (all.size() != expected || j.at("weight_count").get<size_t>() != expected)
      throw std::runtime_error("holds " + std::to_string(all.size()) + " weights, the architecture needs " +
                               std::to_string(expected));
    size_t at = 0;
    for (Param* p : net.params()) {
      std::copy(all.begin() + static_cast<std::ptrdiff_t>(at), all.begin() + static_cast<std::ptrdiff_t>(at + p->w.size()),
                p->w.begin());
      at += p->w.size();
    }
    for (float w : all)
      if (!std::isfinite(w)) throw std::runtime_error("a weight is not finite");
    return net;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("cnn: ") + e.what());
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind("cnn", 0) == 0 ? what : "cnn: " + what);
  }
}

}  // namespace lb::baseline::cnn
