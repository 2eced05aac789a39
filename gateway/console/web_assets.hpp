#pragma once
// The console's page, script and style (console/web/), built into the binary by embed_web_assets.cmake:
// the gateway ships as one file, and the page can't drift from the gateway that serves it.
#include <optional>
#include <string_view>

namespace sb::console {

struct WebAsset {
  std::string_view content_type;
  std::string_view body;
};

// "index.html", "login.html", "console.js", "console.css"; nullopt for any other name.
std::optional<WebAsset> web_asset(std::string_view name);

}  // namespace sb::console
