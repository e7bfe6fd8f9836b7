// What a user can do about an error. The library says it in its own terms ("lower the learning rate");
// a front end says it in its own (the ddpm tool: "lower --lr"), so no library message names a flag.
#pragma once

#include <stdexcept>
#include <string>

namespace ddpm {

enum class Remedy {
  replace_output,             // an output file exists
  write_into_folder,          // an output folder is not empty
  resume_run,                 // the run in `subject` stopped with its checkpoint written
  resume_or_use_another_folder,  // a new run was asked for where a resumable one is
  resume_every_rank,          // a data-parallel group broke up; `subject` holds its last checkpoint
  start_run_over,             // the run in `subject` has no complete checkpoint to resume from
  lower_learning_rate,        // the weights give non-finite losses
  choose_image_size,          // images of different sizes
  smaller_image_size,         // images too large to hold in memory
  raise_group_timeout,        // the ranks of a group did not meet in time
  train_on_cpu,               // no process group for the device
  restore_config_or_branch,   // a run's configuration changed under it
};

// An error that carries its remedy: what() is the problem and the remedy in the library's words;
// problem() without it, for front ends that say the remedy their own way.
class ActionableError : public std::runtime_error {
 public:
  ActionableError(const std::string& problem, Remedy remedy, const std::string& subject = "");
  const std::string& problem() const { return problem_; }
  Remedy remedy() const { return remedy_; }
  const std::string& subject() const { return subject_; }  // the run folder or file the remedy acts on

 private:
  std::string problem_;
  Remedy remedy_;
  std::string subject_;
};

// The remedy in the library's words.
std::string remedy_text(Remedy remedy, const std::string& subject);

}  // namespace ddpm
