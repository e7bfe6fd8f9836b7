#include "ddpm/io/remedy.h"

#include <fmt/format.h>

namespace ddpm {

ActionableError::ActionableError(const std::string& problem, Remedy remedy, const std::string& subject)
    : std::runtime_error(problem + "; " + remedy_text(remedy, subject)),
      problem_(problem),
      remedy_(remedy),
      subject_(subject) {}

// A switch, not a table: the compiler then names any remedy left without words (-Wswitch).
std::string remedy_text(Remedy remedy, const std::string& subject) {
  switch (remedy) {
    case Remedy::replace_output: return "allow replacing it";
    case Remedy::write_into_folder: return "allow writing into it (files of the same names are replaced)";
    case Remedy::resume_run: return fmt::format("resume '{}' to continue", subject);
    case Remedy::resume_or_use_another_folder:
      return fmt::format("resume '{}' to continue it, or start the new run in another folder", subject);
    case Remedy::resume_every_rank: return fmt::format("start every rank again, resuming '{}'", subject);
    case Remedy::start_run_over: return fmt::format("start '{}' over (allowing it to be replaced)", subject);
    case Remedy::lower_learning_rate:
      return "lower the learning rate, or check the data (and the initial weights, if the run started from some)";
    case Remedy::choose_image_size: return "give an image size to resize and center-crop them to";
    case Remedy::smaller_image_size: return "give a smaller image size to resize them to";
    case Remedy::raise_group_timeout: return "check that every rank was started, or give the group a longer timeout";
    case Remedy::train_on_cpu: return "train on the CPU (Gloo)";
    case Remedy::restore_config_or_branch:
      return "restore the file, or start a new run from this one's weights";
  }
  return "";
}

}  // namespace ddpm
