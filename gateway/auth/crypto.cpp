#include "auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <vector>

namespace sb::auth {

namespace {

// OpenSSL 3's one-shot HMAC() looks the algorithm up in the provider store (under a lock) and hashes
// the key afresh on every call; every upstream request and token check pays that. Each thread keeps a
// few contexts already keyed instead, and re-initialising one with a null key reuses its key.
class KeyedMacs {
 public:
  KeyedMacs() : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)) {}
  ~KeyedMacs() {
    for (auto& entry : entries_) EVP_MAC_CTX_free(entry.context);
    EVP_MAC_free(mac_);
  }
  KeyedMacs(const KeyedMacs&) = delete;
  KeyedMacs& operator=(const KeyedMacs&) = delete;

  // A context keyed with `key`, ready for update; null if OpenSSL refuses.
  EVP_MAC_CTX* get(HashAlgorithm algorithm, std::string_view key) {
    for (auto& entry : entries_) {
      if (entry.algorithm == algorithm && entry.key == key)
        return EVP_MAC_init(entry.context, nullptr, 0, nullptr) == 1 ? entry.context : nullptr;
    }
    if (!mac_) return nullptr;
    EVP_MAC_CTX* context = EVP_MAC_CTX_new(mac_);
    if (!context) return nullptr;
    char digest[] = "SHA256";
    char digest512[] = "SHA512";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", algorithm == HashAlgorithm::sha256 ? digest : digest512, 0),
        OSSL_PARAM_construct_end(),
    };
    static const unsigned char no_key = 0;  // a null key would mean "reuse the previous one"
    const auto* key_bytes = key.empty() ? &no_key : reinterpret_cast<const unsigned char*>(key.data());
    if (EVP_MAC_init(context, key_bytes, key.size(), params) != 1) {
      EVP_MAC_CTX_free(context);
      return nullptr;
    }
    if (entries_.size() == max_entries) {  // a key ring is a handful of keys; evict the oldest
      EVP_MAC_CTX_free(entries_.front().context);
      entries_.erase(entries_.begin());
    }
    entries_.push_back({algorithm, std::string(key), context});
    return context;
  }

 private:
  struct Entry {
    HashAlgorithm algorithm;
    std::string key;
    EVP_MAC_CTX* context;
  };
  static constexpr std::size_t max_entries = 16;
  EVP_MAC* mac_;
  std::vector<Entry> entries_;
};

}  // namespace

std::string hmac(HashAlgorithm algorithm, std::string_view key, std::string_view message) {
  thread_local KeyedMacs macs;
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t out_len = 0;
  EVP_MAC_CTX* context = macs.get(algorithm, key);
  if (!context || EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      EVP_MAC_final(context, out.data(), &out_len, out.size()) != 1)
    return {};
  return std::string(reinterpret_cast<const char*>(out.data()), out_len);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sb::auth
