package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile is the name of the lock an active `repro run` holds in its
// output directory.
const LockFile = ".lock"

// LockInfo is what a lock file says about its holder.
type LockInfo struct {
	PID     int    `json:"pid"`
	Host    string `json:"host"`
	Started string `json:"started"`
}

// DirLock is an exclusive lock on an output directory: the file
// <dir>/.lock, held with flock(2) for the life of the process and naming
// the holder. The kernel drops the flock when its process dies (even by
// SIGKILL), so a lock file left by a dead process is recognised as stale
// and taken over.
type DirLock struct {
	f    *os.File
	path string
}

// ErrLocked is wrapped by LockDir's error when another process holds the lock.
var ErrLocked = errors.New("output directory is locked")

// LockDir takes the lock on dir (which must exist). note is non-empty when a
// stale lock was taken over, saying whose it was.
func LockDir(dir string) (l *DirLock, note string, err error) {
	path := filepath.Join(dir, LockFile)
	for attempt := 0; attempt < 10; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, "", fmt.Errorf("locking output directory %s: %w", dir, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, "", lockedError(dir, path)
			}
			return nil, "", fmt.Errorf("locking %s: %w", path, err)
		}
		// The holder before us may have removed the file between our open
		// and our flock; then we hold a lock on a deleted file. Retry.
		if !sameFile(f, path) {
			f.Close()
			continue
		}
		if old, ok := readLockInfo(path); ok && old.PID != 0 {
			note = fmt.Sprintf("took over the stale lock %s of PID %d on %s (started %s), which is no longer running",
				path, old.PID, old.Host, old.Started)
		}
		host, _ := os.Hostname()
		b, _ := json.Marshal(LockInfo{PID: os.Getpid(), Host: host, Started: time.Now().Format(time.RFC3339)})
		if err := writeLockInfo(f, append(b, '\n')); err != nil {
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
			return nil, "", fmt.Errorf("writing %s: %w", path, err)
		}
		return &DirLock{f: f, path: path}, note, nil
	}
	return nil, "", fmt.Errorf("locking output directory %s: the lock file keeps being replaced; is another repro run starting there?", dir)
}

func lockedError(dir, path string) error {
	info, ok := readLockInfo(path)
	if !ok {
		return fmt.Errorf("%w: %s is in use by another repro run (lock %s); wait for it to finish or use another --out",
			ErrLocked, dir, path)
	}
	return fmt.Errorf("%w: %s is in use by another repro run, PID %d on %s (started %s); wait for it to finish, stop it (kill %d), or use another --out",
		ErrLocked, dir, info.PID, info.Host, info.Started, info.PID)
}

func writeLockInfo(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return f.Sync()
}

// ReadLock returns the holder named by dir's lock file and whether that
// process is still alive (checked on this host with signal 0). ok is false
// when there is no readable lock file.
func ReadLock(dir string) (info LockInfo, alive, ok bool) {
	info, ok = readLockInfo(filepath.Join(dir, LockFile))
	if !ok || info.PID <= 0 {
		return info, false, false
	}
	if host, _ := os.Hostname(); host != info.Host {
		return info, true, true // cannot tell; assume it runs
	}
	err := syscall.Kill(info.PID, 0)
	return info, err == nil || errors.Is(err, syscall.EPERM), true
}

func readLockInfo(path string) (LockInfo, bool) {
	var info LockInfo
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &info) != nil {
		return info, false
	}
	return info, true
}

func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// Unlock removes the lock file and releases the lock.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := os.Remove(l.path) // before unlocking, so no one locks the old file
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
