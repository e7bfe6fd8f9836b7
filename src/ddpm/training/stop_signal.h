// Ctrl-C (SIGINT) and SIGTERM while training: the first asks the trainer to stop after the step it is
// taking, write a checkpoint and report Interrupted (the tool then exits 128 + the signal: 130, 143); a
// second one ends the process at once with the same status, for a user who will not wait for the step.
#pragma once

#include <csignal>
#include <stdexcept>
#include <string>

#include "ddpm/io/remedy.h"

namespace ddpm {

// Installs the handlers while it lives and restores the previous ones after.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal received since the handlers were installed, 0 if none.
  static int received();

 private:
  struct sigaction previous_int_ {}, previous_term_ {};
};

// Training stopped by a signal, after its checkpoint was written.
class Interrupted : public ActionableError {
 public:
  Interrupted(const std::string& problem, const std::string& run_dir, int signal)
      : ActionableError(problem, Remedy::resume_run, run_dir), signal_(signal) {}
  int signal() const { return signal_; }
  int exit_status() const { return 128 + signal_; }  // the shell's convention for a process ended by a signal

 private:
  int signal_;
};

// "SIGINT", "SIGTERM" or the number.
std::string signal_name(int signal);

}  // namespace ddpm
