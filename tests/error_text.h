// The message of the exception `f` throws, for tests that check what an error says.
#pragma once

#include <exception>
#include <functional>
#include <string>

inline std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}
