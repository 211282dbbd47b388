// For tests: another process holding a POSIX lock on a WAL database's -shm file, as SQLite's
// unix VFS holds its checkpoint lock (shm_lock.h) while it copies frames.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace sqlift::testing {

class ShmLockHolder {
 public:
  // Forks a child that takes `type` (F_WRLCK, F_RDLCK) on `byte` of db_path's -shm file and
  // holds it until Release(); returns once the lock is taken. ok() is false when it was not.
  ShmLockHolder(const std::string& db_path, short type, off_t byte) {
    int ready[2], hold[2];
    if (pipe(ready) != 0 || pipe(hold) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(hold[1]);
      const int fd = open((db_path + "-shm").c_str(), O_RDWR);
      struct flock l {};
      l.l_type = type;
      l.l_whence = SEEK_SET;
      l.l_start = byte;
      l.l_len = 1;
      const char ok = (fd >= 0 && fcntl(fd, F_SETLK, &l) == 0) ? 'y' : 'n';
      if (write(ready[1], &ok, 1) != 1) _exit(2);
      char c;
      while (read(hold[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char ok = 'n';
    locked_ = pid_ > 0 && read(ready[0], &ok, 1) == 1 && ok == 'y';
    close(ready[0]);
    release_ = hold[1];
  }
  ~ShmLockHolder() { Release(); }
  ShmLockHolder(const ShmLockHolder&) = delete;
  ShmLockHolder& operator=(const ShmLockHolder&) = delete;

  bool ok() const { return locked_; }

  // Ends the child, and with it the lock; safe to call from any thread, more than once.
  void Release() {
    if (release_ < 0) return;
    close(release_);
    release_ = -1;
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
  }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
  bool locked_ = false;
};

}  // namespace sqlift::testing
