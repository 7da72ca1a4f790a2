/*
 * The CPU flaw behind fs/_copy_align.ts, without any runtime in between:
 * 4 KiB, 64 KiB and 1 MiB copies by the kernel (pread from page-cached file
 * data at file position 8, a V0 blob's offset 0) and by glibc's memcpy, into
 * destinations at distances 0..64 bytes past the source (mod 4096). Prints
 * GB/s per distance.
 *
 *   cc -O2 bench/copy_distance.c -o /tmp/copy_distance && /tmp/copy_distance
 *
 * It writes a 16 MiB file in the temporary directory ($TMPDIR or /tmp).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
  const size_t file_size = 16 << 20, sizes[] = {4096, 65536, 1 << 20};
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char path[4096];
  snprintf(path, sizeof path, "%s/blobrt-copy-distance-XXXXXX", tmp);
  int fd = mkstemp(path);
  if (fd < 0) return perror("mkstemp"), 1;
  unlink(path);
  char *src = aligned_alloc(4096, file_size), *dst = aligned_alloc(4096, file_size + 8192);
  memset(src, 1, file_size);
  memset(dst, 2, file_size + 8192);
  if (pwrite(fd, src, file_size, 0) != (ssize_t)file_size) return perror("pwrite"), 1;
  for (int s = 0; s < 3; s++) {
    size_t n = sizes[s], slots = file_size / n - 1;
    printf("%zu B, GB/s by distance (destination − source, mod 4096)\n  pread  ", n);
    for (int d = 0; d <= 64; d += 8) {
      long k = 0;
      double t0 = now();
      while (now() - t0 < 0.1) {
        /* source: file position 8 + a multiple of n; destination: 8 + d into a page */
        if (pread(fd, dst + 8 + d, n, 8 + (k * 7919 % slots) * n) != (ssize_t)n) return 1;
        k++;
      }
      printf(" %d:%.1f", d, k * (double)n / (now() - t0) / 1e9);
    }
    printf("\n  memcpy ");
    for (int d = 0; d <= 64; d += 8) {
      long k = 0;
      double t0 = now();
      while (now() - t0 < 0.1) {
        memcpy(dst + d, src, n);
        k++;
      }
      printf(" %d:%.1f", d, k * (double)n / (now() - t0) / 1e9);
    }
    printf("\n");
  }
  close(fd);
  return 0;
}
