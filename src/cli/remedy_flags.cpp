#include "cli/remedy_flags.h"

#include <fmt/format.h>

namespace ddpm::cli {

// A switch, as in io/remedy.cpp: a remedy the tool has no words for is a compiler warning.
std::string remedy_in_flags(Remedy remedy, const std::string& subject) {
  switch (remedy) {
    case Remedy::replace_output: return "pass --force to replace it";
    case Remedy::write_into_folder: return "pass --force to write into it (files of the same names are replaced)";
    case Remedy::resume_run: return fmt::format("continue with --resume {}", subject);
    case Remedy::resume_or_use_another_folder:
      return fmt::format("continue it with --resume {} or choose another --out", subject);
    case Remedy::resume_every_rank: return fmt::format("start every rank again with --resume {}", subject);
    case Remedy::start_run_over: return fmt::format("start it over with --out {} --force", subject);
    case Remedy::lower_learning_rate: return "lower --lr, or check the data (and the --init weights, if any)";
    case Remedy::choose_image_size: return "pass --image-size to resize and center-crop them";
    case Remedy::smaller_image_size: return "pass a smaller --image-size";
    case Remedy::raise_group_timeout: return "check that every rank was started, or raise --dist-timeout";
    case Remedy::train_on_cpu: return "train on --device cpu (Gloo)";
    case Remedy::restore_config_or_branch:
      return "restore the file, or start a new run from this one's weights (--init)";
  }
  return remedy_text(remedy, subject);
}

}  // namespace ddpm::cli
