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

hops_status hops__atomic_write(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    int fd, n;
    if (hops__is_special_file(path)) { /* /dev/null, a pipe: write in place */
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
            return hops__error(HOPS_EIO, "cannot open '%s': %s", path, strerror(errno));
        if (hops__write_all(fd, data, len) != 0) {
            int e = errno;
            close(fd);
            return hops__error(HOPS_EIO, "cannot write '%s': %s", path, strerror(e));
        }
        close(fd);
        return HOPS_OK;
    }
    n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return hops__error(HOPS_EINVAL, "path too long: '%s'", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return hops__error(HOPS_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    if (hops__write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return hops__error(HOPS_EIO, "cannot write '%s': %s", tmp, strerror(e));
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return hops__error(HOPS_EIO, "cannot replace '%s': %s", path, strerror(e));
    }
    fsync_parent_dir(path);
    return HOPS_OK;
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
