/* Paths and durable file writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

hops_status hops__mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return hops__error(HOPS_EINVAL, "path too long or empty: '%s'", path);
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return hops__error(HOPS_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return hops__error(HOPS_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
    if (!hops__is_dir(buf))
        return hops__error(HOPS_EIO, "'%s' exists and is not a directory", buf);
    return HOPS_OK;
}

static void fsync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd;
    if (!slash)
        hops__strlcpy(dir, ".", sizeof dir);
    else if (slash == path)
        hops__strlcpy(dir, "/", sizeof dir);
    else if ((size_t)(slash - path) < sizeof dir) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    } else
        return;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

hops_status hops__outfile_open(hops_outfile *of, const char *path)
{
    int fd;
    memset(of, 0, sizeof *of);
    if (!(of->path = hops__strdup(path)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    /* Our own standard output or error: write through the descriptor we
     * have, which shares its file offset with the shell's redirection.
     * Opening /dev/stdout again would truncate a file it was redirected to,
     * and write over what is in it from offset 0. */
    int std = strcmp(path, "/dev/stdout") == 0 || strcmp(path, "/dev/fd/1") == 0 ||
                      strcmp(path, "/proc/self/fd/1") == 0
                  ? 1
              : strcmp(path, "/dev/stderr") == 0 || strcmp(path, "/dev/fd/2") == 0 ||
                      strcmp(path, "/proc/self/fd/2") == 0
                  ? 2
                  : -1;
    if (std >= 0) {
        int dfd = fcntl(std, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0 || !(of->f = fdopen(dfd, "w"))) {
            hops_status rc = hops__error(HOPS_EIO, "cannot write to '%s': %s", path, strerror(errno));
            if (dfd >= 0)
                close(dfd);
            hops__outfile_abort(of);
            return rc;
        }
        return HOPS_OK;
    }
    if (hops__is_special_file(path)) { /* /dev/null, a pipe, a link: in place */
        if (!(of->f = fopen(path, "we"))) {
            hops_status rc = hops__error(HOPS_EIO, "cannot open '%s': %s", path, strerror(errno));
            hops__outfile_abort(of);
            return rc;
        }
        return HOPS_OK;
    }
    if (!(of->tmp = hops__aprintf("%s.tmp-XXXXXX", path))) {
        hops__outfile_abort(of);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    if ((fd = mkostemp(of->tmp, O_CLOEXEC)) < 0) {
        hops_status rc = hops__error(HOPS_EIO, "cannot create '%s': %s", path, strerror(errno));
        free(of->tmp);
        of->tmp = NULL;
        hops__outfile_abort(of);
        return rc;
    }
    fchmod(fd, 0644);
    if (!(of->f = fdopen(fd, "w"))) {
        hops_status rc = hops__error(HOPS_EIO, "cannot open '%s': %s", path, strerror(errno));
        close(fd);
        hops__outfile_abort(of);
        return rc;
    }
    setvbuf(of->f, NULL, _IOFBF, 1 << 16);
    return HOPS_OK;
}

hops_status hops__outfile_commit(hops_outfile *of)
{
    hops_status rc = HOPS_OK;
    if (!of->f)
        return hops__error(HOPS_ESTATE, "output '%s' is not open", of->path ? of->path : "?");
    if (fflush(of->f) != 0 || (of->tmp && fsync(fileno(of->f)) != 0))
        rc = hops__error(HOPS_EIO, "cannot write '%s': %s", of->path, strerror(errno));
    if (fclose(of->f) != 0 && rc == HOPS_OK)
        rc = hops__error(HOPS_EIO, "cannot write '%s': %s", of->path, strerror(errno));
    of->f = NULL;
    if (rc == HOPS_OK && of->tmp) {
        if (rename(of->tmp, of->path) != 0)
            rc = hops__error(HOPS_EIO, "cannot replace '%s': %s", of->path, strerror(errno));
        else {
            free(of->tmp);
            of->tmp = NULL;
            fsync_parent_dir(of->path);
        }
    }
    hops__outfile_abort(of);
    return rc;
}

void hops__outfile_abort(hops_outfile *of)
{
    if (of->f)
        fclose(of->f);
    if (of->tmp)
        unlink(of->tmp);
    free(of->tmp);
    free(of->path);
    memset(of, 0, sizeof *of);
}

hops_status hops__atomic_write(const char *path, const void *data, size_t len)
{
    hops_outfile of;
    hops_status rc = hops__outfile_open(&of, path);
    if (rc != HOPS_OK)
        return rc;
    if (len && fwrite(data, 1, len, of.f) != len) {
        rc = hops__error(HOPS_EIO, "cannot write '%s': %s", path, strerror(errno));
        hops__outfile_abort(&of);
        return rc;
    }
    return hops__outfile_commit(&of);
}

hops_status hops__read_file(const char *path, char **out, size_t *len_out)
{
    hops_buf b = HOPS_BUF_INIT;
    char chunk[65536];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hops__error(errno == ENOENT ? HOPS_ENOTFOUND : HOPS_EIO, "cannot open '%s': %s",
                           path, strerror(errno));
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            hops__buf_free(&b);
            return hops__error(HOPS_EIO, "cannot read '%s': %s", path, strerror(errno));
        }
        if (hops__buf_put(&b, chunk, (size_t)n) != 0) {
            close(fd);
            hops__buf_free(&b);
            return hops__error(HOPS_ENOMEM, "out of memory reading '%s'", path);
        }
    }
    close(fd);
    if (len_out)
        *len_out = b.len;
    *out = hops__buf_detach(&b);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

hops_status hops__rm_rf(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    hops_status rc = HOPS_OK;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? HOPS_OK
                               : hops__error(HOPS_EIO, "cannot stat '%s': %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0)
            return hops__error(HOPS_EIO, "cannot remove '%s': %s", path, strerror(errno));
        return HOPS_OK;
    }
    d = opendir(path);
    if (!d)
        return hops__error(HOPS_EIO, "cannot open directory '%s': %s", path, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char *child;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        child = hops__aprintf("%s/%s", path, e->d_name);
        if (!child) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            break;
        }
        rc = hops__rm_rf(child);
        free(child);
        if (rc != HOPS_OK)
            break;
    }
    closedir(d);
    if (rc == HOPS_OK && rmdir(path) != 0)
        rc = hops__error(HOPS_EIO, "cannot remove '%s': %s", path, strerror(errno));
    return rc;
}

char *hops__abspath(const char *path)
{
    char cwd[PATH_MAX];
    hops_buf in = HOPS_BUF_INIT, out = HOPS_BUF_INIT;
    char *save = NULL, *tok;
    if (path[0] == '/')
        hops__buf_puts(&in, path);
    else {
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        hops__buf_printf(&in, "%s/%s", cwd, path);
    }
    if (!in.data)
        return NULL;
    for (tok = strtok_r(in.data, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (strcmp(tok, "..") == 0) {
            char *slash = out.data ? strrchr(out.data, '/') : NULL;
            if (slash) {
                out.len = (size_t)(slash - out.data);
                out.data[out.len] = '\0';
            }
            continue;
        }
        hops__buf_printf(&out, "/%s", tok);
    }
    hops__buf_free(&in);
    if (out.len == 0)
        hops__buf_puts(&out, "/");
    return hops__buf_detach(&out);
}

int hops__is_special_file(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

int hops__is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int hops__is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
