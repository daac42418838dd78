package main

import (
	"os"
	"strconv"
	"strings"
)

// The kernel's own memory per connection does not show in any process's
// RSS: socket structures live in slab caches, queued data in skbs counted
// by /proc/net/sockstat. The idle workload reads both before the first
// client and at the top N. On loopback both ends of every connection are
// sockets of this kernel, so a delta covers 2 sockets per connection; the
// per-socket figure divides by 2N. Other processes on the machine move the
// same counters, so read it as an estimate.

// socketCaches are the slab caches one TCP socket of an epoll server uses:
// the tcp_sock, the socket inode, its file and dentry, and the epoll item.
var socketCaches = []string{"TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi"}

// kernelSnapshot is one reading of the kernel's socket memory.
type kernelSnapshot struct {
	SlabKiB     int64            `json:"slab_kib"`      // /proc/meminfo Slab
	TCPMemPages int64            `json:"tcp_mem_pages"` // /proc/net/sockstat TCP mem (buffers)
	TCPInUse    int64            `json:"tcp_inuse"`
	CacheBytes  map[string]int64 `json:"cache_bytes,omitempty"` // active objects x object size
}

// kernelCost is what the idle workload reports: two snapshots and the
// per-socket figures derived from them.
type kernelCost struct {
	Before, After kernelSnapshot
	Connections   int `json:"connections"`
	// Per socket (one end of one connection), from the socket caches and
	// from Slab as a whole.
	CachesBytesPerSocket map[string]float64 `json:"caches_bytes_per_socket,omitempty"`
	CachesKiBPerSocket   float64            `json:"caches_kib_per_socket"`
	SlabKiBPerSocket     float64            `json:"slab_kib_per_socket"`
	TCPMemKiBPerSocket   float64            `json:"tcp_mem_kib_per_socket"`
}

// readKernel takes a snapshot; /proc/slabinfo needs root, and without it the
// cache figures stay empty.
func readKernel() kernelSnapshot {
	var k kernelSnapshot
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "Slab:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					k.SlabKiB, _ = strconv.ParseInt(f[0], 10, 64)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/sockstat"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "TCP:"); ok {
				f := strings.Fields(rest) // inuse N orphan N tw N alloc N mem N
				for i := 0; i+1 < len(f); i += 2 {
					v, _ := strconv.ParseInt(f[i+1], 10, 64)
					switch f[i] {
					case "inuse":
						k.TCPInUse = v
					case "mem":
						k.TCPMemPages = v
					}
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/slabinfo"); err == nil {
		k.CacheBytes = map[string]int64{}
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Fields(line) // name active_objs num_objs objsize ...
			if len(f) < 4 {
				continue
			}
			for _, c := range socketCaches {
				if f[0] == c {
					active, _ := strconv.ParseInt(f[1], 10, 64)
					size, _ := strconv.ParseInt(f[3], 10, 64)
					k.CacheBytes[c] = active * size
				}
			}
		}
	}
	return k
}

// newKernelCost derives the per-socket figures for n connections, both ends
// on this machine.
func newKernelCost(before, after kernelSnapshot, n int) *kernelCost {
	kc := &kernelCost{Before: before, After: after, Connections: n}
	if n <= 0 {
		return kc
	}
	sockets := float64(2 * n)
	kc.SlabKiBPerSocket = round(float64(after.SlabKiB-before.SlabKiB)/sockets, 3)
	pageKiB := float64(os.Getpagesize()) / 1024
	kc.TCPMemKiBPerSocket = round(float64(after.TCPMemPages-before.TCPMemPages)*pageKiB/sockets, 3)
	if before.CacheBytes != nil && after.CacheBytes != nil {
		kc.CachesBytesPerSocket = map[string]float64{}
		var sum float64
		for _, c := range socketCaches {
			d := float64(after.CacheBytes[c]-before.CacheBytes[c]) / sockets
			kc.CachesBytesPerSocket[c] = round(d, 0)
			sum += d
		}
		kc.CachesKiBPerSocket = round(sum/1024, 3)
	}
	return kc
}
