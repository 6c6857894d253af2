/*
 * TEST DOUBLE of jellyfin-ffmpeg's ffmpeg and ffprobe (the binaries Immich v3.2.0 runs from
 * /usr/lib/jellyfin-ffmpeg, versions from snap/versions.json jellyfinFfmpeg). Built twice with
 * -DTOOL="ffmpeg" / -DTOOL="ffprobe" and -DVERSION="7.1.4"; dynamically linked against
 * libimmich-double-va.so.2 with no RPATH. Simplified: only `-version` (and `-h`) work; anything else
 * says it is a double and exits 1.
 */
#include <stdio.h>
#include <string.h>

const char *immich_double_va_version(void);

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-version") == 0 || strcmp(argv[1], "--version") == 0)) {
    printf("%s version %s-Jellyfin (immich-distribution test double)\n", TOOL, VERSION);
    printf("built with %s\n", immich_double_va_version());
    printf("configuration: --prefix=/usr/lib/jellyfin-ffmpeg --target-os=linux\n");
    return 0;
  }
  if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    printf("usage: %s -version   (immich-distribution test double of jellyfin-ffmpeg)\n", TOOL);
    return 0;
  }
  fprintf(stderr, "%s: immich-distribution test double: only -version is implemented\n", TOOL);
  return 1;
}
