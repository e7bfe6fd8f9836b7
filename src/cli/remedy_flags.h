// The library's remedies in the tool's words: the flags that carry them out.
#pragma once

#include <string>

#include "ddpm/io/remedy.h"

namespace ddpm::cli {

std::string remedy_in_flags(Remedy remedy, const std::string& subject);

}  // namespace ddpm::cli
