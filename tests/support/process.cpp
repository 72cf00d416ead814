// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace pushsync::test {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// RAII for a file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

struct Pipe {
    Fd read;
    Fd write;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
    return {Fd(fds[0]), Fd(fds[1])};
}

// argv and envp as the char* arrays execvpe wants; the strings stay owned here.
struct ExecArgs {
    std::vector<std::string> env_strings;
    std::vector<char*> argv;
    std::vector<char*> envp;

    ExecArgs(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra_env) {
        if (args.empty()) throw std::invalid_argument("empty argv");
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        for (char** e = environ; *e; ++e) {
            std::string_view entry(*e);
            auto name = entry.substr(0, entry.find('='));
            if (!extra_env.contains(std::string(name))) env_strings.emplace_back(entry);
        }
        for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
        for (auto& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
    }
};

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Only async-signal-safe calls between fork and exec.
[[noreturn]] void exec_child(ExecArgs& args, int in_fd, int out_fd, int err_fd) {
    if (in_fd >= 0) ::dup2(in_fd, 0);
    if (out_fd >= 0) ::dup2(out_fd, 1);
    if (err_fd >= 0) ::dup2(err_fd, 2);
    ::setpgid(0, 0);
    ::execvpe(args.argv[0], args.argv.data(), args.envp.data());
    ::_exit(127);
}

}  // namespace

std::filesystem::path source_dir() { return PUSHSYNC_SOURCE_DIR; }
std::filesystem::path binary_dir() { return PUSHSYNC_BINARY_DIR; }

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/pushsync-test-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw_errno("mkdtemp " + pattern);
    path_ = pattern;
    std::filesystem::permissions(path_, std::filesystem::perms::all);
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

CommandResult run(const std::vector<std::string>& argv, std::string_view input,
                  const std::map<std::string, std::string>& extra_env) {
    ExecArgs args(argv, extra_env);
    Pipe in = make_pipe(), out = make_pipe(), err = make_pipe();
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) exec_child(args, in.read.get(), out.write.get(), err.write.get());
    in.read.reset();
    out.write.reset();
    err.write.reset();

    CommandResult result;
    std::size_t written = 0;
    if (input.empty()) in.write.reset();
    ::signal(SIGPIPE, SIG_IGN);
    while (out.read.get() >= 0 || err.read.get() >= 0) {
        pollfd fds[3];
        nfds_t n = 0;
        if (out.read.get() >= 0) fds[n++] = {out.read.get(), POLLIN, 0};
        if (err.read.get() >= 0) fds[n++] = {err.read.get(), POLLIN, 0};
        if (in.write.get() >= 0) fds[n++] = {in.write.get(), POLLOUT, 0};
        if (::poll(fds, n, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        for (nfds_t i = 0; i < n; ++i) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == in.write.get()) {
                ssize_t w = ::write(in.write.get(), input.data() + written, input.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                if (w < 0 || written == input.size()) in.write.reset();
                continue;
            }
            char buf[65536];
            ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
            Fd& source = fds[i].fd == out.read.get() ? out.read : err.read;
            std::string& sink = fds[i].fd == out.read.get() ? result.out : result.err;
            if (r > 0) {
                sink.append(buf, static_cast<std::size_t>(r));
            } else if (r == 0 || errno != EINTR) {
                source.reset();
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = decode_status(status);
    return result;
}

Process Process::spawn(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                       const std::map<std::string, std::string>& extra_env) {
    ExecArgs args(argv, extra_env);
    Fd log(::open(log_file.empty() ? "/dev/null" : log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log.get() < 0) throw_errno("open " + log_file.string());
    Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) exec_child(args, devnull.get(), log.get(), log.get());
    Process p;
    p.pid_ = pid;
    return p;
}

Process Process::adopt(pid_t pid) noexcept {
    Process p;
    p.pid_ = pid;
    return p;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, -1)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0) kill_and_wait();
        pid_ = std::exchange(other.pid_, -1);
        status_ = std::exchange(other.status_, -1);
    }
    return *this;
}

Process::~Process() {
    if (pid_ > 0) kill_and_wait();
}

bool Process::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = decode_status(status);
        pid_ = -1;
        return false;
    }
    return r == 0;
}

void Process::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

int Process::wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return status_;
    bool exited = wait_until([this] { return !running(); }, timeout, std::chrono::milliseconds(2));
    return exited ? status_ : -1;
}

int Process::kill_and_wait(int sig) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, sig);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = decode_status(status);
    pid_ = -1;
    return status_;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return condition();
        std::this_thread::sleep_for(interval);
    }
}

int free_tcp_port() {
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) throw_errno("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("bind");
    socklen_t len = sizeof addr;
    if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw_errno("getsockname");
    return ntohs(addr.sin_port);
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
    return wait_until(
        [port] {
            Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr.sin_port = htons(static_cast<uint16_t>(port));
            return ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        },
        timeout, std::chrono::milliseconds(10));
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace pushsync::test
